"""Acknowledging after the escalation ran out, and acknowledge links of an incident someone else acknowledged
already: the incident page and the timeline say what happened, once, and a link never claims what it did not do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client

from tests.api.conftest import client_with_token
from tests.conftest import World
from tests.paging.conftest import acknowledge, declare, escalation, make_policy, run, timeline, user_steps
from warroom.accounts.models import User
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import Conflict
from warroom.notify.models import Message
from warroom.paging import services as paging
from warroom.paging.models import AckLinkUse, EscalationStatus

pytestmark = pytest.mark.django_db


def _exhausted(world: World) -> Incident:
    make_policy(world, user_steps([world.bob], delay=5))
    incident = declare(world)
    run()
    clock.advance(timedelta(minutes=5))
    run()
    assert escalation(incident).status == EscalationStatus.EXHAUSTED
    return incident


def _stopped_lines(incident: Incident) -> list[str]:
    """The "Escalation stopped" lines, without what they add about cancelled messages."""
    return [line.split(";")[0] for line in timeline(incident) if line.startswith("Escalation stopped")]


def test_acknowledging_an_exhausted_escalation_shows_it_acknowledged_once(
    world: World, now: datetime
) -> None:
    incident = _exhausted(world)
    acknowledge(incident, world.bob)
    assert escalation(incident).status == EscalationStatus.ACKNOWLEDGED
    assert _stopped_lines(incident) == ["Escalation stopped: acknowledged (after it was exhausted)"]
    api = client_with_token(world.bob)
    assert api.get(f"/incidents/{incident.ref}/escalation").json()["status"] == "acknowledged"
    assert api.post(f"/incidents/{incident.ref}/escalation/acknowledge").status_code == 200
    assert _stopped_lines(incident) == ["Escalation stopped: acknowledged (after it was exhausted)"], "once"
    page = Client()
    page.force_login(world.bob)
    card = page.get(f"/incidents/{incident.ref}/").content.decode()
    assert 'id="escalation-status">Acknowledged<' in card


def test_acknowledging_the_page_of_an_exhausted_escalation_names_who(world: World, now: datetime) -> None:
    incident = _exhausted(world)
    answer = client_with_token(world.bob).post(f"/incidents/{incident.ref}/escalation/acknowledge")
    assert answer.status_code == 200 and answer.json()["status"] == "acknowledged"
    assert _stopped_lines(incident) == [
        "Escalation stopped: acknowledged by Bob Responder (after it was exhausted)"
    ]
    incident.refresh_from_db()
    assert incident.state == "in_progress"


def test_resolving_after_exhaustion_keeps_what_happened(world: World, now: datetime) -> None:
    """Nobody acknowledged the paging: resolving does not rewrite that into "stopped"."""
    incident = _exhausted(world)
    acknowledge(incident, world.alice)
    assert escalation(incident).status == EscalationStatus.ACKNOWLEDGED
    other = declare(world, title="Second outage")
    run()
    clock.advance(timedelta(minutes=5))
    run()
    assert escalation(other).status == EscalationStatus.EXHAUSTED
    incidents.transition_incident(
        incident=other,
        actor=world.alice,
        source="web",
        to="resolved",
        resolution_code="workaround",
        resolution_notes="Restarted",
    )
    assert escalation(other).status == EscalationStatus.EXHAUSTED
    assert _stopped_lines(other) == []


def _ack_path(incident: Incident, user: User) -> str:
    url = (
        Message.objects.filter(group=paging.group_of(incident.pk), user=user).latest("id").context["ack_url"]
    )
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def both_paged(world: World, now: datetime) -> Incident:
    make_policy(world, user_steps([world.bob, world.alice], delay=30))
    incident = declare(world)
    run()
    return incident


def test_an_ack_link_after_someone_else_acknowledged_says_who_and_when(
    world: World, both_paged: Incident
) -> None:
    incident = both_paged
    clock.advance(timedelta(minutes=3))
    acknowledge(incident, world.alice)  # in the console: New → In Progress
    lines = list(incident.timeline.values_list("message", flat=True))
    User.objects.filter(pk=world.bob.pk).update(time_zone="Europe/Paris")
    path = _ack_path(incident, world.bob)
    browser = Client()
    shown = browser.get(path)
    assert shown.status_code == 200
    text = " ".join(shown.content.decode().split())
    assert "Already acknowledged by Alice Admin at 2026-03-02 10:03 Europe/Paris" in text
    assert "<button" not in text, "nothing to confirm"
    clicked = browser.post(path)
    assert clicked.status_code == 409
    said = " ".join(clicked.content.decode().split())
    assert f"{incident.ref} was acknowledged already by Alice Admin at 2026-03-02 10:03 Europe/Paris" in said
    assert "Thank you" not in said
    assert AckLinkUse.objects.count() == 0, "the link was not used"
    assert list(incident.timeline.values_list("message", flat=True)) == lines, "nothing written"
    with pytest.raises(Conflict, match="acknowledged already by Alice Admin"):
        paging.acknowledge_by_link(token=path.rstrip("/").rsplit("/", 1)[1])


def test_a_second_persons_link_names_whoever_acknowledged_through_theirs(
    world: World, both_paged: Incident
) -> None:
    incident = both_paged
    first = Client().post(_ack_path(incident, world.bob))
    assert first.status_code == 200 and b"is acknowledged" in first.content
    assert escalation(incident).acknowledged_by == world.bob
    second = Client().post(_ack_path(incident, world.alice))
    assert second.status_code == 409
    assert b"acknowledged already by Bob Responder at 2026-03-02 09:00 UTC" in second.content
    again = Client().post(_ack_path(incident, world.bob))
    assert again.status_code == 409
    assert b"used already" in again.content and b"acknowledged by Bob Responder" in again.content


def test_an_ack_link_of_a_resolved_incident_offers_nothing(world: World, both_paged: Incident) -> None:
    incidents.transition_incident(
        incident=both_paged,
        actor=world.alice,
        source="web",
        to="resolved",
        resolution_code="workaround",
        resolution_notes="Restarted",
    )
    shown = Client().get(_ack_path(both_paged, world.bob))
    assert shown.status_code == 200
    assert (
        b"It is Resolved: there is nothing to acknowledge." in shown.content
        and b"<button" not in shown.content
    )


def test_a_reassigned_page_that_ran_out_is_acknowledged_from_the_card(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.alice], delay=5))
    incident = declare(world)
    run()
    acknowledge(incident, world.alice)
    clock.advance(timedelta(minutes=1))
    paging.reassign(incident=incident, actor=world.alice, source="web", user=world.bob)
    for _ in range(3):
        clock.advance(timedelta(minutes=15))
        run()
    assert escalation(incident).status == EscalationStatus.EXHAUSTED
    console = Client()
    console.force_login(world.bob)
    assert ">Acknowledge</button>" in console.get(f"/incidents/{incident.ref}/").content.decode()
    assert console.post(f"/incidents/{incident.ref}/escalation/acknowledge/").status_code == 302
    assert escalation(incident).status == EscalationStatus.ACKNOWLEDGED
    assert _stopped_lines(incident)[-1] == (
        "Escalation stopped: acknowledged by Bob Responder (after it was exhausted)"
    )
