"""A person paged for an incident of a team they are not in (a policy step naming them, a schedule of their team,
a whole team) can open it and acknowledge it, in the console, through the API (as the CLI does) and through the
ack link, even when it is private; they still may not change it, and incidents they were not paged for stay a 404.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.api.conftest import client_with_token
from tests.conftest import World
from tests.paging.conftest import declare, escalation, make_policy, pages_to, reachable, run, user_steps
from warroom.incidents import services as incidents
from warroom.paging.models import EscalationStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def charlie_paged(world: World, now: datetime) -> None:
    """Team A's policy pages Charlie (an admin of team B only) first, then Bob."""
    reachable(world.charlie)
    make_policy(world, user_steps([world.charlie], [world.bob], delay=30))


def test_a_person_paged_from_another_team_sees_and_acknowledges_through_the_api(
    world: World, charlie_paged: None
) -> None:
    incident = declare(world)
    run()
    assert pages_to(world.charlie, incident) == 1
    api = client_with_token(world.charlie)
    seen = api.get(f"/incidents/{incident.ref}")
    assert seen.status_code == 200, seen.content
    assert seen.json()["title"] == "Checkout returns 500"
    assert incident.ref in [row["ref"] for row in api.get("/incidents").json()["items"]]
    assert api.get(f"/incidents/{incident.ref}/escalation").json()["pages"][0]["name"] == "Charlie Other"
    refused = api.patch(f"/incidents/{incident.ref}", {"title": "Mine now"})
    assert refused.status_code == 403, "seeing it is not changing it"
    acked = api.post(f"/incidents/{incident.ref}/escalation/acknowledge")
    assert acked.status_code == 200, acked.content
    assert acked.json()["status"] == EscalationStatus.ACKNOWLEDGED
    incident.refresh_from_db()
    assert incident.state == "in_progress" and incident.title == "Checkout returns 500"
    assert incident.timeline.filter(message__contains="Acknowledged by Charlie Other from the page").exists()


def test_an_incident_charlie_was_not_paged_for_is_still_a_404(world: World, charlie_paged: None) -> None:
    incident = declare(world)  # no engine run: nobody paged yet
    api = client_with_token(world.charlie)
    assert api.get(f"/incidents/{incident.ref}").status_code == 404
    assert api.post(f"/incidents/{incident.ref}/escalation/acknowledge").status_code == 404
    assert incident.ref not in [row["ref"] for row in api.get("/incidents").json()["items"]]
    run()
    assert api.get(f"/incidents/{incident.ref}").status_code == 200, "paged now"


def test_a_paged_person_opens_and_acknowledges_a_private_incident_in_the_console(
    world: World, charlie_paged: None, client_for: object
) -> None:
    incident = incidents.declare_incident(
        actor=None,
        source="system",
        title="Payroll leak",
        team=world.team_a,
        services=[world.service_a],
        impact=1,
        urgency=1,
        is_private=True,
        reporter=None,
    )
    run()
    console = client_for(world.charlie)  # type: ignore[operator]
    page = console.get(f"/incidents/{incident.ref}/")
    assert page.status_code == 200
    assert b"Payroll leak" in page.content and b">Acknowledge</button>" in page.content
    done = console.post(f"/incidents/{incident.ref}/escalation/acknowledge/")
    assert done.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "in_progress"
    assert escalation(incident).status == EscalationStatus.ACKNOWLEDGED
    # Dave, an observer of team A, does not see the private incident: he was not paged
    assert client_for(world.dave).get(f"/incidents/{incident.ref}/").status_code == 404  # type: ignore[operator]
