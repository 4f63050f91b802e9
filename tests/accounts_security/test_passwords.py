"""A person changes their own password (console and API); an organisation admin resets a forgotten one. Before
this, nobody but an operator with a shell could change a password: the generated one an admin handed over was
the person's password for good."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.api.conftest import ApiClient, Clients, error
from tests.conftest import PASSWORD, World
from warroom.accounts.models import User
from warroom.audit.models import AuditEvent

NEW = "a-much-longer-new-secret-42"


def signs_in(email: str, password: str) -> bool:
    client = Client()
    client.post("/login/", {"username": email, "password": password})
    return "_auth_user_id" in client.session


def test_bob_changes_his_password_on_the_console(world: World) -> None:
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post("/login/", {"username": "bob@example.com", "password": PASSWORD})
    assert "Change password" in here.get(reverse("web:profile")).content.decode()

    response = here.post(
        reverse("web:password"),
        {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW},
    )

    assert response.status_code == 302
    assert here.get(reverse("web:profile")).status_code == 200  # this session stays
    assert elsewhere.get(reverse("web:profile")).status_code == 302  # the other one is signed out
    assert signs_in("bob@example.com", NEW) and not signs_in("bob@example.com", PASSWORD)
    event = AuditEvent.objects.get(action="user.password.change")
    assert (event.actor_id, event.object_id, event.source, event.after) == (
        world.bob.pk,
        str(world.bob.pk),
        "web",
        None,
    )


def test_console_refusals_are_next_to_the_field(world: World, client_for: object) -> None:
    bob: Client = client_for(world.bob)  # type: ignore[operator]
    url = reverse("web:password")
    wrong = bob.post(url, {"current_password": "nope", "new_password": NEW, "new_password_again": NEW})
    assert wrong.status_code == 400
    assert "that is not your current password" in wrong.content.decode()
    weak = bob.post(
        url, {"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"}
    )
    assert weak.status_code == 400
    assert "This password is too short" in weak.content.decode()
    differ = bob.post(
        url, {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW + "x"}
    )
    assert differ.status_code == 400
    assert "the two new passwords differ" in differ.content.decode()
    assert User.objects.get(pk=world.bob.pk).check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="user.password.change").exists()


def test_change_through_the_api(api: Clients, world: World) -> None:
    wrong = api.bob.post("/me/password", {"current_password": "nope", "new_password": NEW})
    assert wrong.status_code == 400
    assert error(wrong)["errors"] == [
        {"field": "current_password", "message": "that is not your current password"}
    ]
    weak = api.bob.post("/me/password", {"current_password": PASSWORD, "new_password": "bob@example.com"})
    assert weak.status_code == 400
    assert error(weak)["errors"][0]["field"] == "new_password"
    missing = api.bob.post("/me/password", {"new_password": NEW})
    assert missing.status_code == 422
    assert error(missing)["errors"][0]["field"] == "current_password"

    assert (
        api.bob.post("/me/password", {"current_password": PASSWORD, "new_password": NEW}).status_code == 204
    )
    assert signs_in("bob@example.com", NEW)
    assert api.bob.get("/me").status_code == 200  # the token keeps working


def test_an_org_admin_resets_a_forgotten_password(api: Clients, world: World) -> None:
    response = api.olivia.post(f"/users/{world.bob.pk}/password")
    assert response.status_code == 200
    generated = response.json()["password"]
    assert signs_in("bob@example.com", generated) and not signs_in("bob@example.com", PASSWORD)
    event = AuditEvent.objects.get(action="user.password.reset")
    assert (event.actor_id, event.object_id, event.after) == (world.olivia.pk, str(world.bob.pk), None)
    assert generated not in str(AuditEvent.objects.values_list("before", "after"))


def test_only_org_admins_reset_and_other_teams_people_are_not_found(api: Clients, world: World) -> None:
    refused = api.alice.post(f"/users/{world.bob.pk}/password")
    assert refused.status_code == 403
    assert error(refused)["detail"] == "only organisation admins reset passwords"
    assert api.alice.post(f"/users/{world.charlie.pk}/password").status_code == 404
    assert api.olivia.post("/users/no-one@example.com/password").status_code == 404
    assert User.objects.get(pk=world.bob.pk).check_password(PASSWORD)


def test_signed_out_cannot_change_a_password(world: World) -> None:
    assert (
        ApiClient(None).post("/me/password", {"current_password": PASSWORD, "new_password": NEW}).status_code
        == 401
    )
    assert Client().post(reverse("web:password"), {"current_password": PASSWORD}).status_code == 302


def test_the_token_form_says_a_name_is_needed(world: World, client_for: object) -> None:
    bob: Client = client_for(world.bob)  # type: ignore[operator]
    page = bob.get(reverse("web:token-list")).content.decode()
    assert "Token name <span" not in page  # no "(optional)" next to a field that is needed
    empty = bob.post(reverse("web:token-list"), {"name": ""})
    assert empty.status_code == 400
    assert "a token needs a name" in empty.content.decode()
