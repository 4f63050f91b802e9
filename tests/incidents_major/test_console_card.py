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


def _rhythm(html: str) -> str:
    """The words of the card's update rhythm line."""
    start = html.index('id="major-rhythm"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html[start : html.index("</p>", start)]))


def test_the_card_alone_comes_fresh_after_an_update_for_the_page_to_swap_in(
    world: World, client_for: ClientFor
) -> None:
    """Posting a stakeholder update swaps only the updates card; the major card beside it asks for itself again
    (tests/browser/test_console_small_things.py watches it happen) and no longer says the update is late."""
    incident = declare(world, is_major=True)
    alice = client_for(world.alice)
    page = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    card_url = reverse("web:incident-major", args=[incident.ref])
    refresher = re.search(r'<span hidden id="major-refresh"([^>]*)>', _card(page))
    assert refresher is not None and f'hx-get="{card_url}"' in refresher.group(1)
    assert 'from:#incident-updates-slot"' in refresher.group(1) and 'hx-target="#major"' in refresher.group(1)
    # the updates card swaps itself inside the slot the refresher listens to
    assert '<div id="incident-updates-slot"><section class="card" id="incident-updates"' in page

    with clock.frozen(T0 + timedelta(minutes=45)):
        assert "overdue" in _rhythm(alice.get(card_url).content.decode())
        posted = alice.post(
            reverse("comms-update-post", args=[incident.ref]),
            {"status": "investigating", "audience": "internal", "message": "Looking into it."},
            headers={"HX-Request": "true"},
        )
        assert posted.status_code == 200
        card = alice.get(card_url)
    rhythm = _rhythm(card.content.decode())
    assert card.status_code == 200 and "overdue" not in rhythm
    assert "last update Mar 2, 10:45 UTC (just now)" in rhythm, rhythm
    assert 'id="major-demote"' in card.content.decode()  # the whole card, its actions included
    assert client_for(world.charlie).get(card_url).status_code == 404
    # an ordinary incident's card has no rhythm to refresh
    ordinary = declare(world, title="Slow search")
    other = alice.get(reverse("web:incident-detail", args=[ordinary.ref])).content.decode()
    assert 'id="major"' in other and 'id="major-refresh"' not in other
