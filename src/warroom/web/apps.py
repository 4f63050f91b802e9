from django.apps import AppConfig

from warroom.web import checks  # noqa: F401 - registers Warroom's system checks


class WebConfig(AppConfig):
    name = "warroom.web"
    label = "web"
    verbose_name = "Web console"
