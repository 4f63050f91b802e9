"""/incidents and everything hanging off it: happy paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.audit.models import AuditEvent
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock


def test_declare_minimal(api: Clients, world: World) -> None:
    response = api.bob.post("/incidents", {"title": "Checkout is slow", "team": "team-a"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ref"].startswith("INC") and len(body["ref"]) == 10
    assert body["ref"] == f"INC{body['number']:07d}"
    assert (body["state"], body["state_label"]) == ("new", "New")
    assert (body["priority"], body["priority_label"]) == (3, "3 - Moderate")
    assert body["reporter"]["email"] == "bob@example.com"
    assert body["team"]["slug"] == "team-a"
    assert body["version"] == 1
    assert body["opened_at"].endswith("Z")
    assert [t["to"] for t in body["allowed_transitions"]] == [
        "in_progress",
        "on_hold",
        "resolved",
        "canceled",
    ]
    timeline = TimelineEntry.objects.get(incident__number=body["number"])
    assert timeline.source == "api"
    assert AuditEvent.objects.filter(action="incident.declare", source="api").count() == 1


def test_declare_full(api: Clients, world: World) -> None:
    parent = declare(world, title="Parent outage")
    response = api.alice.post(
        "/incidents",
        {
            "title": "  Card payments   failing ",
            "team": "team-a",
            "description": "**Customers** cannot pay.<script>alert(1)</script>",
            "services": ["checkout"],
            "impact": 1,
            "urgency": 1,
            "category": "application",
            "subcategory": "Error rate",
            "assignee": "bob@example.com",
            "is_major": True,
            "is_private": False,
            "parent": parent.ref,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Card payments failing"
    assert (body["priority"], body["priority_label"]) == (1, "1 - Critical")
    assert body["impact_label"] == "1 - High"
    assert body["category"]["name"] == "Application"
    assert body["subcategory"]["name"] == "Error rate"
    assert body["assignee"]["email"] == "bob@example.com"
    assert body["services"] == [
        {"id": world.service_a.pk, "slug": "checkout", "name": "Checkout", "team": "team-a"}
    ]
    assert body["is_major"] is True
    assert body["parent"]["ref"] == parent.ref
    assert "<strong>Customers</strong>" in body["description_html"]
    assert "<script>" not in body["description_html"]
    assert [c["ref"] for c in api.alice.get(f"/incidents/{parent.ref}").json()["children"]] == [body["ref"]]


def test_declare_by_ids(api: Clients, world: World) -> None:
    categories = api.alice.get("/categories").json()["items"]
    database = next(c for c in categories if c["name"] == "Database")
    sub = next(s for s in database["subcategories"] if s["name"] == "Replication")
    response = api.alice.post(
        "/incidents",
        {
            "title": "Replica lag",
            "team": world.team_a.pk,
            "services": [world.service_a.pk],
            "category": database["id"],
            "subcategory": sub["id"],
            "assignee": world.bob.pk,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["subcategory"]["name"] == "Replication"


def test_declare_defaults_to_your_only_team(api: Clients) -> None:
    response = api.bob.post("/incidents", {"title": "No team given"})
    assert response.status_code == 201
    assert response.json()["team"]["slug"] == "team-a"
    several = api.olivia.post("/incidents", {"title": "No team given"})
    assert several.status_code == 400
    assert error(several)["errors"] == [
        {"field": "team", "message": "team is required: you act for several teams (team-a, team-b)"}
    ]
    observer = api.dave.post("/incidents", {"title": "No team given"})
    assert observer.status_code == 403


def test_get_incident_by_ref_or_number(api: Clients, world: World) -> None:
    incident = declare(world)
    for ref in (incident.ref, str(incident.number), incident.ref.lower()):
        response = api.bob.get(f"/incidents/{ref}")
        assert response.status_code == 200, ref
        assert response.json()["ref"] == incident.ref
    assert api.bob.get(f"/incidents/{incident.ref}").json()["can_edit"] is True
    assert api.dave.get(f"/incidents/{incident.ref}").json()["can_edit"] is False


def test_list_and_filters(api: Clients, world: World) -> None:
    with clock.frozen(datetime(2025, 1, 10, 12, tzinfo=UTC)):
        old = declare(world, title="Old disk alarm", impact=3, urgency=3)
    p1 = declare(world, title="Payments down", impact=1, urgency=1, assignee=world.bob, is_major=True)
    other = declare(world, title="Search flaky", services=[])
    api.bob.post(f"/incidents/{other.ref}/transition", {"to": "in_progress"})
    b = declare(
        world, actor=world.charlie, title="Invoices late", team=world.team_b, services=[world.service_b]
    )

    def refs(client_name: str = "bob", **query: object) -> list[str]:
        response = api.of(client_name).get("/incidents", **query)
        assert response.status_code == 200, response.content
        return [i["ref"] for i in response.json()["items"]]

    assert refs() == [other.ref, p1.ref, old.ref]  # newest first; Team B's is not there
    assert refs("olivia") == [b.ref, other.ref, p1.ref, old.ref]
    assert refs(state="in_progress") == [other.ref]
    assert refs(state=["new", "in_progress"]) == [other.ref, p1.ref, old.ref]
    assert refs(priority=1) == [p1.ref]
    assert refs(priority=[1, 5]) == [p1.ref, old.ref]
    assert refs(service="checkout") == [p1.ref, old.ref]
    assert refs(service=str(world.service_a.pk)) == [p1.ref, old.ref]
    assert refs(team="team-a") == [other.ref, p1.ref, old.ref]
    assert refs("olivia", team="team-b") == [b.ref]
    hidden = api.bob.get("/incidents", team="team-b")  # a team bob cannot see: refused as an unknown one is
    assert hidden.status_code == 400, hidden.content
    assert error(hidden)["errors"] == [{"field": "team", "message": "team: team 'team-b' not found"}]
    assert refs(assignee="bob@example.com") == [p1.ref]
    assert refs(assignee=str(world.bob.pk)) == [p1.ref]
    assert refs(assignee="me") == [p1.ref]
    assert refs(assignee="none") == [other.ref, old.ref]
    assert refs(q="payments") == [p1.ref]
    assert refs(q=str(old.number)) == [old.ref]
    assert refs(q=old.ref) == [old.ref]
    assert refs(opened_before="2025-02-01T00:00:00Z") == [old.ref]
    assert refs(opened_after="2025-02-01T00:00:00") == [other.ref, p1.ref]
    assert refs(opened_after="2025-01-10T11:00:00+01:00") == [other.ref, p1.ref, old.ref]
    assert refs(is_major="true") == [p1.ref]
    assert refs(is_major="false") == [other.ref, old.ref]
    api.bob.post(f"/incidents/{old.ref}/transition", {"to": "canceled"})
    assert refs(open="true") == [other.ref, p1.ref]
    page = api.bob.get("/incidents", limit=1, offset=1).json()
    assert (page["count"], page["limit"], page["offset"]) == (3, 1, 1)
    assert [i["ref"] for i in page["items"]] == [p1.ref]


def test_list_filter_values_of_the_wrong_type_are_422(api: Clients) -> None:
    for query, field in (
        ({"opened_after": "yesterday"}, "opened_after"),
        ({"is_major": "maybe"}, "is_major"),
        ({"limit": "lots"}, "limit"),
    ):
        response = api.bob.get("/incidents", **query)
        assert response.status_code == 422, query
        assert error(response)["errors"][0]["field"] == field


def test_list_filter_values_that_are_not_a_choice_are_400_naming_the_choices(api: Clients) -> None:
    for query, message in (
        (
            {"state": "bogus"},
            "'bogus' is not one of 'new', 'in_progress', 'on_hold', 'resolved', 'closed' or 'canceled'",
        ),
        (
            {"state": ["new", "bogus"]},
            "'bogus' is not one of 'new', 'in_progress', 'on_hold', 'resolved', 'closed' or 'canceled'",
        ),
        ({"priority": "9"}, "'9' is not one of 1, 2, 3, 4 or 5"),
        ({"priority": "high"}, "'high' is not one of 1, 2, 3, 4 or 5"),
    ):
        response = api.bob.get("/incidents", **query)
        assert response.status_code == 400, query
        (field,) = query
        assert error(response)["errors"] == [{"field": field, "message": message}]


def test_patch_fields(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.patch(
        f"/incidents/{incident.ref}",
        {
            "title": "Checkout 500s for EU users",
            "impact": 1,
            "urgency": 1,
            "assignee": "bob@example.com",
            "is_major": True,
            "category": "Application",
            "subcategory": "Bug",
            "description": "Started after deploy 42",
            "version": 1,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Checkout 500s for EU users"
    assert body["priority"] == 1
    assert body["assignee"]["email"] == "bob@example.com"
    assert body["is_major"] is True
    assert body["subcategory"]["name"] == "Bug"
    assert body["version"] == 2
    fields = set(
        TimelineEntry.objects.filter(incident=incident, kind="field").values_list("field", flat=True)
    )
    assert {
        "title",
        "impact",
        "urgency",
        "priority",
        "assignee",
        "is_major",
        "category",
        "subcategory",
    } <= fields
    cleared = api.bob.patch(f"/incidents/{incident.ref}", {"assignee": None, "category": None}).json()
    assert cleared["assignee"] is None
    assert cleared["category"] is None and cleared["subcategory"] is None
    services = api.bob.patch(f"/incidents/{incident.ref}", {"services": []}).json()
    assert services["services"] == []


def test_patch_nothing_changes_nothing(api: Clients, world: World) -> None:
    incident = declare(world)
    body = api.bob.patch(f"/incidents/{incident.ref}", {"title": incident.title}).json()
    assert body["version"] == 1


def test_patch_stale_version_is_409(api: Clients, world: World) -> None:
    incident = declare(world)
    assert api.bob.patch(f"/incidents/{incident.ref}", {"title": "First", "version": 1}).status_code == 200
    stale = api.alice.patch(f"/incidents/{incident.ref}", {"title": "Second", "version": 1})
    assert stale.status_code == 409
    assert error(stale)["errors"] == [
        {
            "field": "version",
            "message": f"{incident.ref} was changed by someone else meanwhile (version 2, you had 1); "
            "reload and try again",
        }
    ]
    assert Incident.objects.get(pk=incident.pk).title == "First"


def test_patch_parent_and_team(api: Clients, world: World) -> None:
    parent = declare(world, title="Parent")
    child = declare(world, title="Child")
    body = api.alice.patch(f"/incidents/{child.ref}", {"parent": parent.number}).json()
    assert body["parent"]["ref"] == parent.ref
    loop = api.alice.patch(f"/incidents/{parent.ref}", {"parent": child.ref})
    assert loop.status_code == 400
    assert error(loop)["errors"] == [
        {"field": "parent", "message": "an incident cannot be its own parent or ancestor"}
    ]
    moved = api.olivia.patch(f"/incidents/{child.ref}", {"team": "team-b"})
    assert moved.status_code == 200
    assert moved.json()["team"]["slug"] == "team-b"
    null_team = api.olivia.patch(f"/incidents/{child.ref}", {"team": None})
    assert null_team.status_code == 400
    assert error(null_team)["errors"][0]["field"] == "team"


def test_full_lifecycle_through_transitions(api: Clients, world: World) -> None:
    incident = declare(world)
    path = f"/incidents/{incident.ref}/transition"
    started = api.bob.post(path, {"to": "in_progress"}).json()
    assert started["state"] == "in_progress"
    assert started["acknowledged_at"] is not None
    held = api.bob.post(
        path, {"to": "on_hold", "hold_reason": "awaiting_vendor", "note": "Ticket 123"}
    ).json()
    assert (held["state"], held["hold_reason"], held["hold_reason_label"]) == (
        "on_hold",
        "awaiting_vendor",
        "Awaiting vendor",
    )
    assert api.bob.post(path, {"to": "in_progress"}).json()["hold_reason"] == ""
    resolved = api.bob.post(
        path, {"to": "resolved", "resolution_code": "workaround", "resolution_notes": "Restarted pods"}
    ).json()
    assert resolved["state"] == "resolved"
    assert resolved["resolution_code_label"] == "Solved (workaround)"
    assert resolved["resolved_at"] is not None
    reopened = api.bob.post(path, {"to": "in_progress", "note": "It came back"}).json()
    assert reopened["reopen_count"] == 1
    assert reopened["resolution_code"] == ""
    api.bob.post(path, {"to": "resolved", "resolution_code": "permanent_fix", "resolution_notes": "Fixed"})
    closed = api.bob.post(path, {"to": "closed", "version": 7}).json()
    assert closed["state"] == "closed"
    assert closed["allowed_transitions"] == []
    timeline = api.bob.get(f"/incidents/{incident.ref}/timeline", limit=100).json()
    messages = [e["message"] for e in timeline["items"] if e["kind"] == "state"]
    assert messages == [
        "State: New → In Progress",
        "State: In Progress → On Hold (Awaiting vendor)",
        "State: On Hold → In Progress",
        "State: In Progress → Resolved (Solved (workaround)): Restarted pods",
        "State: Resolved → In Progress (reopened)",
        "State: In Progress → Resolved (Solved (permanently)): Fixed",
        "State: Resolved → Closed",
    ]
    assert "Ticket 123" in [e["message"] for e in timeline["items"] if e["kind"] == "note"]


def test_cancel(api: Clients, world: World) -> None:
    incident = declare(world)
    body = api.alice.post(f"/incidents/{incident.ref}/transition", {"to": "canceled"}).json()
    assert body["state"] == "canceled"
    assert body["canceled_at"] is not None


def test_transition_with_stale_version_is_409(api: Clients, world: World) -> None:
    incident = declare(world)
    api.bob.patch(f"/incidents/{incident.ref}", {"title": "Changed"})
    stale = api.alice.post(f"/incidents/{incident.ref}/transition", {"to": "in_progress", "version": 1})
    assert stale.status_code == 409
    assert error(stale)["errors"][0]["field"] == "version"


def test_timeline_and_notes(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/notes", {"text": "Looking at the logs"})
    assert response.status_code == 201
    note = response.json()
    assert (note["kind"], note["kind_label"], note["message"]) == ("note", "Note", "Looking at the logs")
    assert note["actor"]["email"] == "bob@example.com"
    assert note["source"] == "api"
    assert note["at"].endswith("Z")
    timeline = api.bob.get(f"/incidents/{incident.ref}/timeline").json()
    assert [e["kind"] for e in timeline["items"]] == ["created", "note"]
    assert timeline["count"] == 2
    assert timeline["items"][0]["source"] == "system"


def test_cli_header_marks_the_source(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(
        f"/incidents/{incident.ref}/notes", {"text": "from the terminal"}, headers={"X-Warroom-Client": "cli"}
    )
    assert response.json()["source"] == "cli"
    spoof = api.bob.post(
        f"/incidents/{incident.ref}/notes", {"text": "x"}, headers={"X-Warroom-Client": "engine"}
    )
    assert spoof.json()["source"] == "api"


def test_roles(api: Clients, world: World) -> None:
    incident = declare(world)
    roles = api.bob.get("/roles").json()
    assert [r["slug"] for r in roles["items"]] == [
        "incident-commander",
        "communications-lead",
        "scribe",
        "sme",
    ]
    path = f"/incidents/{incident.ref}/roles/incident-commander"
    claimed = api.bob.put(path)
    assert claimed.status_code == 200
    assert claimed.json()["user"]["email"] == "bob@example.com"
    assert claimed.json()["name"] == "Incident Commander"
    again = api.alice.put(path, {})
    assert again.status_code == 409
    assert error(again)["detail"] == f"Incident Commander on {incident.ref} is already held by Bob Responder"
    taken = api.alice.put(path, {"user": "alice@example.com", "replace": True})
    assert taken.status_code == 200
    assert taken.json()["user"]["email"] == "alice@example.com"
    scribe = api.alice.put(f"/incidents/{incident.ref}/roles/scribe", {"user": world.bob.pk})
    assert scribe.json()["user"]["email"] == "bob@example.com"
    detail = api.bob.get(f"/incidents/{incident.ref}").json()
    assert {r["role"]: r["user"]["email"] for r in detail["roles"]} == {
        "incident-commander": "alice@example.com",
        "scribe": "bob@example.com",
    }
    assert api.alice.delete(path).status_code == 204
    empty = api.alice.delete(path)
    assert empty.status_code == 409
    assert error(empty)["detail"] == f"nobody holds Incident Commander on {incident.ref}"
    unknown = api.alice.put(f"/incidents/{incident.ref}/roles/king")
    assert unknown.status_code == 404
    assert error(unknown)["detail"].startswith("role 'king' does not exist; roles are incident-commander")


def test_tasks(api: Clients, world: World) -> None:
    incident = declare(world)
    created = api.alice.post(
        f"/incidents/{incident.ref}/tasks", {"title": "Roll back", "owner": "bob@example.com"}
    )
    assert created.status_code == 201
    task = created.json()
    assert (task["title"], task["owner"]["email"], task["done"]) == ("Roll back", "bob@example.com", False)
    path = f"/incidents/{incident.ref}/tasks/{task['id']}"
    done = api.bob.patch(path, {"done": True}).json()
    assert done["done"] is True
    assert done["done_by"]["email"] == "bob@example.com"
    renamed = api.alice.patch(path, {"title": "Roll back to v41", "owner": None, "done": False}).json()
    assert (renamed["title"], renamed["owner"], renamed["done"]) == ("Roll back to v41", None, False)
    assert [t["title"] for t in api.alice.get(f"/incidents/{incident.ref}").json()["tasks"]] == [
        "Roll back to v41"
    ]
    missing = api.alice.patch(f"/incidents/{incident.ref}/tasks/99999", {"done": True})
    assert missing.status_code == 404
    assert error(missing)["detail"] == f"task 99999 not found on {incident.ref}"
    blank = api.alice.post(f"/incidents/{incident.ref}/tasks", {"title": " "})
    assert blank.status_code == 400
    assert error(blank)["errors"] == [{"field": "title", "message": "title must not be empty"}]


def test_task_of_another_incident_is_404(api: Clients, world: World) -> None:
    first, second = declare(world), declare(world)
    task = api.alice.post(f"/incidents/{first.ref}/tasks", {"title": "T"}).json()
    assert api.alice.patch(f"/incidents/{second.ref}/tasks/{task['id']}", {"done": True}).status_code == 404


def test_watchers(api: Clients, world: World) -> None:
    incident = declare(world)
    path = f"/incidents/{incident.ref}/watchers"
    watched = api.dave.post(path)
    assert watched.status_code == 200
    assert watched.json() == {
        "incident": incident.ref,
        "user": {"id": world.dave.pk, "email": "dave@example.com", "name": "Dave Observer"},
        "watching": True,
        "changed": True,
    }
    assert api.dave.post(path).json()["changed"] is False
    assert api.alice.post(path, {"user": "bob@example.com"}).json()["changed"] is True
    emails = [w["email"] for w in api.alice.get(f"/incidents/{incident.ref}").json()["watchers"]]
    assert sorted(emails) == ["bob@example.com", "dave@example.com"]
    assert api.dave.delete(path).json() == {**watched.json(), "watching": False}
    assert api.alice.delete(path, {"user": world.bob.pk}).json()["changed"] is True
    assert api.alice.get(f"/incidents/{incident.ref}").json()["watchers"] == []


def test_related(api: Clients, world: World) -> None:
    first, second = declare(world, title="One"), declare(world, title="Two")
    linked = api.bob.post(f"/incidents/{first.ref}/related/{second.number}")
    assert linked.status_code == 200
    assert linked.json() == {
        "incident": first.ref,
        "related": [
            {"ref": second.ref, "number": second.number, "title": "Two", "state": "new", "state_label": "New"}
        ],
    }
    assert [r["ref"] for r in api.bob.get(f"/incidents/{second.ref}").json()["related"]] == [first.ref]
    self_link = api.bob.post(f"/incidents/{first.ref}/related/{first.ref}")
    assert self_link.status_code == 400
    assert error(self_link)["detail"] == "an incident cannot be related to itself"
    unlinked = api.bob.delete(f"/incidents/{second.ref}/related/{first.ref}")
    assert unlinked.json()["related"] == []
    missing = api.bob.post(f"/incidents/{first.ref}/related/INC9999999")
    assert missing.status_code == 404
    assert error(missing)["detail"] == "incident INC9999999 not found"


def test_categories(api: Clients) -> None:
    body = api.dave.get("/categories").json()
    names = [c["name"] for c in body["items"]]
    assert names[:2] == ["Application", "Infrastructure"]
    assert {s["name"] for s in body["items"][0]["subcategories"]} >= {"Bug", "Performance"}


def test_priority_matrix(api: Clients, world: World) -> None:
    matrix = api.dave.get("/priority-matrix").json()
    cells = {(c["impact"], c["urgency"]): c["priority"] for c in matrix["cells"]}
    assert cells == {
        (1, 1): 1,
        (1, 2): 2,
        (1, 3): 3,
        (2, 1): 2,
        (2, 2): 3,
        (2, 3): 4,
        (3, 1): 3,
        (3, 2): 4,
        (3, 3): 5,
    }
    assert matrix["priorities"][0] == {"value": 1, "label": "1 - Critical"}
    changed = api.olivia.put("/priority-matrix", {"impact": 2, "urgency": 2, "priority": 2})
    assert changed.status_code == 200
    assert {(c["impact"], c["urgency"]): c["priority"] for c in changed.json()["cells"]}[(2, 2)] == 2
    declared = api.bob.post("/incidents", {"title": "Uses the new matrix", "team": "team-a"}).json()
    assert declared["priority"] == 2
    refused = api.alice.put("/priority-matrix", {"impact": 2, "urgency": 2, "priority": 5})
    assert refused.status_code == 403
    assert error(refused)["detail"] == "only organisation admins edit the priority matrix"
    bad = api.olivia.put("/priority-matrix", {"impact": 2, "urgency": 2, "priority": 6})
    assert bad.status_code == 400
    assert error(bad)["errors"] == [{"field": "priority", "message": "priority must be 1 to 5"}]


def test_datetimes_are_utc_iso(api: Clients, world: World) -> None:
    with clock.frozen(datetime(2025, 3, 30, 1, 30, tzinfo=UTC) + timedelta(microseconds=123456)):
        incident = declare(world)
    body = api.bob.get(f"/incidents/{incident.ref}").json()
    assert body["opened_at"] == "2025-03-30T01:30:00.123Z"
    assert datetime.fromisoformat(body["opened_at"]).utcoffset() == timedelta(0)


def test_list_and_detail_use_a_bounded_number_of_queries(
    api: Clients, world: World, django_assert_max_num_queries: Any
) -> None:
    parent = declare(world, title="Parent")
    for n in range(12):
        child = declare(world, title=f"Incident {n}", assignee=world.bob, parent=parent)
    api.alice.get("/incidents")  # warm up: content types, token last-use write
    with django_assert_max_num_queries(8):
        page = api.alice.get("/incidents").json()
    assert page["count"] == 13
    with django_assert_max_num_queries(20):
        detail = api.alice.get(f"/incidents/{parent.ref}").json()
    assert len(detail["children"]) == 12
    assert api.alice.get(f"/incidents/{child.ref}").json()["parent"]["ref"] == parent.ref
