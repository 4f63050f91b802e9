"""Escalation policies through the services and the API: who may write, charlie's 404, validation naming the
field, a service's policy, and the incident paging routes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.conftest import Clients, client_with_token
from tests.conftest import World
from tests.paging.conftest import declare, make_policy, pages_to, reachable, run, user_steps
from warroom.lib import clock
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from warroom.oncall import selectors, services
from warroom.oncall.models import ServicePolicy
from warroom.oncall.services import StepSpec, TargetSpec

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(world: World, now: datetime) -> Clients:
    return Clients(
        *(client_with_token(u) for u in (world.alice, world.bob, world.charlie, world.dave, world.olivia))
    )


def test_policy_services_permissions_and_scoping(world: World, now: datetime) -> None:
    with pytest.raises(PermissionDenied):
        services.create_policy(team=world.team_a, name="P", actor=world.bob, source="api")
    policy = services.create_policy(
        team=world.team_a, name="P", actor=world.alice, source="api", steps=user_steps([world.bob])
    )
    with pytest.raises(NotFound):
        selectors.get_policy_for_user_or_404(world.charlie, key=policy.pk)
    with pytest.raises(ValidationFailed, match=r"steps\[0\].targets\[0\]: person"):
        services.create_policy(
            team=world.team_b, name="Q", actor=world.charlie, source="api", steps=user_steps([world.bob])
        )
    with pytest.raises(ValidationFailed, match="delay_minutes"):
        services.create_policy(
            team=world.team_a,
            name="R",
            actor=world.alice,
            source="api",
            steps=[StepSpec(0, [TargetSpec("user", world.bob.pk)])],
        )
    with pytest.raises(Conflict):
        services.create_policy(team=world.team_a, name="P", actor=world.alice, source="api")
    services.set_service_policy(service=world.service_a, policy=policy, actor=world.alice, source="api")
    with pytest.raises(Conflict, match="Checkout"):
        services.delete_policy(policy=policy, actor=world.alice, source="api")
    with pytest.raises(PermissionDenied):
        services.set_service_policy(service=world.service_a, policy=None, actor=world.bob, source="api")


def test_policy_api(world: World, api: Clients) -> None:
    body = {
        "team": world.team_a.pk,
        "name": "Primary",
        "repeat": 1,
        "steps": [
            {"delay_minutes": 5, "targets": [{"kind": "user", "id": world.bob.pk}]},
            {"delay_minutes": 10, "targets": [{"kind": "team", "id": world.team_a.pk}]},
        ],
    }
    assert api.bob.post("/escalation-policies", body).status_code == 403
    created = api.alice.post("/escalation-policies", body)
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert [s["targets"][0]["name"] for s in created.json()["steps"]] == ["Bob Responder", "team Team A"]
    assert api.charlie.get(f"/escalation-policies/{pid}").status_code == 404
    assert api.charlie.patch(f"/escalation-policies/{pid}", {"name": "x"}).status_code == 404
    assert api.charlie.delete(f"/escalation-policies/{pid}").status_code == 404
    assert api.charlie.get("/escalation-policies").json()["count"] == 0
    assert api.dave.get(f"/escalation-policies/{pid}").status_code == 200
    bad = api.alice.patch(f"/escalation-policies/{pid}", {"repeat": 99})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "repeat"
    patched = api.alice.patch(f"/escalation-policies/{pid}", {"steps": body["steps"][:1]})
    assert len(patched.json()["steps"]) == 1
    assert (
        api.charlie.put(f"/services/{world.service_a.pk}/escalation-policy", {"policy": pid}).status_code
        == 404
    )
    assert (
        api.alice.put(f"/services/{world.service_a.pk}/escalation-policy", {"policy": pid}).status_code == 200
    )
    assert ServicePolicy.objects.get(service=world.service_a).policy_id == pid
    assert api.alice.delete(f"/escalation-policies/{pid}").status_code == 409
    assert (
        api.alice.put(f"/services/{world.service_a.pk}/escalation-policy", {"policy": None}).status_code
        == 200
    )
    assert api.alice.delete(f"/escalation-policies/{pid}").status_code == 204


def test_incident_paging_api(world: World, api: Clients) -> None:
    make_policy(world, user_steps([world.bob], [world.alice], delay=30))
    incident = declare(world)
    run()
    path = f"/incidents/{incident.ref}/escalation"
    assert api.charlie.get(path).status_code == 404
    assert api.charlie.post(path + "/escalate-now").status_code == 404
    state = api.bob.get(path).json()
    assert state["status"] == "active" and state["pages"][0]["name"] == "Bob Responder"
    assert api.dave.post(path + "/escalate-now").status_code == 403
    assert api.bob.post(path + "/escalate-now").json()["next_step"] == 3
    assert pages_to(world.alice, incident) == 1
    until = (clock.now() + timedelta(hours=1)).isoformat()
    assert api.bob.post(path + "/snooze", {"until": until}).json()["snoozed_until"] is not None
    moved = api.bob.post(path + "/reassign", {"user": world.bob.email})
    assert moved.status_code == 200 and moved.json()["user"] == world.bob.pk
    assert api.bob.post(path + "/reassign", {}).status_code == 400
    observer = api.bob.post(path + "/reassign", {"user": world.dave.email})
    assert observer.status_code == 400, "the API pages only whom the console's picker offers"
    assert "Dave Observer is an observer of Team A and cannot be paged" in observer.json()["detail"]
    assert api.bob.get(path).json()["user"] == world.bob.pk, "paging is left as it was"


def test_acknowledging_a_page_through_the_api(world: World, api: Clients) -> None:
    """Paged people acknowledge with their token: paging stops, a New incident moves to In Progress. Charlie, of
    another team, may not change the incident but may see and acknowledge it once paged for it; Dave, an
    observer of the team who was not paged, may not acknowledge; before the page Charlie does not see it."""
    reachable(world.charlie)
    make_policy(world, user_steps([world.charlie], [world.bob], delay=30))
    incident = declare(world)
    path = f"/incidents/{incident.ref}/escalation/acknowledge"
    assert api.charlie.post(path).status_code == 404
    run()
    assert pages_to(world.charlie, incident) == 1
    assert api.dave.post(path).status_code == 403
    answer = api.charlie.post(path)
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] != "active" and answer.json()["next_at"] is None
    incident.refresh_from_db()
    assert incident.state == "in_progress"
    assert incident.timeline.filter(message__contains="Acknowledged by Charlie Other from the page").exists()
    with clock.frozen(clock.now() + timedelta(hours=1)):
        run()
    assert pages_to(world.bob, incident) == 0  # the second step never came

    other = declare(world, title="Login fails")
    run()
    assert (
        api.charlie.post(f"/incidents/{other.ref}/escalation/acknowledge").status_code == 200
    )  # paged again
    resolved = api.alice.post(
        f"/incidents/{incident.ref}/transition",
        {"to": "resolved", "resolution_code": "workaround", "resolution_notes": "Restarted"},
    )
    assert resolved.status_code == 200
    refused = api.charlie.post(path)
    assert refused.status_code == 409 and "Resolved" in refused.json()["detail"]


def test_a_policy_without_steps_cannot_page_for_a_service(world: World, api: Clients) -> None:
    """A P1 on a service whose policy has no steps would page nobody: picking such a policy is refused, and so is
    taking the last step away from a policy services use."""
    empty = api.alice.post("/escalation-policies", {"team": world.team_a.pk, "name": "Empty", "steps": []})
    assert empty.status_code == 201, empty.content
    picked = api.alice.put(
        f"/services/{world.service_a.pk}/escalation-policy", {"policy": empty.json()["id"]}
    )
    assert picked.status_code == 400
    error = picked.json()["errors"][0]
    assert error["field"] == "policy"
    assert "Empty has no steps: Checkout's incidents, a P1 included, would page nobody" in error["message"]
    assert not ServicePolicy.objects.filter(service=world.service_a).exists()

    body = {
        "team": world.team_a.pk,
        "name": "Primary",
        "steps": [{"delay_minutes": 5, "targets": [{"kind": "user", "id": world.bob.pk}]}],
    }
    pid = api.alice.post("/escalation-policies", body).json()["id"]
    assert (
        api.alice.put(f"/services/{world.service_a.pk}/escalation-policy", {"policy": pid}).status_code == 200
    )
    emptied = api.alice.patch(f"/escalation-policies/{pid}", {"steps": []})
    assert emptied.status_code == 409
    assert "Primary pages for Checkout: without steps" in emptied.json()["detail"]
    assert len(api.alice.get(f"/escalation-policies/{pid}").json()["steps"]) == 1
    # once no service uses it, its steps may go
    assert (
        api.alice.put(f"/services/{world.service_a.pk}/escalation-policy", {"policy": None}).status_code
        == 200
    )
    assert api.alice.patch(f"/escalation-policies/{pid}", {"steps": []}).status_code == 200


def test_the_service_page_refuses_a_policy_without_steps(world: World, now: datetime) -> None:
    empty = services.create_policy(team=world.team_a, name="Empty", actor=None, source="system")
    console = Client()
    console.force_login(world.alice)
    pick = reverse("oncall-service-policy", args=[world.service_a.slug])
    refused = console.post(pick, {"policy": empty.pk})
    assert refused.status_code == 400
    assert "Empty has no steps: Checkout&#x27;s incidents, a P1 included, would page nobody" in (
        refused.content.decode()
    )
    assert not ServicePolicy.objects.filter(service=world.service_a).exists()
