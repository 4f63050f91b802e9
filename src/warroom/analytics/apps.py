from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "warroom.analytics"
    label = "analytics"
    verbose_name = "Reports"
