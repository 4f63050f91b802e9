"""A person's profile (display name, time zone) through ``update_profile`` and ``create_user``; and the
``warroom_user --time-zone`` management command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import World
from warroom.accounts import services
from warroom.accounts.models import User
from warroom.audit.models import AuditEvent
from warroom.lib.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def test_a_person_sets_their_zone_and_name_with_one_audit_row(world: World) -> None:
    bob = world.bob
    returned = services.update_profile(
        user=bob, actor=bob, source="web", full_name="  Bob R. ", time_zone="America/Chicago"
    )
    assert returned is bob and (bob.full_name, bob.time_zone) == ("Bob R.", "America/Chicago")
    stored = User.objects.get(pk=bob.pk)
    assert (stored.full_name, stored.time_zone) == ("Bob R.", "America/Chicago")
    row = AuditEvent.objects.get(action="user.profile.update")
    assert (row.actor, row.source, row.object_type, row.object_id) == (
        bob,
        "web",
        "accounts.user",
        str(bob.pk),
    )
    assert row.before == {"full_name": "Bob Responder", "time_zone": "UTC"}
    assert row.after == {"full_name": "Bob R.", "time_zone": "America/Chicago"}


def test_only_what_changes_is_written(world: World) -> None:
    services.update_profile(user=world.bob, actor=world.bob, source="api", time_zone="UTC")
    assert not AuditEvent.objects.filter(action="user.profile.update").exists()
    services.update_profile(user=world.bob, actor=world.bob, source="api", time_zone="Asia/Kolkata")
    row = AuditEvent.objects.get(action="user.profile.update")
    assert (row.before, row.after) == ({"time_zone": "UTC"}, {"time_zone": "Asia/Kolkata"})
    assert User.objects.get(pk=world.bob.pk).full_name == "Bob Responder"


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus",
        "",
        "   ",
        "localtime",
        "posixrules",
        "/etc/localtime",
        "../../etc/passwd",
        "europe/london",
    ],
)
def test_unknown_zones_are_refused_naming_the_field(world: World, zone: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(user=world.bob, actor=world.bob, source="api", time_zone=zone)
    assert refused.value.field == "time_zone"
    assert "is not an IANA time zone" in refused.value.message
    assert User.objects.get(pk=world.bob.pk).time_zone == "UTC"
    assert not AuditEvent.objects.filter(action="user.profile.update").exists()


def test_a_bad_zone_leaves_the_name_alone_too(world: World) -> None:
    with pytest.raises(ValidationFailed):
        services.update_profile(
            user=world.bob, actor=world.bob, source="api", full_name="Changed", time_zone="Nowhere/Land"
        )
    assert User.objects.get(pk=world.bob.pk).full_name == "Bob Responder"


def test_a_long_name_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(user=world.bob, actor=world.bob, source="api", full_name="x" * 151)
    assert refused.value.field == "full_name"


def test_nobody_else_changes_your_profile_but_an_organisation_admin(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.update_profile(user=world.bob, actor=world.alice, source="api", time_zone="Europe/London")
    with pytest.raises(PermissionDenied):
        services.update_profile(user=world.alice, actor=world.charlie, source="api", full_name="Hacked")
    assert User.objects.get(pk=world.bob.pk).time_zone == "UTC"
    services.update_profile(user=world.bob, actor=world.olivia, source="api", time_zone="Europe/London")
    assert User.objects.get(pk=world.bob.pk).time_zone == "Europe/London"
    assert AuditEvent.objects.get(action="user.profile.update").actor == world.olivia


def test_create_user_takes_a_checked_zone(world: World) -> None:
    erin = services.create_user(
        email="erin@example.com", password=None, time_zone="Europe/Berlin", actor=None, source="cli"
    )
    assert User.objects.get(pk=erin.pk).time_zone == "Europe/Berlin"
    assert AuditEvent.objects.get(action="user.create", object_id=str(erin.pk)).after["time_zone"] == (
        "Europe/Berlin"
    )
    with pytest.raises(ValidationFailed) as refused:
        services.create_user(
            email="finn@example.com", password=None, time_zone="Mars", actor=None, source="cli"
        )
    assert refused.value.field == "time_zone"
    assert not User.objects.filter(email="finn@example.com").exists()


def test_the_user_command_takes_a_time_zone(db: None) -> None:
    out = io.StringIO()
    call_command("warroom_user", "--email", "gil@example.com", "--time-zone", "Asia/Kolkata", stdout=out)
    assert "created gil@example.com" in out.getvalue()
    assert User.objects.get(email="gil@example.com").time_zone == "Asia/Kolkata"
    call_command("warroom_user", "--email", "hana@example.com", stdout=io.StringIO())
    assert User.objects.get(email="hana@example.com").time_zone == "UTC"
    with pytest.raises(CommandError, match="'Atlantis' is not an IANA time zone"):
        call_command("warroom_user", "--email", "ivo@example.com", "--time-zone", "Atlantis")
    assert not User.objects.filter(email="ivo@example.com").exists()
