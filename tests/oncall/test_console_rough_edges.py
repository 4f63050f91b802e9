"""What an on-call user trips over on the schedule pages: pickers offering observers who are then refused,
responders unable to remove their own overrides, and one person's unbroken stretch shown as several rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.test import Client
from icalendar import Calendar

from tests.api.conftest import Clients
from tests.conftest import World
from warroom.accounts.models import User
from warroom.lib import clock
from warroom.oncall import services
from warroom.oncall.models import Layer, Override, Schedule
from warroom.oncall.views import DAYS_SHOWN

ClientFor = Callable[..., Client]


def _options(html: str, name: str) -> list[str]:
    """The labels of the options of the first ``<select name=...>`` in ``html``."""
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match is not None, f"no select {name}"
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", match.group(1))]


def _rows(html: str) -> list[tuple[str, str, str, str]]:
    """(from, to, who, layer) of each row of the schedule page's shifts table."""
    table = re.search(r'<table class="table shifts">(.*?)</table>', html, re.S)
    assert table is not None
    found = []
    for row in re.findall(r"<tr class=\"(?:shift|gap)[^\"]*\">(.*?)</tr>", table.group(1), re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        found.append((cells[0].replace(" now", ""), cells[1], cells[3], cells[4]))
    return found


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso if "T" in iso else f"{iso}T00:00Z")


# ---------------------------------------------------------------------------------------------------------------
# 1. observers are not offered where they would be refused


def test_the_override_picker_offers_only_people_who_may_be_on_call(
    client_for: ClientFor, world: World, layer: Layer, erin: User
) -> None:
    alice = client_for(world.alice)
    page = alice.get(f"/oncall/schedules/{layer.schedule_id}/").content.decode()
    offered = _options(page, "user")
    assert "Erin Responder" in offered and world.bob.display_name in offered
    assert "Dave Observer" not in offered, "an observer cannot be on call, so is not offered"
    assert "Dave Observer" in _options(page, "replaces"), "anyone on the team may still be stood in for"
    # a stale or hand-made form naming an observer is still refused, naming the rule
    refused = alice.post(
        f"/oncall/schedules/{layer.schedule_id}/overrides/",
        {"user": world.dave.pk, "start": "2026-03-02T12:00", "end": "2026-03-02T18:00"},
    )
    assert refused.status_code == 400
    assert "Dave Observer is an observer of Team A" in refused.content.decode()
    assert not Override.objects.exists()


def test_the_layer_and_step_pickers_offer_only_people_who_may_be_on_call(
    client_for: ClientFor, world: World, schedule: Schedule
) -> None:
    alice = client_for(world.alice)
    new_layer = alice.get(f"/oncall/schedules/{schedule.pk}/layers/new/").content.decode()
    assert world.bob.display_name in _options(new_layer, "participants")
    assert "Dave Observer" not in _options(new_layer, "participants")
    created = alice.post("/oncall/policies/", {"team": world.team_a.pk, "name": "Checkout", "repeat": "0"})
    assert created.status_code == 302
    policy = alice.get(created["Location"]).content.decode()
    assert world.bob.display_name in _options(policy, "target")
    assert "Dave Observer" not in _options(policy, "target")


# ---------------------------------------------------------------------------------------------------------------
# 2. a responder removes their own override, as the API allows


