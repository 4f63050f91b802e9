"""Who may decide who is a team admin. Admins see the team's private incidents, so a manager (who runs the team's
members) may not make anyone an admin, themselves included, nor change or remove an admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.accounts import services as accounts
from warroom.accounts.models import Membership


@pytest.fixture
def bob_manages(world: World) -> World:
    """bob is a manager of team A (alice stays its admin)."""
    accounts.set_membership(team=world.team_a, user=world.bob, role="manager", actor=None, source="system")
    return world


def role(world: World, user_email: str) -> str | None:
    found = Membership.objects.filter(team=world.team_a, user__email=user_email).first()
    return found.role if found else None


def test_a_manager_cannot_make_themselves_admin_and_see_private_incidents(
    api: Clients, bob_manages: World
) -> None:
    world = bob_manages
    secret = declare(world, title="Credential leak", is_private=True)
    assert api.bob.get(f"/incidents/{secret.number}").status_code == 404

    response = api.bob.put("/teams/team-a/members/bob@example.com", {"role": "admin"})

    assert response.status_code == 403
    assert error(response)["detail"] == "only the team's admins make someone an admin"
    assert role(world, "bob@example.com") == "manager"
    assert api.bob.get(f"/incidents/{secret.number}").status_code == 404


def test_a_manager_cannot_make_someone_else_admin_nor_add_one(api: Clients, bob_manages: World) -> None:
    world = bob_manages
    assert api.bob.put(f"/teams/team-a/members/{world.dave.pk}", {"role": "admin"}).status_code == 403
    assert role(world, "dave@example.com") == "observer"


def test_a_manager_cannot_demote_or_remove_an_admin(api: Clients, bob_manages: World) -> None:
    world = bob_manages
    demoted = api.bob.put("/teams/team-a/members/alice@example.com", {"role": "observer"})
    assert demoted.status_code == 403
    assert error(demoted)["detail"] == "only the team's admins change or remove an admin"
    assert api.bob.delete("/teams/team-a/members/alice@example.com").status_code == 403
    assert role(world, "alice@example.com") == "admin"


def test_a_manager_still_runs_the_other_members(api: Clients, bob_manages: World) -> None:
    world = bob_manages
    assert api.bob.put("/teams/team-a/members/dave@example.com", {"role": "responder"}).status_code == 200
    assert api.bob.put("/teams/team-a/members/dave@example.com", {"role": "manager"}).status_code == 200
    assert api.bob.delete("/teams/team-a/members/dave@example.com").status_code == 204
    assert role(world, "dave@example.com") is None


def test_admins_and_org_admins_grant_and_take_the_admin_role(api: Clients, bob_manages: World) -> None:
    world = bob_manages
    assert api.alice.put("/teams/team-a/members/bob@example.com", {"role": "admin"}).json()["role"] == "admin"
    assert api.olivia.put("/teams/team-a/members/bob@example.com", {"role": "manager"}).status_code == 200
    assert role(world, "bob@example.com") == "manager"


def test_console_offers_a_manager_no_admin_role_and_refuses_a_forged_one(
    client_for: object, bob_manages: World
) -> None:
    world = bob_manages
    bob: Client = client_for(world.bob)  # type: ignore[operator]
    page = bob.get(reverse("web:team-detail", args=["team-a"])).content.decode()
    assert '<option value="admin"' not in page
    assert f'action="{reverse("web:team-member-remove", args=["team-a", world.alice.pk])}"' not in page

    forged = bob.post(reverse("web:team-member-role", args=["team-a", world.bob.pk]), {"role": "admin"})
    assert forged.status_code == 403
    assert "only the team&#x27;s admins make someone an admin" in forged.content.decode()
    added = bob.post(
        reverse("web:team-member-add", args=["team-a"]), {"email": "charlie@example.com", "role": "admin"}
    )
    assert added.status_code == 400
    removed = bob.post(reverse("web:team-member-remove", args=["team-a", world.alice.pk]))
    assert removed.status_code == 403
    assert role(world, "alice@example.com") == "admin"
    assert role(world, "bob@example.com") == "manager"
    assert role(world, "charlie@example.com") is None


def test_console_offers_an_admin_the_admin_role(client_for: object, world: World) -> None:
    alice: Client = client_for(world.alice)  # type: ignore[operator]
    page = alice.get(reverse("web:team-detail", args=["team-a"])).content.decode()
    assert '<option value="admin"' in page
