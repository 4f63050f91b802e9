from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from warroom.alerts import services
from warroom.alerts.models import Grouping, Kind
from warroom.catalog.models import Service
from warroom.lib import jsontext
from warroom.lib.errors import ServiceError

#: Where each kind posts, relative to the base URL.
ENDPOINTS = {
    Kind.PAGERDUTY: "/v2/enqueue  (the key goes in the body as routing_key)",
    Kind.ALERTMANAGER: "/integrations/alertmanager  (Authorization: Bearer <key>)",
    Kind.WEBHOOK: "/integrations/webhook  (Authorization: Bearer <key>)",
    Kind.GRAFANA: "/integrations/grafana  (Authorization: Bearer <key>)",
    Kind.OPSGENIE: "/v2/alerts  (Authorization: GenieKey <key>)",
    Kind.HEARTBEAT: "/integrations/heartbeat/<key>  (GET or POST; /fail reports a failure)",
}

#: The option of this command that sets a field the service names in a refusal.
OPTIONS = {
    "grouping": "--grouping",
    "window_minutes": "--window-minutes",
    "group_fields": "--group-fields",
    "rate_limit_per_minute": "--rate-limit",
    "heartbeat_interval_seconds": "--interval",
    "heartbeat_grace_seconds": "--grace",
    "signing_secret": "--signing-secret",
    "field_mapping": "--field-mapping",
    "email_dedup_pattern": "--email-dedup-pattern",
    "email_resolve_pattern": "--email-resolve-pattern",
}


class Command(BaseCommand):
    help = "Create an alert integration on a service and print its first key (shown only this once)."
    # A one-shot admin verb: the system checks (which import every URL and API schema, ~4 s) run when the
    # server starts and with `warroom check`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--service", required=True, help="The service's slug.")
        parser.add_argument("--kind", required=True, choices=Kind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--grouping",
            default=None,
            choices=Grouping.values,
            help="Default: group_key for alertmanager and grafana, alert for the others.",
        )
        parser.add_argument("--window-minutes", type=int, default=10)
        parser.add_argument(
            "--group-fields",
            default="",
            help="For --grouping fields: comma-separated labels, e.g. alertname,cluster.",
        )
        parser.add_argument(
            "--rate-limit", type=int, default=None, help="Requests per minute per key (0: none)."
        )
        parser.add_argument(
            "--interval", type=int, default=None, help="Heartbeat: expected seconds between pings."
        )
        parser.add_argument(
            "--grace", type=int, default=60, help="Heartbeat: seconds of grace after the interval."
        )
        parser.add_argument(
            "--signing-secret",
            default="",
            help="Grafana, webhook: the HMAC secret requests must be signed with ('-': the first line of stdin).",
        )
        parser.add_argument(
            "--field-mapping",
            default="",
            help='Webhook: a JSON object of field: dotted path, e.g. \'{"summary": "alert.title"}\'.',
        )
        parser.add_argument(
            "--email-dedup-pattern", default="", help="Email: the subject's dedup key pattern."
        )
        parser.add_argument(
            "--email-resolve-pattern", default="", help="Email: the pattern of resolving subjects."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        field_mapping = _json_object(options["field_mapping"]) if options["field_mapping"].strip() else None
        signing_secret = options["signing_secret"]
        if signing_secret == "-":
            signing_secret = sys.stdin.readline().rstrip("\n")
            if not signing_secret:
                raise CommandError("--signing-secret -: no secret on stdin")
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
                group_fields=[f for f in options["group_fields"].split(",") if f.strip()],
                heartbeat_interval_seconds=options["interval"],
                heartbeat_grace_seconds=options["grace"],
                signing_secret=signing_secret,
                field_mapping=field_mapping,
                email_dedup_pattern=options["email_dedup_pattern"],
                email_resolve_pattern=options["email_resolve_pattern"],
                **({} if options["rate_limit"] is None else {"rate_limit_per_minute": options["rate_limit"]}),
            )
            created = services.create_integration_key(integration=integration, actor=None, source="cli")
        except ServiceError as exc:
            option = OPTIONS.get(exc.field or "")
            if option is None:
                raise CommandError(exc.message) from None
            raise CommandError(f"{option}: {exc.message.removeprefix(f'{exc.field}: ')}") from None
        self.stdout.write(f"created integration {integration.pk} ({integration.kind}) on {service.name}")
        if integration.kind == Kind.EMAIL:
            self.stdout.write(f"address: {integration.email_address}@{settings.WARROOM_EMAIL_DOMAIN}")
            self.stdout.write("(mail to it is received by `warroom smtpd`; the address is the credential)")
            return
        endpoint = ENDPOINTS[Kind(integration.kind)]
        if integration.kind == Kind.HEARTBEAT:
            endpoint = endpoint.replace("<key>", created.secret)
        self.stdout.write(f"endpoint: {settings.WARROOM_BASE_URL}{endpoint}")
        self.stdout.write(f"key: {created.secret}")


def _json_object(text: str) -> Any:
    """``--field-mapping``'s JSON; the service says what a mapping may hold."""
    try:
        return jsontext.loads(text)
    except ValueError as exc:
        raise CommandError(f"--field-mapping is not valid JSON ({exc}): {text!r}") from None
