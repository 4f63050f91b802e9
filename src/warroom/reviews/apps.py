from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "warroom.reviews"
    label = "reviews"
    verbose_name = "Postmortems, action items and problems"

    def ready(self) -> None:
        from warroom.incidents.signals import incident_transitioned  # noqa: PLC0415 (apps load first)
        from warroom.reviews.signals import on_incident_transitioned  # noqa: PLC0415

        incident_transitioned.connect(on_incident_transitioned, dispatch_uid="reviews.incident_transitioned")
