from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from warroom.analytics import rollup
from warroom.lib import clock


class Command(BaseCommand):
    help = (
        "Rebuild the report summaries from scratch (after an upgrade or a bulk import). The engine keeps them "
        "up to date otherwise."
    )
    # A one-shot admin verb: the system checks (which import every URL and API schema, ~4 s) run when the
    # server starts and with `warroom check`.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.monotonic()
        days = rollup.rebuild_all(clock.now())
        self.stdout.write(f"rebuilt the summaries of {days} days in {time.monotonic() - began:.1f}s")
