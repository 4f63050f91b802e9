"""The on-call REST API: schedules, layers, overrides, the final schedule, "on call now", and bad input that
gets a clear 4xx naming the field (never a 500). Team scoping is in ``test_tenancy.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.oncall.conftest import business_hours
from warroom.accounts import services as accounts
from warroom.accounts.models import User
from warroom.audit.models import AuditEvent
from warroom.lib import clock
from warroom.notify.models import ContactMethod, NotificationRule
from warroom.oncall import services
from warroom.oncall.models import Layer, LayerMember, Override, Schedule


def layer_body(world: World, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Primary",
        "rotation_kind": "daily",
        "start": "2026-03-01T09:00",
        "handoff_time": "09:00",
        "participants": [world.alice.email, world.bob.pk],
    }
    body.update(extra)
    return body


# ---------------------------------------------------------------------------------------------------------------
# schedules


def test_a_team_admin_creates_lists_changes_and_deletes_a_schedule(api: Clients, world: World) -> None:
    created = api.alice.post(
        "/schedules", {"team": "team-a", "name": "Checkout", "time_zone": "Europe/London", "description": "x"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["team"]["slug"] == "team-a" and body["time_zone"] == "Europe/London"
    assert body["layers"] == [] and body["warnings"][0]["code"] == "nobody_on_call"
    listed = api.bob.get("/schedules").json()
    assert [s["name"] for s in listed["items"]] == ["Checkout"]
    changed = api.alice.patch(f"/schedules/{body['id']}", {"time_zone": "Australia/Lord_Howe"})
    assert changed.status_code == 200 and changed.json()["time_zone"] == "Australia/Lord_Howe"
    assert api.alice.delete(f"/schedules/{body['id']}").status_code == 204
    assert api.alice.get(f"/schedules/{body['id']}").status_code == 404
    actions = list(AuditEvent.objects.filter(object_type="oncall.schedule").values_list("action", flat=True))
    assert sorted(actions) == ["schedule.create", "schedule.delete", "schedule.update"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"team": "team-a", "name": "S", "time_zone": "Mars/Olympus"}, 400, "time_zone"),
        ({"team": "team-a", "name": "S", "time_zone": "../../etc/passwd"}, 400, "time_zone"),
        ({"team": "team-a", "name": " ", "time_zone": "UTC"}, 400, "name"),
        ({"team": "team-a", "name": "x" * 101, "time_zone": "UTC"}, 400, "name"),
        ({"team": "nope", "name": "S", "time_zone": "UTC"}, 400, "team"),
        ({"team": "team-a", "name": "S"}, 422, "time_zone"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(
    api: Clients, world: World, body: dict[str, Any], status: int, field: str
) -> None:
    response = api.alice.post("/schedules", body)
    assert response.status_code == status, response.content
    assert error(response)["errors"][0]["field"] == field


def test_a_second_schedule_with_the_same_name_is_a_conflict(api: Clients, schedule: Schedule) -> None:
    response = api.alice.post("/schedules", {"team": "team-a", "name": schedule.name, "time_zone": "UTC"})
    assert response.status_code == 409 and error(response)["errors"][0]["field"] == "name"


def test_responders_and_observers_may_read_but_not_change_schedules(
    api: Clients, world: World, schedule: Schedule
) -> None:
    for client in (api.bob, api.dave):
        assert client.get(f"/schedules/{schedule.pk}").status_code == 200
        assert client.patch(f"/schedules/{schedule.pk}", {"name": "Mine"}).status_code == 403
        assert client.post(f"/schedules/{schedule.pk}/layers", layer_body(world)).status_code == 403
        assert client.delete(f"/schedules/{schedule.pk}").status_code == 403
    assert api.bob.post("/schedules", {"team": "team-a", "name": "B", "time_zone": "UTC"}).status_code == 403


# ---------------------------------------------------------------------------------------------------------------
# layers


def test_a_layer_with_participants_and_restrictions_round_trips(
    api: Clients, world: World, schedule: Schedule
) -> None:
    body = layer_body(
        world,
        restrictions=[
            {"days": ["weekdays"], "start": "09:00", "end": "17:00"},
            {"days": ["sat", 6], "start": "10:00", "end": "10:00"},
        ],
    )
    response = api.alice.post(f"/schedules/{schedule.pk}/layers", body)
    assert response.status_code == 201, response.content
    layer = response.json()
    assert layer["priority"] == 1 and layer["shift"] == "1 day" and layer["start"] == "2026-03-01T09:00"
    assert [p["user"]["email"] for p in layer["participants"]] == [world.alice.email, world.bob.email]
    assert layer["restrictions"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"},
        {"days": ["sat", "sun"], "start": "10:00", "end": "10:00"},
    ]
    second = api.alice.post(
        f"/schedules/{schedule.pk}/layers", layer_body(world, name="Backup", rotation_kind="weekly")
    )
    assert second.json()["priority"] == 2 and second.json()["handoff_time"] == "09:00"
    listed = api.bob.get(f"/schedules/{schedule.pk}/layers").json()
    assert [item["name"] for item in listed] == ["Backup", "Primary"]  # highest priority first


def test_a_layer_start_with_an_offset_is_converted_to_the_schedules_wall_clock(
    api: Clients, world: World, schedule: Schedule
) -> None:
    response = api.alice.post(
        f"/schedules/{schedule.pk}/layers", layer_body(world, start="2026-03-01T15:00:00Z")
    )
    assert response.json()["start"] == "2026-03-01T09:00"  # 15:00 UTC = 09:00 CST


def test_changing_and_deleting_a_layer(api: Clients, world: World, layer: Layer) -> None:
    url = f"/schedules/{layer.schedule_id}/layers/{layer.pk}"
    changed = api.alice.patch(
        url,
        {
            "rotation_kind": "custom",
            "custom_unit": "hours",
            "shift_length": 12,
            "participants": [world.bob.pk, world.alice.pk, world.bob.pk],
        },
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["shift"] == "12 hours"
    assert [p["user"]["id"] for p in changed.json()["participants"]] == [
        world.bob.pk,
        world.alice.pk,
        world.bob.pk,
    ]
    put = api.alice.put(f"{url}/participants", {"participants": [world.alice.email]})
    assert [p["user"]["id"] for p in put.json()["participants"]] == [world.alice.pk]
    assert api.alice.delete(url).status_code == 204
    assert api.alice.get(url).status_code == 404
    assert not LayerMember.objects.filter(layer_id=layer.pk).exists()
    actions = set(AuditEvent.objects.filter(object_type="oncall.layer").values_list("action", flat=True))
    assert actions == {"schedule.layer.create", "schedule.layer.update", "schedule.layer.delete"}


@pytest.mark.parametrize(
    ("extra", "status", "field"),
    [
        ({"rotation_kind": "monthly"}, 400, "rotation_kind"),
        ({"shift_length": 0}, 400, "shift_length"),
        ({"rotation_kind": "daily", "shift_length": 366}, 400, "shift_length"),
        ({"rotation_kind": "custom", "custom_unit": "fortnights"}, 400, "custom_unit"),
        ({"start": "next tuesday"}, 422, "start"),
        ({"start": "1900-01-01T09:00"}, 400, "start"),
        ({"handoff_time": "25:00"}, 422, "handoff_time"),
        ({"priority": 0}, 400, "priority"),
        ({"name": ""}, 400, "name"),
        ({"participants": ["charlie@example.com"]}, 400, "participants"),
        ({"participants": ["nobody@example.com"]}, 400, "participants"),
        (
            {"restrictions": [{"days": ["funday"], "start": "09:00", "end": "17:00"}]},
            400,
            "restrictions.0.days",
        ),
        ({"restrictions": [{"days": [], "start": "09:00", "end": "17:00"}]}, 400, "restrictions.0.days"),
        ({"restrictions": [{"days": ["mon"], "start": "9am", "end": "17:00"}]}, 422, "restrictions.0.start"),
        (
            {"restrictions": [{"days": ["mon"], "start": "09:00+02:00", "end": "17:00"}]},
            400,
            "restrictions.0.start",
        ),
        ({"participants": "alice"}, 422, "participants"),
    ],
)
def test_bad_layers_are_refused_naming_the_field(
    api: Clients, world: World, schedule: Schedule, extra: dict[str, Any], status: int, field: str
) -> None:
    response = api.alice.post(f"/schedules/{schedule.pk}/layers", layer_body(world, **extra))
    assert response.status_code == status, response.content
    fields = [e["field"] for e in error(response)["errors"]]
    assert field in fields, fields
    assert not Layer.objects.exists()


def test_a_schedule_has_at_most_20_layers(api: Clients, world: World, schedule: Schedule) -> None:
    for n in range(services.MAX_LAYERS):
        services.create_layer(
            schedule=schedule, name=f"L{n}", start=datetime(2026, 3, 1), actor=None, source="system"
        )
    response = api.alice.post(f"/schedules/{schedule.pk}/layers", layer_body(world))
    assert response.status_code == 400 and "at most 20 layers" in error(response)["detail"]


def test_two_layers_cannot_share_a_priority(api: Clients, world: World, layer: Layer) -> None:
    response = api.alice.post(
        f"/schedules/{layer.schedule_id}/layers", layer_body(world, priority=layer.priority)
    )
    assert response.status_code == 409 and error(response)["errors"][0]["field"] == "priority"
    patch = api.alice.patch(f"/schedules/{layer.schedule_id}/layers/{layer.pk}", {"name": None})
    assert patch.status_code == 400 and error(patch)["errors"][0]["field"] == "name"


# ---------------------------------------------------------------------------------------------------------------
# the final schedule


def test_shifts_across_the_us_spring_change_hand_off_at_nine_local(
    api: Clients, world: World, layer: Layer
) -> None:
    response = api.bob.get(
        f"/schedules/{layer.schedule_id}/shifts", start="2026-03-07T00:00", end="2026-03-10T00:00"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["time_zone"] == "America/Chicago" and body["gaps"] == []
    assert body["start"] == "2026-03-07T06:00:00Z"  # local midnight CST
    shifts = body["shifts"]
    assert [s["start_local"] for s in shifts[1:]] == [
        "2026-03-07T09:00:00-06:00",
        "2026-03-08T09:00:00-05:00",
        "2026-03-09T09:00:00-05:00",
    ]
    assert shifts[1]["end"] == "2026-03-08T14:00:00Z"  # a 23-hour day
    assert [s["user"]["email"] for s in shifts] == [
        world.bob.email,
        world.alice.email,
        world.bob.email,
        world.alice.email,
    ]
    assert shifts[0]["layer"] == {"id": layer.pk, "name": "Primary"} and shifts[0]["override_id"] is None


def test_shifts_report_gaps_and_warn_when_nobody_is_on_call(
    api: Clients, world: World, schedule: Schedule
) -> None:
    services.create_layer(
        schedule=schedule,
        name="Business hours",
        start=datetime(2026, 3, 2, 9),
        participants=[world.alice],
        restrictions=business_hours(),
        actor=None,
        source="system",
    )
    body = api.alice.get(f"/schedules/{schedule.pk}/shifts", start="2026-03-02", end="2026-03-03").json()
    assert [(s["start_local"], s["end_local"]) for s in body["shifts"]] == [
        ("2026-03-02T09:00:00-06:00", "2026-03-02T17:00:00-06:00")
    ]
    assert body["gaps"] == [
        {"start": "2026-03-02T06:00:00Z", "end": "2026-03-02T15:00:00Z"},
        {"start": "2026-03-02T23:00:00Z", "end": "2026-03-03T06:00:00Z"},
    ]
    gaps = [w["code"] for w in body["warnings"] if w["code"] != "no_contact_method"]
    assert gaps == ["nobody_on_call", "nobody_on_call"]
    detail = api.alice.get(f"/schedules/{schedule.pk}").json()
    assert {w["code"] for w in detail["warnings"]} - {"no_contact_method"} == {"nobody_on_call"}


def test_participants_who_left_or_were_deactivated_are_warned_about(
    api: Clients, world: World, layer: Layer
) -> None:
    accounts.remove_membership(team=world.team_a, user=world.bob, actor=None, source="system")
    world.alice.is_active = False
    world.alice.save()
    warnings = api.olivia.get(f"/schedules/{layer.schedule_id}").json()["warnings"]
    assert {
        (w["code"], w["user"]["email"]) for w in warnings if w["user"] and w["code"] != "no_contact_method"
    } == {
        ("participant_inactive", world.alice.email),
        ("participant_not_in_team", world.bob.email),
    }


def test_participants_no_page_would_reach_are_warned_about(api: Clients, world: World, layer: Layer) -> None:
    def unreachable() -> set[str]:
        warnings = api.alice.get(f"/schedules/{layer.schedule_id}").json()["warnings"]
        return {w["user"]["email"] for w in warnings if w["code"] == "no_contact_method"}

    participants = unreachable()
    assert world.bob.email in participants
    now = clock.now()
    method = ContactMethod.objects.create(
        user=world.bob,
        kind="email",
        name="work",
        value=world.bob.email,
        display=world.bob.email,
        created_at=now,
        updated_at=now,
    )
    NotificationRule.objects.create(user=world.bob, contact_method=method, urgency="high", created_at=now)
    assert world.bob.email in unreachable()  # not verified yet: a page would not reach him
    method.verified_at = now
    method.save()
    assert world.bob.email not in unreachable()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-03-10", "end": "2026-03-09"}, "end"),
        ({"start": "2026-03-01", "end": "2026-12-01"}, "end"),
        ({"start": "0001-01-01T00:00:00Z"}, "start"),
        ({"end": "2026-13-01"}, "end"),
    ],
)
def test_bad_ranges_are_refused_naming_the_field(
    api: Clients, layer: Layer, query: dict[str, str], field: str
) -> None:
    response = api.alice.get(f"/schedules/{layer.schedule_id}/shifts", **query)
    assert response.status_code == 400, response.content
    assert error(response)["errors"][0]["field"] == field


def test_on_call_at_an_instant_and_now(api: Clients, world: World, layer: Layer) -> None:
    at = api.dave.get(f"/schedules/{layer.schedule_id}/on-call", at="2026-03-08T08:59").json()
    assert [s["user"]["email"] for s in at["on_call"]] == [world.alice.email]
    assert (
        at["on_call"][0]["start"] == "2026-03-07T15:00:00Z"
        and at["on_call"][0]["end"] == "2026-03-08T14:00:00Z"
    )
    now = api.bob.get("/oncall/now").json()
    assert now["at"] == "2026-03-01T12:00:00Z"  # the frozen clock: 06:00 Chicago, before the 09:00 start
    assert [(s["schedule"]["id"], s["on_call"]) for s in now["schedules"]] == [(layer.schedule_id, [])]
    bad = api.bob.get(f"/schedules/{layer.schedule_id}/on-call", at="soon")
    assert bad.status_code == 400 and error(bad)["errors"][0]["field"] == "at"


def test_on_call_now_lists_every_visible_schedule(api: Clients, world: World, layer: Layer) -> None:
    services.create_schedule(team=world.team_b, name="Billing", time_zone="UTC", actor=None, source="system")
    assert {s["schedule"]["name"] for s in api.olivia.get("/oncall/now").json()["schedules"]} == {
        "Checkout primary",
        "Billing",
    }
    assert [s["schedule"]["name"] for s in api.charlie.get("/oncall/now").json()["schedules"]] == ["Billing"]
    assert [
        s["schedule"]["name"] for s in api.olivia.get("/oncall/now", team="team-b").json()["schedules"]
    ] == ["Billing"]
    assert api.charlie.get("/oncall/now", team="team-a").status_code == 400


# ---------------------------------------------------------------------------------------------------------------
# overrides


def test_an_override_replaces_someone_in_the_final_schedule(api: Clients, world: World, layer: Layer) -> None:
    url = f"/schedules/{layer.schedule_id}/overrides"
    created = api.alice.post(
        url,
        {
            "user": world.bob.email,
            "replaces": world.alice.email,
            "start": "2026-03-03T12:00",
            "end": "2026-03-03T14:00",
            "note": "dentist",
        },
    )
    assert created.status_code == 201, created.content
    override = created.json()
    assert override["start"] == "2026-03-03T18:00:00Z" and override["replaces"]["email"] == world.alice.email
    shifts = api.alice.get(
        f"/schedules/{layer.schedule_id}/shifts", start="2026-03-03T09:00", end="2026-03-03T18:00"
    ).json()["shifts"]
    assert [
        (s["user"]["email"], s["start_local"][11:16], s["end_local"][11:16], s["override_id"]) for s in shifts
    ] == [
        (world.alice.email, "09:00", "12:00", None),
        (world.bob.email, "12:00", "14:00", override["id"]),
        (world.alice.email, "14:00", "18:00", None),
    ]
    assert [o["id"] for o in api.bob.get(url).json()] == [override["id"]]
    moved = api.alice.patch(f"{url}/{override['id']}", {"end": "2026-03-03T15:00", "replaces": None})
    assert (
        moved.status_code == 200
        and moved.json()["replaces"] is None
        and moved.json()["end"] == "2026-03-03T21:00:00Z"
    )
    assert api.alice.delete(f"{url}/{override['id']}").status_code == 204
    assert not Override.objects.exists()
    actions = set(AuditEvent.objects.filter(object_type="oncall.override").values_list("action", flat=True))
    assert actions == {"schedule.override.create", "schedule.override.update", "schedule.override.delete"}


def test_responders_may_only_make_overrides_that_involve_themselves(
    api: Clients, world: World, layer: Layer
) -> None:
    url = f"/schedules/{layer.schedule_id}/overrides"
    window = {"start": "2026-03-04T00:00:00Z", "end": "2026-03-05T00:00:00Z"}
    taking = api.bob.post(url, {"user": world.bob.pk, "replaces": world.alice.pk, **window})
    assert taking.status_code == 201, taking.content
    others = api.bob.post(
        url,
        {
            "user": world.dave.pk,
            "replaces": world.alice.pk,
            "start": "2026-03-06T00:00Z",
            "end": "2026-03-06T06:00Z",
        },
    )
    assert others.status_code == 403
    assert api.dave.post(url, {"user": world.dave.pk, **window}).status_code == 403  # observers never
    assert api.bob.delete(f"{url}/{taking.json()['id']}").status_code == 204


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"start": "2026-03-05T00:00Z", "end": "2026-03-04T00:00Z"}, 400, "end"),
        ({"start": "2026-02-01T00:00Z", "end": "2026-02-02T00:00Z"}, 400, "end"),  # already over
        ({"start": "2026-03-05T00:00Z", "end": "2027-12-01T00:00Z"}, 400, "end"),
        ({"start": "whenever", "end": "2026-03-04T00:00Z"}, 400, "start"),
        ({"user": "charlie@example.com"}, 400, "user"),
        ({"replaces": "charlie@example.com"}, 400, "replaces"),
        ({"user": "bob@example.com", "replaces": "bob@example.com"}, 400, "replaces"),
        ({"note": "x" * 201}, 400, "note"),
        ({"end": None}, 422, "end"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(
    api: Clients, world: World, layer: Layer, body: dict[str, Any], status: int, field: str
) -> None:
    full = {"user": world.bob.email, "start": "2026-03-04T00:00Z", "end": "2026-03-05T00:00Z", **body}
    response = api.alice.post(f"/schedules/{layer.schedule_id}/overrides", full)
    assert response.status_code == status, response.content
    assert error(response)["errors"][0]["field"] == field
    assert not Override.objects.exists()


def test_two_overrides_cannot_replace_one_person_at_the_same_time(
    api: Clients, world: World, layer: Layer, erin: User
) -> None:
    url = f"/schedules/{layer.schedule_id}/overrides"
    first = {
        "user": world.bob.pk,
        "replaces": world.alice.pk,
        "start": "2026-03-04T00:00Z",
        "end": "2026-03-05T00:00Z",
    }
    assert api.alice.post(url, first).status_code == 201
    clash = api.alice.post(url, {**first, "user": erin.pk, "start": "2026-03-04T12:00Z"})
    assert clash.status_code == 409 and error(clash)["errors"][0]["field"] == "replaces"
    # in the schedule's zone, as the schedule page shows times (00:00 UTC is 18:00 the day before in Chicago)
    assert error(clash)["errors"][0]["message"] == (
        "Alice Admin is already replaced by Bob Responder from 2026-03-03 18:00 to 2026-03-04 18:00 "
        "(America/Chicago, the schedule's time zone)"
    )
    after = api.alice.post(
        url, {**first, "user": erin.pk, "start": "2026-03-05T00:00Z", "end": "2026-03-06T00:00Z"}
    )
    assert after.status_code == 201


def test_an_override_may_replace_a_participant_who_left_the_team(
    api: Clients, world: World, layer: Layer
) -> None:
    accounts.remove_membership(team=world.team_a, user=world.bob, actor=None, source="system")
    response = api.alice.post(
        f"/schedules/{layer.schedule_id}/overrides",
        {
            "user": world.alice.pk,
            "replaces": world.bob.email,
            "start": "2026-03-02T00:00Z",
            "end": "2026-03-03T00:00Z",
        },
    )
    assert response.status_code == 201, response.content


def test_deleting_a_schedule_takes_its_layers_and_overrides(api: Clients, world: World, layer: Layer) -> None:
    services.create_override(
        schedule=layer.schedule,
        user=world.alice,
        start=datetime.fromisoformat("2026-03-04T00:00Z"),
        end=datetime.fromisoformat("2026-03-05T00:00Z"),
        actor=None,
        source="system",
    )
    assert api.alice.delete(f"/schedules/{layer.schedule_id}").status_code == 204
    assert not Layer.objects.exists() and not Override.objects.exists() and not Schedule.objects.exists()


def test_observers_cannot_be_put_on_call(api: Clients, world: World, layer: Layer) -> None:
    """Observers are read-only (they cannot act on incidents), so a page that reached one would wait on someone
    who may not work the incident: a rotation, an override and an escalation step refuse them, naming them."""
    url = f"/schedules/{layer.schedule_id}/layers/{layer.pk}"
    refused = api.alice.put(f"{url}/participants", {"participants": [world.bob.email, world.dave.email]})
    assert refused.status_code == 400
    assert error(refused)["errors"][0] == {
        "field": "participants",
        "message": "Dave Observer is an observer of Team A (read-only: observers cannot act on incidents), so "
        "they cannot be on call; make them a responder first",
    }
    assert [m.user_id for m in LayerMember.objects.filter(layer=layer).order_by("position")] == [
        world.alice.pk,
        world.bob.pk,
    ]
    window = {"start": "2026-03-04T00:00Z", "end": "2026-03-05T00:00Z"}
    override = api.alice.post(f"/schedules/{layer.schedule_id}/overrides", {"user": world.dave.pk, **window})
    assert override.status_code == 400
    assert error(override)["errors"][0]["field"] == "user"
    assert "Dave Observer is an observer of Team A" in error(override)["errors"][0]["message"]
    assert not Override.objects.exists()
    body = {"team": world.team_a.pk, "name": "Primary"}
    step = {"delay_minutes": 5, "targets": [{"kind": "user", "id": world.dave.pk}]}
    policy = api.alice.post("/escalation-policies", {**body, "steps": [step]})
    assert policy.status_code == 400
    assert error(policy)["errors"][0]["field"] == "steps[0].targets[0]"
    assert error(policy)["errors"][0]["message"].startswith(
        "steps[0].targets[0]: Dave Observer is an observer of Team A (read-only"
    )
    # once a responder, they may be
    accounts.set_membership(team=world.team_a, user=world.dave, role="responder", actor=None, source="system")
    assert api.alice.post("/escalation-policies", {**body, "steps": [step]}).status_code == 201
    assert (
        api.alice.post(
            f"/schedules/{layer.schedule_id}/overrides", {"user": world.dave.pk, **window}
        ).status_code
        == 201
    )


def test_someone_only_an_observer_elsewhere_cannot_be_paged(api: Clients, world: World) -> None:
    """Charlie (admin of team B) may be named on team A's policy; someone who is only an observer wherever they
    are may not."""
    accounts.set_membership(team=world.team_b, user=world.dave, role="observer", actor=None, source="system")
    accounts.remove_membership(team=world.team_a, user=world.dave, actor=None, source="system")
    for person, status in ((world.charlie, 201), (world.dave, 400)):
        step = {"delay_minutes": 5, "targets": [{"kind": "user", "id": person.pk}]}
        made = api.olivia.post(
            "/escalation-policies", {"team": world.team_a.pk, "name": f"P{person.pk}", "steps": [step]}
        )
        assert made.status_code == status, made.content
    assert "Dave Observer is only an observer" in made.json()["errors"][0]["message"]
