from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "warroom.demo"
    label = "demo"
    verbose_name = "Demo data"
