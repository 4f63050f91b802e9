from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "warroom.oncall"
    label = "oncall"
    verbose_name = "On-call schedules"
