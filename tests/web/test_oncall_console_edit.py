"""Schedules edited from the console: create, edit and delete a schedule; add, edit and delete layers (ordered
participants, rotation, shift length, handoff, start, restriction windows); create and revoke calendar feeds
from the schedule page, the secret URL shown once. Team admins and managers change schedules; charlie (team B)
gets 404 on Team A's schedule, dave (observer) and bob (responder) 403 on changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time

import pytest
from django.test import Client

from tests.conftest import World
from tests.oncall.conftest import NOW
from tests.web.conftest import ClientFor
from warroom.accounts import services as accounts_services
from warroom.audit.models import AuditEvent
from warroom.lib import clock
from warroom.oncall import services
from warroom.oncall.models import CalendarFeed, Layer, LayerMember, Restriction, Schedule

pytestmark = pytest.mark.django_db

NEW = "/oncall/schedules/new/"


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def schedule(world: World, now: datetime) -> Schedule:
    """Team A's schedule in America/Chicago (as in the on-call tests)."""
    return services.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="America/Chicago", actor=None, source="system"
    )


@pytest.fixture
def layer(world: World, schedule: Schedule) -> Layer:
    """Daily 09:00 handoffs from 1 March 2026 09:00 Chicago: alice, bob, alice, ..."""
    return services.create_layer(
        schedule=schedule,
        name="Primary",
        rotation_kind="daily",
        start=datetime(2026, 3, 1, 9, 0),
        handoff_time=time(9, 0),
        participants=[world.alice, world.bob],
        actor=None,
        source="system",
    )


def _layer_post(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "Business hours",
        "priority": "",
        "rotation_kind": "daily",
        "shift_length": "1",
        "custom_unit": "days",
        "start": "2026-03-02T09:00",
        "handoff_time": "09:00",
        "participants": [],
        "r0_start": "",
        "r0_end": "",
        "r1_start": "",
        "r1_end": "",
        "r2_start": "",
        "r2_end": "",
    }
    values.update(overrides)
    return values


# -- schedules ---------------------------------------------------------------------------------------------------


