from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "warroom.alerts"
    label = "alerts"
    verbose_name = "Alerts and integrations"

    def ready(self) -> None:
        from warroom.alerts.actions import move_alerts_on_merge  # noqa: PLC0415 (apps load first)
        from warroom.alerts.signals import on_incident_transitioned  # noqa: PLC0415
        from warroom.incidents.services import moves_on_merge  # noqa: PLC0415
        from warroom.incidents.signals import incident_transitioned  # noqa: PLC0415

        incident_transitioned.connect(on_incident_transitioned, dispatch_uid="alerts.incident_transitioned")
        moves_on_merge(move_alerts_on_merge)
