"""Workflows through the REST API (docs/api.md#workflows): a team's admins and managers write them, its members
read them, another team's are a 404, and bad input is refused naming the field, with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.automation import runner
from warroom.automation.models import Workflow
from warroom.lib import clock

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def body(world: World, **changes: Any) -> dict[str, Any]:
    """A P1 playbook for team A, as its editor would send it."""
    data: dict[str, Any] = {
        "team": "team-a",
        "name": "P1 playbook",
        "trigger": "declared",
        "priorities": [1],
        "services": [world.service_a.pk],
        "tasks": ["Open a bridge call", "Tell customer support"],
        "roles": {"incident-commander": world.alice.pk},
        "notify_users": [world.bob.pk],
        "notify_urgency": "high",
        "message": "A P1 is open on Checkout: join the bridge.",
    }
    data.update(changes)
    return data


def create(api: Clients, world: World, **changes: Any) -> dict[str, Any]:
    response = api.alice.post("/workflows", body(world, **changes))
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def test_a_team_admin_creates_reads_replaces_and_deletes_a_workflow(api: Clients, world: World) -> None:
    created = create(api, world)
    assert created.pop("created_at") == created.pop("updated_at")
    workflow_id = created.pop("id")
    assert created == {
        "team": {"id": world.team_a.pk, "slug": "team-a", "name": "Team A"},
        "name": "P1 playbook",
        "enabled": True,
        "trigger": "declared",
        "priorities": [1],
        "services": [{"id": world.service_a.pk, "name": "Checkout"}],
        "tasks": ["Open a bridge call", "Tell customer support"],
        "roles": {"incident-commander": world.alice.pk},
        "role_holders": {
            "incident-commander": {"id": world.alice.pk, "email": "alice@example.com", "name": "Alice Admin"}
        },
        "notify_users": [{"id": world.bob.pk, "email": "bob@example.com", "name": "Bob Responder"}],
        "notify_urgency": "high",
        "message": "A P1 is open on Checkout: join the bridge.",
        "webhook_url": "",
        "webhook_secret": None,
        "last_test_call": None,
        "can_change": True,
    }

    read = api.alice.get(f"/workflows/{workflow_id}")
    assert read.status_code == 200 and read.json()["name"] == "P1 playbook"
    listed = api.alice.get("/workflows").json()
    assert (listed["count"], [w["id"] for w in listed["items"]]) == (1, [workflow_id])
    assert listed["items"][0]["role_holders"]["incident-commander"]["name"] == "Alice Admin"

    # PUT replaces the whole workflow: what is left out takes its default
    replaced = api.alice.put(
        f"/workflows/{workflow_id}",
        {
            "name": "Resolved: thank support",
            "trigger": "resolved",
            "enabled": False,
            "tasks": ["Thank support"],
        },
    )
    assert replaced.status_code == 200, replaced.content
    after = replaced.json()
    assert {k: after[k] for k in ("name", "trigger", "enabled", "priorities", "services", "tasks")} == {
        "name": "Resolved: thank support",
        "trigger": "resolved",
        "enabled": False,
        "priorities": [],
        "services": [],
        "tasks": ["Thank support"],
    }
    assert (after["roles"], after["notify_users"], after["message"]) == ({}, [], "")
    assert after["team"]["slug"] == "team-a" and after["updated_at"] > after["created_at"]
    assert api.alice.get(f"/workflows/{workflow_id}").json() == after

    deleted = api.alice.delete(f"/workflows/{workflow_id}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert api.alice.get(f"/workflows/{workflow_id}").status_code == 404
    assert api.alice.get("/workflows").json()["count"] == 0

    audit = api.alice.get("/audit", action="workflow.").json()["items"]
    assert [(row["action"], row["source"]) for row in audit] == [
        ("workflow.delete", "api"),
        ("workflow.update", "api"),
        ("workflow.create", "api"),
    ]


def test_the_cli_header_is_recorded_as_the_source(api: Clients, world: World) -> None:
    response = api.alice.post("/workflows", body(world), headers={"X-Warroom-Client": "cli"})
    assert response.status_code == 201
    assert [row["source"] for row in api.alice.get("/audit", action="workflow.").json()["items"]] == ["cli"]


def test_a_responder_reads_workflows_but_may_not_change_them(api: Clients, world: World) -> None:
    workflow_id = create(api, world)["id"]
    read = api.bob.get(f"/workflows/{workflow_id}")
    assert read.status_code == 200 and read.json()["can_change"] is False
    assert [w["can_change"] for w in api.bob.get("/workflows").json()["items"]] == [False]
    assert api.dave.get(f"/workflows/{workflow_id}").status_code == 200  # an observer reads them too

    refusals = [
        api.bob.post("/workflows", body(world, name="Another")),
        api.bob.put(f"/workflows/{workflow_id}", {"name": "Mine now", "trigger": "declared", "tasks": ["x"]}),
        api.bob.delete(f"/workflows/{workflow_id}"),
        api.bob.put(f"/workflows/{workflow_id}", {"name": "x", "trigger": "declared", "services": [10**30]}),
    ]
    for response in refusals:
        assert response.status_code == 403, response.content
        assert error(response)["code"] == "forbidden"
        assert error(response)["detail"] == "only the admins and managers of Team A change its workflows"
    assert list(Workflow.objects.values_list("name", flat=True)) == ["P1 playbook"]


def test_another_teams_workflow_is_not_found_and_its_team_not_a_filter(api: Clients, world: World) -> None:
    workflow_id = create(api, world)["id"]
    for response in (
        api.charlie.get(f"/workflows/{workflow_id}"),
        api.charlie.get(f"/workflows/{workflow_id}/runs"),
        api.charlie.put(
            f"/workflows/{workflow_id}", {"name": "Taken", "trigger": "declared", "tasks": ["x"]}
        ),
        api.charlie.delete(f"/workflows/{workflow_id}"),
    ):
        assert response.status_code == 404, response.content
        assert error(response)["detail"] == f"workflow {workflow_id} not found"
    assert api.charlie.get("/workflows").json()["count"] == 0

    for team in ("team-a", "nope"):  # another team's and no team at all: the same 400
        response = api.charlie.get("/workflows", team=team)
        assert response.status_code == 400
        assert error(response)["errors"] == [{"field": "team", "message": f"team: team '{team}' not found"}]
    response = api.charlie.post("/workflows", body(world, services=[], roles={}, notify_users=[]))
    assert response.status_code == 400
    assert error(response)["errors"] == [{"field": "team", "message": "team: team 'team-a' not found"}]
    assert Workflow.objects.get().name == "P1 playbook"


def test_the_team_filter_and_an_organisation_admin(api: Clients, world: World) -> None:
    a = create(api, world)
    b = api.charlie.post(
        "/workflows", {"team": "team-b", "name": "Billing P1", "trigger": "major", "tasks": ["Call finance"]}
    )
    assert b.status_code == 201, b.content
    everything = api.olivia.get("/workflows").json()
    assert [(w["team"]["slug"], w["name"], w["can_change"]) for w in everything["items"]] == [
        ("team-a", "P1 playbook", True),
        ("team-b", "Billing P1", True),
    ]
    only_b = api.olivia.get("/workflows", team="team-b").json()
    assert [w["id"] for w in only_b["items"]] == [b.json()["id"]]
    by_id = api.alice.get("/workflows", team=str(world.team_a.pk)).json()
    assert [w["id"] for w in by_id["items"]] == [a["id"]]
    page = api.olivia.get("/workflows", limit=1, offset=1).json()
    assert (page["count"], page["limit"], page["offset"], [w["name"] for w in page["items"]]) == (
        2,
        1,
        1,
        ["Billing P1"],
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"trigger": "created"},
            "trigger",
            "trigger must be one of declared, acknowledged, priority, major, resolved, closed",
        ),
        ({"priorities": [1, 9]}, "priorities", "priorities are 1 to 5"),
        ({"name": "  "}, "name", "a workflow needs a name"),
        ({"name": "x" * 101}, "name", "a workflow's name is at most 100 characters"),
        ({"roles": {"captain": 0}}, "roles", None),
        ({"notify_urgency": "urgent"}, "notify_urgency", "notify_urgency must be high or low"),
        ({"message": ""}, "message", "say what to tell the people notified (message)"),
        (
            {"tasks": [], "roles": {}, "notify_users": [], "message": ""},
            "tasks",
            "a workflow needs something to do: tasks, roles, people to notify, a message or a webhook",
        ),
    ],
)
def test_bad_values_are_400_naming_the_field(
    api: Clients, world: World, changes: dict[str, Any], field: str, message: str | None
) -> None:
    response = api.alice.post("/workflows", body(world, **changes))
    assert response.status_code == 400, response.content
    errors = error(response)["errors"]
    assert [e["field"] for e in errors] == [field]
    if message is not None:
        assert errors[0]["message"] == message
    else:
        assert errors[0]["message"].startswith("roles: captain is not a role (one of ")
        assert "incident-commander" in errors[0]["message"]
    assert not Workflow.objects.exists()


def test_references_to_another_team_are_400_naming_the_field(api: Clients, world: World) -> None:
    charlie, billing = world.charlie.pk, world.service_b.pk
    cases = [
        ({"services": [billing]}, "services", f"services: {billing} is not a service of Team A"),
        (
            {"notify_users": [charlie]},
            "notify_users",
            f"notify_users: {charlie} is not an active member of Team A",
        ),
        (
            {"roles": {"incident-commander": charlie}},
            "roles",
            f"roles: {charlie} is not an active member of Team A",
        ),
        ({"services": [999999]}, "services", "services: 999999 is not a service of Team A"),
    ]
    for changes, field, message in cases:
        response = api.alice.post("/workflows", body(world, **changes))
        assert response.status_code == 400, response.content
        assert error(response)["errors"] == [{"field": field, "message": message}]
    assert not Workflow.objects.exists()


@pytest.mark.parametrize("field", ["services", "notify_users"])
@pytest.mark.parametrize("number", [10**19, 10**40, -1])
def test_ids_no_database_holds_are_400_not_500(api: Clients, world: World, field: str, number: int) -> None:
    response = api.alice.post("/workflows", body(world, **{field: [number]}))
    assert response.status_code == 400, response.content
    assert [e["field"] for e in error(response)["errors"]] == [field]
    assert str(number) in error(response)["detail"]


def test_a_role_holder_id_no_database_holds_is_400(api: Clients, world: World) -> None:
    response = api.alice.post("/workflows", body(world, roles={"incident-commander": 10**30}))
    assert response.status_code == 400, response.content
    assert [e["field"] for e in error(response)["errors"]] == ["roles"]


def test_a_taken_name_is_a_conflict(api: Clients, world: World) -> None:
    first = create(api, world)
    again = api.alice.post("/workflows", body(world, trigger="major"))
    assert again.status_code == 409
    assert error(again)["errors"] == [
        {"field": "name", "message": "Team A already has a workflow named 'P1 playbook'"}
    ]
    other = create(api, world, name="Major playbook", trigger="major")
    clash = {key: value for key, value in body(world).items() if key != "team"}
    renamed = api.alice.put(f"/workflows/{other['id']}", clash)
    assert renamed.status_code == 409 and error(renamed)["errors"][0]["field"] == "name"
    assert sorted(Workflow.objects.values_list("name", flat=True)) == ["Major playbook", first["name"]]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": 5}, "name", "Input should be a valid string"),
        ({"trigger": 1}, "trigger", "Input should be a valid string"),
        ({"tasks": ["Open a bridge call", 7]}, "tasks.1", "Input should be a valid string"),
        ({"message": 3.5}, "message", "Input should be a valid string"),
        ({"team": ["team-a"]}, "team", None),
        ({"priorities": [True]}, "priorities", "a number is expected here, not true or false"),
        ({"services": [True]}, "services", "a number is expected here, not true or false"),
        ({"roles": {"incident-commander": True}}, "roles", "a number is expected here, not true or false"),
        ({"enabled": "yes"}, "enabled", "true or false is expected here"),
        (
            {"priority": [1]},
            "priority",
            "unknown field: this endpoint does not take it (/api/v1/docs lists those it takes)",
        ),
    ],
)
def test_wrong_types_are_422_naming_the_field(
    api: Clients, world: World, changes: dict[str, Any], field: str, message: str | None
) -> None:
    response = api.alice.post("/workflows", body(world, **changes))
    assert response.status_code == 422, response.content
    fields = [e["field"] for e in error(response)["errors"]]
    assert fields and all(f == field or f.startswith(field + ".") for f in fields), fields
    if message is not None:
        assert error(response)["errors"][0]["message"] == message
    assert not Workflow.objects.exists()


def test_a_replacement_takes_no_team_and_needs_a_name_and_a_trigger(api: Clients, world: World) -> None:
    workflow_id = create(api, world)["id"]
    moved = api.alice.put(f"/workflows/{workflow_id}", body(world, team="team-b"))
    assert moved.status_code == 422
    assert error(moved)["errors"][0]["field"] == "team"
    assert "unknown field" in error(moved)["errors"][0]["message"]
    response = api.alice.put(f"/workflows/{workflow_id}", {"tasks": ["x"]})
    assert response.status_code == 422
    assert sorted(e["field"] for e in error(response)["errors"]) == ["name", "trigger"]
    assert api.alice.get(f"/workflows/{workflow_id}").json()["tasks"] == [
        "Open a bridge call",
        "Tell customer support",
    ]


def test_runs_show_what_was_done_on_the_incidents_the_reader_may_see(api: Clients, world: World) -> None:
    with clock.frozen(T0):
        workflow_id = create(api, world, notify_users=[], message="", services=[], priorities=[])["id"]
        runner.run(clock.now())  # the runner's first pass starts its clock
        public = declare(world, title="Checkout returns 500")
        private = declare(world, title="Card data exposed", is_private=True)
        clock.advance(timedelta(seconds=5))
        assert runner.run(clock.now()) == 2

    mine = api.alice.get(f"/workflows/{workflow_id}/runs").json()
    assert mine["count"] == 2
    newest = mine["items"][0]
    assert newest["incident"]["ref"] == private.ref and newest["at"].startswith("2026-03-02T09:00:00")
    assert newest["done"] == [
        "task “Open a bridge call”",
        "task “Tell customer support”",
        "Incident Commander → Alice Admin",
    ]
    assert newest["failed"] == []
    # bob (a responder, not a participant) does not see the private incident, nor its run
    bobs = api.bob.get(f"/workflows/{workflow_id}/runs").json()
    assert (bobs["count"], [r["incident"]["ref"] for r in bobs["items"]]) == (1, [public.ref])
    assert bobs["items"][0]["incident"]["title"] == "Checkout returns 500"
    paged = api.alice.get(f"/workflows/{workflow_id}/runs", limit=1, offset=1).json()
    assert [r["incident"]["ref"] for r in paged["items"]] == [public.ref]


def test_the_openapi_document_describes_the_workflow_routes(api: Clients) -> None:
    document = api.bob.get("/openapi.json").json()
    paths = document["paths"]
    assert set(paths["/api/v1/workflows"]) == {"get", "post"}
    assert set(paths["/api/v1/workflows/{workflow_id}"]) == {"get", "put", "delete"}
    assert set(paths["/api/v1/workflows/{workflow_id}/runs"]) == {"get"}
    assert paths["/api/v1/workflows"]["get"]["tags"] == ["automation"]
    schemas = document["components"]["schemas"]
    assert schemas["WorkflowIn"]["additionalProperties"] is False
    assert "team" not in schemas["WorkflowUpdateIn"]["properties"]
    assert set(schemas["WorkflowOut"]["properties"]) >= {"can_change", "notify_users", "roles"}
    for status in ("400", "403", "404", "409", "422"):
        assert status in paths["/api/v1/workflows/{workflow_id}"]["put"]["responses"]


@pytest.mark.parametrize("key", ["9" * 30, "99999999999999999999", "-1", "\u00b9", "nope"])
@pytest.mark.parametrize("suffix", ["", "/runs"])
def test_a_path_naming_no_workflow_is_a_4xx_not_a_500(
    api: Clients, world: World, key: str, suffix: str
) -> None:
    response = api.alice.get(f"/workflows/{key}{suffix}")
    assert response.status_code in (404, 422), (response.status_code, response.content[:300])
    assert error(response)["detail"]


HOOK = "https://hooks.example.com/warroom/T0K3N"


def stored_secret(workflow_id: int) -> str:
    return str(Workflow.objects.get(pk=workflow_id).webhook_secret.get("signing_secret", ""))


def test_a_webhooks_signing_secret_is_shown_once_and_kept_until_replaced(api: Clients, world: World) -> None:
    created = create(api, world, webhook_url=HOOK)
    workflow_id, made = created["id"], created["webhook_secret"]
    assert made.startswith("whsec_") and stored_secret(workflow_id) == made
    assert created["webhook_url"] == HOOK
    # never again: not to its managers, not in the list; the others see only where it goes
    mine = api.alice.get(f"/workflows/{workflow_id}").json()
    assert (mine["webhook_url"], mine["webhook_secret"]) == (HOOK, None)
    assert api.alice.get("/workflows").json()["items"][0]["webhook_secret"] is None
    theirs = api.bob.get(f"/workflows/{workflow_id}").json()
    assert (theirs["webhook_url"], theirs["webhook_secret"]) == ("https://hooks.example.com/…", None)

    def put(**changes: Any) -> dict[str, Any]:
        data = body(world, **changes)
        del data["team"]
        response = api.alice.put(f"/workflows/{workflow_id}", data)
        assert response.status_code == 200, response.content
        answer: dict[str, Any] = response.json()
        return answer

    # replaced without a secret: the webhook keeps its own, even at a new URL
    moved = put(webhook_url=HOOK + "/v2")
    assert (moved["webhook_url"], moved["webhook_secret"], stored_secret(workflow_id)) == (
        HOOK + "/v2",
        None,
        made,
    )
    # a secret of one's own replaces it, and is not echoed
    own = "my-own-signing-secret-0123"
    assert put(webhook_url=HOOK, webhook_secret=own)["webhook_secret"] is None
    assert stored_secret(workflow_id) == own
    # left out: no webhook, and its secret goes with it
    assert put()["webhook_url"] == "" and Workflow.objects.get(pk=workflow_id).webhook_secret == {}
    # a webhook again: a new secret, shown this once
    again = put(webhook_url=HOOK)["webhook_secret"]
    assert again.startswith("whsec_") and again not in (made, own) and stored_secret(workflow_id) == again

    audit = api.alice.get("/audit", action="workflow.").json()["items"]
    assert not any(secret in str(row) for row in audit for secret in (made, own, again))
    assert [row["after"].get("webhook_secret") for row in audit if row["action"] == "workflow.update"] == [
        "changed",
        None,
        "changed",
        None,
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"webhook_url": "http://hooks.example.com/x"},
            "webhook_url",
            "a webhook URL must start with https://",
        ),
        ({"webhook_url": "hooks.example.com/x"}, "webhook_url", "a webhook URL must start with https://"),
        ({"webhook_url": "https://10.1.2.3/hook"}, "webhook_url", "webhook URL refused: "),
        ({"webhook_url": "https://user:pw@hooks.example.com/x"}, "webhook_url", "webhook URL refused: "),
        ({"webhook_url": HOOK + "x" * 500}, "webhook_url", "a webhook URL is at most 500 characters"),
        (
            {"webhook_url": HOOK, "webhook_secret": "short"},
            "webhook_secret",
            "a signing secret is 16 to 200 characters; leave it out to have one made",
        ),
        (
            {"webhook_secret": "a-secret-without-a-url"},
            "webhook_secret",
            "a signing secret needs a webhook URL",
        ),
    ],
)
def test_a_webhook_that_cannot_be_called_is_400_naming_the_field(
    api: Clients, world: World, changes: dict[str, Any], field: str, message: str
) -> None:
    response = api.alice.post("/workflows", body(world, **changes))
    assert response.status_code == 400, response.content
    [found] = error(response)["errors"]
    assert found["field"] == field and found["message"].startswith(message), found
    assert not Workflow.objects.exists()


def test_a_run_shows_how_its_webhook_call_went(api: Clients, world: World) -> None:
    with clock.frozen(T0):
        workflow_id = create(api, world, webhook_url=HOOK, priorities=[])["id"]
        runner.run(clock.now())  # the runner's first pass starts its clock
        incident = declare(world)
        clock.advance(timedelta(seconds=5))
        assert runner.run(clock.now()) == 1
    [run] = api.alice.get(f"/workflows/{workflow_id}/runs").json()["items"]
    assert run["incident"]["ref"] == incident.ref
    assert "webhook to https://hooks.example.com/… queued" in run["done"]
    webhook = run["webhook"]
    assert (webhook["status"], webhook["attempts"], webhook["last_error"]) == ("pending", 0, "")
    assert webhook["delivery_id"].startswith("wrd_")


def test_a_test_call_is_queued_and_shown_as_the_workflows_last(api: Clients, world: World) -> None:
    plain = create(api, world)["id"]
    refused = api.alice.post(f"/workflows/{plain}/webhook/test")
    assert refused.status_code == 400
    assert error(refused)["errors"] == [
        {"field": "webhook_url", "message": "the workflow has no webhook to test"}
    ]

    workflow_id = create(api, world, name="Ticket bot", webhook_url=HOOK)["id"]
    assert api.alice.get(f"/workflows/{workflow_id}").json()["last_test_call"] is None
    assert api.bob.post(f"/workflows/{workflow_id}/webhook/test").status_code == 403
    queued = api.alice.post(f"/workflows/{workflow_id}/webhook/test")
    assert queued.status_code == 202, queued.content
    call = queued.json()
    assert (call["status"], call["attempts"], call["last_error"]) == ("pending", 0, "")
    assert api.bob.get(f"/workflows/{workflow_id}").json()["last_test_call"] == call
    [row] = api.alice.get("/audit", action="workflow.webhook_test").json()["items"]
    assert (row["source"], row["object_id"]) == ("api", str(workflow_id))
