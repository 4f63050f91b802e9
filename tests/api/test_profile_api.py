"""PATCH /me: a person changes their own name and time zone; GET /me shows them."""

from __future__ import annotations

from tests.api.conftest import ApiClient, Clients, error
from tests.conftest import World
from warroom.accounts.models import User
from warroom.audit.models import AuditEvent


def test_me_shows_the_time_zone(api: Clients) -> None:
    assert api.bob.get("/me").json()["time_zone"] == "UTC"


def test_patch_me_changes_the_zone_and_get_me_shows_it(api: Clients, world: World) -> None:
    response = api.bob.patch("/me", {"time_zone": "America/Chicago"})
    assert response.status_code == 200
    body = response.json()
    assert body["time_zone"] == "America/Chicago" and body["name"] == "Bob Responder"
    assert body == api.bob.get("/me").json()
    assert User.objects.get(pk=world.bob.pk).time_zone == "America/Chicago"
    row = AuditEvent.objects.get(action="user.profile.update")
    assert (row.actor, row.source, row.after) == (world.bob, "api", {"time_zone": "America/Chicago"})


def test_patch_me_changes_the_name(api: Clients, world: World) -> None:
    body = api.bob.patch("/me", {"name": "Robert Responder"}).json()
    assert (body["full_name"], body["name"], body["time_zone"]) == (
        "Robert Responder",
        "Robert Responder",
        "UTC",
    )
    body = api.bob.patch("/me", {"full_name": ""}).json()
    assert (body["full_name"], body["name"]) == ("", "bob@example.com")
    assert api.bob.patch("/me", {}).json()["name"] == "bob@example.com"
    cli = api.bob.patch("/me", {"full_name": "Bob"}, headers={"X-Warroom-Client": "cli"})
    assert cli.status_code == 200
    assert AuditEvent.objects.filter(action="user.profile.update").latest("id").source == "cli"


def test_an_unknown_zone_is_a_400_naming_the_field_and_changes_nothing(api: Clients, world: World) -> None:
    for zone in ["Mars/Olympus", "localtime", "/etc/localtime", "../UTC", ""]:
        response = api.bob.patch("/me", {"time_zone": zone, "name": "Should not stick"})
        assert response.status_code == 400, zone
        body = error(response)
        assert body["code"] == "invalid"
        assert body["errors"][0]["field"] == "time_zone"
        assert "is not an IANA time zone" in body["detail"]
    bob = User.objects.get(pk=world.bob.pk)
    assert (bob.time_zone, bob.full_name) == ("UTC", "Bob Responder")
    assert not AuditEvent.objects.filter(action="user.profile.update").exists()


def test_bad_shapes_are_4xx_naming_the_field(api: Clients) -> None:
    wrong_type = api.bob.patch("/me", {"time_zone": 5})
    assert wrong_type.status_code == 422 and error(wrong_type)["errors"][0]["field"] == "time_zone"
    too_long = api.bob.patch("/me", {"name": "x" * 151})
    assert too_long.status_code == 422 and error(too_long)["errors"][0]["field"] == "name"
    null = api.bob.patch("/me", {"time_zone": None})
    assert null.status_code == 400 and error(null)["errors"][0]["field"] == "time_zone"
    both = api.bob.patch("/me", {"name": "A", "full_name": "B"})
    assert both.status_code == 400 and error(both)["errors"][0]["field"] == "name"
    assert api.bob.patch("/me", raw="{not json").status_code == 400
    assert api.bob.get("/me").json()["time_zone"] == "UTC"


def test_patch_me_only_ever_changes_the_caller(api: Clients, world: World) -> None:
    """There is no way to name someone else: charlie's PATCH changes charlie, nobody in team A."""
    assert api.charlie.patch("/me", {"time_zone": "Asia/Kolkata"}).json()["email"] == "charlie@example.com"
    assert User.objects.get(pk=world.charlie.pk).time_zone == "Asia/Kolkata"
    assert set(User.objects.exclude(pk=world.charlie.pk).values_list("time_zone", flat=True)) == {"UTC"}
    # PATCH /users/{id} only (de)activates people, for organisation admins; it takes no profile field.
    other = api.bob.patch(f"/users/{world.alice.pk}", {"time_zone": "Asia/Kolkata"})
    assert other.status_code == 422 and error(other)["errors"][0]["field"] == "is_active"
    assert User.objects.get(pk=world.alice.pk).time_zone == "UTC"


def test_anonymous_patch_is_refused(api: Clients) -> None:
    assert ApiClient(None).patch("/me", {"time_zone": "Europe/London"}).status_code == 401


def test_create_user_takes_a_time_zone(api: Clients) -> None:
    created = api.olivia.post("/users", {"email": "erin@example.com", "time_zone": "Europe/Berlin"})
    assert created.status_code == 201 and created.json()["user"]["time_zone"] == "Europe/Berlin"
    refused = api.olivia.post("/users", {"email": "finn@example.com", "time_zone": "Berlin"})
    assert refused.status_code == 400 and error(refused)["errors"][0]["field"] == "time_zone"
    assert not User.objects.filter(email="finn@example.com").exists()
