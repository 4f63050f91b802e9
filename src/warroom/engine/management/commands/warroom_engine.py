from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from warroom.engine import registry
from warroom.engine.loop import Engine, run_cycle


class Command(BaseCommand):
    help = "Run the Warroom engine loop (or one cycle with --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one cycle and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            registry.discover()
            report = run_cycle()
            self.stdout.write(
                f"ran: {', '.join(report.ran) or '-'}; skipped: {', '.join(report.skipped) or '-'}"
            )
            for name, error in report.failed.items():
                self.stderr.write(f"failed: {name}: {error}")
            return
        engine = Engine(interval=settings.WARROOM_ENGINE_INTERVAL)
        signal.signal(signal.SIGTERM, lambda *_: engine.stop())
        signal.signal(signal.SIGINT, lambda *_: engine.stop())
        engine.run_forever()
