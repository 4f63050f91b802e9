"""Low urgency "wait for working hours": a person's weekly working window in their own IANA zone, rules marked
``working_hours_only``, and the due times ``enqueue`` gives them (DST-correct), through the services, the API
and the Notifications page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.http import HttpResponse
from django.test import Client
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Clients
from tests.conftest import World
from tests.notify.conftest import verified
from tests.notify.receivers import Inbox
from warroom.audit.models import AuditEvent
from warroom.lib import clock
from warroom.lib.errors import PermissionDenied, ValidationFailed
from warroom.notify import services
from warroom.notify.models import ContactMethod, NotificationRule, WorkingHours
from warroom.notify.working_hours import ONE_DAY, Window, next_working_instant

BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")
pytestmark = pytest.mark.django_db

OFFICE = Window(zone=BERLIN, days=frozenset(range(5)), start=time(9), end=time(18))


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """The UTC instant of a wall-clock time in ``zone`` (first occurrence when repeated)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


# -- the pure rule -------------------------------------------------------------------------------------------------


def test_inside_the_window_is_at_once_outside_waits_for_the_next_opening() -> None:
    tuesday_noon = local(BERLIN, 2026, 3, 3, 12, 0)
    assert next_working_instant(OFFICE, tuesday_noon) == tuesday_noon
    assert next_working_instant(OFFICE, local(BERLIN, 2026, 3, 3, 23, 0)) == local(BERLIN, 2026, 3, 4, 9, 0)
    assert next_working_instant(OFFICE, local(BERLIN, 2026, 3, 4, 6, 0)) == local(BERLIN, 2026, 3, 4, 9, 0)
    # the end is exclusive; Friday evening waits for Monday
    assert next_working_instant(OFFICE, local(BERLIN, 2026, 3, 6, 18, 0)) == local(BERLIN, 2026, 3, 9, 9, 0)
    assert next_working_instant(OFFICE, local(BERLIN, 2026, 3, 7, 11, 0)) == local(BERLIN, 2026, 3, 9, 9, 0)


def test_a_night_window_runs_past_midnight() -> None:
    nights = Window(zone=BERLIN, days=frozenset({0}), start=time(22), end=time(6))
    assert next_working_instant(nights, local(BERLIN, 2026, 3, 3, 3, 0)) == local(BERLIN, 2026, 3, 3, 3, 0)
    assert next_working_instant(nights, local(BERLIN, 2026, 3, 3, 7, 0)) == local(BERLIN, 2026, 3, 9, 22, 0)


def test_across_the_spring_change_the_opening_stays_at_local_nine() -> None:
    # Berlin goes to summer time on Sunday 29 March 2026: Friday 23:00 CET → Monday 09:00 CEST (07:00 UTC)
    due = next_working_instant(OFFICE, local(BERLIN, 2026, 3, 27, 23, 0))
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 9


def test_across_the_autumn_change_the_opening_stays_at_local_nine() -> None:
    due = next_working_instant(OFFICE, local(BERLIN, 2026, 10, 23, 23, 0))
    assert due == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_an_opening_in_the_skipped_hour_is_the_change_and_a_repeated_one_its_first_pass() -> None:
    early = Window(zone=CHICAGO, days=frozenset(range(7)), start=time(2, 30), end=time(10))
    # 8 March 2026: 02:00 CST jumps to 03:00 CDT: 02:30 does not exist, the window opens at the change
    assert next_working_instant(early, local(CHICAGO, 2026, 3, 7, 23, 0)) == datetime(
        2026, 3, 8, 8, 0, tzinfo=UTC
    )
    late = Window(zone=CHICAGO, days=frozenset(range(7)), start=time(1, 30), end=time(10))
    # 1 November 2026: 01:30 happens twice; the window opens at the first (CDT, 06:30 UTC)
    assert next_working_instant(late, local(CHICAGO, 2026, 10, 31, 23, 0)) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(["Europe/Berlin", "America/Chicago", "Australia/Lord_Howe", "Asia/Kolkata"]),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    start=st.times(),
    end=st.times(),
)
@example(  # a Sunday window inside Lord Howe's 02:00→02:30 spring gap: that Sunday has no window at all
    at=datetime(2026, 9, 26, 16, 0, tzinfo=UTC),
    zone="Australia/Lord_Howe",
    days=frozenset([6]),
    start=time(2, 0),
    end=time(2, 0, 0, 1),
)
def test_the_due_time_is_never_early_and_within_a_week(
    at: datetime, zone: str, days: frozenset[int], start: time, end: time
) -> None:
    window = Window(zone=ZoneInfo(zone), days=days, start=start.replace(microsecond=0), end=end)
    due = next_working_instant(window, at)
    length = (datetime.combine(at.date(), window.end) - datetime.combine(at.date(), window.start)) % ONE_DAY
    # a window no longer than the DST gap (an hour at most) can vanish on the day of the change: then the
    # next one is a week later again
    longest_wait = timedelta(days=15) if timedelta(0) < length <= timedelta(hours=1) else timedelta(days=8)
    assert at <= due <= at + longest_wait
    assert next_working_instant(window, due) == due, "the due time is inside working hours"


