"""A workflow's webhook (docs/automation.md, "Webhook"): when the workflow runs, the team's own tool gets the
incident as signed JSON at its https URL, through the subscriber outbox (retried with the same delivery id), and
the run shows whether it arrived."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.automation.test_runner import cycle, playbook, workflow_lines
from tests.comms.conftest import https_url, verify_signature
from tests.conftest import World
from tests.notify.receivers import Receiver, text
from tests.paging.conftest import T0, declare, reachable
from warroom.automation import runner
from warroom.automation import services as automation
from warroom.automation.models import Workflow, WorkflowRun
from warroom.comms.models import DeliveryStatus
from warroom.engine import registry
from warroom.lib import clock
from warroom.lib.errors import PermissionDenied, ValidationFailed


@pytest.fixture
def now(world: World, https_receiver: Receiver) -> Iterator[datetime]:
    registry.discover()
    with clock.frozen(T0):
        reachable(world.alice)
        reachable(world.bob)
        runner.run(clock.now())
        yield T0


def hooked(world: World, receiver: Receiver, **changes: Any) -> Workflow:
    """A P1 playbook that also calls ``receiver``'s webhook (a secret made by Warroom)."""
    return playbook(world, webhook_url=https_url(receiver, "/warroom?team=a"), **changes)


def test_the_incident_arrives_signed_at_the_workflows_webhook(
    world: World, now: datetime, https_receiver: Receiver
) -> None:
    workflow = hooked(world, https_receiver)
    secret = workflow.revealed_secret
    assert secret.startswith("whsec_") and Workflow.objects.get().webhook_secret == {"signing_secret": secret}
    incident = declare(world, impact=1, urgency=1)
    cycle()
    cycle()

    [request] = https_receiver.requests
    assert (request.method, request.path, request.query) == ("POST", "/warroom", {"team": ["a"]})
    assert verify_signature(request, secret)
    assert not verify_signature(request, secret + "x")
    run = WorkflowRun.objects.select_related("delivery").get()
    assert run.delivery is not None and request.headers["warroom-delivery-id"] == run.delivery.delivery_id
    sent = request.json()
    assert sent["type"] == "warroom.workflow"
    assert sent["subject"] == f"{incident.ref} P1 playbook: Checkout returns 500"
    assert sent["body"] == "A P1 is open on Checkout: join the bridge."
    context = sent["context"]
    assert context["event"] == "workflow"
    assert context["workflow"] == {
        "id": workflow.pk,
        "name": "P1 playbook",
        "trigger": "declared",
        "run": run.pk,
    }
    assert context["incident"] == {
        "ref": incident.ref,
        "number": incident.number,
        "title": "Checkout returns 500",
        "state": "new",
        "priority": 1,
        "impact": 1,
        "urgency": 1,
        "is_major": False,
        "is_test": False,
        "team": "team-a",
        "services": ["Checkout"],
        "url": sent["url"],
    }
    assert sent["url"].endswith(f"/incidents/{incident.ref}/")
    # the run and the timeline say so; the outbox row says it arrived
    host = f"https://127.0.0.1:{https_receiver.port}/…"
    assert f"webhook to {host} queued" in run.done
    assert f"webhook to {host} queued" in workflow_lines(incident)[0]
    assert (run.delivery.status, run.delivery.attempts) == (DeliveryStatus.SENT, 1)
    # once per run: more cycles send nothing more
    cycle()
    assert len(https_receiver.requests) == 1


def test_a_failing_receiver_gets_the_same_call_again_later(
    world: World, now: datetime, https_receiver: Receiver
) -> None:
    hooked(world, https_receiver)
    https_receiver.script.append(text(503, "down for maintenance"))
    declare(world, impact=1, urgency=1)
    cycle()
    cycle()
    run = WorkflowRun.objects.select_related("delivery").get()
    assert run.delivery is not None
    assert (run.delivery.status, run.delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "503" in run.delivery.last_error
    clock.advance(timedelta(minutes=10))
    cycle()
    run.delivery.refresh_from_db()
    assert (run.delivery.status, run.delivery.attempts, run.delivery.last_error) == (
        DeliveryStatus.SENT,
        2,
        "",
    )
    first, second = https_receiver.requests
    assert first.body == second.body
    assert first.headers["warroom-delivery-id"] == second.headers["warroom-delivery-id"]


def test_a_test_incident_and_a_workflow_without_a_message(
    world: World, now: datetime, https_receiver: Receiver
) -> None:
    hooked(world, https_receiver, tasks=[], roles={}, notify_users=[], message="")
    incident = declare(world, impact=1, urgency=1)
    incident.is_test = True
    incident.save(update_fields=["is_test"])
    cycle()
    cycle()
    [request] = https_receiver.requests
    sent = request.json()
    assert sent["subject"].startswith(f"[TEST] {incident.ref} P1 playbook")
    assert sent["body"] == "" and sent["context"]["incident"]["is_test"] is True


def test_a_webhook_the_outbound_client_refuses_is_a_failed_call_on_the_run(
    world: World, now: datetime, https_receiver: Receiver, settings: Any
) -> None:
    hooked(world, https_receiver)
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ()  # the administrator no longer lets Warroom reach 127.0.0.1
    declare(world, impact=1, urgency=1)
    cycle()
    cycle()
    run = WorkflowRun.objects.select_related("delivery").get()
    assert run.delivery is not None and run.delivery.status == DeliveryStatus.FAILED
    assert "is a loopback address" in run.delivery.last_error
    assert https_receiver.requests == []


def test_a_test_call_reaches_the_webhook_signed_and_its_result_is_kept(
    world: World, now: datetime, https_receiver: Receiver
) -> None:
    workflow = hooked(world, https_receiver)
    secret = workflow.revealed_secret
    delivery = automation.send_test_call(workflow=workflow, actor=world.alice, source="web")
    cycle()
    [request] = https_receiver.requests
    assert verify_signature(request, secret)
    sent = request.json()
    assert sent["type"] == "warroom.test" and sent["subject"] == "Test call from the workflow P1 playbook"
    assert sent["context"]["event"] == "workflow.test"
    assert sent["context"]["workflow"] == {"id": workflow.pk, "name": "P1 playbook", "trigger": "declared"}
    assert "incident" not in sent["context"]
    workflow.refresh_from_db()
    assert workflow.last_test_call == delivery
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert not WorkflowRun.objects.exists()  # a test is not a run


def test_only_a_workflow_with_a_webhook_can_be_tested_by_its_managers(world: World, now: datetime) -> None:
    workflow = playbook(world)
    with pytest.raises(ValidationFailed) as refused:
        automation.send_test_call(workflow=workflow, actor=world.alice, source="web")
    assert (refused.value.field, refused.value.message) == (
        "webhook_url",
        "the workflow has no webhook to test",
    )
    with pytest.raises(PermissionDenied):
        automation.send_test_call(workflow=workflow, actor=world.bob, source="web")
