from django.apps import AppConfig


class PagingConfig(AppConfig):
    name = "warroom.paging"
    label = "paging"
    verbose_name = "Paging (escalation runtime)"

    def ready(self) -> None:
        # connects to incident_transitioned, and lets the people paged for an incident see it
        from warroom.paging import receivers  # noqa: F401, PLC0415
