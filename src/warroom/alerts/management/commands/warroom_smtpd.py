from __future__ import annotations

import asyncio
import ssl
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
        parser.add_argument("--tls-cert", default="", help="PEM certificate chain: offer STARTTLS with it.")
        parser.add_argument(
            "--tls-key", default="", help="PEM private key (default: in the --tls-cert file)."
        )
        parser.add_argument(
            "--require-tls", action="store_true", help="Refuse mail from clients that did not STARTTLS first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be 1 to 65535, not {port}")
        tls = self._tls(options["tls_cert"], options["tls_key"], options["require_tls"])

        def ready(where: str) -> None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Warroom smtpd is listening on {where} for mail to <address>@{settings.WARROOM_EMAIL_DOMAIN}"
                    + (
                        ""
                        if tls is None
                        else " (STARTTLS required)"
                        if tls.required
                        else " (STARTTLS offered)"
                    )
                )
            )
            self.stdout.flush()

        try:
            asyncio.run(email.serve(host, port, ready=ready, tls=tls))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
        finally:
            connections.close_all()

    def _tls(self, cert: str, key: str, required: bool) -> email.Tls | None:
        if not cert:
            if key or required:
                raise CommandError("--tls-key and --require-tls need --tls-cert")
            return None
        try:
            return email.Tls(cert, key or cert, required)
        except (OSError, ssl.SSLError) as exc:
            raise CommandError(f"cannot use the certificate {cert} (key {key or cert}): {exc}") from None