def test_a_team_admin_creates_a_schedule_and_sees_field_errors(
    client_for: ClientFor, world: World, now: datetime
) -> None:
    alice: Client = client_for(world.alice)
    page = alice.get(NEW)
    assert page.status_code == 200 and b'name="time_zone"' in page.content
    bad = alice.post(NEW, {"team": world.team_a.pk, "name": "", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "This field is required" in text and "Select a valid choice" in text
    other_team = alice.post(NEW, {"team": world.team_b.pk, "name": "Sneaky", "time_zone": "UTC"})
    assert other_team.status_code == 400, "only teams alice manages are offered"
    created = alice.post(NEW, {"team": world.team_a.pk, "name": "Payments", "time_zone": "Europe/Berlin"})
    assert created.status_code == 302
    payments = Schedule.objects.get(name="Payments")
    assert created["Location"] == f"/oncall/schedules/{payments.pk}/"
    assert payments.team == world.team_a and payments.time_zone == "Europe/Berlin"
    again = alice.post(NEW, {"team": world.team_a.pk, "name": "Payments", "time_zone": "UTC"})
    assert again.status_code == 409 and "already has a schedule named" in again.content.decode()
    assert AuditEvent.objects.filter(action="schedule.create", source="web").count() == 1


def test_people_who_manage_no_team_cannot_create_schedules(
    client_for: ClientFor, world: World, now: datetime
) -> None:
    assert client_for(world.dave).get(NEW).status_code == 403
    assert (
        client_for(world.bob)
        .post(NEW, {"team": world.team_a.pk, "name": "X", "time_zone": "UTC"})
        .status_code
        == 403
    )
    assert not Schedule.objects.filter(name="X").exists()
    assert b"+ Schedule" not in client_for(world.bob).get("/oncall/").content
    assert b"+ Schedule" in client_for(world.alice).get("/oncall/").content


def test_edit_and_delete_a_schedule(client_for: ClientFor, world: World, schedule: Schedule) -> None:
    alice = client_for(world.alice)
    url = f"/oncall/schedules/{schedule.pk}/edit/"
    form = alice.get(url)
    assert form.status_code == 200 and b"America/Chicago" in form.content
    saved = alice.post(url, {"name": "Checkout", "time_zone": "Europe/London", "description": "Tier 1"})
    assert saved.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.time_zone, schedule.description) == (
        "Checkout",
        "Europe/London",
        "Tier 1",
    )
    assert alice.post(url, {"name": "", "time_zone": "Europe/London"}).status_code == 400
    gone = alice.post(f"/oncall/schedules/{schedule.pk}/delete/")
    assert gone.status_code == 302 and gone["Location"] == "/oncall/"
    assert not Schedule.objects.filter(pk=schedule.pk).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/oncall/schedules/{s}/edit/"),
        ("post", "/oncall/schedules/{s}/edit/"),
        ("post", "/oncall/schedules/{s}/delete/"),
        ("get", "/oncall/schedules/{s}/layers/new/"),
        ("post", "/oncall/schedules/{s}/layers/new/"),
        ("get", "/oncall/schedules/{s}/layers/{l}/edit/"),
        ("post", "/oncall/schedules/{s}/layers/{l}/edit/"),
        ("post", "/oncall/schedules/{s}/layers/{l}/delete/"),
        ("post", "/oncall/schedules/{s}/feeds/"),
    ],
)
def test_charlie_gets_404_and_observers_and_responders_403(
    client_for: ClientFor, world: World, schedule: Schedule, layer: Layer, method: str, path: str
) -> None:
    url = path.format(s=schedule.pk, l=layer.pk)
    body = (
        {"name": "Taken over", "time_zone": "UTC"}
        if "edit" in path and "layers" not in path
        else _layer_post()
    )
    call = {"get": lambda c: c.get(url), "post": lambda c: c.post(url, body)}[method]
    assert call(client_for(world.charlie)).status_code == 404
    if path.endswith("/feeds/"):
        return  # anyone who can see the schedule may have their own feed of it
    assert call(client_for(world.dave)).status_code == 403
    assert call(client_for(world.bob)).status_code == 403
    schedule.refresh_from_db()
    assert schedule.name == "Checkout primary" and Layer.objects.filter(pk=layer.pk).exists()
    assert Layer.objects.filter(schedule=schedule).count() == 1


# -- layers ------------------------------------------------------------------------------------------------------


def test_add_a_layer_with_ordered_participants_and_restrictions(
    client_for: ClientFor, world: World, schedule: Schedule
) -> None:
    alice = client_for(world.alice)
    url = f"/oncall/schedules/{schedule.pk}/layers/new/"
    page = alice.get(url)
    assert page.status_code == 200 and page.content.count(b'name="participants"') >= 4
    post = _layer_post(
        participants=[str(world.bob.pk), "", str(world.alice.pk), str(world.bob.pk)],
        r0_days=["0", "1", "2", "3", "4"],
        r0_start="09:00",
        r0_end="17:00",
        r1_days=["5"],
        r1_start="22:00",
        r1_end="06:00",
    )
    added = alice.post(url, post)
    assert added.status_code == 302, added.content.decode()[:2000]
    layer = Layer.objects.get(schedule=schedule, name="Business hours")
    assert (layer.rotation_kind, layer.shift_length, layer.priority) == ("daily", 1, 1)
    assert (layer.starts_on, layer.starts_at, layer.handoff_time) == (date(2026, 3, 2), time(9), time(9))
    order = list(
        LayerMember.objects.filter(layer=layer).order_by("position").values_list("user_id", flat=True)
    )
    assert order == [world.bob.pk, world.alice.pk, world.bob.pk], "blanks skipped, order and repeats kept"
    windows = sorted(Restriction.objects.filter(layer=layer).values_list("days", "start_time", "end_time"))
    assert windows == [(0b0011111, time(9), time(17)), (0b0100000, time(22), time(6))]
    shown = alice.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    assert "Weekdays 09:00–17:00" in shown and f"/layers/{layer.pk}/edit/" in shown


