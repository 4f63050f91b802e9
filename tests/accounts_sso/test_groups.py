"""Teams that follow groups at the single sign-on provider (docs/sso.md, "Teams from the provider's groups"): who
joins, who leaves, and who is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tests.accounts_sso.idp import CLIENT_ID, CLIENT_SECRET, FakeIdP
from tests.accounts_sso.test_sso import sign_in
from tests.conftest import World
from tests.notify.receivers import running
from warroom.accounts import services as accounts
from warroom.accounts.models import Membership
from warroom.audit.models import AuditEvent
from warroom.config import Oidc


@pytest.fixture
def idp(settings: Any) -> Iterator[FakeIdP]:
    with running(FakeIdP()) as provider:
        settings.WARROOM_OIDC = Oidc(
            issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, name="Acme Login"
        )
        yield provider


def roles(world: World, email: str) -> dict[str, tuple[str, bool]]:
    return {
        m.team.slug: (m.role, m.via_sso)
        for m in Membership.objects.filter(user__email=email).select_related("team")
    }


def charlie_at(idp: FakeIdP, groups: list[str] | None) -> None:
    idp.person = {"sub": "idp-charlie", "email": "charlie@example.com", "email_verified": True}
    if groups is not None:
        idp.person["groups"] = groups


def test_members_of_a_linked_group_join_and_leave_with_it(world: World, client: Client, idp: FakeIdP) -> None:
    accounts.set_team_sso_group(team=world.team_a, group="sre", actor=world.olivia, source="web")
    charlie_at(idp, ["sre", "everyone"])
    sign_in(client)
    assert roles(world, "charlie@example.com") == {"team-a": ("responder", True), "team-b": ("admin", False)}
    joined = AuditEvent.objects.get(action="team.member.set", after__via="sso")
    assert joined.after["team"] == "team-a" and joined.actor_id is None

    # the team's admin makes them a manager: the sync leaves the role alone while they stay in the group
    accounts.set_membership(
        team=world.team_a, user=world.charlie, role="manager", actor=world.alice, source="web"
    )
    client.logout()
    sign_in(client)
    assert roles(world, "charlie@example.com")["team-a"] == ("manager", True)

    # a token that does not list groups at all changes nothing
    client.logout()
    charlie_at(idp, None)
    sign_in(client)
    assert "team-a" in roles(world, "charlie@example.com")

    # out of the group: out of the team; the team they were added to by hand stays
    client.logout()
    charlie_at(idp, ["everyone"])
    sign_in(client)
    assert roles(world, "charlie@example.com") == {"team-b": ("admin", False)}
    left = AuditEvent.objects.get(action="team.member.remove", before__via="sso")
    assert left.before["team"] == "team-a" and left.before["role"] == "manager"


def test_members_added_by_hand_are_never_removed_by_the_group(
    world: World, client: Client, idp: FakeIdP
) -> None:
    accounts.set_team_sso_group(team=world.team_b, group="billing", actor=world.olivia, source="web")
    charlie_at(idp, [])  # charlie, an admin of team B added by hand, is in no group at the provider
    sign_in(client)
    assert roles(world, "charlie@example.com") == {"team-b": ("admin", False)}
    assert not AuditEvent.objects.filter(action="team.member.remove").exists()


def test_only_organisation_admins_link_a_team_to_a_group(world: World, client_for: Any) -> None:
    alice = client_for(world.alice)  # admin of team A, not of the organisation
    refused = alice.patch("/api/v1/teams/team-a", {"sso_group": "sre"}, content_type="application/json")
    assert refused.status_code == 403
    olivia = client_for(world.olivia)
    linked = olivia.patch("/api/v1/teams/team-a", {"sso_group": " sre "}, content_type="application/json")
    assert linked.status_code == 200 and linked.json()["sso_group"] == "sre"
    assert AuditEvent.objects.get(action="team.sso_group").after == {"sso_group": "sre"}
    members = alice.get("/api/v1/teams/team-a/members").json()["items"]
    assert {m["user"]["email"]: m["via_sso"] for m in members}["bob@example.com"] is False
    too_long = olivia.patch("/api/v1/teams/team-a", {"sso_group": "g" * 256}, content_type="application/json")
    assert too_long.status_code == 400 and "sso_group" in too_long.content.decode()
    page = alice.get("/teams/team-a/").content.decode()
    assert "Members of the single sign-on group <strong>sre</strong> join as responders" in page
