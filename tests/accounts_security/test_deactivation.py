"""An organisation admin deactivates a person who left: they cannot sign in, their sessions and tokens stop at
once, the change is in the audit log, and they can be brought back. Before this only the Django admin site could
do it, with no audit row and tokens left alive for a later reactivation."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.api.conftest import Clients, error
from tests.conftest import PASSWORD, World
from warroom.accounts.models import ApiToken, User
from warroom.audit.models import AuditEvent


def test_olivia_deactivates_bob(api: Clients, world: World, client_for: object) -> None:
    console: Client = client_for(world.bob)  # type: ignore[operator]
    assert console.get(reverse("web:profile")).status_code == 200

    response = api.olivia.patch(f"/users/{world.bob.pk}", {"is_active": False})

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert api.bob.get("/me").status_code == 401
    assert console.get(reverse("web:profile")).status_code == 302  # signed out
    fresh = Client()
    fresh.post("/login/", {"username": "bob@example.com", "password": PASSWORD})
    assert "_auth_user_id" not in fresh.session
    assert not ApiToken.objects.filter(user=world.bob, revoked_at__isnull=True).exists()
    event = AuditEvent.objects.get(action="user.deactivate")
    assert (event.actor_id, event.object_id, event.before, event.after) == (
        world.olivia.pk,
        str(world.bob.pk),
        {"is_active": True},
        {"is_active": False, "tokens_revoked": 1},
    )
    # Their team still lists them, marked.
    team_page = client_for(world.alice).get(reverse("web:team-detail", args=["team-a"])).content.decode()  # type: ignore[operator]
    assert "Deactivated" in team_page


def test_deactivating_twice_changes_nothing_and_reactivating_brings_them_back(
    api: Clients, world: World
) -> None:
    assert api.olivia.patch("/users/bob@example.com", {"is_active": False}).status_code == 200
    assert api.olivia.patch("/users/bob@example.com", {"is_active": False}).status_code == 200
    assert AuditEvent.objects.filter(action="user.deactivate").count() == 1

    back = api.olivia.patch("/users/bob@example.com", {"is_active": True})

    assert back.status_code == 200 and back.json()["is_active"] is True
    assert AuditEvent.objects.filter(action="user.reactivate").count() == 1
    client = Client()
    client.post("/login/", {"username": "bob@example.com", "password": PASSWORD})
    assert "_auth_user_id" in client.session
    assert api.bob.get("/me").status_code == 401  # the old token stays revoked


def test_a_team_admin_takes_a_deactivated_person_out_of_the_team(api: Clients, world: World) -> None:
    assert api.olivia.patch("/users/bob@example.com", {"is_active": False}).status_code == 200
    assert api.alice.delete("/teams/team-a/members/bob@example.com").status_code == 204
    assert not world.team_a.memberships.filter(user=world.bob).exists()
    again = api.alice.delete(f"/teams/team-a/members/{world.bob.pk}")
    assert again.status_code == 404  # gone from every team of alice's: she no longer sees him
    assert (
        api.charlie.delete("/teams/team-a/members/dave@example.com").status_code == 404
    )  # not charlie's team


def test_who_may_deactivate(api: Clients, world: World) -> None:
    refused = api.alice.patch(f"/users/{world.bob.pk}", {"is_active": False})
    assert refused.status_code == 403
    assert error(refused)["detail"] == "only organisation admins deactivate or reactivate people"
    assert api.alice.patch(f"/users/{world.charlie.pk}", {"is_active": False}).status_code == 404
    own = api.olivia.patch(f"/users/{world.olivia.pk}", {"is_active": False})
    assert own.status_code == 400
    assert error(own)["errors"][0]["field"] == "is_active"
    bad = api.olivia.patch(f"/users/{world.bob.pk}", {"is_active": "maybe"})
    assert bad.status_code == 422
    assert error(bad)["errors"][0]["field"] == "is_active"
    assert api.olivia.patch("/users/nobody@example.com", {"is_active": False}).status_code == 404
    assert User.objects.filter(is_active=False).count() == 0


def test_the_admin_site_deactivates_through_the_service_and_deletes_no_one(
    api: Clients, world: World, client_for: object
) -> None:
    olivia: Client = client_for(world.olivia)  # type: ignore[operator]
    url = reverse("admin:accounts_user_change", args=[world.bob.pk])
    form = {
        "email": "bob@example.com",
        "full_name": "Bob Responder",
        "time_zone": "UTC",
        "last_login_0": "",
        "last_login_1": "",
    }  # is_active left out: the box is unticked

    assert olivia.post(url, form).status_code == 302

    assert User.objects.get(pk=world.bob.pk).is_active is False
    assert api.bob.get("/me").status_code == 401
    assert AuditEvent.objects.get(action="user.deactivate").after == {"is_active": False, "tokens_revoked": 1}
    delete = olivia.post(reverse("admin:accounts_user_delete", args=[world.bob.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert User.objects.filter(pk=world.bob.pk).exists()
