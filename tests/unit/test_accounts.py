"""Users, teams, memberships and API tokens through their services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import authenticate

from tests.conftest import World
from warroom.accounts import selectors, services
from warroom.accounts.models import ApiToken, User
from warroom.audit.models import AuditEvent
from warroom.lib import clock
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(settings: object) -> None:
    settings.PASSWORD_HASHERS = [  # type: ignore[attr-defined]
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = services.create_user(
        email="Erin@Example.com", password="a-long-enough-passphrase", actor=None, source="cli"
    )
    assert user.email == "erin@example.com"
    assert user.password.startswith("argon2$")
    assert authenticate(email="erin@example.com", password="a-long-enough-passphrase") == user
    assert authenticate(email="erin@example.com", password="wrong") is None


@pytest.mark.django_db
def test_user_creation_is_checked(world: World) -> None:
    with pytest.raises(ValidationFailed) as bad_email:
        services.create_user(email="not-an-email", password=None, actor=None, source="cli")
    assert bad_email.value.field == "email"
    with pytest.raises(Conflict):
        services.create_user(email="ALICE@example.com", password=None, actor=None, source="cli")
    with pytest.raises(ValidationFailed) as weak:
        services.create_user(email="x@example.com", password="123", actor=None, source="cli")
    assert weak.value.field == "password"
    with pytest.raises(PermissionDenied):
        services.create_user(email="y@example.com", password=None, actor=world.alice, source="web")


@pytest.mark.django_db
def test_tokens_are_shown_once_stored_as_hmac_and_revocable(world: World) -> None:
    with clock.frozen(T0):
        token, secret = services.create_api_token(user=world.bob, name="ci", actor=world.bob, source="web")
    assert secret.startswith("wr_at_") and len(secret) >= 6 + 43
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    assert secret.startswith(stored.prefix)
    with clock.frozen(T0 + timedelta(minutes=5)):
        assert services.authenticate_token(secret) == world.bob
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0 + timedelta(minutes=5)
    assert services.authenticate_token(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert services.authenticate_token("") is None
    services.revoke_api_token(token=token, actor=world.bob, source="web")
    assert services.authenticate_token(secret) is None
    with pytest.raises(Conflict):
        services.revoke_api_token(token=token, actor=world.bob, source="web")
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


@pytest.mark.django_db
def test_tokens_of_deactivated_users_stop_working(world: World) -> None:
    _token, secret = services.create_api_token(user=world.bob, name="ci", actor=None, source="cli")
    User.objects.filter(pk=world.bob.pk).update(is_active=False)
    assert services.authenticate_token(secret) is None


@pytest.mark.django_db
def test_only_self_or_org_admin_create_tokens(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.create_api_token(user=world.bob, name="x", actor=world.alice, source="web")
    _token, _secret = services.create_api_token(user=world.bob, name="x", actor=world.olivia, source="web")


@pytest.mark.django_db
def test_membership_management_and_team_visibility(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.set_membership(
            team=world.team_a, user=world.charlie, role="responder", actor=world.bob, source="web"
        )
    services.set_membership(
        team=world.team_a, user=world.charlie, role="observer", actor=world.alice, source="web"
    )
    charlie = User.objects.get(pk=world.charlie.pk)
    assert selectors.role_in(charlie, world.team_a.pk) == "observer"
    assert set(selectors.visible_teams(charlie)) == {world.team_a, world.team_b}
    with pytest.raises(ValidationFailed):
        services.set_membership(team=world.team_a, user=charlie, role="king", actor=world.alice, source="web")
    services.remove_membership(team=world.team_a, user=charlie, actor=world.alice, source="web")
    with pytest.raises(NotFound):
        services.remove_membership(team=world.team_a, user=charlie, actor=world.alice, source="web")
    with pytest.raises(NotFound):
        selectors.get_team_for_user_or_404(User.objects.get(pk=world.charlie.pk), key="team-a")
    assert selectors.get_team_for_user_or_404(world.olivia, key="team-a") == world.team_a
