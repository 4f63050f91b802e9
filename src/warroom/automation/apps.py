from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "warroom.automation"
    label = "automation"
    verbose_name = "Automation"
