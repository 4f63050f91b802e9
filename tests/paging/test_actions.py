"""DST on a schedule target, manual actions (escalate now, reassign, snooze) and acknowledging from the page
(signed, short-lived, single-use links: GET changes nothing, POST acknowledges once)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import signing
from django.test import Client

from tests.conftest import World
from tests.paging.conftest import (
    acknowledge,
    declare,
    escalation,
    make_policy,
    pages_to,
    run,
    timeline,
    user_steps,
)
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.notify.models import Message, Status
from warroom.oncall import selectors as oncall_selectors
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging import services as paging
from warroom.paging.models import AckLinkUse, EscalationStatus

pytestmark = pytest.mark.django_db


def test_schedule_target_at_a_dst_change_pages_whoever_the_schedule_says(world: World, now: datetime) -> None:
    """grafana/oncall#3261, #5247: across the US spring change (8 March 2026) the daily 09:00 Chicago handoff
    happens at 09:00 CDT (14:00 UTC), not 09:00 CST (15:00 UTC). At 14:30 UTC Bob's shift has begun."""
    schedule = oncall.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="America/Chicago", actor=None, source="system"
    )
    oncall.create_layer(
        schedule=schedule,
        name="Primary",
        rotation_kind="daily",
        start=datetime(2026, 3, 1, 9, 0),
        handoff_time=time(9, 0),
        participants=[world.alice, world.bob],
        actor=None,
        source="system",
    )
    make_policy(world, [StepSpec(10, [TargetSpec("schedule", schedule.pk)])])
    at = datetime(2026, 3, 8, 14, 30, tzinfo=UTC)
    with clock.frozen(at):
        expected = [s.user_id for s in oncall_selectors.on_call(schedule, at=at).shifts]
        assert expected == [world.bob.pk]
        incident = declare(world)
        run()
        assert (pages_to(world.bob, incident), pages_to(world.alice, incident)) == (1, 0)
        assert "Paged Bob Responder (on call on Checkout primary) (step 1 of Primary)" in timeline(incident)
    with clock.frozen(datetime(2026, 3, 8, 13, 59, tzinfo=UTC)):
        other = declare(world, title="Just before the handoff")
        run()
        assert (pages_to(world.bob, other), pages_to(world.alice, other)) == (0, 1)


def test_escalate_now_pages_the_next_step_at_once(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], [world.alice], delay=30))
    incident = declare(world)
    run()
    paging.escalate_now(incident=incident, actor=world.bob, source="web")
    assert pages_to(world.alice, incident) == 1
    assert escalation(incident).step_index == 2
    with pytest.raises(PermissionDenied):
        paging.escalate_now(incident=incident, actor=world.charlie, source="web")


def test_reassign_to_a_person_and_to_a_policy(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], delay=30))
    other = oncall.create_policy(
        team=world.team_a, name="Managers", steps=user_steps([world.alice]), actor=None, source="system"
    )
    incident = declare(world)
    run()
    paging.reassign(incident=incident, actor=world.bob, source="web", user=world.alice)
    assert pages_to(world.alice, incident) == 1
    assert Message.objects.get(user=world.bob).status == Status.CANCELLED
    clock.advance(timedelta(minutes=15))
    run()
    assert pages_to(world.alice, incident) == 2, "a reassignment repeats until acknowledged"
    paging.reassign(incident=incident, actor=world.bob, source="web", policy=other)
    assert pages_to(world.alice, incident) == 3
    assert escalation(incident).policy == other
    with pytest.raises(ValidationFailed):
        paging.reassign(incident=incident, actor=world.bob, source="web")


def test_reassign_after_acknowledgement_pages_the_new_person(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], delay=30))
    incident = declare(world)
    run()
    acknowledge(incident, world.bob)
    clock.advance(timedelta(minutes=1))
    paging.reassign(incident=incident, actor=world.bob, source="web", user=world.alice)
    assert pages_to(world.alice, incident) == 1
    assert escalation(incident).status == EscalationStatus.ACTIVE


