"""Console pages: "On call" (every schedule, who is on call now) and a schedule's next 14 days with gaps marked,
its layers, and override creation. charlie gets the 404 page on Team A's schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.test import Client

from tests.conftest import World
from tests.oncall.conftest import business_hours
from warroom.accounts.models import User
from warroom.oncall import services
from warroom.oncall.models import Layer, Override, Schedule

ClientFor = Callable[..., Client]


def test_the_on_call_page_lists_visible_schedules_with_who_is_on_call(
    client_for: ClientFor, world: World, layer: Layer
) -> None:
    page = client_for(world.bob).get("/oncall/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Checkout primary" in text and "Nobody" in text  # 06:00 in Chicago: the rotation starts at 09:00
    assert "Checkout primary" not in client_for(world.charlie).get("/oncall/").content.decode()
    assert "<title>On call · Warroom</title>" in text  # the page's title is just its name
    assert text.count('id="my-shifts"') == 1


def test_the_schedule_page_shows_14_days_in_the_schedules_zone_and_marks_gaps(
    client_for: ClientFor, world: World, schedule: Schedule
) -> None:
    services.create_layer(
        schedule=schedule,
        name="Business hours",
        rotation_kind="weekly",
        start=datetime(2026, 3, 2, 9),
        participants=[world.alice, world.bob],
        restrictions=business_hours(),
        actor=None,
        source="system",
    )
    page = client_for(world.dave).get(f"/oncall/schedules/{schedule.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Times in America/Chicago" in text
    assert "Mon 2 Mar 09:00" in text and "Mon 2 Mar 17:00" in text
    assert "Mon 9 Mar 09:00" in text  # after the DST change, still 09:00 local
    assert "Nobody on call" in text and "Weekdays 09:00–17:00" in text
    assert 'id="new-override"' not in text  # observers cannot add overrides
    assert client_for(world.charlie).get(f"/oncall/schedules/{schedule.pk}/").status_code == 404


def test_an_override_is_added_and_removed_from_the_schedule_page(
    client_for: ClientFor, world: World, layer: Layer, erin: User
) -> None:
    alice = client_for(world.alice)
    url = f"/oncall/schedules/{layer.schedule_id}/overrides/"
    form = {
        "user": erin.pk,
        "replaces": world.bob.pk,
        "start": "2026-03-02T12:00",
        "end": "2026-03-02T18:00",
    }
    response = alice.post(url, form)
    assert response.status_code == 302, response.content.decode()
    override = Override.objects.get()
    assert override.start == datetime.fromisoformat("2026-03-02T18:00Z")  # 12:00 CST
    page = alice.get(f"/oncall/schedules/{layer.schedule_id}/").content.decode()
    assert "Erin Responder" in page
    bad = alice.post(url, {**form, "end": "2026-03-02T11:00"})
    assert bad.status_code == 400 and "must end after it starts" in bad.content.decode()
    assert client_for(world.dave).post(url, form).status_code == 403
    assert client_for(world.charlie).post(url, form).status_code == 404
    removed = alice.post(f"/oncall/schedules/{layer.schedule_id}/overrides/{override.pk}/delete/")
    assert removed.status_code == 302 and not Override.objects.exists()


def test_the_layer_form_refuses_an_observer_naming_them(
    client_for: ClientFor, world: World, schedule: Schedule
) -> None:
    form = {
        "name": "Weekly",
        "priority": "",
        "rotation_kind": "weekly",
        "shift_length": "1",
        "custom_unit": "days",
        "start": "2026-03-02T09:00",
        "handoff_time": "09:00",
        "participants": [str(world.bob.pk), str(world.dave.pk)],
    }
    response = client_for(world.alice).post(f"/oncall/schedules/{schedule.pk}/layers/new/", form)
    assert response.status_code == 400
    assert "Dave Observer is an observer of Team A (read-only: observers cannot act on incidents)" in (
        response.content.decode()
    )
    assert not schedule.layers.exists()
