"""Engine modules of the analytics app: keeping the report summaries up to date (docs/adr/0007)."""

from __future__ import annotations

from datetime import datetime

from warroom.analytics import rollup
from warroom.engine import registry


@registry.module("analytics.summarize", order=900)
def summarize(now: datetime) -> int:
    """Once a minute, mark the days whose incidents, alerts or pages changed, and rebuild up to a month of
    them. Exclusive (one engine at a time); each day is also taken under a row lock."""
    return rollup.run(now)
