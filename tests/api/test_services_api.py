"""/services: list, create, read with dependencies, change."""

from __future__ import annotations

from tests.api.conftest import Clients, error
from tests.conftest import World
from warroom.catalog.models import Service


def test_list_services_is_scoped(api: Clients) -> None:
    assert [s["slug"] for s in api.bob.get("/services").json()["items"]] == ["checkout"]
    assert [s["slug"] for s in api.charlie.get("/services").json()["items"]] == ["billing"]
    everything = api.olivia.get("/services").json()
    assert [s["slug"] for s in everything["items"]] == ["billing", "checkout"]
    assert [s["slug"] for s in api.olivia.get("/services", team="team-b").json()["items"]] == ["billing"]
    other = api.charlie.get("/services", team="team-a")  # a filter naming a team charlie cannot see
    assert other.status_code == 400
    assert error(other)["errors"] == [{"field": "team", "message": "team: team 'team-a' not found"}]


def test_create_service_with_dependencies(api: Clients) -> None:
    response = api.alice.post(
        "/services",
        {
            "team": "team-a",
            "name": "Payments API",
            "tier": 1,
            "description": "Takes money",
            "runbook_url": "https://runbooks.example.com/payments",
            "depends_on": ["checkout"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "payments-api"
    assert body["tier_label"] == "Tier 1 (mission critical)"
    assert body["team"]["slug"] == "team-a"
    assert [d["slug"] for d in body["depends_on"]] == ["checkout"]
    checkout = api.alice.get("/services/checkout").json()
    assert [d["slug"] for d in checkout["dependents"]] == ["payments-api"]
    assert checkout["depends_on"] == []


def test_create_service_refusals(api: Clients) -> None:
    bob = api.bob.post("/services", {"team": "team-a", "name": "Bobs"})
    assert bob.status_code == 403
    assert error(bob)["detail"] == "only the team's admins and managers add services"
    dup = api.alice.post("/services", {"team": "team-a", "name": "Checkout"})
    assert dup.status_code == 409
    assert error(dup)["detail"] == "a service named 'Checkout' already exists"
    tier = api.alice.post("/services", {"team": "team-a", "name": "X", "tier": 9})
    assert tier.status_code == 400
    assert error(tier)["errors"] == [{"field": "tier", "message": "tier must be 1, 2, 3 or 4"}]
    url = api.alice.post("/services", {"team": "team-a", "name": "X", "dashboard_url": "ftp://x"})
    assert url.status_code == 400
    assert error(url)["errors"][0]["field"] == "dashboard_url"
    dep = api.alice.post("/services", {"team": "team-a", "name": "X", "depends_on": ["billing"]})
    assert dep.status_code == 400
    assert error(dep)["errors"] == [
        {"field": "depends_on", "message": "depends_on: service 'billing' not found"}
    ]
    team = api.alice.post("/services", {"team": "team-b", "name": "X"})
    assert team.status_code == 400
    assert error(team)["errors"] == [{"field": "team", "message": "team: team 'team-b' not found"}]
    missing = api.alice.post("/services", {"team": "team-a"})
    assert missing.status_code == 422
    assert error(missing)["errors"][0]["field"] == "name"
    wrong = api.alice.post("/services", {"team": "team-a", "name": "X", "tier": "high"})
    assert wrong.status_code == 422
    assert error(wrong)["errors"][0]["field"] == "tier"
    assert not Service.objects.filter(name="X").exists()


def test_get_service(api: Clients, world: World) -> None:
    body = api.dave.get("/services/checkout").json()
    assert body["name"] == "Checkout"
    assert body["created_at"].endswith("Z")
    assert api.dave.get(f"/services/{world.service_a.pk}").json()["slug"] == "checkout"
    missing = api.dave.get("/services/nope")
    assert missing.status_code == 404
    assert error(missing) == {"detail": "service 'nope' not found", "code": "not_found", "errors": []}


def test_patch_service(api: Clients) -> None:
    api.alice.post("/services", {"team": "team-a", "name": "Search"})
    response = api.alice.patch("/services/checkout", {"description": "Buy things", "depends_on": ["search"]})
    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "Buy things"
    assert [d["slug"] for d in body["depends_on"]] == ["search"]
    # A cycle is refused, naming the field.
    cycle = api.alice.patch("/services/search", {"depends_on": ["checkout"]})
    assert cycle.status_code == 400
    assert error(cycle)["errors"] == [
        {"field": "depends_on", "message": "that dependency would make a cycle"}
    ]
    renamed = api.alice.patch("/services/checkout", {"name": "Checkout Web"}).json()
    assert renamed["slug"] == "checkout-web"
    cleared = api.alice.patch("/services/checkout-web", {"depends_on": []}).json()
    assert cleared["depends_on"] == []


def test_patch_service_refusals(api: Clients) -> None:
    assert api.bob.patch("/services/checkout", {"description": "x"}).status_code == 403
    assert api.dave.patch("/services/checkout", {"description": "x"}).status_code == 403
    null_team = api.alice.patch("/services/checkout", {"team": None})
    assert null_team.status_code == 400
    assert error(null_team)["errors"][0]["field"] == "team"
    blank = api.alice.patch("/services/checkout", {"name": ""})
    assert blank.status_code == 400
    assert error(blank)["detail"] == "a service name is 1 to 100 characters"


def test_move_service_to_another_team(api: Clients) -> None:
    refused = api.alice.patch("/services/checkout", {"team": "team-b"})
    assert refused.status_code == 400  # alice cannot even see team B
    moved = api.olivia.patch("/services/checkout", {"team": "team-b"})
    assert moved.status_code == 200
    assert moved.json()["team"]["slug"] == "team-b"
    assert api.alice.get("/services/checkout").status_code == 404


def test_service_cannot_depend_on_itself(api: Clients) -> None:
    response = api.alice.patch("/services/checkout", {"depends_on": ["checkout"]})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {"field": "depends_on", "message": "a service cannot depend on itself"}
    ]
