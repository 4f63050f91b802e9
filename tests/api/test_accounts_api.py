"""/me, teams and members, users, API tokens."""

from __future__ import annotations

from tests.api.conftest import ApiClient, Clients, error
from tests.conftest import World
from warroom.accounts.models import ApiToken, Membership, Team, User
from warroom.audit.models import AuditEvent


def test_me(api: Clients) -> None:
    body = api.bob.get("/me").json()
    assert body["email"] == "bob@example.com"
    assert body["name"] == "Bob Responder"
    assert body["is_org_admin"] is False
    assert body["teams"] == [{"slug": "team-a", "name": "Team A", "role": "responder"}]
    assert body["date_joined"].endswith("Z")


def test_list_teams_is_scoped(api: Clients) -> None:
    body = api.alice.get("/teams").json()
    assert [t["slug"] for t in body["items"]] == ["team-a"]
    assert body["items"][0]["my_role"] == "admin"
    assert (body["count"], body["limit"], body["offset"]) == (1, 50, 0)
    assert [t["slug"] for t in api.charlie.get("/teams").json()["items"]] == ["team-b"]
    org = api.olivia.get("/teams").json()
    assert [t["slug"] for t in org["items"]] == ["team-a", "team-b"]
    assert org["items"][0]["my_role"] is None


def test_pagination(api: Clients) -> None:
    page = api.olivia.get("/teams", limit=1, offset=1).json()
    assert page == {**page, "count": 2, "limit": 1, "offset": 1}
    assert [t["slug"] for t in page["items"]] == ["team-b"]
    response = api.olivia.get("/teams", limit=0)
    assert response.status_code == 422
    assert error(response)["errors"][0]["field"] == "limit"
    assert api.olivia.get("/teams", limit=501).status_code == 422
    assert api.olivia.get("/teams", offset=-1).status_code == 422


def test_get_team(api: Clients) -> None:
    body = api.bob.get("/teams/team-a").json()
    assert body["name"] == "Team A"
    assert body["member_count"] == 3
    assert body["my_role"] == "responder"


def test_create_team_org_admin_only(api: Clients) -> None:
    response = api.olivia.post("/teams", {"name": "Platform", "description": "k8s"})
    assert response.status_code == 201
    assert response.json()["slug"] == "platform"
    assert Team.objects.filter(slug="platform").exists()
    refused = api.alice.post("/teams", {"name": "Rogue"})
    assert refused.status_code == 403
    assert error(refused)["detail"] == "only organisation admins create teams"
    dup = api.olivia.post("/teams", {"name": "Platform"})
    assert dup.status_code == 409
    assert error(dup)["errors"] == [{"field": "name", "message": "a team named 'Platform' already exists"}]
    missing = api.olivia.post("/teams", {})
    assert missing.status_code == 422
    assert error(missing)["errors"][0]["field"] == "name"


def test_members(api: Clients, world: World) -> None:
    body = api.dave.get("/teams/team-a/members").json()
    assert body["count"] == 3
    assert {m["user"]["email"]: m["role"] for m in body["items"]} == {
        "alice@example.com": "admin",
        "bob@example.com": "responder",
        "dave@example.com": "observer",
    }


def test_set_and_remove_member(api: Clients, world: World) -> None:
    response = api.alice.put(f"/teams/team-a/members/{world.bob.pk}", {"role": "manager"})
    assert response.status_code == 200
    assert response.json()["role"] == "manager"
    assert Membership.objects.get(team=world.team_a, user=world.bob).role == "manager"
    by_email = api.alice.put("/teams/team-a/members/dave@example.com", {"role": "responder"})
    assert by_email.status_code == 200
    assert api.alice.delete(f"/teams/team-a/members/{world.dave.pk}").status_code == 204
    assert not Membership.objects.filter(team=world.team_a, user=world.dave).exists()
    assert AuditEvent.objects.filter(action="team.member.remove", source="api").count() == 1


def test_set_member_bad_role_and_unknown_user(api: Clients, world: World) -> None:
    bad = api.alice.put(f"/teams/team-a/members/{world.bob.pk}", {"role": "emperor"})
    assert bad.status_code == 400
    assert error(bad)["errors"] == [
        {"field": "role", "message": "role must be one of admin, manager, responder, observer"}
    ]
    unknown = api.alice.put("/teams/team-a/members/99999", {"role": "responder"})
    assert unknown.status_code == 404
    assert error(unknown)["detail"] == "user '99999' not found"
    # charlie exists, but alice cannot see him: the same 404.
    hidden = api.alice.put(f"/teams/team-a/members/{world.charlie.pk}", {"role": "responder"})
    assert hidden.status_code == 404
    assert error(hidden)["detail"] == f"user '{world.charlie.pk}' not found"
    # an org admin sees everyone and may add charlie.
    assert (
        api.olivia.put(f"/teams/team-a/members/{world.charlie.pk}", {"role": "observer"}).status_code == 200
    )


