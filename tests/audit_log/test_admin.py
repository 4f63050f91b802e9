"""The Django admin no longer changes rights without a trace: a person's flags are audited, team memberships,
API tokens and service dependencies are read-only there (the console and API change them, audited)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import World
from warroom.accounts.models import ApiToken, Membership
from warroom.accounts.services import create_api_token
from warroom.audit.models import AuditEvent
from warroom.catalog import services as catalog
from warroom.catalog.models import ServiceDependency


@pytest.fixture
def admin_client(world: World) -> Client:
    assert world.olivia.is_superuser and world.olivia.is_staff
    client = Client()
    client.force_login(world.olivia)
    return client


def _user_form(world: World, **changes: Any) -> dict[str, Any]:
    bob = world.bob
    data = {
        "email": bob.email,
        "full_name": bob.full_name,
        "time_zone": bob.time_zone,
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def test_making_someone_an_org_admin_in_the_admin_writes_an_audit_row(
    world: World, admin_client: Client
) -> None:
    response = admin_client.post(
        f"/admin/accounts/user/{world.bob.pk}/change/",
        _user_form(world, is_org_admin="on", is_staff="on", is_superuser="on"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    world.bob.refresh_from_db()
    assert world.bob.is_org_admin and world.bob.is_superuser
    row = AuditEvent.objects.get(action="user.admin.update", object_id=str(world.bob.pk))
    assert (row.actor, row.source) == (world.olivia, "web")
    assert row.before == {"is_org_admin": False, "is_staff": False, "is_superuser": False}
    assert row.after == {"is_org_admin": True, "is_staff": True, "is_superuser": True}


def test_team_memberships_are_read_only_on_the_team_page(world: World, admin_client: Client) -> None:
    url = f"/admin/accounts/team/{world.team_a.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "Bob Responder" in page
    assert 'name="memberships-0-role"' not in page

    bob = Membership.objects.get(team=world.team_a, user=world.bob)
    admin_client.post(
        url,
        {
            "name": world.team_a.name,
            "slug": world.team_a.slug,
            "description": "",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(bob.pk),
            "memberships-0-team": str(world.team_a.pk),
            "memberships-0-user": str(world.bob.pk),
            "memberships-0-role": "admin",
            "memberships-1-team": str(world.team_a.pk),
            "memberships-1-user": str(world.charlie.pk),
            "memberships-1-role": "admin",
        },
    )
    assert Membership.objects.get(pk=bob.pk).role == "responder"
    assert not Membership.objects.filter(team=world.team_a, user=world.charlie).exists()


def test_api_tokens_cannot_be_added_or_edited_in_the_admin(world: World, admin_client: Client) -> None:
    token, _secret = create_api_token(user=world.bob, name="ci", actor=None, source="system")
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403
    url = f"/admin/accounts/apitoken/{token.pk}/change/"
    assert admin_client.get(url).status_code == 200  # still visible
    response = admin_client.post(url, {"name": "renamed", "user": world.charlie.pk, "revoked_at_0": ""})
    assert response.status_code == 403
    token = ApiToken.objects.get(pk=token.pk)
    assert (token.name, token.user_id) == ("ci", world.bob.pk)


def test_service_dependencies_are_read_only_on_the_service_page(world: World, admin_client: Client) -> None:
    catalog.update_service(
        service=world.service_a, actor=None, source="system", dependencies=[world.service_b]
    )
    link = ServiceDependency.objects.get(service=world.service_a)
    url = f"/admin/catalog/service/{world.service_a.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "Billing" in page
    assert 'name="dependency_links-0-depends_on"' not in page
    assert 'name="dependency_links-0-DELETE"' not in page
    assert ServiceDependency.objects.filter(pk=link.pk).exists()


def test_a_team_changed_in_the_admin_writes_an_audit_row(world: World, admin_client: Client) -> None:
    response = admin_client.post(
        f"/admin/accounts/team/{world.team_a.pk}/change/",
        {
            "name": "Team Alpha",
            "slug": world.team_a.slug,
            "description": "Checkout and payments",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    row = AuditEvent.objects.get(action="team.admin.update")
    assert (row.actor, row.source, row.object_id, row.team_id) == (
        world.olivia,
        "web",
        str(world.team_a.pk),
        world.team_a.pk,
    )
    assert row.before == {"name": "Team A", "description": ""}
    assert row.after == {"name": "Team Alpha", "description": "Checkout and payments"}


def test_a_team_created_and_deleted_in_the_admin_is_audited(world: World, admin_client: Client) -> None:
    created = admin_client.post(
        "/admin/accounts/team/add/",
        {
            "name": "Team C",
            "slug": "team-c",
            "description": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    row = AuditEvent.objects.get(action="team.admin.create")
    assert row.after == {"name": "Team C", "slug": "team-c"}

    deleted = admin_client.post(f"/admin/accounts/team/{row.object_id}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    gone = AuditEvent.objects.get(action="team.admin.delete")
    assert gone.object_id == row.object_id and gone.before is not None and gone.before["name"] == "Team C"


def test_a_service_changed_or_deleted_in_the_admin_is_audited(world: World, admin_client: Client) -> None:
    service = world.service_a
    form = {
        "name": service.name,
        "team": str(world.team_b.pk),
        "slug": service.slug,
        "description": service.description,
        "tier": str(3 if service.tier != 3 else 2),
        "runbook_url": "",
        "dashboard_url": "",
        "repository_url": "",
        "dependency_links-TOTAL_FORMS": "0",
        "dependency_links-INITIAL_FORMS": "0",
    }
    response = admin_client.post(f"/admin/catalog/service/{service.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    row = AuditEvent.objects.get(action="service.admin.update")
    assert row.before == {"team": world.team_a.pk, "tier": service.tier}
    assert row.after == {"team": world.team_b.pk, "tier": int(form["tier"])}
    assert (row.actor, row.team_id) == (world.olivia, world.team_b.pk)

    nothing = admin_client.post(f"/admin/catalog/service/{service.pk}/change/", form)
    assert nothing.status_code == 302
    assert AuditEvent.objects.filter(action="service.admin.update").count() == 1

    deleted = admin_client.post(
        "/admin/catalog/service/",
        {"action": "delete_selected", "_selected_action": [str(world.service_b.pk)], "post": "yes"},
    )
    assert deleted.status_code == 302
    gone = AuditEvent.objects.get(action="service.admin.delete")
    assert gone.object_id == str(world.service_b.pk) and gone.before is not None
    assert gone.before["name"] == "Billing"