def test_layer_form_errors_name_their_fields(client_for: ClientFor, world: World, schedule: Schedule) -> None:
    alice = client_for(world.alice)
    url = f"/oncall/schedules/{schedule.pk}/layers/new/"
    missing = alice.post(url, _layer_post(name="", start=""))
    assert missing.status_code == 400 and missing.content.decode().count("This field is required") >= 2
    half_window = alice.post(
        url, _layer_post(r0_days=["0"], r0_start="09:00", r1_start="10:00", r1_end="11:00")
    )
    text = half_window.content.decode()
    assert half_window.status_code == 400
    assert "Give both times of the window." in text and "Tick at least one day for this window." in text
    too_long = alice.post(url, _layer_post(rotation_kind="hourly", shift_length="100000"))
    assert too_long.status_code == 400 and "a hourly shift is at most" in too_long.content.decode()
    outsider = alice.post(url, _layer_post(participants=[str(world.charlie.pk)]))
    assert outsider.status_code == 400 and "Select a valid choice" in outsider.content.decode()
    assert not Layer.objects.filter(schedule=schedule).exists(), "nothing half-written"


def test_edit_a_layer_reorders_participants_and_drops_restrictions(
    client_for: ClientFor, world: World, schedule: Schedule, layer: Layer
) -> None:
    alice = client_for(world.alice)
    url = f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/edit/"
    form = alice.get(url)
    assert form.status_code == 200
    assert f'<option value="{world.alice.pk}" selected>' in form.content.decode()
    saved = alice.post(
        url,
        _layer_post(
            name="Primary",
            rotation_kind="weekly",
            shift_length="2",
            start="2026-03-01T09:00",
            handoff_time="10:30",
            participants=[str(world.bob.pk), str(world.alice.pk)],
        ),
    )
    assert saved.status_code == 302
    layer.refresh_from_db()
    assert (layer.rotation_kind, layer.shift_length, layer.handoff_time) == ("weekly", 2, time(10, 30))
    order = list(
        LayerMember.objects.filter(layer=layer).order_by("position").values_list("user_id", flat=True)
    )
    assert order == [world.bob.pk, world.alice.pk]
    assert AuditEvent.objects.filter(action="schedule.layer.update", source="web").exists()
    deleted = alice.post(f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/delete/")
    assert deleted.status_code == 302 and not Layer.objects.filter(pk=layer.pk).exists()


def test_a_priority_clash_is_shown_on_the_priority_field(
    client_for: ClientFor, world: World, schedule: Schedule, layer: Layer
) -> None:
    clash = client_for(world.alice).post(
        f"/oncall/schedules/{schedule.pk}/layers/new/", _layer_post(priority=str(layer.priority))
    )
    assert clash.status_code == 409 and "already has a layer with priority" in clash.content.decode()


# -- calendar feeds ----------------------------------------------------------------------------------------------


def test_a_calendar_feed_url_is_shown_once_and_can_be_revoked(
    client_for: ClientFor, world: World, schedule: Schedule, layer: Layer
) -> None:
    bob = client_for(world.bob)
    made = bob.post(f"/oncall/schedules/{schedule.pk}/feeds/")
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    feed = CalendarFeed.objects.get(user=world.bob, schedule=schedule)
    text = made.content.decode()
    start = text.index('id="feed-url"')
    url = text[start:].split('value="', 1)[1].split('"', 1)[0]
    assert "/oncall/calendar/" in url and url.endswith(".ics") and feed.prefix in url
    path = url[url.index("/oncall/calendar/") :]
    calendar = Client().get(path)
    assert calendar.status_code == 200 and b"BEGIN:VCALENDAR" in calendar.content
    later = bob.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    assert url not in later and feed.prefix in later, "listed by its prefix, never the secret again"
    assert (
        client_for(world.dave).get(f"/oncall/schedules/{schedule.pk}/").content.decode().count(feed.prefix)
        == 0
    )
    revoke = f"/oncall/schedules/{schedule.pk}/feeds/{feed.pk}/revoke/"
    assert client_for(world.charlie).post(revoke).status_code == 404
    assert client_for(world.dave).post(revoke).status_code == 404, (
        "not theirs, and they do not manage the team"
    )
    assert feed.prefix in client_for(world.alice).get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    assert client_for(world.alice).post(revoke).status_code == 302, "a manager may cut off a leaked feed"
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert Client().get(path).status_code == 404
    assert bob.post(revoke).status_code == 409


# -- layers whose people left, and oversized forms -------------------------------------------------------------


@pytest.mark.parametrize("how", ["left the team", "deactivated"])
def test_editing_a_layer_never_drops_a_departed_participant_silently(
    client_for: ClientFor, world: World, schedule: Schedule, layer: Layer, how: str
) -> None:
    """Bob left (or was deactivated) but is still in the rotation: the edit form keeps him in his place, named as
    such, and saving it is refused naming him, so a rename does not quietly shift everyone's turn."""
    if how == "left the team":
        accounts_services.remove_membership(team=world.team_a, user=world.bob, actor=None, source="system")
        label = "Bob Responder (not in Team A)"
    else:
        accounts_services.set_active(user=world.bob, active=False, actor=None, source="system")
        label = "Bob Responder (deactivated)"
    alice = client_for(world.alice)
    url = f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/edit/"
    form = alice.get(url).content.decode()
    assert f'<option value="{world.bob.pk}" selected>{label}</option>' in form
    as_shown = _layer_post(
        name="Primary renamed",
        start="2026-03-01T09:00",
        participants=[str(world.alice.pk), str(world.bob.pk)],
    )
    refused = alice.post(url, as_shown)
    assert refused.status_code == 400
    assert "Bob Responder is not an active member of Team A" in refused.content.decode()
    layer.refresh_from_db()
    order = list(
        LayerMember.objects.filter(layer=layer).order_by("position").values_list("user_id", flat=True)
    )
    assert (layer.name, order) == ("Primary", [world.alice.pk, world.bob.pk]), "nothing changed"
    chosen = alice.post(url, {**as_shown, "participants": [str(world.alice.pk), ""]})
    assert chosen.status_code == 302, "taking him out is an explicit choice"
    assert list(LayerMember.objects.filter(layer=layer).values_list("user_id", flat=True)) == [world.alice.pk]


def test_a_layer_form_with_absurd_row_numbers_is_refused_quickly(
    client_for: ClientFor, world: World, schedule: Schedule
) -> None:
    """Restriction rows and participant places come from the posted names: a made-up ``r999999_days`` (or a
    number too long for ``int``) or hundreds of participants is a 400 naming the limit, not a page with a
    million rows (nor a 500)."""
    alice = client_for(world.alice)
    url = f"/oncall/schedules/{schedule.pk}/layers/new/"
    far = alice.post(url, _layer_post(r999999_days=["0"], r999999_start="09:00", r999999_end="17:00"))
    assert far.status_code == 400
    assert "a layer has at most 28 restriction windows" in far.content.decode()
    assert far.content.decode().count('class="form-grid restriction"') <= 30
    huge = alice.post(url, {**_layer_post(), "r" + "9" * 5000 + "_days": ["0"]})
    assert huge.status_code == 400
    crowd = alice.post(url, _layer_post(participants=[str(world.alice.pk)] * 500))
    assert crowd.status_code == 400
    assert "a layer has at most 100 participants" in crowd.content.decode()
    assert crowd.content.decode().count('name="participants"') <= 110
    assert not Layer.objects.filter(schedule=schedule).exists()
