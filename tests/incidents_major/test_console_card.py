"""The major-incident card as an on-call engineer reads it: "Demote" is an action that asks first (with room
for why), and the update rhythm's times carry their date and the reader's own time zone, as everywhere else in
the console."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.incidents_major.conftest import T0, declare
from warroom.accounts.models import User
from warroom.incidents import major
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock

ClientFor = Callable[[User], Client]


def _card(html: str) -> str:
    start = html.index('id="major"')
    return html[start : html.index("</section>", start)]


def test_demote_asks_first_and_says_what_it_stops(world: World, client_for: ClientFor) -> None:
    incident = declare(world, is_major=True)
    alice = client_for(world.alice)
    card = _card(alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode())
    # a disclosure that looks like a button and opens a confirmation, not a bare label-like button
    confirm = re.search(r'<details class="action-pop" id="confirm-demote">(.*?)</details>', card, re.S)
    assert confirm is not None, card
    assert re.search(r'<summary class="button warn"[^>]*>Demote to ordinary…</summary>', confirm.group(1))
    assert f"Demote {incident.ref} to an ordinary incident?" in confirm.group(1)
    assert "update rhythm" in confirm.group(1)
    assert '<textarea name="note" id="demote-note"' in confirm.group(1)
    assert ">Demote incident</button>" in confirm.group(1)

    response = alice.post(
        reverse("web:incident-major-demote", args=[incident.ref]), {"note": "Contained to one region"}
    )
    assert response.status_code == 302
    assert not Incident.objects.get(pk=incident.pk).is_major
    line = TimelineEntry.objects.filter(incident=incident, field="is_major").latest("id")
    assert "Contained to one region" in line.message


def test_rhythm_times_carry_date_and_the_readers_zone(world: World, client_for: ClientFor) -> None:
    world.alice.time_zone = "Europe/Berlin"
    world.alice.save(update_fields=["time_zone"])
    incident = declare(world, is_major=True)  # P1 at 10:00 UTC: updates every 30 min
    with clock.frozen(T0):
        major.run_engine(T0)
    with clock.frozen(T0 + timedelta(minutes=10)):
        html = (
            client_for(world.alice).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
        )
    card = _card(html)
    rhythm = re.sub(
        r"\s+", " ", card[card.index('id="major-rhythm"') : card.index("</p>", card.index("major-rhythm"))]
    )
    # 10:00 and 10:30 UTC are 11:00 and 11:30 in Berlin (CET in March)
    assert "last update" in rhythm and "Mar 2, 11:00 CET (10m ago)" in rhythm, rhythm
    assert "next due" in rhythm and "Mar 2, 11:30 CET (in 20m)" in rhythm, rhythm
    assert 'datetime="2026-03-02T11:30:00+01:00"' in rhythm


def test_an_overdue_update_reads_as_late(world: World, client_for: ClientFor) -> None:
    incident = declare(world, is_major=True)
    with clock.frozen(T0):
        major.run_engine(T0)
    with clock.frozen(T0 + timedelta(minutes=45)):
        html = (
            client_for(world.alice).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
        )
    rhythm = re.sub(r"\s+", " ", _card(html))
    assert "next due Mar 2, 10:30 UTC (15m ago)" in re.sub(r"<[^>]+>", "", rhythm) and "overdue" in rhythm