# -- enqueue -------------------------------------------------------------------------------------------------------


@pytest.fixture
def bobs_email(world: World, smtp: Inbox) -> ContactMethod:
    """bob's email, verified: its default rules (high and low at 0 min) are replaced by the test's own."""
    method = verified(world.bob, "email", "bob@example.com", name="Work mail")
    NotificationRule.objects.filter(contact_method=method).delete()
    return method


@pytest.fixture
def berlin_office(world: World) -> WorkingHours:
    return services.set_working_hours(
        user=world.bob,
        time_zone="Europe/Berlin",
        days=["weekdays"],
        start="09:00",
        end="18:00",
        actor=world.bob,
        source="api",
    )


def _rule(world: World, method: ContactMethod, urgency: str, *, held: bool, delay: int = 0) -> None:
    services.create_rule(
        user=world.bob,
        contact_method=method,
        urgency=urgency,
        delay_minutes=delay,
        working_hours_only=held,
        actor=world.bob,
        source="api",
    )


@pytest.fixture
def at_night() -> Iterator[datetime]:
    night = local(BERLIN, 2026, 3, 3, 23, 0)  # Tuesday 23:00 in Berlin
    with clock.frozen(night):
        yield night


def _page(world: World, urgency: str, key: str = "incident:7") -> services.Enqueued:
    return services.enqueue(user=world.bob, urgency=urgency, subject="Disk 85% on db7", dedup_key=key)


def test_a_low_urgency_page_at_23_local_is_due_at_9_the_next_working_day(
    world: World, bobs_email: ContactMethod, berlin_office: WorkingHours, at_night: datetime
) -> None:
    _rule(world, bobs_email, "low", held=True)
    (message,) = _page(world, "low").messages
    assert message.due_at == message.next_attempt_at == local(BERLIN, 2026, 3, 4, 9, 0)
    assert message.note == "waiting for working hours: Wed 2026-03-04 09:00 Europe/Berlin"


def test_the_delay_counts_first_and_the_hold_applies_to_the_result(
    world: World, bobs_email: ContactMethod, berlin_office: WorkingHours
) -> None:
    _rule(world, bobs_email, "low", held=True, delay=30)
    with clock.frozen(local(BERLIN, 2026, 3, 3, 17, 45)):
        (message,) = _page(world, "low").messages
    assert message.due_at == local(BERLIN, 2026, 3, 4, 9, 0), "17:45 + 30 min is after hours"
    with clock.frozen(local(BERLIN, 2026, 3, 3, 10, 0)):
        (inside,) = _page(world, "low", key="incident:8").messages
    assert inside.due_at == local(BERLIN, 2026, 3, 3, 10, 30) and inside.note == ""


def test_a_friday_night_page_across_the_dst_change_is_due_monday_9_local(
    world: World, bobs_email: ContactMethod, berlin_office: WorkingHours
) -> None:
    _rule(world, bobs_email, "low", held=True)
    with clock.frozen(local(BERLIN, 2026, 3, 27, 23, 0)):
        (message,) = _page(world, "low").messages
    assert message.due_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST, not 08:00 or 10:00


def test_high_urgency_is_unaffected(
    world: World, bobs_email: ContactMethod, berlin_office: WorkingHours, at_night: datetime
) -> None:
    _rule(world, bobs_email, "high", held=False)
    _rule(world, bobs_email, "low", held=True)
    (message,) = _page(world, "high").messages
    assert message.due_at == at_night and message.note == ""
    with pytest.raises(ValidationFailed, match="only low-urgency") as refused:
        _rule(world, bobs_email, "high", held=True, delay=5)
    assert refused.value.field == "working_hours_only"


def test_a_low_urgency_rule_not_marked_still_goes_at_once(
    world: World, bobs_email: ContactMethod, berlin_office: WorkingHours, at_night: datetime
) -> None:
    _rule(world, bobs_email, "low", held=False)
    _rule(world, bobs_email, "low", held=True, delay=1)
    first, second = _page(world, "low").messages
    assert first.due_at == at_night
    assert second.due_at == local(BERLIN, 2026, 3, 4, 9, 0)


def test_a_person_without_working_hours_gets_it_at_once(
    world: World, bobs_email: ContactMethod, at_night: datetime
) -> None:
    _rule(world, bobs_email, "low", held=True)
    (message,) = _page(world, "low").messages
    assert message.due_at == at_night and message.note == ""


