"""Editing the service catalog and creating teams from the console.

alice (admin of Team A) adds and edits Team A's services; refused input (a dependency cycle, a bad URL, a
duplicate name) comes back as a message next to the field with a 4xx and nothing written; bob (responder) and
dave (observer) see no edit controls and a POST from them is the 403 page; charlie (Team B) gets a 404 on Team
A's service; only organisation admins (olivia) create teams.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.web.conftest import ClientFor
from warroom.accounts.models import Team
from warroom.audit.models import AuditEvent
from warroom.catalog import services as catalog
from warroom.catalog.models import Service, ServiceDependency

NEW_SERVICE = reverse("web:service-list")
NEW_TEAM = reverse("web:team-list")


def _edit_url(service: Service) -> str:
    return reverse("web:service-edit", args=[service.slug])


def _detail(client: Client, service: Service) -> str:
    response = client.get(reverse("web:service-detail", args=[service.slug]))
    assert response.status_code == 200
    return response.content.decode()


def _service_data(service: Service, **changes: Any) -> dict[str, Any]:
    """The edit form as the page fills it in, with ``changes``."""
    data: dict[str, Any] = {
        "name": service.name,
        "team": service.team_id,
        "tier": service.tier,
        "description": service.description,
        "runbook_url": service.runbook_url,
        "dashboard_url": service.dashboard_url,
        "repository_url": service.repository_url,
        "dependencies": [d.pk for d in service.dependencies.all()],
    }
    data.update(changes)
    return data


def _field_errors(page: str, name: str) -> list[str]:
    """The error messages shown inside the form field that holds the input named ``name``."""
    for chunk in page.split('<div class="field')[1:]:
        if f'name="{name}"' in chunk:
            return [html.unescape(e) for e in re.findall(r'<p class="error" role="alert">(.*?)</p>', chunk)]
    raise AssertionError(f"no field {name!r} on the page")


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def _snapshot() -> tuple[Any, ...]:
    """Everything a catalog write would touch."""
    return (
        list(Service.objects.order_by("pk").values()),
        list(ServiceDependency.objects.order_by("pk").values_list("service_id", "depends_on_id")),
        AuditEvent.objects.exclude(action__startswith="user.sign_").count(),  # signing in is audited
    )


# --------------------------------------------------------------------------------------------------- create


@pytest.mark.django_db
def test_alice_creates_a_service_with_a_dependency(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    page = alice.get(NEW_SERVICE).content.decode()
    assert "+ New service" in page and f'action="{NEW_SERVICE}"' in page
    response = alice.post(
        NEW_SERVICE,
        {
            "name": "Payments API",
            "team": world.team_a.pk,
            "tier": 2,
            "description": "Takes **card** payments.",
            "runbook_url": "https://wiki.example.com/runbooks/payments",
            "dashboard_url": "",
            "repository_url": "https://git.example.com/payments",
            "dependencies": [world.service_a.pk],
        },
    )
    service = Service.objects.get(name="Payments API")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:service-detail", args=[service.slug])
    assert (service.team, service.tier, list(service.dependencies.all())) == (
        world.team_a,
        2,
        [world.service_a],
    )
    assert AuditEvent.objects.filter(action="service.create", source="web", actor=world.alice).count() == 1

    page = _detail(alice, service)
    assert "is in the catalog" in page
    assert "<strong>card</strong>" in page  # the description goes through the markdown filter
    assert 'href="https://wiki.example.com/runbooks/payments"' in page
    assert "Checkout" in _section(page, "depends-on")
    assert "Payments API" in _section(_detail(alice, world.service_a), "depended-on-by")


@pytest.mark.django_db
def test_create_offers_only_managed_teams_and_visible_services(client_for: ClientFor, world: World) -> None:
    page = client_for(world.alice).get(NEW_SERVICE).content.decode()
    assert "Team A" in page and "Team B" not in page and "Billing" not in page
    # charlie cannot put a service into Team A: it is not one of his choices
    charlie = client_for(world.charlie)
    before = _snapshot()
    response = charlie.post(NEW_SERVICE, {"name": "Sneaky", "team": world.team_a.pk, "tier": 3})
    assert response.status_code == 400
    assert _field_errors(response.content.decode(), "team")
    assert _snapshot() == before


@pytest.mark.django_db
def test_create_refusals_are_shown_next_to_the_field(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    before = _snapshot()
    base = {"team": world.team_a.pk, "tier": 3}

    response = alice.post(NEW_SERVICE, {**base, "name": "Checkout"})
    assert response.status_code == 409
    page = response.content.decode()
    assert _field_errors(page, "name") == ["a service named 'Checkout' already exists"]
    assert 'id="new-service" open' in page  # the form stays open with what was typed

    response = alice.post(NEW_SERVICE, {**base, "name": "Search", "dashboard_url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert _field_errors(response.content.decode(), "dashboard_url") == [
        "'javascript:alert(1)' is not an http(s) URL"
    ]

    response = alice.post(NEW_SERVICE, {**base, "name": "", "tier": 9})
    assert response.status_code == 400
    page = response.content.decode()
    assert _field_errors(page, "name") and _field_errors(page, "tier")
    assert _snapshot() == before


# --------------------------------------------------------------------------------------------------- edit


@pytest.mark.django_db
def test_alice_edits_a_service(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    page = _detail(alice, world.service_a)
    assert "Edit service" in page and f'action="{_edit_url(world.service_a)}"' in page
    form = _section(page, "edit-service")
    assert 'name="dependencies"' not in form  # Team A has no other service: nothing to depend on
    catalog.create_service(team=world.team_a, name="Frontend", actor=None, source="system")
    form = _section(_detail(alice, world.service_a), "edit-service")
    assert 'name="dependencies"' in form and "Frontend" in form
    assert f'name="dependencies" value="{world.service_a.pk}"' not in form  # never its own dependency
    response = alice.post(
        _edit_url(world.service_a),
        _service_data(
            world.service_a,
            name="Checkout Web",
            tier=2,
            description="The *web* checkout.",
            dashboard_url="https://grafana.example.com/d/checkout",
        ),
    )
    service = Service.objects.get(pk=world.service_a.pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:service-detail", args=["checkout-web"])
    assert (service.name, service.slug, service.tier) == ("Checkout Web", "checkout-web", 2)
    assert service.dashboard_url == "https://grafana.example.com/d/checkout"
    event = AuditEvent.objects.get(action="service.update")
    assert (event.source, event.actor, event.before["name"], event.after["name"]) == (
        "web",
        world.alice,
        "Checkout",
        "Checkout Web",
    )
    page = _detail(alice, service)
    assert "Checkout Web saved." in page and "<em>web</em>" in page


@pytest.mark.django_db
def test_a_dependency_cycle_is_refused_next_to_the_field(client_for: ClientFor, world: World) -> None:
    frontend = catalog.create_service(
        team=world.team_a, name="Frontend", dependencies=[world.service_a], actor=None, source="system"
    )
    before = _snapshot()
    response = client_for(world.alice).post(
        _edit_url(world.service_a), _service_data(world.service_a, name="Renamed", dependencies=[frontend.pk])
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert _field_errors(page, "dependencies") == ["that dependency would make a cycle"]
    assert 'id="edit-service" open' in page
    assert _snapshot() == before


@pytest.mark.django_db
def test_a_bad_url_is_refused_next_to_the_field(client_for: ClientFor, world: World) -> None:
    before = _snapshot()
    response = client_for(world.alice).post(
        _edit_url(world.service_a), _service_data(world.service_a, tier=4, runbook_url="ftp://example.com/rb")
    )
    assert response.status_code == 400
    assert _field_errors(response.content.decode(), "runbook_url") == [
        "'ftp://example.com/rb' is not an http(s) URL"
    ]
    assert _snapshot() == before


@pytest.mark.django_db
def test_a_duplicate_name_on_edit_is_a_conflict(client_for: ClientFor, world: World) -> None:
    catalog.create_service(team=world.team_a, name="Search", actor=None, source="system")
    before = _snapshot()
    response = client_for(world.alice).post(
        _edit_url(world.service_a), _service_data(world.service_a, name="Search")
    )
    assert response.status_code == 409
    assert _field_errors(response.content.decode(), "name") == ["a service named 'Search' already exists"]
    assert _snapshot() == before


@pytest.mark.django_db
def test_dependencies_alice_cannot_see_are_kept(client_for: ClientFor, world: World) -> None:
    catalog.update_service(
        service=world.service_a, dependencies=[world.service_b], actor=None, source="system"
    )
    page = _detail(client_for(world.alice), world.service_a)
    assert "Billing" not in page
    response = client_for(world.alice).post(
        _edit_url(world.service_a), _service_data(world.service_a, dependencies=[], tier=2)
    )
    assert response.status_code == 302
    assert list(Service.objects.get(pk=world.service_a.pk).dependencies.all()) == [world.service_b]


# --------------------------------------------------------------------------------------------------- who may


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bob", "dave"])
def test_responders_and_observers_cannot_edit(client_for: ClientFor, world: World, who: str) -> None:
    client = client_for(getattr(world, who))
    page = _detail(client, world.service_a)
    assert "Edit service" not in page and _edit_url(world.service_a) not in page
    assert "New service" not in client.get(NEW_SERVICE).content.decode()
    before = _snapshot()
    response = client.post(_edit_url(world.service_a), _service_data(world.service_a, name="Hijacked"))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    response = client.post(NEW_SERVICE, {"name": "Mine", "team": world.team_a.pk, "tier": 3})
    assert response.status_code == 403
    assert _snapshot() == before


@pytest.mark.django_db
def test_charlie_gets_404_on_team_a_service_edit(client_for: ClientFor, world: World) -> None:
    before = _snapshot()
    response = client_for(world.charlie).post(
        _edit_url(world.service_a), _service_data(world.service_a, name="Hijacked", team=world.team_b.pk)
    )
    assert response.status_code == 404
    assert "Checkout" not in response.content.decode()
    assert _snapshot() == before


@pytest.mark.django_db
def test_an_org_admin_may_edit_any_service(client_for: ClientFor, world: World) -> None:
    olivia = client_for(world.olivia)
    response = olivia.post(
        _edit_url(world.service_b), _service_data(world.service_b, dependencies=[world.service_a.pk])
    )
    assert response.status_code == 302
    assert list(Service.objects.get(pk=world.service_b.pk).dependencies.all()) == [world.service_a]


# --------------------------------------------------------------------------------------------------- teams


@pytest.mark.django_db
def test_olivia_creates_a_team(client_for: ClientFor, world: World) -> None:
    olivia = client_for(world.olivia)
    assert "+ New team" in olivia.get(NEW_TEAM).content.decode()
    response = olivia.post(NEW_TEAM, {"name": "Platform", "description": "Kubernetes and the network."})
    team = Team.objects.get(name="Platform")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:team-detail", args=[team.slug])
    assert team.description == "Kubernetes and the network."
    assert AuditEvent.objects.filter(action="team.create", source="web", actor=world.olivia).count() == 1
    assert "Platform created." in olivia.get(response["Location"]).content.decode()

    response = olivia.post(NEW_TEAM, {"name": "Team A"})
    assert response.status_code == 409
    page = response.content.decode()
    assert _field_errors(page, "name") == ["a team named 'Team A' already exists"]
    assert 'id="new-team" open' in page
    assert olivia.post(NEW_TEAM, {"name": "  "}).status_code == 400
    assert Team.objects.count() == 3


@pytest.mark.django_db
def test_alice_cannot_create_a_team(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    assert "New team" not in alice.get(NEW_TEAM).content.decode()
    response = alice.post(NEW_TEAM, {"name": "Shadow IT"})
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    assert not Team.objects.filter(name="Shadow IT").exists()


@pytest.mark.django_db
def test_service_list_shows_descriptions_as_text_not_markdown(world: World, client_for: ClientFor) -> None:
    catalog.update_service(
        service=world.service_a, actor=world.alice, source="web", description="Runs on **PostgreSQL 16**."
    )
    page = client_for(world.bob).get("/services/").content.decode()
    assert "Runs on PostgreSQL 16." in page
    assert "**PostgreSQL" not in page