def test_a_responder_removes_an_override_of_their_own_after_confirming(
    client_for: ClientFor, api: Clients, world: World, layer: Layer, erin: User
) -> None:
    mine = services.create_override(
        schedule=layer.schedule,
        user=erin,
        replaces=world.bob,
        start=datetime.fromisoformat("2026-03-02T18:00Z"),
        end=datetime.fromisoformat("2026-03-03T00:00Z"),
        actor=world.alice,
        source="web",
    )
    not_mine = services.create_override(
        schedule=layer.schedule,
        user=erin,
        start=datetime.fromisoformat("2026-03-04T18:00Z"),
        end=datetime.fromisoformat("2026-03-05T00:00Z"),
        actor=world.alice,
        source="web",
    )
    url = f"/oncall/schedules/{layer.schedule_id}/"
    bob = client_for(world.bob)
    page = bob.get(url).content.decode()
    # the Remove button asks first (a details pop-up with the consequence), only where the API would allow it
    assert f'id="remove-override-{mine.pk}"' in page and "Remove this override?" in page
    assert f'id="remove-override-{not_mine.pk}"' not in page
    assert "remove-override-" not in client_for(world.dave).get(url).content.decode()
    assert page.count("remove-override-") == 1
    alice_page = client_for(world.alice).get(url).content.decode()
    assert (
        f'id="remove-override-{mine.pk}"' in alice_page
        and f'id="remove-override-{not_mine.pk}"' in alice_page
    )
    # where the page offers no button, the server refuses too (the API's rule)
    api_refusal = api.bob.delete(f"/schedules/{layer.schedule_id}/overrides/{not_mine.pk}")
    assert api_refusal.status_code == 403
    assert bob.post(f"{url}overrides/{not_mine.pk}/delete/").status_code == 403
    removed = bob.post(f"{url}overrides/{mine.pk}/delete/")
    assert removed.status_code == 302
    assert list(Override.objects.values_list("pk", flat=True)) == [not_mine.pk]


# ---------------------------------------------------------------------------------------------------------------
# 4. one person's unbroken stretch is one row


def test_an_override_ending_where_the_same_persons_shift_goes_on_is_one_row(
    client_for: ClientFor, api: Clients, world: World, layer: Layer
) -> None:
    """Alice is on call Sun 09:00 → Mon 09:00 Chicago, then bob until Tue 09:00. Bob takes Alice's last four
    hours (Mon 05:00 → 09:00): bob is on call from Mon 05:00 to Tue 09:00 without a break."""
    services.create_override(
        schedule=layer.schedule,
        user=world.bob,
        replaces=world.alice,
        start=datetime.fromisoformat("2026-03-02T11:00Z"),  # Mon 05:00 CST
        end=datetime.fromisoformat("2026-03-02T15:00Z"),  # Mon 09:00 CST
        actor=world.alice,
        source="web",
    )
    rows = _rows(client_for(world.bob).get(f"/oncall/schedules/{layer.schedule_id}/").content.decode())
    assert ("Mon 2 Mar 05:00", "Tue 3 Mar 09:00", world.bob.display_name, "override, Primary") in rows
    assert not [r for r in rows if r[2] == world.bob.display_name and "Mon 2 Mar 09:00" in (r[0], r[1])]
    assert len(rows) == len({(r[0], r[2]) for r in rows})
    # "Your shifts" on the On call page: one stretch too
    mine = client_for(world.bob).get("/oncall/").content.decode()
    section = mine[mine.index('id="my-shifts"') :]
    assert (
        '>Mon 2 Mar 05:00</time> → <time datetime="2026-03-03T09:00:00-06:00">Tue 3 Mar 09:00</time> America/Chicago'
        in section
    ), "one stretch, in the schedule's zone it is labelled with"
    assert "Mon 2 Mar 09:00</time>" not in section
    # the On call page says bob is on call until Tuesday 09:00 (not the Monday 09:00 handoff to himself)
    clock.advance(timedelta(hours=24))  # Mon 2 Mar 06:00 CST
    listed = client_for(world.alice).get("/oncall/").content.decode()
    assert '<time datetime="2026-03-03T09:00:00-06:00">Tue 3 Mar 09:00</time>' in listed
    # bob's calendar feed has one event for the stretch, naming both sources
    feed_url = api.bob.post("/oncall/feeds").json()["url"]
    feed = Client().get("/" + feed_url.split("://", 1)[1].split("/", 1)[1])
    stretch = [
        e for e in Calendar.from_ical(feed.content).walk("VEVENT") if e.decoded("dtstart") < _at("2026-03-03")
    ]
    assert [(e.decoded("dtstart"), e.decoded("dtend"), str(e["description"])) for e in stretch] == [
        (
            _at("2026-03-02T11:00Z"),
            _at("2026-03-03T15:00Z"),
            "Bob Responder is on call for Checkout primary (override, Primary).",
        )
    ]
    # the API's "who is on call" answers until when bob really stops, naming why he is on call now
    now = api.bob.get(f"/schedules/{layer.schedule_id}/on-call", at="2026-03-02T06:00").json()
    [shift] = now["on_call"]
    assert shift["user"]["email"] == world.bob.email and shift["override_id"] is not None
    assert (shift["start_local"], shift["end_local"]) == (
        "2026-03-02T05:00:00-06:00",
        "2026-03-03T09:00:00-06:00",
    )


