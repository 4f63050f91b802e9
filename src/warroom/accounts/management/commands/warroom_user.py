from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from warroom.accounts import services
from warroom.accounts.models import Team
from warroom.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Create a user headlessly. The password comes from stdin (--password-stdin) or is generated."
    # A one-shot admin verb: the system checks (which import every URL and API schema, ~4 s) run when the
    # server starts and with `warroom check`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Europe/London.")
        parser.add_argument("--admin", action="store_true")
        parser.add_argument("--password-stdin", action="store_true")
        parser.add_argument("--team", default="")
        parser.add_argument("--role", default="responder")

    def handle(self, *args: Any, **options: Any) -> None:
        generated = not options["password_stdin"]
        password = services.generate_password() if generated else sys.stdin.readline().rstrip("\n")
        if not password:
            raise CommandError("no password on stdin")
        team = None
        if options["team"]:
            team = Team.objects.filter(slug=options["team"]).first()
            if team is None:
                raise CommandError(f"team {options['team']!r} does not exist")
        try:
            user = services.create_user(
                email=options["email"],
                password=password,
                full_name=options["name"],
                time_zone=options["time_zone"],
                is_org_admin=options["admin"],
                actor=None,
                source="cli",
            )
            if team is not None:
                services.set_membership(team=team, user=user, role=options["role"], actor=None, source="cli")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"created {user.email}{' (organisation admin)' if user.is_org_admin else ''}")
        if generated:
            self.stdout.write(f"password: {password}")
