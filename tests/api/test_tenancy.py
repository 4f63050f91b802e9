"""The tenancy matrix: alice (admin of Team A), bob (responder in A), dave (observer in A) and charlie (admin
of Team B) on every team-owned endpoint. charlie gets a 404 on Team A's objects, never a 403 and never a leak;
dave may read but gets a 403 on writes. Private incidents are seen only by their participants, the team's
admins and organisation admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident, RoleType, Task


@dataclass
class Scene:
    incident: Incident
    other: Incident
    task: Task
    world: World

    def fill(self, text: str) -> str:
        return text.format(
            ref=self.incident.ref,
            other=self.other.ref,
            task=self.task.pk,
            alice=self.world.alice.pk,
            dave=self.world.dave.pk,
        )


@pytest.fixture
def scene(world: World) -> Scene:
    incident = declare(world)
    other = declare(world, title="Another Team A incident")
    task = incidents.add_task(incident=incident, actor=world.alice, source="system", title="Check the logs")
    incidents.assign_role(
        incident=incident,
        role_type=RoleType.objects.get(slug="scribe"),
        user=world.alice,
        actor=world.alice,
        source="system",
    )
    incidents.link_related(incident=incident, other=other, actor=world.alice, source="system")
    incidents.set_watching(incident=incident, user=world.bob, watching=True, actor=world.bob, source="system")
    return Scene(incident, other, task, world)


#: (method, path, body, {user: expected status}). Path placeholders are filled from the scene.
CASES: list[tuple[str, str, Any, dict[str, int]]] = [
    # reads
    ("GET", "/incidents/{ref}", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    ("GET", "/incidents/{ref}/timeline", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    ("GET", "/teams/team-a", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    ("GET", "/teams/team-a/members", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    ("GET", "/services/checkout", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    # a filter naming another team's team is refused as an unknown one (400), never a 404 on a list
    ("GET", "/services?team=team-a", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 400}),
    ("GET", "/users/{alice}", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    # incident writes
    (
        "POST",
        "/incidents",
        {"title": "New one", "team": "team-a"},
        {"alice": 201, "bob": 201, "dave": 403, "charlie": 400},
    ),
    (
        "PATCH",
        "/incidents/{ref}",
        {"title": "Renamed"},
        {"alice": 200, "bob": 200, "dave": 403, "charlie": 404},
    ),
    (
        "POST",
        "/incidents/{ref}/transition",
        {"to": "in_progress"},
        {"alice": 200, "bob": 200, "dave": 403, "charlie": 404},
    ),
    (
        "POST",
        "/incidents/{ref}/notes",
        {"text": "hi"},
        {"alice": 201, "bob": 201, "dave": 403, "charlie": 404},
    ),
    (
        "PUT",
        "/incidents/{ref}/roles/incident-commander",
        {},
        {"alice": 200, "bob": 200, "dave": 403, "charlie": 404},
    ),
    (
        "DELETE",
        "/incidents/{ref}/roles/scribe",
        None,
        {"alice": 204, "bob": 204, "dave": 403, "charlie": 404},
    ),
    (
        "POST",
        "/incidents/{ref}/tasks",
        {"title": "Roll back"},
        {"alice": 201, "bob": 201, "dave": 403, "charlie": 404},
    ),
    (
        "PATCH",
        "/incidents/{ref}/tasks/{task}",
        {"done": True},
        {"alice": 200, "bob": 200, "dave": 403, "charlie": 404},
    ),
    ("POST", "/incidents/{ref}/watchers", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    (
        "POST",
        "/incidents/{ref}/watchers",
        {"user": "alice@example.com"},
        {"alice": 200, "bob": 200, "dave": 403, "charlie": 404},
    ),
    ("DELETE", "/incidents/{ref}/watchers", None, {"alice": 200, "bob": 200, "dave": 200, "charlie": 404}),
    (
        "POST",
        "/incidents/{other}/related/{ref}",
        None,
        {"alice": 200, "bob": 200, "dave": 403, "charlie": 404},
    ),
    (
        "DELETE",
        "/incidents/{ref}/related/{other}",
        None,
        {"alice": 200, "bob": 200, "dave": 403, "charlie": 404},
    ),
    # catalog and team writes
    (
        "POST",
        "/services",
        {"team": "team-a", "name": "Search"},
        {"alice": 201, "bob": 403, "dave": 403, "charlie": 400},
    ),
    (
        "PATCH",
        "/services/checkout",
        {"description": "x"},
        {"alice": 200, "bob": 403, "dave": 403, "charlie": 404},
    ),
    (
        "PUT",
        "/teams/team-a/members/{dave}",
        {"role": "responder"},
        {"alice": 200, "bob": 403, "dave": 403, "charlie": 404},
    ),
    ("DELETE", "/teams/team-a/members/{dave}", None, {"alice": 204, "bob": 403, "dave": 403, "charlie": 404}),
]


def _case_id(case: tuple[str, str, Any, dict[str, int]]) -> str:
    method, path, body, _ = case
    return f"{method} {path}{' ' + str(body) if body else ''}"


@pytest.mark.parametrize("who", ["alice", "bob", "dave", "charlie"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matrix(api: Clients, scene: Scene, case: tuple[str, str, Any, dict[str, int]], who: str) -> None:
    method, path, body, expected = case
    url = scene.fill(path)
    if "?" in url:
        base, query = url.split("?", 1)
        key, value = query.split("=", 1)
        response = api.of(who).get(base, **{key: value})
    elif body is None:
        response = api.of(who).call(method, url)
    else:
        response = api.of(who).call(method, url, body)
    assert response.status_code == expected[who], (who, method, url, response.content)
    if expected[who] == 404:
        # The same answer as for something that does not exist at all.
        assert "not found" in error(response)["detail"]
        assert "Team A" not in error(response)["detail"]
    if expected[who] == 400:
        assert error(response)["errors"][0]["message"].endswith("not found")
    if expected[who] == 403:
        assert error(response)["code"] == "forbidden"


def test_charlie_gets_the_same_404_as_for_nothing(api: Clients, scene: Scene) -> None:
    hidden = api.charlie.get(f"/incidents/{scene.incident.number}")
    missing = api.charlie.get("/incidents/9999999")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert error(hidden)["detail"] == f"incident {scene.incident.number} not found"
    assert error(missing)["detail"] == "incident 9999999 not found"


def test_lists_are_scoped(api: Clients, scene: Scene, world: World) -> None:
    b = declare(world, actor=world.charlie, team=world.team_b, services=[world.service_b], title="B's")
    a_refs = {scene.incident.ref, scene.other.ref}
    for who in ("alice", "bob", "dave"):
        assert {i["ref"] for i in api.of(who).get("/incidents").json()["items"]} == a_refs
    assert [i["ref"] for i in api.charlie.get("/incidents").json()["items"]] == [b.ref]
    assert (
        api.charlie.get("/incidents", team="team-a").status_code == 400
    )  # as for a team that does not exist
    assert {i["ref"] for i in api.olivia.get("/incidents").json()["items"]} == a_refs | {b.ref}


def test_links_to_hidden_incidents_do_not_leak(api: Clients, scene: Scene, world: World) -> None:
    b = declare(world, actor=world.charlie, team=world.team_b, services=[world.service_b], title="B's")
    incidents.link_related(incident=scene.incident, other=b, actor=world.olivia, source="system")
    incidents.update_incident(incident=b, parent=scene.incident, actor=world.olivia, source="system")
    as_alice = api.alice.get(f"/incidents/{scene.incident.ref}").json()
    assert [r["ref"] for r in as_alice["related"]] == [scene.other.ref]
    assert as_alice["children"] == []
    as_charlie = api.charlie.get(f"/incidents/{b.ref}").json()
    assert as_charlie["parent"] is None
    assert as_charlie["related"] == []
    as_olivia = api.olivia.get(f"/incidents/{scene.incident.ref}").json()
    assert {r["ref"] for r in as_olivia["related"]} == {scene.other.ref, b.ref}
    assert [c["ref"] for c in as_olivia["children"]] == [b.ref]


def test_charlie_cannot_reference_team_a_objects_in_bodies(api: Clients, scene: Scene) -> None:
    for body, field in (
        ({"services": ["checkout"]}, "services"),
        ({"assignee": "bob@example.com"}, "assignee"),
        ({"parent": scene.incident.ref}, "parent"),
    ):
        response = api.charlie.post("/incidents", {"title": "x", "team": "team-b", **body})
        assert response.status_code == 400, body
        assert error(response)["errors"][0]["field"] == field
    related = api.charlie.post(f"/incidents/{scene.incident.ref}/related/{scene.other.ref}")
    assert related.status_code == 404


def test_org_admin_sees_and_changes_everything(api: Clients, scene: Scene) -> None:
    assert api.olivia.get(f"/incidents/{scene.incident.ref}").status_code == 200
    assert (
        api.olivia.patch(f"/incidents/{scene.incident.ref}", {"title": "Olivia was here"}).status_code == 200
    )
    assert api.olivia.patch("/services/checkout", {"tier": 2}).status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# private incidents


@pytest.fixture
def private(world: World) -> Incident:
    return declare(world, actor=world.bob, title="Suspicious logins", is_private=True, services=[])


@pytest.mark.parametrize(
    ("who", "status"),
    [("bob", 200), ("alice", 200), ("olivia", 200), ("dave", 404), ("charlie", 404)],
)
def test_private_incident_visibility(api: Clients, private: Incident, who: str, status: int) -> None:
    assert api.of(who).get(f"/incidents/{private.ref}").status_code == status
    listed = {i["ref"] for i in api.of(who).get("/incidents").json()["items"]}
    assert (private.ref in listed) is (status == 200)


def test_private_incident_opens_to_new_participants(api: Clients, private: Incident, world: World) -> None:
    assert api.dave.get(f"/incidents/{private.ref}").status_code == 404
    assert api.bob.post(f"/incidents/{private.ref}/watchers", {"user": "dave@example.com"}).status_code == 200
    assert api.dave.get(f"/incidents/{private.ref}").status_code == 200
    assert api.dave.get(f"/incidents/{private.ref}/timeline").status_code == 200
    # Taking part does not make an observer an editor.
    assert api.dave.patch(f"/incidents/{private.ref}", {"title": "x"}).status_code == 403


def test_making_an_incident_private_hides_it(api: Clients, world: World) -> None:
    incident = declare(world)
    assert api.dave.get(f"/incidents/{incident.ref}").status_code == 200
    assert api.alice.patch(f"/incidents/{incident.ref}", {"is_private": True}).status_code == 200
    assert api.dave.get(f"/incidents/{incident.ref}").status_code == 404
    assert api.alice.get(f"/incidents/{incident.ref}").status_code == 200
