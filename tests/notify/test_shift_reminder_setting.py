"""The "Before my on-call shifts" setting: off by default, one of a few lead times, set by each person for
themselves only, through the API (``/me/shift-reminders``) and the Notifications page, audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import Clients, error
from tests.conftest import PASSWORD, World
from warroom.accounts import services as accounts
from warroom.audit.models import AuditEvent
from warroom.lib.errors import PermissionDenied, ValidationFailed
from warroom.notify import selectors, services

pytestmark = pytest.mark.django_db


def test_the_api_reads_off_by_default_and_sets_ones_own(api: Clients, world: World) -> None:
    got = api.bob.get("/me/shift-reminders")
    assert got.status_code == 200
    assert got.json() == {"before": "off", "minutes_before": 0, "description": "Off", "updated_at": None}
    put = api.bob.put("/me/shift-reminders", {"before": "1h"})
    assert put.status_code == 200, put.content
    assert put.json()["before"] == "1h" and put.json()["minutes_before"] == 60
    assert put.json()["description"] == "1 hour before" and put.json()["updated_at"]
    assert api.bob.get("/me/shift-reminders").json()["before"] == "1h"
    assert api.alice.get("/me/shift-reminders").json()["before"] == "off", "bob's choice is his own"
    assert api.alice.put("/me/shift-reminders", {"before": "1d"}).json()["minutes_before"] == 1440
    assert api.bob.get("/me/shift-reminders").json()["before"] == "1h", "alice set hers, not bob's"
    assert api.bob.put("/me/shift-reminders", {"before": "off"}).json()["minutes_before"] == 0
    assert selectors.people_wanting_shift_reminders() == {world.alice.pk: 1440}


@pytest.mark.parametrize("value", ["2h", "60", 60, "", True, None, "1H"])
def test_the_api_refuses_other_values_with_a_400_naming_the_field(api: Clients, value: Any) -> None:
    refused = api.bob.put("/me/shift-reminders", {"before": value})
    assert refused.status_code == 400, refused.content
    body = error(refused)
    assert body["errors"][0]["field"] == "before"
    assert "off, 15m, 1h, 4h, 1d" in body["errors"][0]["message"]
    assert api.bob.get("/me/shift-reminders").json()["before"] == "off", "nothing changed"


def test_the_api_refuses_a_body_without_the_choice_or_with_unknown_fields(api: Clients) -> None:
    assert api.bob.put("/me/shift-reminders", {}).status_code == 422
    unknown = api.bob.put("/me/shift-reminders", {"before": "1h", "user": "alice@example.com"})
    assert unknown.status_code == 422 and error(unknown)["errors"][0]["field"] == "user"
    assert api.bob.get("/me/shift-reminders").json()["before"] == "off"


def test_nobody_sets_someone_elses_and_changes_are_audited(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.set_shift_reminder(user=world.bob, minutes_before=60, actor=world.alice, source="api")
    with pytest.raises(ValidationFailed) as refused:
        services.set_shift_reminder(user=world.bob, minutes_before=30, actor=world.bob, source="api")
    assert refused.value.field == "minutes_before"
    services.set_shift_reminder(user=world.bob, minutes_before=240, actor=world.bob, source="web")
    services.set_shift_reminder(user=world.bob, minutes_before=240, actor=world.bob, source="web")
    services.set_shift_reminder(user=world.bob, minutes_before=0, actor=world.bob, source="api")
    events = list(AuditEvent.objects.filter(action="shift_reminder.set").order_by("id"))
    assert [(e.actor_id, e.source, e.before, e.after) for e in events] == [
        (
            world.bob.pk,
            "web",
            {"minutes_before": 0, "label": "Off"},
            {"minutes_before": 240, "label": "4 hours before"},
        ),
        (
            world.bob.pk,
            "api",
            {"minutes_before": 240, "label": "4 hours before"},
            {"minutes_before": 0, "label": "Off"},
        ),
    ], "the same choice again is no change"


def test_the_notifications_page_shows_and_changes_the_setting(client_for: Any, world: World) -> None:
    bob: Client = client_for(world.bob)
    page = bob.get("/settings/notifications/").content.decode()
    assert 'id="shift-reminders"' in page and "Off: you are not reminded of your on-call shifts." in page
    saved = bob.post("/settings/notifications/shift-reminders/", {"minutes_before": "15"})
    assert saved.status_code == 302
    page = bob.get("/settings/notifications/").content.decode()
    assert "You are reminded <strong>15 minutes before</strong> each of your on-call shifts" in page
    assert "You have no working low-urgency rule: the reminders reach you nowhere." in page
    assert '<option value="15" selected>' in page
    bad = bob.post("/settings/notifications/shift-reminders/", {"minutes_before": "30"})
    assert bad.status_code == 400 and b"Select a valid choice" in bad.content
    assert (
        bob.post("/settings/notifications/shift-reminders/", {"minutes_before": "nonsense"}).status_code
        == 400
    )
    assert selectors.shift_reminder_of(world.bob).minutes_before == 15, "a refused value changes nothing"
    assert bob.post("/settings/notifications/shift-reminders/", {"minutes_before": "0"}).status_code == 302
    assert selectors.shift_reminder_of(world.bob).minutes_before == 0


def test_anyone_signed_in_sets_their_own_even_without_a_team(client_for: Any, world: World) -> None:
    loner = accounts.create_user(
        email="loner@example.com", password=PASSWORD, full_name="Lone Person", actor=None, source="system"
    )
    for person in (loner, world.dave):  # no team at all; an observer of team A
        saved = client_for(person).post(
            "/settings/notifications/shift-reminders/", {"minutes_before": "1440"}
        )
        assert saved.status_code == 302
        assert selectors.shift_reminder_of(person).minutes_before == 1440
    assert selectors.shift_reminder_of(world.bob).minutes_before == 0
    anonymous = Client().post("/settings/notifications/shift-reminders/", {"minutes_before": "60"})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert selectors.people_wanting_shift_reminders() == {loner.pk: 1440, world.dave.pk: 1440}
