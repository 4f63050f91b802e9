"""The admin site is where organisation admins edit the configurable lists (categories, roles)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.conftest import World
from warroom.accounts.models import User
from warroom.incidents.models import Category, RoleType

ClientFor = Callable[[User], Client]


@pytest.mark.django_db
def test_org_admin_adds_a_category_and_a_role(world: World, client_for: ClientFor) -> None:
    client = client_for(world.olivia)
    assert client.get("/admin/incidents/category/").status_code == 200
    response = client.post(
        "/admin/incidents/category/add/",
        {
            "name": "Facilities",
            "position": 9,
            "is_active": "on",
            "subcategories-TOTAL_FORMS": 1,
            "subcategories-INITIAL_FORMS": 0,
            "subcategories-0-name": "Power",
            "subcategories-0-position": 0,
            "subcategories-0-is_active": "on",
        },
    )
    assert response.status_code == 302
    assert list(Category.objects.get(name="Facilities").subcategories.values_list("name", flat=True)) == [
        "Power"
    ]
    response = client.post(
        "/admin/incidents/roletype/add/",
        {"name": "Customer Liaison", "slug": "customer-liaison", "position": 5, "description": ""},
    )
    assert response.status_code == 302
    assert RoleType.objects.filter(slug="customer-liaison").exists()


@pytest.mark.django_db
def test_incidents_are_read_only_in_the_admin_and_closed_to_others(
    world: World, client_for: ClientFor
) -> None:
    assert client_for(world.olivia).get("/admin/incidents/incident/add/").status_code == 403
    response = client_for(world.alice).get("/admin/incidents/category/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
