from django.apps import AppConfig


class PagingConfig(AppConfig):
    name = "warroom.paging"
    label = "paging"
    verbose_name = "Paging (escalation runtime)"

    def ready(self) -> None:
        from warroom.paging import receivers  # noqa: F401, PLC0415 (connects to incident_transitioned)
