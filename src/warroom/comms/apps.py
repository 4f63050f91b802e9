from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "warroom.comms"
    label = "comms"
    verbose_name = "Stakeholder updates and status pages"

    def ready(self) -> None:
        # Status pages: a posted update reaches page subscribers and sets component status; incident changes
        # make the pages that show the incident stale (warroom.comms.page_services).
        from warroom.comms import page_services  # noqa: PLC0415 (apps load first)
        from warroom.comms.signals import update_posted  # noqa: PLC0415
        from warroom.incidents.signals import incident_transitioned, incident_updated  # noqa: PLC0415

        update_posted.connect(page_services.on_update_posted, dispatch_uid="comms.pages.update_posted")
        incident_transitioned.connect(
            page_services.on_incident_changed, dispatch_uid="comms.pages.transitioned"
        )
        incident_updated.connect(
            page_services.on_incident_changed, dispatch_uid="comms.pages.incident_updated"
        )
