"""Single sign-on through an OpenID Connect provider (docs/sso.md), against a provider on 127.0.0.1 that speaks
the real wire format (tests/accounts_sso/idp.py): who gets signed in, who is refused and why, and that nothing
the provider or a browser sends out of turn signs anyone in."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.accounts_sso.idp import CLIENT_ID, CLIENT_SECRET, FakeIdP, follow
from tests.conftest import PASSWORD, World
from tests.notify.receivers import running
from warroom.accounts import services as accounts
from warroom.accounts import sso
from warroom.accounts.models import ExternalIdentity, Membership, User
from warroom.audit.models import AuditEvent
from warroom.config import Oidc


@pytest.fixture
def idp(settings: object) -> Iterator[FakeIdP]:
    with running(FakeIdP()) as provider:
        settings.WARROOM_OIDC = Oidc(  # type: ignore[attr-defined]
            issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, name="Acme Login"
        )
        yield provider


def configure(settings: object, **changes: object) -> None:
    settings.WARROOM_OIDC = dataclasses.replace(django_settings.WARROOM_OIDC, **changes)  # type: ignore[attr-defined]


def start(client: Client, next_url: str | None = None) -> str:
    """Press "Sign in with ..." and return where Warroom sends the browser (the provider's authorize URL)."""
    response = client.get("/login/sso/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content
    return str(response["Location"])


def sign_in(client: Client, next_url: str | None = None) -> object:
    """The whole round trip: Warroom → provider → Warroom's callback; the callback's response."""
    back = urlsplit(follow(start(client, next_url)))
    return client.get(back.path, parse_qs(back.query))


def signed_in_as(client: Client) -> User | None:
    response = client.get("/incidents/")
    return response.wsgi_request.user if response.status_code == 200 else None  # type: ignore[return-value]


def test_sign_in_page_offers_the_provider_only_when_it_is_set_up(client: Client, settings: object) -> None:
    assert b"sso-sign-in" not in client.get("/login/").content
    assert client.get("/login/sso/").status_code == 404
    with running(FakeIdP()) as provider:
        settings.WARROOM_OIDC = Oidc(
            issuer=provider.issuer, client_id="c", client_secret="s", name="Acme Login"
        )  # type: ignore[attr-defined]
        page = client.get("/login/?next=/services/").content.decode()
    assert "Sign in with Acme Login" in page
    assert 'href="/login/sso/?next=/services/"' in page


def test_a_person_with_an_account_is_signed_in_and_linked(world: World, client: Client, idp: FakeIdP) -> None:
    response = sign_in(client)
    assert response.status_code == 302 and response["Location"] == "/incidents/"  # type: ignore[attr-defined]
    assert signed_in_as(client) == world.bob
    identity = ExternalIdentity.objects.get(user=world.bob)
    assert (identity.issuer, identity.subject) == (idp.issuer, "idp-user-1")
    link = AuditEvent.objects.get(action="user.sso.link")
    assert link.actor_id == world.bob.pk and link.after["created_user"] is False
    # what Warroom asked for: the code flow with PKCE (S256), state and nonce, and the scopes
    asked = idp.authorize_requests[0]
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert asked["state"] and asked["nonce"] and set(asked["scope"].split()) == {"openid", "email", "profile"}
    assert asked["redirect_uri"] == f"{django_settings.WARROOM_BASE_URL}/login/sso/callback/"
    assert idp.token_requests[0]["code_verifier"]


def test_the_link_holds_when_the_email_changes_at_the_provider(
    world: World, client: Client, idp: FakeIdP
) -> None:
    sign_in(client)
    client.logout()
    idp.person = {"sub": "idp-user-1", "email": "robert@example.com", "email_verified": True}
    sign_in(client)
    assert signed_in_as(client) == world.bob
    assert ExternalIdentity.objects.get(user=world.bob).email == "robert@example.com"
    assert AuditEvent.objects.filter(action="user.sso.link").count() == 1


def test_an_email_the_provider_has_not_verified_names_no_account(
    world: World, client: Client, idp: FakeIdP, settings: object
) -> None:
    idp.person = {"sub": "idp-user-1", "email": "bob@example.com", "email_verified": False}
    response = sign_in(client)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "has not verified your email bob@example.com" in response.content.decode()  # type: ignore[attr-defined]
    assert signed_in_as(client) is None and not ExternalIdentity.objects.exists()
    # a provider that never sends email_verified (Entra ID) is trusted only when the operator says so
    idp.person = {"sub": "idp-user-1", "email": "bob@example.com"}
    assert sign_in(client).status_code == 403  # type: ignore[attr-defined]
    configure(settings, trust_email=True)
    assert sign_in(client).status_code == 302  # type: ignore[attr-defined]
    assert signed_in_as(client) == world.bob


def test_someone_without_an_account_is_refused_unless_accounts_may_be_created(
    world: World, client: Client, idp: FakeIdP, settings: object
) -> None:
    idp.person = {
        "sub": "idp-new-1",
        "email": "Nina@Example.com",
        "email_verified": True,
        "name": "Nina New",
    }
    response = sign_in(client)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "No Warroom account uses Nina@Example.com" in response.content.decode()  # type: ignore[attr-defined]
    assert not User.objects.filter(email__iexact="nina@example.com").exists()

    configure(settings, create_users=True, allowed_domains=("corp.example",))
    assert sign_in(client).status_code == 403  # type: ignore[attr-defined]
    assert not User.objects.filter(email__iexact="nina@example.com").exists()

    configure(settings, create_users=True, allowed_domains=("corp.example", "example.com"))
    assert sign_in(client).status_code == 302  # type: ignore[attr-defined]
    nina = User.objects.get(email__iexact="nina@example.com")
    assert signed_in_as(client) == nina
    assert nina.full_name == "Nina New" and not nina.has_usable_password() and not nina.teams.exists()
    assert (
        AuditEvent.objects.get(action="user.sso.link", object_id=str(nina.pk)).after["created_user"] is True
    )
    assert AuditEvent.objects.filter(action="user.create", object_id=str(nina.pk)).exists()


def test_a_deactivated_person_is_refused_however_they_are_found(
    world: World, client: Client, idp: FakeIdP
) -> None:
    sign_in(client)
    client.logout()
    accounts.set_active(user=world.bob, active=False, actor=world.olivia, source="web")
    response = sign_in(client)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "bob@example.com is deactivated" in response.content.decode()  # type: ignore[attr-defined]
    assert signed_in_as(client) is None


def test_an_account_linked_to_another_person_at_the_provider_is_not_taken_over(
    world: World, client: Client, idp: FakeIdP
) -> None:
    sign_in(client)
    client.logout()
    # someone else at the provider, whose (verified) email is now bob's
    idp.person = {"sub": "idp-user-2", "email": "bob@example.com", "email_verified": True}
    response = sign_in(client)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "already linked to another account" in response.content.decode()  # type: ignore[attr-defined]
    assert signed_in_as(client) is None
    assert list(ExternalIdentity.objects.values_list("subject", flat=True)) == ["idp-user-1"]


def test_next_is_followed_within_warroom_and_ignored_elsewhere(
    world: World, client: Client, idp: FakeIdP
) -> None:
    assert sign_in(client, "/services/")["Location"] == "/services/"  # type: ignore[index]
    client.logout()
    assert sign_in(client, "https://evil.example/phish")["Location"] == "/incidents/"  # type: ignore[index]


def test_a_callback_out_of_turn_signs_no_one_in(world: World, client: Client, idp: FakeIdP) -> None:
    back = urlsplit(follow(start(client)))
    assert client.get(back.path, parse_qs(back.query)).status_code == 302
    client.logout()
    # the same callback again (a replay, or a code someone else's browser got): the state is spent
    replay = client.get(back.path, parse_qs(back.query))
    assert replay.status_code == 400
    assert "expired or was already used" in replay.content.decode()
    # a callback this browser never started
    stranger = Client()
    other = urlsplit(follow(start(Client())))
    assert stranger.get(other.path, parse_qs(other.query)).status_code == 400
    assert signed_in_as(stranger) is None and signed_in_as(client) is None


def test_the_provider_refusing_is_shown(world: World, client: Client, idp: FakeIdP) -> None:
    idp.deny = "access_denied"
    response = sign_in(client)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "did not sign you in: The user denied access" in response.content.decode()  # type: ignore[attr-defined]
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    "tamper",
    [
        {"aud": "some-other-client"},
        {"iss": "http://127.0.0.1:9/not-the-issuer"},
        {"exp": 1_000_000_000},
        {"nonce": "not-the-nonce"},
        "other key",
    ],
    ids=["audience", "issuer", "expired", "nonce", "signature"],
)
def test_an_id_token_that_fails_verification_signs_no_one_in(
    world: World, client: Client, idp: FakeIdP, tamper: object
) -> None:
    if tamper == "other key":
        idp.other_key = True
    else:
        idp.tamper = dict(tamper)  # type: ignore[call-overload]
    response = sign_in(client)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "could not be verified" in response.content.decode()  # type: ignore[attr-defined]
    assert signed_in_as(client) is None and not ExternalIdentity.objects.exists()


def test_a_provider_that_does_not_answer_is_a_502_with_the_password_form_still_there(
    world: World, client: Client, settings: object
) -> None:
    with running(FakeIdP()) as provider:
        issuer = provider.issuer
    settings.WARROOM_OIDC = Oidc(issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, timeout=2.0)  # type: ignore[attr-defined]
    response = client.get("/login/sso/")
    assert response.status_code == 502
    page = response.content.decode()
    assert "did not answer" in page and 'name="password"' in page


def test_the_profile_says_how_a_person_signs_in(
    world: World, client: Client, idp: FakeIdP, settings: object
) -> None:
    sign_in(client)
    page = client.get("/settings/profile/").content.decode()
    assert "Linked to your account at Acme Login (bob@example.com)" in page
    assert "Change password" in page  # bob has a password as well
    client.logout()
    configure(settings, create_users=True)
    idp.person = {"sub": "idp-new-2", "email": "nina@example.com", "email_verified": True}
    sign_in(client)
    page = client.get("/settings/profile/").content.decode()
    assert "Your account has no password: you sign in through Acme Login." in page
    assert "Change password" not in page


def test_an_admin_removes_a_link_and_the_next_sign_in_links_again(
    world: World, client: Client, idp: FakeIdP, client_for: object
) -> None:
    sign_in(client)
    client.logout()
    identity = ExternalIdentity.objects.get(user=world.bob)
    admin = client_for(world.olivia)  # type: ignore[operator]
    response = admin.post(f"/admin/accounts/externalidentity/{identity.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ExternalIdentity.objects.exists()
    assert AuditEvent.objects.filter(action="externalidentity.admin.delete").count() == 1
    # bob's account at the provider changed (a new subject, the same verified email): linked again
    idp.person = {"sub": "idp-user-9", "email": "bob@example.com", "email_verified": True}
    sign_in(client)
    assert signed_in_as(client) == world.bob
    assert ExternalIdentity.objects.get(user=world.bob).subject == "idp-user-9"


def test_password_sign_in_can_be_kept_for_organisation_admins_only(
    world: World, client: Client, idp: FakeIdP, settings: object
) -> None:
    configure(settings, password_sign_in="admins")
    page = client.get("/login/").content.decode()
    assert "organisation admins: with a password" in page
    refused = client.post("/login/", {"username": "bob@example.com", "password": PASSWORD})
    assert refused.status_code == 200 and signed_in_as(client) is None
    assert (
        "Sign in with Acme Login: on this server only organisation admins sign in with a password."
        in refused.content.decode()
    )
    # a wrong password says nothing about the policy, nor about whose email it is
    wrong = client.post("/login/", {"username": "bob@example.com", "password": "not-it"}).content.decode()
    assert "only organisation admins" not in wrong and "do not match an active account" in wrong
    assert client.post("/login/", {"username": "olivia@example.com", "password": PASSWORD}).status_code == 302
    assert signed_in_as(client) == world.olivia
    client.logout()
    sign_in(client)  # bob comes in through the provider
    assert signed_in_as(client) == world.bob


def test_claims_the_id_token_leaves_out_come_from_the_userinfo_endpoint(
    world: World, client: Client, idp: FakeIdP
) -> None:
    accounts.set_team_sso_group(team=world.team_b, group="billing", actor=world.olivia, source="web")
    # an ID token with the subject alone, as Okta sends by default; the rest at the userinfo endpoint
    idp.person = {"sub": "idp-user-1"}
    idp.userinfo = {
        "sub": "idp-user-1",
        "email": "bob@example.com",
        "email_verified": True,
        "groups": ["billing"],
    }
    sign_in(client)
    assert signed_in_as(client) == world.bob
    assert Membership.objects.get(user=world.bob, team=world.team_b).via_sso
    # userinfo about someone else is not believed
    client.logout()
    idp.person = {"sub": "idp-user-7"}
    idp.userinfo = {"sub": "idp-user-1", "email": "bob@example.com", "email_verified": True}
    response = sign_in(client)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "did not say who you are by email" in response.content.decode()  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------------
# signing out (WARROOM_OIDC_END_SESSION)


def test_signing_out_ends_the_providers_session_too_when_asked(
    world: World, client: Client, idp: FakeIdP, settings: object
) -> None:
    configure(settings, end_session=True)
    sign_in(client)
    assert signed_in_as(client) == world.bob
    response = client.post("/logout/")
    assert response.status_code == 302
    where = urlsplit(response["Location"])
    assert f"{where.scheme}://{where.netloc}{where.path}" == idp.url("/logout")
    asked = {name: values[0] for name, values in parse_qs(where.query).items()}
    assert asked == {
        "realm": "acme",  # the endpoint's own query is kept
        "id_token_hint": idp.id_tokens[-1],
        "client_id": CLIENT_ID,
        "post_logout_redirect_uri": f"{django_settings.WARROOM_BASE_URL}/login/",
    }
    assert signed_in_as(client) is None  # signed out of Warroom before leaving


def test_signing_out_stays_local_by_default_after_a_password_sign_in_or_without_an_endpoint(
    world: World, client: Client, idp: FakeIdP, settings: object
) -> None:
    sign_in(client)
    assert client.post("/logout/")["Location"] == "/login/"  # the setting is off by default
    configure(settings, end_session=True)
    assert client.login(username=world.bob.email, password=PASSWORD)
    assert client.post("/logout/")["Location"] == "/login/"  # no single sign-on: nothing to end there
    idp.end_session = False
    sso_client = Client()
    sign_in(sso_client)
    sso._client.cache_clear()  # the provider's metadata is cached with the client: forget it
    assert sso_client.post("/logout/")["Location"] == "/login/"
    assert signed_in_as(sso_client) is None
