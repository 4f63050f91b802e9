"""Console forms of on-call, notifications, reviews, stakeholder updates, status pages and the incident page's
roles card, sent back with an error: the refused field says it is invalid and its ``aria-describedby`` names the
element that holds the error (so a screen reader reads the error with the field), and every id is unique."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.web.conftest import ClientFor
from warroom.comms import page_services
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    """POST ``data`` to ``url``; the widget ``widget_id`` is refused with ``message`` (a regex)."""

    url: str
    data: dict[str, Any]
    widget_id: str
    message: str


def _layer(world: World, incident: Incident) -> Case:
    schedule = oncall.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="UTC", actor=None, source="system"
    )
    data = {
        "name": "Primary",
        "rotation_kind": "daily",
        "shift_length": "1",
        "custom_unit": "days",
        "start": "2026-03-02T09:00",
        "handoff_time": "09:00",
        "participants": [str(world.dave.pk)],  # an observer: refused, saying why
    }
    url = reverse("oncall-layer-create", args=[schedule.pk])
    return Case(url, data, "participant-1", r"observer of Team A .*cannot be on call")


def _policy_step(world: World, incident: Incident) -> Case:
    policy = oncall.create_policy(
        team=world.team_a,
        name="Checkout",
        repeat=0,
        steps=[StepSpec(5, [TargetSpec("user", world.bob.pk)])],
        actor=None,
        source="test",
    )
    data = {"action": "set_delay", "step": "0", "delay_minutes": "0"}
    url = reverse("oncall-policy-step-edit", args=[policy.pk])
    return Case(url, data, "delay-1", r"greater than or equal to 1")


def _verify_code(world: World, incident: Incident) -> Case:
    method = notify.create_contact_method(
        user=world.alice,
        kind="email",
        name="Work email",
        address="alice@example.com",
        token="",
        actor=world.alice,
        source="test",
    ).method
    url = reverse("notify-method-verify", args=[method.pk])
    return Case(url, {"code": ""}, f"code-{method.pk}", r"This field is required")


def _rule(world: World, incident: Incident) -> Case:
    _verify_code(world, incident)  # the rule form shows once there is a contact method
    data = {"urgency": "high", "delay_minutes": "-1", "contact_method": ""}
    return Case(reverse("notify-rule-create"), data, "id_delay_minutes", r"greater than or equal to 0")


def _role(world: World, incident: Incident) -> Case:
    slug = incident_selectors.role_types()[0].slug
    data = {"role": slug, "action": "assign", "user": ""}
    url = reverse("web:incident-role", args=[incident.ref])
    return Case(url, data, f"assign-{slug}", r"choose who takes")


def _postmortem_start(world: World, incident: Incident) -> Case:
    return Case(
        reverse("web:postmortem-start"), {"incident": ""}, "start_incident", r"This field is required"
    )


def _update(world: World, incident: Incident) -> Case:
    data = {"status": "investigating", "audience": "internal", "message": ""}
    url = reverse("comms-update-post", args=[incident.ref])
    return Case(url, data, "id_message", r"This field is required")


def _component(world: World, incident: Incident) -> Case:
    page = page_services.create_page(team=world.team_a, name="Shop status", actor=None, source="system").page
    url = reverse("statuspages:statuspage-component-add", args=[page.slug])
    return Case(url, {"name": "", "status_mode": "auto"}, "id_component_name", r"This field is required")


CASES: dict[str, Callable[[World, Incident], Case]] = {
    "layer participants": _layer,
    "policy step wait": _policy_step,
    "verification code": _verify_code,
    "notification rule": _rule,
    "incident role": _role,
    "postmortem start": _postmortem_start,
    "stakeholder update": _update,
    "status page component": _component,
}


def _ids(html: str) -> list[str]:
    return re.findall(r'\sid="([^"]+)"', html)


@pytest.mark.parametrize("name", list(CASES))
def test_a_refused_field_is_read_with_its_error(
    name: str, client_for: ClientFor, world: World, incident: Incident, settings: Any
) -> None:
    settings.MAILERS = {
        **settings.MAILERS,
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }
    with clock.frozen(datetime(2026, 3, 2, 8, 0, tzinfo=UTC)):
        case = CASES[name](world, incident)
        client: Client = client_for(world.alice)
        response = client.post(case.url, case.data)
    assert response.status_code == 400, name
    html = response.content.decode()
    ids = _ids(html)
    widget = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(case.widget_id)}"[^>]*>', html)
    assert widget is not None, f"{name}: no field {case.widget_id}"
    assert 'aria-invalid="true"' in widget.group(0), f"{name}: the refused field does not say it is invalid"
    described = re.search(r'aria-describedby="([^"]*)"', widget.group(0))
    assert described is not None, f"{name}: the refused field names no description"
    named = described.group(1).split()
    once = [ids.count(token) for token in [case.widget_id, *named]]
    assert once == [1] * len(once), f"{name}: the field or its description is not one element: {named}"
    said = [
        re.sub(r"<[^>]+>", "", m.group(1))
        for token in named
        if (m := re.search(rf'\bid="{re.escape(token)}"[^>]*>(.*?)</(?:div|p|small|span)>', html, re.S))
    ]
    assert any(re.search(case.message, text) for text in said), f"{name}: the error is not among {said}"


def test_a_participant_error_names_the_places_of_the_rotation(
    client_for: ClientFor, world: World, incident: Incident
) -> None:
    """Every place of the rotation points at the one participants error (they are one field)."""
    case = _layer(world, incident)
    html = client_for(world.alice).post(case.url, case.data).content.decode()
    selects = re.findall(r'<select name="participants"[^>]*>', html)
    assert len(selects) >= 2
    assert all('aria-describedby="id_participants_error"' in s for s in selects)


def test_a_refused_step_wait_is_said_once(client_for: ClientFor, world: World, incident: Incident) -> None:
    case = _policy_step(world, incident)
    html = client_for(world.alice).post(case.url, case.data).content.decode()
    errors = re.search(r'id="step-errors">(.*?)</div>\s*(?:</div>|\n)', html, re.S)
    assert errors is not None
    assert re.findall(r"<div>Step 1: ([^<]+)</div>", errors.group(0)) == [
        "Ensure this value is greater than or equal to 1."
    ]
