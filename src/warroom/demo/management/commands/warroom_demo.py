from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from warroom.accounts.models import User
from warroom.accounts.services import generate_password
from warroom.demo import credentials, seed
from warroom.demo.data import ADMIN_EMAIL, PEOPLE, TEAMS


class Command(BaseCommand):
    help = (
        "Seed a demo organisation (teams, people, services, on call, alerts and 60 days of incidents) into an "
        "empty database, and print how to sign in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but show the demo sign-in, if there is one) when any user exists.",
        )
        parser.add_argument(
            "--seed", type=int, default=1042, help="Random seed of the stories (default 1042)."
        )
        parser.add_argument(
            "--url", default="", help="The address to show for signing in (default: WARROOM_BASE_URL)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.base_url = (options["url"] or settings.WARROOM_BASE_URL).rstrip("/")
        if User.objects.exists():
            if not options["if_empty"]:
                raise CommandError(
                    "the database already has users; the demo organisation only goes into an empty database "
                    "(point WARROOM_DATA_DIR or WARROOM_DATABASE_URL at a new one)"
                )
            stored = credentials.read()
            if stored is None:
                self.stdout.write("The database already has users: not seeding the demo organisation.")
            else:
                self.show(stored)
            return
        stored = credentials.read()
        password = (
            stored.password if stored is not None and stored.email == ADMIN_EMAIL else generate_password()
        )
        began = time.monotonic()
        result = seed.seed_demo(password=password, seed=options["seed"])
        saved = credentials.write(credentials.Credentials(email=ADMIN_EMAIL, password=password))
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded the demo organisation in {time.monotonic() - began:.1f} s: {result.teams} teams, "
                f"{result.people} people, {result.services} services, {result.incidents} incidents, "
                f"{result.alerts} alerts, {result.pages} pages."
            )
        )
        self.stdout.write(f"Sign-in saved to {saved} (readable by you only).")
        self.show(credentials.Credentials(email=ADMIN_EMAIL, password=password))

    def show(self, stored: credentials.Credentials) -> None:
        url = self.base_url + reverse("web:login")
        teams = {team.key: team.name for team in TEAMS}
        others = ", ".join(
            f"{p.email} ({p.role} in {teams[p.team]})" for p in PEOPLE if p.shares_demo_password
        )
        self.stdout.write(
            "\n"
            f"  Sign in at  {url}\n"
            f"  email       {stored.email}\n"
            f"  password    {stored.password}\n"
            f"\n  The same password also signs in {others}.\n"
        )