def test_a_one_person_rotation_is_one_stretch_not_one_row_a_day(
    client_for: ClientFor, api: Clients, world: World, schedule: Schedule
) -> None:
    services.create_layer(
        schedule=schedule,
        name="Solo",
        rotation_kind="daily",
        start=datetime(2026, 3, 1, 0, 0),
        participants=[world.bob],
        actor=None,
        source="system",
    )
    rows = _rows(client_for(world.alice).get(f"/oncall/schedules/{schedule.pk}/").content.decode())
    assert [(r[2], r[3]) for r in rows] == [(world.bob.display_name, "Solo")]
    assert rows[0][0] == "Sun 1 Mar 00:00" and rows[0][1] == f"Sun {1 + DAYS_SHOWN} Mar 00:00"
    body = api.alice.get(f"/schedules/{schedule.pk}/shifts", start="2026-03-02", end="2026-03-05").json()
    assert [(s["start_local"], s["end_local"]) for s in body["shifts"]] == [
        ("2026-03-02T00:00:00-06:00", "2026-03-05T00:00:00-06:00")
    ]


def test_a_responder_is_told_the_override_rule_and_keeps_their_input_when_breaking_it(
    client_for: ClientFor, world: World, layer: Layer, erin: User
) -> None:
    url = f"/oncall/schedules/{layer.schedule_id}/"
    bob = client_for(world.bob)
    assert (
        "You may take someone's shift (you are on call) or hand yours over" in bob.get(url).content.decode()
    )
    assert 'id="override-rule"' not in client_for(world.alice).get(url).content.decode()
    form = {
        "user": erin.pk,
        "replaces": world.alice.pk,
        "start": "2026-03-02T12:00",
        "end": "2026-03-02T18:00",
    }
    refused = bob.post(f"{url}overrides/", form)
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "responders may only take or give their own shifts" in page
    assert 'id="new-override" open' in page and 'value="2026-03-02T12:00"' in page, (
        "the form stays, filled in"
    )
    assert not Override.objects.exists()


# ---------------------------------------------------------------------------------------------------------------
# 5. the confirmation of a new override names the zone its times are in


def test_the_override_confirmation_names_the_schedules_zone(
    client_for: ClientFor, world: World, layer: Layer, erin: User
) -> None:
    """Alice reads the console in Berlin; the schedule is Chicago's, and so are the times she typed: the flash
    message says so instead of leaving her to guess which 12:00 it means."""
    world.alice.time_zone = "Europe/Berlin"
    world.alice.save(update_fields=["time_zone"])
    form = {"user": erin.pk, "replaces": world.bob.pk, "start": "2026-03-02T12:00", "end": "2026-03-02T18:00"}
    url = f"/oncall/schedules/{layer.schedule_id}/overrides/"
    response = client_for(world.alice).post(url, form, follow=True)
    flash = [str(m) for m in response.context["messages"]]
    assert flash == [
        "Erin Responder is on call from Mon 02 Mar 12:00 until Mon 02 Mar 18:00 (America/Chicago)."
    ]
    assert "(America/Chicago)." in response.content.decode()
