from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "warroom.incidents"
    label = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from warroom.accounts import deactivation  # noqa: PLC0415 (apps load first)
        from warroom.incidents import selectors, signals, sla_services  # noqa: PLC0415

        deactivation.register(selectors.open_incidents_assigned_to)

        signals.incident_declared.connect(
            sla_services.on_incident_declared, dispatch_uid="incidents.sla.declared"
        )
        signals.incident_transitioned.connect(
            sla_services.on_incident_transitioned, dispatch_uid="incidents.sla.transitioned"
        )
        signals.incident_updated.connect(
            sla_services.on_incident_updated, dispatch_uid="incidents.sla.updated"
        )
