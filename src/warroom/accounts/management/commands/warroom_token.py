from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from warroom.accounts import services
from warroom.accounts.models import User
from warroom.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Print a new API token for an existing user. The token is shown only once."
    # A one-shot admin verb: the system checks (which import every URL and API schema, ~4 s) run when the
    # server starts and with `warroom check`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"no user with email {options['email']!r}")
        try:
            _token, secret = services.create_api_token(
                user=user, name=options["name"], actor=None, source="cli"
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(secret)
