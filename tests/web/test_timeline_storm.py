"""An incident a storm grouped thousands of alerts into: its page shows the first and last alert lines with a marker
for the rest, and every line people and paging wrote; a handful of alert lines all show."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from warroom.incidents import services
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _alert_lines(incident: Incident, numbers: range) -> None:
    for n in numbers:
        services.record_alert(
            incident=incident,
            source="engine",
            at=T0 + timedelta(seconds=n),
            message=f"Alert {n} (critical) from prometheus joined this incident: disk full on db-{n} — same group",
        )


def _timeline(alice: Client, incident: Incident) -> str:
    response = alice.get(reverse("web:incident-timeline", args=[incident.ref]))
    assert response.status_code == 200
    return response.content.decode()


def _shown_alerts(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"Alert (\d+) \(critical\)", html)]


def test_a_storm_shows_its_first_and_last_alert_lines_and_every_note(
    alice: Client, world: World, incident: Incident
) -> None:
    _alert_lines(incident, range(1, 31))
    with clock.frozen(T0 + timedelta(seconds=30, milliseconds=500)):
        services.add_note(incident=incident, actor=world.alice, source="web", text="Paused the disk cleaner")
    _alert_lines(incident, range(31, 1001))

    html = _timeline(alice, incident)

    assert sorted(_shown_alerts(html)) == [*range(1, 11), *range(991, 1001)]
    assert "980 more alert lines" in html
    assert f'href="/alerts/?incident={incident.ref}&amp;status=all"' in html  # where they all are
    assert "Paused the disk cleaner" in html
    total = TimelineEntry.objects.filter(incident=incident).count()
    assert f"{total:,} entries" in html  # 1,002
    # newest first: the last alerts, the marker, the note, the first alerts, the declaration
    positions = [
        html.index("Alert 1000 ("),
        html.index("980 more alert lines"),
        html.index("Paused the disk cleaner"),
        html.index("Alert 10 ("),
        html.index("Alert 1 ("),
    ]
    assert positions == sorted(positions)
    assert html.count('class="tl tl-') == total - 980 + 1  # the lines shown and the marker


def test_a_few_alert_lines_all_show(alice: Client, incident: Incident) -> None:
    _alert_lines(incident, range(1, 22))
    html = _timeline(alice, incident)
    assert sorted(_shown_alerts(html)) == list(range(1, 22))
    assert "more alert line" not in html


def test_the_api_timeline_still_has_every_line(alice: Client, incident: Incident) -> None:
    _alert_lines(incident, range(1, 41))
    response = alice.get(f"/api/v1/incidents/{incident.ref}/timeline?limit=100")
    assert response.status_code == 200
    messages = [item["message"] for item in response.json()["items"]]
    assert sum(1 for m in messages if m.startswith("Alert ")) == 40
