from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "warroom.incidents"
    label = "incidents"
    verbose_name = "Incidents"
