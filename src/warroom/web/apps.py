from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "warroom.web"
    label = "web"
    verbose_name = "Web console"
