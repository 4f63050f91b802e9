"""Deactivating a person says what they leave behind (open incidents assigned to them, schedules and escalation
policies naming them), through the checks other apps register with ``warroom.accounts.deactivation``. The
deactivation succeeds whatever the checks find (or if one fails); the API's answer, the Django admin and
``warroom user deactivate`` show the findings.

The incidents app registers its check (open incidents assigned to the person) from its ``AppConfig.ready``; a
check that fails is added here to show it is skipped."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import datetime

import pytest
from django.core.management import call_command
from django.test import Client

from tests.api.conftest import Clients, declare
from tests.conftest import World
from tests.paging.conftest import make_policy, user_steps
from warroom.accounts import deactivation
from warroom.accounts.deactivation import LeftBehind
from warroom.accounts.models import User
from warroom.incidents import selectors as incidents
from warroom.oncall import services as oncall

LEFT = "assigned to them (Team A), still new"


def broken_check(user: User) -> Iterable[LeftBehind]:
    raise RuntimeError("boom")


@pytest.fixture
def checks() -> Iterator[None]:
    deactivation.register(broken_check)
    deactivation.register(incidents.open_incidents_assigned_to)  # registered by the app already: counts once
    yield
    deactivation.unregister(broken_check)


def test_the_api_answer_lists_what_they_leave_behind(api: Clients, world: World, checks: None) -> None:
    incident = declare(world, title="Checkout returns 500", assignee=world.bob)

    response = api.olivia.patch(f"/users/{world.bob.pk}", {"is_active": False})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_active"] is False
    assert body["warnings"] == [
        {
            "kind": "incident",
            "name": f"{incident.ref} Checkout returns 500",
            "detail": LEFT,
            "message": f"{incident.ref} Checkout returns 500: {LEFT}",
        }
    ]
    back = api.olivia.patch(f"/users/{world.bob.pk}", {"is_active": True})
    assert back.json()["warnings"] == []


def test_nothing_left_behind_is_an_empty_list(api: Clients, world: World, checks: None) -> None:
    response = api.olivia.patch(f"/users/{world.bob.pk}", {"is_active": False})
    assert response.status_code == 200 and response.json()["warnings"] == []


def test_an_unknown_field_in_the_patch_is_refused(api: Clients, world: World) -> None:
    response = api.olivia.patch(f"/users/{world.bob.pk}", {"is_active": False, "reason": "left"})
    assert response.status_code == 422
    world.bob.refresh_from_db()
    assert world.bob.is_active


def test_the_cli_prints_them(world: World, checks: None) -> None:
    incident = declare(world, assignee=world.bob)
    out = io.StringIO()

    call_command("warroom_user_admin", "deactivate", "bob@example.com", stdout=out)

    text = out.getvalue()
    assert "deactivated bob@example.com" in text
    assert "leaves behind 1 thing to hand over" in text
    assert f"{incident.ref} Checkout returns 500: {LEFT}" in text


def test_the_django_admin_shows_them(world: World, checks: None) -> None:
    incident = declare(world, assignee=world.bob)
    admin = Client()
    admin.force_login(world.olivia)
    form = {"email": world.bob.email, "full_name": world.bob.full_name, "time_zone": world.bob.time_zone}

    response = admin.post(f"/admin/accounts/user/{world.bob.pk}/change/", form, follow=True)

    assert response.status_code == 200
    world.bob.refresh_from_db()
    assert not world.bob.is_active
    shown = [str(m) for m in response.context["messages"]]
    assert f"Bob Responder leaves behind {incident.ref} Checkout returns 500: {LEFT}" in shown


def test_schedules_and_policies_naming_them_are_listed(api: Clients, world: World) -> None:
    """The on-call app's check, as it registers it: a schedule whose rotation has them, a policy that pages them
    by name."""
    schedule = oncall.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="UTC", actor=None, source="system"
    )
    oncall.create_layer(
        schedule=schedule,
        name="Weekly",
        rotation_kind="weekly",
        start=datetime(2026, 1, 5, 9, 0),
        participants=[world.bob],
        actor=None,
        source="system",
    )
    make_policy(world, user_steps([world.bob]), name="Checkout escalation")

    response = api.olivia.patch(f"/users/{world.bob.pk}", {"is_active": False})

    assert response.status_code == 200, response.content
    assert [(w["kind"], w["name"]) for w in response.json()["warnings"]] == [
        ("schedule", "Checkout primary (Team A)"),
        ("escalation_policy", "Checkout escalation (Team A)"),
    ]
