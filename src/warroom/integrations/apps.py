from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "warroom.integrations"
    label = "integrations"
    verbose_name = "Provider integrations"