def test_removing_a_non_member_is_404(api: Clients, world: World) -> None:
    response = api.olivia.delete(f"/teams/team-b/members/{world.bob.pk}")
    assert response.status_code == 404
    assert error(response)["detail"] == "bob@example.com is not a member of Team B"


def test_list_and_get_users(api: Clients, world: World) -> None:
    emails = [u["email"] for u in api.bob.get("/users").json()["items"]]
    assert sorted(emails) == ["alice@example.com", "bob@example.com", "dave@example.com"]
    assert api.olivia.get("/users").json()["count"] == 5
    body = api.bob.get(f"/users/{world.alice.pk}").json()
    assert body["teams"] == [{"slug": "team-a", "name": "Team A", "role": "admin"}]
    assert api.bob.get("/users/alice@example.com").json()["id"] == world.alice.pk
    missing = api.bob.get(f"/users/{world.charlie.pk}")
    assert missing.status_code == 404
    # An org admin sees charlie's team; alice, added to Team B too, would not see it from bob's view.
    assert api.olivia.get(f"/users/{world.charlie.pk}").json()["teams"][0]["slug"] == "team-b"


def test_user_teams_only_show_what_the_viewer_sees(api: Clients, world: World) -> None:
    api.olivia.put(f"/teams/team-b/members/{world.alice.pk}", {"role": "observer"})
    assert [t["slug"] for t in api.bob.get(f"/users/{world.alice.pk}").json()["teams"]] == ["team-a"]
    assert [t["slug"] for t in api.alice.get("/me").json()["teams"]] == ["team-a", "team-b"]


def test_create_user_with_generated_password(api: Clients) -> None:
    response = api.olivia.post("/users", {"email": "Erin@Example.com", "full_name": "Erin"})
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "erin@example.com"
    password = body["password"]
    assert isinstance(password, str) and len(password) >= 20
    assert User.objects.get(email="erin@example.com").check_password(password)


def test_create_user_with_password(api: Clients) -> None:
    response = api.olivia.post(
        "/users", {"email": "frank@example.com", "password": "a-long-enough-passphrase"}
    )
    assert response.status_code == 201
    assert response.json()["password"] is None
    weak = api.olivia.post("/users", {"email": "gina@example.com", "password": "short"})
    assert weak.status_code == 400
    assert error(weak)["errors"][0]["field"] == "password"


def test_create_user_refusals(api: Clients) -> None:
    refused = api.alice.post("/users", {"email": "x@example.com"})
    assert refused.status_code == 403
    assert error(refused)["detail"] == "only organisation admins create users"
    dup = api.olivia.post("/users", {"email": "bob@example.com"})
    assert dup.status_code == 409
    assert error(dup)["detail"] == "a user with email bob@example.com already exists"
    invalid = api.olivia.post("/users", {"email": "not-an-email"})
    assert invalid.status_code == 400
    assert error(invalid)["errors"] == [
        {"field": "email", "message": "'not-an-email' is not a valid email address"}
    ]


def test_tokens_lifecycle(api: Clients, world: World) -> None:
    created = api.bob.post("/tokens", {"name": "laptop"})
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("wr_at_")
    assert body["prefix"] == secret[: len(body["prefix"])]
    listed = api.bob.get("/tokens").json()
    assert {t["name"] for t in listed["items"]} == {"laptop", "tests"}
    assert all("token" not in t for t in listed["items"])
    new_client = ApiClient(secret)
    assert new_client.get("/me").json()["email"] == "bob@example.com"
    revoked = api.bob.delete(f"/tokens/{body['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["is_active"] is False
    assert revoked.json()["revoked_at"] is not None
    assert new_client.get("/me").status_code == 401
    again = api.bob.delete(f"/tokens/{body['id']}")
    assert again.status_code == 409
    assert error(again)["detail"] == "this token is already revoked"


def test_tokens_are_private(api: Clients, world: World) -> None:
    bobs = ApiToken.objects.get(user=world.bob)
    assert api.alice.delete(f"/tokens/{bobs.pk}").status_code == 404
    assert api.olivia.delete(f"/tokens/{bobs.pk}").status_code == 404
    assert all(t["id"] != bobs.pk for t in api.alice.get("/tokens").json()["items"])


def test_token_name_required(api: Clients) -> None:
    blank = api.bob.post("/tokens", {"name": "  "})
    assert blank.status_code == 400
    assert error(blank)["errors"] == [{"field": "name", "message": "a token needs a name"}]
    long = api.bob.post("/tokens", {"name": "x" * 101})
    assert long.status_code == 400
    assert error(long)["detail"] == "token names are at most 100 characters"
