from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Prefetch

from warroom.accounts import deactivation, services
from warroom.accounts.models import ApiToken, Membership, User
from warroom.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Administer people from the server: list, deactivate, reactivate, reset-password."
    # A one-shot admin verb: the system checks (which import every URL and API schema, ~4 s) run when the
    # server starts and with `warroom check`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        verbs.add_parser("list", help="Everyone, with their state, role and teams.")
        for verb in ("deactivate", "reactivate", "reset-password"):
            verbs.add_parser(verb).add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "list":
            self._list()
            return
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"no user with email {options['email']!r}")
        try:
            if options["verb"] == "reset-password":
                self._reset_password(user)
            else:
                self._set_active(user, active=options["verb"] == "reactivate")
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _list(self) -> None:
        memberships = Prefetch("memberships", queryset=Membership.objects.select_related("team"))
        rows = [("EMAIL", "NAME", "STATE", "ORG ADMIN", "TIME ZONE", "TEAMS")]
        for user in User.objects.order_by("email").prefetch_related(memberships):
            teams = ", ".join(f"{m.team.slug} ({m.role})" for m in user.memberships.all())
            rows.append(
                (
                    user.email,
                    user.full_name or "-",
                    "active" if user.is_active else "deactivated",
                    "yes" if user.is_org_admin else "no",
                    user.time_zone,
                    teams or "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]))

    def _set_active(self, user: User, *, active: bool) -> None:
        if user.is_active == active:
            state = "active" if active else "deactivated"
            self.stdout.write(f"{user.email} is already {state}: nothing changed")
            return
        tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        services.set_active(user=user, active=active, actor=None, source="cli")
        if active:
            self.stdout.write(
                f"reactivated {user.email}: they can sign in again (their old API tokens stay revoked)"
            )
        else:
            self.stdout.write(
                f"deactivated {user.email}: they cannot sign in, their console sessions ended and "
                f"{tokens} API token{'' if tokens == 1 else 's'} {'was' if tokens == 1 else 'were'} revoked"
            )
            self._warn_left_behind(user)

    def _warn_left_behind(self, user: User) -> None:
        found = deactivation.left_behind(user)
        if not found:
            return
        self.stdout.write(
            f"{user.email} leaves behind {len(found)} thing{'' if len(found) == 1 else 's'} to hand over:"
        )
        for item in found:
            self.stdout.write(f"  - {item.message}")

    def _reset_password(self, user: User) -> None:
        password = services.reset_password(user=user, actor=None, source="cli")
        self.stdout.write(f"reset the password of {user.email}; their console sessions ended")
        if not user.is_active:
            self.stdout.write("(they are deactivated: `warroom user reactivate` lets them sign in again)")
        self.stdout.write(f"password: {password}")
