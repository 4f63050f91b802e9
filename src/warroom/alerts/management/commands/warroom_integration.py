from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from warroom.alerts import services
from warroom.alerts.models import Grouping, Kind
from warroom.catalog.models import Service
from warroom.lib.errors import ServiceError

#: Where each kind posts, relative to the base URL.
ENDPOINTS = {
    Kind.PAGERDUTY: "/v2/enqueue  (the key goes in the body as routing_key)",
    Kind.ALERTMANAGER: "/integrations/alertmanager  (Authorization: Bearer <key>)",
    Kind.WEBHOOK: "/integrations/webhook  (Authorization: Bearer <key>)",
    Kind.GRAFANA: "/integrations/grafana  (Authorization: Bearer <key>)",
    Kind.OPSGENIE: "/v2/alerts  (Authorization: GenieKey <key>)",
}


class Command(BaseCommand):
    help = "Create an alert integration on a service and print its first key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--service", required=True, help="The service's slug.")
        parser.add_argument("--kind", required=True, choices=Kind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--grouping", default=Grouping.ALERT, choices=Grouping.values)
        parser.add_argument("--window-minutes", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        service = Service.objects.filter(slug=options["service"]).first()
        if service is None:
            raise CommandError(f"no service with slug {options['service']!r}")
        try:
            integration = services.create_integration(
                service=service,
                kind=options["kind"],
                name=options["name"],
                actor=None,
                source="cli",
                grouping=options["grouping"],
                window_minutes=options["window_minutes"],
            )
            created = services.create_integration_key(integration=integration, actor=None, source="cli")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        endpoint = ENDPOINTS[Kind(integration.kind)]
        self.stdout.write(f"created integration {integration.pk} ({integration.kind}) on {service.name}")
        self.stdout.write(f"endpoint: {settings.WARROOM_BASE_URL}{endpoint}")
        self.stdout.write(f"key: {created.secret}")
