from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from warroom.accounts import services
from warroom.accounts.models import TokenScope, User
from warroom.accounts.services import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS
from warroom.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Print a new API token for an existing user. The token is shown only once."
    # A one-shot admin verb: the system checks (which import every URL and API schema, ~4 s) run when the
    # server starts and with `warroom check`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=TOKEN_DEFAULT_DAYS,
            help=f"Days until the token expires (1-{TOKEN_MAX_DAYS}; default {TOKEN_DEFAULT_DAYS}).",
        )
        parser.add_argument("--read-only", action="store_true", help="The token may only read (GET).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"no user with email {options['email']!r}")
        try:
            token, secret = services.create_api_token(
                user=user,
                name=options["name"],
                actor=None,
                source="cli",
                expires_in_days=options["expires_in_days"],
                scope=TokenScope.READ if options["read_only"] else TokenScope.FULL,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(secret)
        assert token.expires_at is not None
        access = "read-only" if token.is_read_only else "full access"
        self.stderr.write(f"{access}; expires {token.expires_at:%Y-%m-%d %H:%M} UTC")
