from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "warroom.engine"
    label = "engine"
    verbose_name = "Engine"
