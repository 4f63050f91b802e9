"""Signing in and out of the console (and the admin site) writes ``user.sign_in`` / ``user.sign_out`` with the
client's address; a refused sign-in writes no sign-in row."""

from __future__ import annotations

from django.test import Client

from tests.conftest import PASSWORD, World
from warroom.audit.models import AuditEvent


def test_signing_in_and_out_of_the_console_is_audited(world: World) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert client.post("/login/", {"username": "bob@example.com", "password": PASSWORD}).status_code == 302

    signed_in = AuditEvent.objects.get(action="user.sign_in")
    assert (signed_in.actor, signed_in.source, signed_in.object_type) == (world.bob, "web", "accounts.user")
    assert signed_in.object_id == str(world.bob.pk) and signed_in.after == {"address": "203.0.113.9"}

    assert client.post("/logout/").status_code == 302
    signed_out = AuditEvent.objects.get(action="user.sign_out")
    assert signed_out.actor == world.bob and signed_out.after == {"address": "203.0.113.9"}


def test_a_wrong_password_writes_no_sign_in(world: World) -> None:
    Client().post("/login/", {"username": "bob@example.com", "password": "wrong"})
    assert not AuditEvent.objects.filter(action="user.sign_in").exists()


def test_signing_out_when_not_signed_in_writes_nothing(world: World) -> None:
    Client().post("/logout/")
    assert not AuditEvent.objects.filter(action="user.sign_out").exists()


def test_the_admin_site_sign_in_is_audited_too(world: World) -> None:
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.post("/admin/login/", {"username": "olivia@example.com", "password": PASSWORD})
    row = AuditEvent.objects.get(action="user.sign_in")
    assert row.actor == world.olivia and row.after == {"address": "198.51.100.4"}
