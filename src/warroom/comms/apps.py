from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "warroom.comms"
    label = "comms"
    verbose_name = "Stakeholder updates and status pages"
