"""Chart axes stay readable: x labels that would overlap slant and thin out, short ones stay level."""

from __future__ import annotations

import base64
from datetime import date, timedelta

from warroom.analytics import charts


def _svg(chart: charts.Chart) -> str:
    return base64.b64decode(chart.data_uri.split(",", 1)[1]).decode()


def _x_labels_slanted(svg: str) -> bool:
    return "rotate(35" in svg


def test_thirteen_weekly_dates_slant_seven_weekdays_stay_level() -> None:
    weeks = [(date(2026, 9, 2) + timedelta(weeks=n)).isoformat() for n in range(13)]
    per_week = charts.line(
        key="w", title="Per week", description="d", labels=weeks, series=[("MTTA", [1.0] * 13)]
    )
    assert _x_labels_slanted(_svg(per_week))  # 13 dates side by side overlapped (seen on the demo's reports)

    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    per_day = charts.line(
        key="d", title="Per day", description="d", labels=days, series=[("Pages", [2.0] * 7)]
    )
    assert not _x_labels_slanted(_svg(per_day))

    services = [f"Service number {n}" for n in range(8)]
    bars = charts.bar(
        key="s",
        title="By service",
        description="d",
        labels=services,
        series=[("P1", [1.0] * 8)],
        horizontal=True,
    )
    assert all(f">{name[:12]}" in _svg(bars) for name in services), "a horizontal chart names every bar"
