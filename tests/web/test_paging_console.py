"""The console for escalation policies and paging: the policy list and editor (team-scoped; only admins and
managers write), the service page's policy card, and the incident page's "Escalation" card with its actions
(acknowledge, escalate now, reassign, snooze), which call the paging services."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.paging.conftest import T0, declare, escalation, make_policy, reachable, run, user_steps
from tests.web.conftest import ClientFor
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.notify.models import Message, Status
from warroom.oncall import services as oncall
from warroom.oncall.models import EscalationPolicy, ServicePolicy
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging.models import EscalationStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(world: World, settings: object) -> Iterator[datetime]:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)  # type: ignore[attr-defined]
    with clock.frozen(T0):
        reachable(world.alice)
        reachable(world.bob)
        yield T0


@pytest.fixture
def policy(world: World) -> EscalationPolicy:
    return oncall.create_policy(
        team=world.team_a,
        name="Checkout primary",
        repeat=1,
        steps=[
            StepSpec(5, [TargetSpec("user", world.bob.pk)]),
            StepSpec(10, [TargetSpec("user", world.alice.pk)]),
        ],
        actor=None,
        source="test",
    )


def _steps(policy: EscalationPolicy) -> list[tuple[int, list[str]]]:
    return [
        (s.delay_minutes, [f"{t.kind}:{t.user_id or t.schedule_id or t.team_id}" for t in s.targets.all()])
        for s in policy.steps.prefetch_related("targets").order_by("order")
    ]


# ---------------------------------------------------------------------------------------------------------------
# policies


def test_policy_list_and_detail(client_for: ClientFor, world: World, policy: EscalationPolicy) -> None:
    oncall.set_service_policy(service=world.service_a, policy=policy, actor=None, source="test")
    alice = client_for(world.alice)
    listing = alice.get(reverse("oncall-policy-list")).content.decode()
    assert "Checkout primary" in listing and "Checkout" in listing and 'id="new-policy"' in listing
    assert "<td>2 times</td>" in listing, (
        "the list counts runs as the policy page does (repeat 1: runs twice)"
    )
    page = alice.get(reverse("oncall-policy-detail", args=[policy.pk])).content.decode()
    assert "Step 1" in page and "Bob Responder" in page and "Alice Admin" in page
    assert "then wait 5 min" in page and "Runs 2 times" in page
    assert 'id="policy-services"' in page and "Checkout" in page
    assert "Remove step" in page and "Edit policy" in page
    assert "Remove step 1? It pages Bob Responder; the steps after it move up." in page, (
        "asks first, saying what"
    )
    assert "Remove step 2? It pages Alice Admin; escalation will end at step 1." in page


def test_charlie_gets_404_on_team_a_policies(
    client_for: ClientFor, world: World, policy: EscalationPolicy
) -> None:
    charlie = client_for(world.charlie)
    assert "Checkout primary" not in charlie.get(reverse("oncall-policy-list")).content.decode()
    assert charlie.get(reverse("oncall-policy-detail", args=[policy.pk])).status_code == 404
    for name, data in [
        ("oncall-policy-edit", {"name": "x", "repeat": 0}),
        ("oncall-policy-delete", {}),
        ("oncall-policy-step-add", {"target": f"user:{world.charlie.pk}", "delay_minutes": 5}),
        ("oncall-policy-step-edit", {"action": "remove", "step": 0}),
    ]:
        assert charlie.post(reverse(name, args=[policy.pk]), data).status_code == 404, name
    assert charlie.post(reverse("oncall-service-policy", args=[world.service_a.slug]), {}).status_code == 404
    assert len(_steps(policy)) == 2


def test_responder_and_observer_view_but_do_not_edit(
    client_for: ClientFor, world: World, policy: EscalationPolicy
) -> None:
    for who in (world.bob, world.dave):
        client = client_for(who)
        page = client.get(reverse("oncall-policy-detail", args=[policy.pk])).content.decode()
        assert "Bob Responder" in page and "Remove step" not in page and "Edit policy" not in page
        assert 'id="new-policy"' not in client.get(reverse("oncall-policy-list")).content.decode()
        response = client.post(
            reverse("oncall-policy-step-edit", args=[policy.pk]), {"action": "remove", "step": 0}
        )
        assert response.status_code == 403
        assert client.post(reverse("oncall-policy-delete", args=[policy.pk])).status_code == 403
        assert (
            client.post(
                reverse("oncall-policy-list"), {"team": world.team_a.pk, "name": "x", "repeat": 0}
            ).status_code
            == 403
        )
    assert len(_steps(policy)) == 2
    assert EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_create_policy_and_edit_its_steps(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    response = alice.post(
        reverse("oncall-policy-list"),
        {"team": world.team_a.pk, "name": "Nights", "repeat": 2, "description": ""},
    )
    policy = EscalationPolicy.objects.get(name="Nights")
    assert response.status_code == 302 and response["Location"] == reverse(
        "oncall-policy-detail", args=[policy.pk]
    )
    add, edit = (
        reverse("oncall-policy-step-add", args=[policy.pk]),
        reverse("oncall-policy-step-edit", args=[policy.pk]),
    )
    assert alice.post(add, {"target": f"user:{world.bob.pk}", "delay_minutes": 5}).status_code == 302
    assert alice.post(add, {"target": f"team:{world.team_a.pk}", "delay_minutes": 30}).status_code == 302
    assert _steps(policy) == [(5, [f"user:{world.bob.pk}"]), (30, [f"team:{world.team_a.pk}"])]
    alice.post(edit, {"action": "add_target", "step": 0, "target": f"user:{world.alice.pk}"})
    alice.post(edit, {"action": "set_delay", "step": 0, "delay_minutes": 7})
    assert _steps(policy) == [
        (7, [f"user:{world.bob.pk}", f"user:{world.alice.pk}"]),
        (30, [f"team:{world.team_a.pk}"]),
    ]
    moved = alice.post(edit, {"action": "move_down", "step": 0})
    assert moved["Location"].endswith("#step-2"), "back at the step, where it moved to"
    assert _steps(policy) == [
        (30, [f"team:{world.team_a.pk}"]),
        (7, [f"user:{world.bob.pk}", f"user:{world.alice.pk}"]),
    ]
    alice.post(edit, {"action": "move_up", "step": 1})
    alice.post(edit, {"action": "remove_target", "step": 0, "target_index": 0})
    assert _steps(policy) == [(7, [f"user:{world.alice.pk}"]), (30, [f"team:{world.team_a.pk}"])]
    assert alice.post(edit, {"action": "remove", "step": 1})["Location"].endswith("#steps")
    assert _steps(policy) == [(7, [f"user:{world.alice.pk}"])]
    response = alice.post(reverse("oncall-policy-edit", args=[policy.pk]), {"name": "Nights 2", "repeat": 0})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.repeat) == ("Nights 2", 0)
    assert alice.post(reverse("oncall-policy-delete", args=[policy.pk])).status_code == 302
    assert not EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_policy_forms_show_field_errors(
    client_for: ClientFor, world: World, policy: EscalationPolicy
) -> None:
    alice = client_for(world.alice)
    response = alice.post(reverse("oncall-policy-list"), {"team": world.team_a.pk, "name": "", "repeat": 30})
    page = response.content.decode()
    assert (
        response.status_code == 400
        and "This field is required." in page
        and "less than or equal to 20" in page
    )
    response = alice.post(
        reverse("oncall-policy-list"), {"team": world.team_a.pk, "name": "Checkout primary", "repeat": 0}
    )
    assert response.status_code == 409 and "already has a policy named" in response.content.decode()
    add = reverse("oncall-policy-step-add", args=[policy.pk])
    response = alice.post(add, {"target": "", "delay_minutes": 0})
    page = response.content.decode()
    assert (
        response.status_code == 400 and "greater than or equal to 1" in page and 'id="add-step" open' in page
    )
    response = alice.post(add, {"target": "user:999999", "delay_minutes": 5})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    edit = reverse("oncall-policy-step-edit", args=[policy.pk])
    response = alice.post(edit, {"action": "remove_target", "step": 0, "target_index": 0})
    assert (
        response.status_code == 400
        and "needs at least one target: remove the step instead" in response.content.decode()
    )
    response = alice.post(edit, {"action": "set_delay", "step": 0, "delay_minutes": 5000})
    assert response.status_code == 400 and "Step 1:" in response.content.decode()
    response = alice.post(edit, {"action": "remove", "step": 9})
    assert response.status_code == 400 and "no longer exists" in response.content.decode()
    assert len(_steps(policy)) == 2


def test_policy_in_use_cannot_be_deleted(
    client_for: ClientFor, world: World, policy: EscalationPolicy
) -> None:
    oncall.set_service_policy(service=world.service_a, policy=policy, actor=None, source="test")
    response = client_for(world.alice).post(reverse("oncall-policy-delete", args=[policy.pk]))
    assert response.status_code == 409 and "pick another policy" in response.content.decode()
    assert EscalationPolicy.objects.filter(pk=policy.pk).exists()


# ---------------------------------------------------------------------------------------------------------------
# the service page's policy card


def test_service_card_and_picker(client_for: ClientFor, world: World, policy: EscalationPolicy) -> None:
    alice = client_for(world.alice)
    url = reverse("web:service-detail", args=[world.service_a.slug])
    page = alice.get(url).content.decode()
    assert 'id="service-policy"' in page and "incidents on this service page nobody" in page
    assert 'id="service-policy-select"' in page
    pick = reverse("oncall-service-policy", args=[world.service_a.slug])
    assert alice.post(pick, {"policy": policy.pk}).status_code == 302
    assert ServicePolicy.objects.get(service=world.service_a).policy == policy
    page = alice.get(url).content.decode()
    assert 'id="service-policy-name">Checkout primary' in page and "Bob Responder" in page
    # bob sees the card without the picker and may not change it
    bob = client_for(world.bob)
    page = bob.get(url).content.decode()
    assert "Checkout primary" in page and 'id="service-policy-select"' not in page
    assert bob.post(pick, {"policy": ""}).status_code == 403
    # a policy of another team is refused
    other = oncall.create_policy(team=world.team_b, name="B", actor=None, source="test")
    assert alice.post(pick, {"policy": other.pk}).status_code == 400
    assert alice.post(pick, {"policy": ""}).status_code == 302
    assert not ServicePolicy.objects.filter(service=world.service_a).exists()


# ---------------------------------------------------------------------------------------------------------------
# the incident page's escalation card


@pytest.fixture
def paged(world: World, now: datetime, policy: EscalationPolicy) -> Incident:
    """An incident on Checkout whose first step has paged bob."""
    make_policy_link = oncall.set_service_policy
    make_policy_link(service=world.service_a, policy=policy, actor=None, source="test")
    incident = declare(world)
    run()
    return incident


def test_escalation_card_shows_pages_and_outbox_status(
    client_for: ClientFor, world: World, paged: Incident
) -> None:
    message = Message.objects.get(user=world.bob, group=f"incident:{paged.pk}")
    page = client_for(world.alice).get(reverse("web:incident-detail", args=[paged.ref])).content.decode()
    assert 'id="escalation"' in page and 'id="escalation-status">Escalating' in page
    assert "step 1 of 2" in page and "round 1 of 2" in page and "step 2" in page
    assert "Bob Responder" in page and "Webhook" in page and ">pending<" in page
    assert "Escalate now" in page and "Reassign" in page and "Snooze" in page and ">Acknowledge<" in page
    Message.objects.filter(pk=message.pk).update(note="throttled: webhook at most 1 per minute")
    page = client_for(world.alice).get(reverse("web:incident-detail", args=[paged.ref])).content.decode()
    assert ">throttled<" in page and "at most 1 per minute" in page
    Message.objects.filter(pk=message.pk).update(
        status=Status.FAILED, failure="permanent", last_error="HTTP 404"
    )
    page = client_for(world.alice).get(reverse("web:incident-detail", args=[paged.ref])).content.decode()
    assert ">failed<" in page and "HTTP 404" in page


def test_card_without_policy(client_for: ClientFor, world: World, now: datetime) -> None:
    incident = declare(world)
    page = client_for(world.alice).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "none of this incident's services has an escalation policy" in page
    assert "Reassign" in page


def test_escalate_now_snooze_reassign_acknowledge(
    client_for: ClientFor, world: World, paged: Incident
) -> None:
    alice = client_for(world.alice)
    ref = paged.ref
    with clock.frozen(T0):
        assert alice.post(reverse("paging:escalate-now", args=[ref])).status_code == 302
        assert escalation(paged).step_index == 2
        assert Message.objects.filter(user=world.alice, group=f"incident:{paged.pk}").count() == 1
        assert alice.post(reverse("paging:snooze", args=[ref]), {"minutes": 60}).status_code == 302
        esc = escalation(paged)
        assert esc.snoozed_until is not None and (esc.snoozed_until - T0).total_seconds() == 3600
        page = alice.get(reverse("web:incident-detail", args=[ref])).content.decode()
        assert 'id="escalation-status">Snoozed' in page
        assert alice.post(reverse("paging:snooze", args=[ref]), {"minutes": 7}).status_code == 400
        response = alice.post(reverse("paging:reassign", args=[ref]), {"to": f"user:{world.bob.pk}"})
        assert response.status_code == 302
        assert escalation(paged).user == world.bob
        assert alice.post(reverse("paging:reassign", args=[ref]), {"to": "nobody"}).status_code == 400
        assert (
            alice.post(reverse("paging:reassign", args=[ref]), {"to": f"user:{world.charlie.pk}"}).status_code
            == 400
        )
        bob = client_for(world.bob)
        assert bob.post(reverse("paging:acknowledge", args=[ref])).status_code == 302
    assert escalation(paged).status == EscalationStatus.ACKNOWLEDGED
    paged.refresh_from_db()
    assert paged.acknowledged_at is not None
    page = alice.get(reverse("web:incident-detail", args=[ref])).content.decode()
    assert 'id="escalation-status">Acknowledged' in page and "Escalate now" not in page


def test_observer_sees_card_but_cannot_act(client_for: ClientFor, world: World, paged: Incident) -> None:
    dave = client_for(world.dave)
    page = dave.get(reverse("web:incident-detail", args=[paged.ref])).content.decode()
    assert 'id="escalation"' in page and "Bob Responder" in page
    assert "Escalate now" not in page and "Reassign" not in page and ">Acknowledge<" not in page
    for name, data in [
        ("paging:escalate-now", {}),
        ("paging:snooze", {"minutes": 15}),
        ("paging:reassign", {"to": f"user:{world.bob.pk}"}),
        ("paging:acknowledge", {}),
    ]:
        assert dave.post(reverse(name, args=[paged.ref]), data).status_code == 403, name
    assert escalation(paged).status == EscalationStatus.ACTIVE and escalation(paged).step_index == 1


def test_charlie_gets_404_on_team_a_incident_actions(
    client_for: ClientFor, world: World, paged: Incident
) -> None:
    charlie: Client = client_for(world.charlie)
    for name in ("paging:escalate-now", "paging:snooze", "paging:reassign", "paging:acknowledge"):
        assert charlie.post(reverse(name, args=[paged.ref]), {"minutes": 15}).status_code == 404, name
    assert escalation(paged).status == EscalationStatus.ACTIVE


def test_no_get_on_actions(client_for: ClientFor, world: World, paged: Incident) -> None:
    assert client_for(world.alice).get(reverse("paging:escalate-now", args=[paged.ref])).status_code == 405


__all__ = ["make_policy", "user_steps"]
