from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from warroom.alerts import email


class Command(BaseCommand):
    help = (
        "Receive alert email over SMTP for the email integrations' addresses at WARROOM_EMAIL_DOMAIN "
        "(docs/integrations/email.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=2525, help="Port to listen on.")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be 1 to 65535, not {port}")

        def ready(where: str) -> None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Warroom smtpd is listening on {where} for mail to <address>@{settings.WARROOM_EMAIL_DOMAIN}"
                )
            )
            self.stdout.flush()

        try:
            asyncio.run(email.serve(host, port, ready=ready))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
        finally:
            connections.close_all()
