"""The catalog's edges an operator meets: dependencies on other teams' services, names that make the same
slug, names made of digits, and a dependency named twice."""

from __future__ import annotations

from django.test import Client

from tests.api.conftest import Clients, error
from tests.conftest import World
from warroom.accounts.models import Team
from warroom.catalog import services as catalog
from warroom.catalog.models import Service


def depends_on(service: Service) -> list[str]:
    return sorted(service.dependencies.values_list("slug", flat=True))


def test_replacing_dependencies_through_the_api_keeps_the_ones_on_other_teams_services(
    api: Clients, world: World
) -> None:
    # An org admin recorded that Checkout (team A) needs Billing (team B); alice cannot see Billing.
    catalog.create_service(team=world.team_a, name="Search", actor=None, source="system")
    catalog.update_service(
        service=world.service_a, dependencies=[world.service_b], actor=world.olivia, source="system"
    )
    assert api.alice.get("/services/checkout").json()["depends_on"] == []

    response = api.alice.patch("/services/checkout", {"depends_on": ["search"]})

    assert response.status_code == 200, response.content
    assert [d["slug"] for d in response.json()["depends_on"]] == ["search"]
    assert depends_on(Service.objects.get(pk=world.service_a.pk)) == ["billing", "search"]
    # An empty list clears what alice sees, and only that.
    assert api.alice.patch("/services/checkout", {"depends_on": []}).status_code == 200
    assert depends_on(Service.objects.get(pk=world.service_a.pk)) == ["billing"]


def test_a_dependency_named_twice_is_one_dependency(api: Clients, world: World) -> None:
    catalog.create_service(team=world.team_a, name="Search", actor=None, source="system")
    created = api.alice.post(
        "/services", {"team": "team-a", "name": "Cart", "depends_on": ["search", "search"]}
    )
    assert created.status_code == 201, created.content
    assert [d["slug"] for d in created.json()["depends_on"]] == ["search"]
    patched = api.alice.patch("/services/checkout", {"depends_on": ["search", "search"]})
    assert patched.status_code == 200, patched.content
    assert [d["slug"] for d in patched.json()["depends_on"]] == ["search"]


def test_names_that_make_the_same_slug_get_two_slugs(api: Clients, world: World) -> None:
    created = api.alice.post("/services", {"team": "team-a", "name": "Checkout!"})
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "checkout-2"
    assert api.alice.get("/services/checkout-2").json()["name"] == "Checkout!"
    renamed = api.charlie.patch("/services/billing", {"name": "Checkout?"})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["slug"] == "checkout-3"
    # Keeping one's own slug is no clash.
    assert api.alice.patch("/services/checkout", {"name": "CHECKOUT"}).json()["slug"] == "checkout"


def test_a_name_in_another_case_is_the_same_name(api: Clients, world: World) -> None:
    response = api.alice.post("/services", {"team": "team-a", "name": "checkout"})
    assert response.status_code == 409
    assert error(response)["errors"] == [
        {"field": "name", "message": "a service named 'checkout' already exists"}
    ]
    assert api.charlie.patch("/services/billing", {"name": "CheckOut"}).status_code == 409


def test_a_service_named_with_digits_has_a_page(api: Clients, world: World, client_for: object) -> None:
    created = api.alice.post("/services", {"team": "team-a", "name": "2024"})
    assert created.status_code == 201, created.content
    slug = created.json()["slug"]
    assert slug == "service-2024"
    assert api.alice.get(f"/services/{slug}").json()["name"] == "2024"
    alice: Client = client_for(world.alice)  # type: ignore[operator]
    assert alice.get(f"/services/{slug}/").status_code == 200


def test_a_digit_slug_made_before_still_resolves(api: Clients, world: World) -> None:
    old = Service.objects.create(team=world.team_a, name="Legacy 7", slug="7")
    assert api.alice.get("/services/7").json()["id"] == old.pk
    assert api.charlie.get("/services/7").status_code == 404


def test_team_names_that_make_the_same_slug(api: Clients) -> None:
    first = api.olivia.post("/teams", {"name": "Platform"})
    second = api.olivia.post("/teams", {"name": "Platform!"})
    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert second.json()["slug"] == "platform-2"
    assert api.olivia.post("/teams", {"name": "!!!"}).json()["slug"] == "team"
    assert api.olivia.post("/teams", {"name": "???"}).json()["slug"] == "team-2"
    same = api.olivia.post("/teams", {"name": "PLATFORM"})
    assert same.status_code == 409
    assert error(same)["detail"] == "a team named 'PLATFORM' already exists"
    assert Team.objects.filter(name__iexact="platform").count() == 1


def test_a_team_description_is_capped_as_on_the_console(api: Clients) -> None:
    response = api.olivia.post("/teams", {"name": "Big", "description": "x" * 2001})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {"field": "description", "message": "a team's description is at most 2000 characters (got 2001)"}
    ]
    assert not Team.objects.filter(name="Big").exists()