def test_working_hours_are_validated_owned_and_audited(world: World, berlin_office: WorkingHours) -> None:
    def attempt(**fields: Any) -> ValidationFailed:
        values: dict[str, Any] = {
            "time_zone": "Europe/Berlin",
            "days": ["mon"],
            "start": "09:00",
            "end": "17:00",
        }
        with pytest.raises(ValidationFailed) as caught:
            services.set_working_hours(user=world.bob, actor=world.bob, source="api", **{**values, **fields})
        return caught.value

    assert attempt(time_zone="Mars/Olympus").field == "time_zone"
    assert attempt(days=[]).field == "days"
    assert attempt(days=["someday"]).field == "days"
    assert attempt(start="9 o'clock").field == "start"
    with pytest.raises(PermissionDenied):
        services.clear_working_hours(user=world.bob, actor=world.alice, source="api")
    assert services.clear_working_hours(user=world.bob, actor=world.bob, source="api")
    assert not WorkingHours.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="working_hours.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["working_hours.set", "working_hours.clear"]


def _json(response: HttpResponse) -> Any:
    return json.loads(response.content)


# -- the API -------------------------------------------------------------------------------------------------------


def test_the_api_sets_reads_and_removes_working_hours(api: Clients, world: World, smtp: Inbox) -> None:
    assert api.bob.get("/me/working-hours").status_code == 404
    body = {"time_zone": "Europe/Berlin", "days": ["weekdays"], "start": "09:00", "end": "18:00"}
    put = api.bob.put("/me/working-hours", body)
    assert put.status_code == 200, put.content
    assert _json(put)["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert _json(put)["description"] == "Mon–Fri 09:00–18:00 (Europe/Berlin)"
    assert _json(api.bob.get("/me/working-hours"))["start"] == "09:00:00"
    assert api.alice.get("/me/working-hours").status_code == 404, "one's own only"
    bad = api.bob.put("/me/working-hours", {**body, "time_zone": "Berlin"})
    assert bad.status_code == 400 and "time_zone" in bad.content.decode()
    method = verified(world.bob, "email", "bob@example.com", name="Work mail")
    rule = api.bob.post(
        "/me/notification-rules",
        {"contact_method": method.pk, "urgency": "low", "delay_minutes": 5, "working_hours_only": True},
    )
    assert rule.status_code == 201 and _json(rule)["working_hours_only"] is True
    high = api.bob.post(
        "/me/notification-rules",
        {"contact_method": method.pk, "urgency": "high", "delay_minutes": 5, "working_hours_only": True},
    )
    assert high.status_code == 400 and "working_hours_only" in high.content.decode()
    assert api.bob.delete("/me/working-hours").status_code == 204
    assert api.bob.get("/me/working-hours").status_code == 404


# -- the Notifications page ----------------------------------------------------------------------------------------


def test_the_page_form_saves_working_hours_and_shows_field_errors(
    client_for: Any, world: World, smtp: Inbox
) -> None:
    bob: Client = client_for(world.bob)
    page = bob.get("/settings/notifications/")
    assert page.status_code == 200 and b'id="working-hours"' in page.content
    bad = bob.post(
        "/settings/notifications/working-hours/",
        {"time_zone": "Nowhere/Atlantis", "days": [], "start": "09:00", "end": "18:00"},
    )
    assert bad.status_code == 400
    assert b"Select a valid choice" in bad.content and b"This field is required" in bad.content
    ok = bob.post(
        "/settings/notifications/working-hours/",
        {"time_zone": "Europe/Berlin", "days": ["0", "1", "2", "3", "4"], "start": "09:00", "end": "18:00"},
    )
    assert ok.status_code == 302
    shown = bob.get("/settings/notifications/")
    assert "Mon–Fri 09:00–18:00 (Europe/Berlin)" in shown.content.decode()
    method = verified(world.bob, "email", "bob@example.com", name="Work mail")
    added = bob.post(
        "/settings/notifications/rules/",
        {"urgency": "low", "delay_minutes": "10", "contact_method": method.pk, "working_hours_only": "on"},
    )
    assert added.status_code == 302
    assert NotificationRule.objects.get(delay_minutes=10).working_hours_only
    refused = bob.post(
        "/settings/notifications/rules/",
        {"urgency": "high", "delay_minutes": "10", "contact_method": method.pk, "working_hours_only": "on"},
    )
    assert refused.status_code == 400 and b"only low-urgency rules" in refused.content
    assert bob.post("/settings/notifications/working-hours/clear/").status_code == 302
    assert not WorkingHours.objects.filter(user=world.bob).exists()
