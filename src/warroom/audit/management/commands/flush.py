"""Django's ``flush``, allowed past the audit log's append-only triggers (see :mod:`warroom.audit.guard`).

Emptying the whole database is the one way audit rows go; the test suite flushes after each transactional test.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from warroom.audit import guard


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with guard.emptying(connections[options["database"]]):
            super().handle(**options)