def test_snooze_pauses_then_pages_again(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], [world.alice], delay=5))
    incident = declare(world)
    run()
    paging.snooze(incident=incident, actor=world.bob, source="web", until=now + timedelta(hours=1))
    for _ in range(11):
        clock.advance(timedelta(minutes=5))
        run()
    assert (pages_to(world.bob, incident), pages_to(world.alice, incident)) == (1, 0)
    clock.advance(timedelta(minutes=5))
    run()
    assert pages_to(world.bob, incident) == 2, "at the end of the snooze the last step pages again"
    with pytest.raises(ValidationFailed):
        paging.snooze(incident=incident, actor=world.bob, source="web", until=clock.now() + timedelta(days=2))
    acknowledge(incident, world.bob)
    with pytest.raises(Conflict):
        paging.snooze(
            incident=incident, actor=world.bob, source="web", until=clock.now() + timedelta(hours=1)
        )


# ---------------------------------------------------------------------------------------------------------------
# acknowledge links


def _ack_path(incident: Incident, user_id: int) -> str:
    url = (
        Message.objects.filter(group=paging.group_of(incident.pk), user_id=user_id)
        .latest("id")
        .context["ack_url"]
    )
    assert url.startswith("http://") or url.startswith("https://")
    return "/" + url.split("/", 3)[3]


def test_ack_link_get_changes_nothing_post_acknowledges_once(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], [world.alice], delay=5))
    incident = declare(world)
    run()
    path = _ack_path(incident, world.bob.pk)
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200 and b"Acknowledge it as Bob Responder" in page.content
    incident.refresh_from_db()
    assert incident.acknowledged_at is None and escalation(incident).status == EscalationStatus.ACTIVE
    token = client.cookies["csrftoken"].value
    done = client.post(path, {"csrfmiddlewaretoken": token})
    assert done.status_code == 200 and b"is acknowledged" in done.content
    incident.refresh_from_db()
    assert incident.state == "in_progress" and incident.acknowledged_at is not None
    assert escalation(incident).status == EscalationStatus.ACKNOWLEDGED
    again = client.post(path, {"csrfmiddlewaretoken": token})
    assert again.status_code == 409 and b"used already" in again.content
    assert AckLinkUse.objects.count() == 1
    clock.advance(timedelta(minutes=10))
    run()
    assert pages_to(world.alice, incident) == 0


def test_ack_link_expires(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], delay=5))
    incident = declare(world)
    run()
    path = _ack_path(incident, world.bob.pk)
    clock.advance(timedelta(minutes=60))
    assert Client().get(path).status_code == 200, "valid for 60 minutes"
    clock.advance(timedelta(seconds=1))
    response = Client().get(path)
    assert response.status_code == 400 and b"expired" in response.content
    with pytest.raises(ValidationFailed, match="expired"):
        paging.acknowledge_by_link(token=path.rstrip("/").rsplit("/", 1)[1])
    incident.refresh_from_db()
    assert incident.acknowledged_at is None and AckLinkUse.objects.count() == 0


def test_ack_link_tampered_is_refused(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], delay=5))
    incident = declare(world)
    run()
    path = _ack_path(incident, world.bob.pk)
    token = path.rstrip("/").rsplit("/", 1)[1]
    claim = paging.read_ack_token(token)
    forged = signing.Signer(salt="other").sign_object(
        {"i": claim.incident_id, "u": world.alice.pk, "n": claim.nonce}
    )
    other_user = signing.Signer(salt="other").sign_object({"i": claim.incident_id, "u": world.alice.pk})
    swapped = other_user.split(":")[0] + ":" + token.split(":", 1)[1]
    for bad in (forged, swapped, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")):
        response = Client().get(f"/ack/{bad}/")
        assert response.status_code == 400 and b"not valid" in response.content
        assert Client().post(f"/ack/{bad}/").status_code in (400, 403)
    incident.refresh_from_db()
    assert incident.acknowledged_at is None
