"""Single sign-on through an OpenID Connect provider (Keycloak, Okta, Microsoft Entra ID, Google, Authentik ...).

The console's sign-in page offers "Sign in with <name>" when ``WARROOM_OIDC_ISSUER`` is set (docs/sso.md). The
flow is the authorization code flow with PKCE, state and nonce, through Authlib: Authlib reads the provider's
discovery document, exchanges the code and verifies the ID token (signature against the provider's keys, issuer,
audience, expiry, nonce). This module decides who the verified person is in Warroom (:func:`user_for`):

1. The provider's ``sub`` already linked to a user (:class:`~warroom.accounts.models.ExternalIdentity`): that user.
   Their email at the provider may have changed since; the link holds.
2. Otherwise a verified email (``email_verified: true``, or any email with ``WARROOM_OIDC_TRUST_EMAIL``) that an
   active user has: the identity is linked to that user, once. A user already linked to another identity of the
   same provider is refused (someone else at the provider claims their email).
3. Otherwise, with ``WARROOM_OIDC_CREATE_USERS`` and an email in ``WARROOM_OIDC_ALLOWED_DOMAINS`` (any domain when
   that is empty): a new user without a password, linked. They belong to no team until a team admin adds them.
4. Otherwise the sign-in is refused with the reason; nothing is written.

Then, if the ID token lists the person's groups (``WARROOM_OIDC_GROUPS_CLAIM``), their memberships of teams with
an ``sso_group`` follow them (:func:`warroom.accounts.services.sync_sso_teams`).

A deactivated user is refused whichever way they were found.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.db import IntegrityError, transaction

from warroom.accounts import services as accounts
from warroom.accounts.models import ExternalIdentity, User
from warroom.audit import services as audit
from warroom.config import Oidc
from warroom.lib import clock

log = logging.getLogger(__name__)


class SignInRefused(Exception):
    """The provider vouched for someone Warroom will not sign in; ``str(self)`` says why, for the person."""


def config() -> Oidc:
    oidc: Oidc = settings.WARROOM_OIDC
    return oidc


def enabled() -> bool:
    return config().enabled


def client() -> Any:
    """The Authlib client for the configured provider (one per configuration; it caches the provider's discovery
    document and keys, and fetches the keys again when a token names a key it does not know)."""
    return _client(config())


@functools.cache
def _client(oidc: Oidc) -> Any:
    return OAuth().register(
        "warroom",
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        server_metadata_url=oidc.metadata_url,
        client_kwargs={
            "scope": oidc.scopes,
            "code_challenge_method": "S256",
            "default_timeout": oidc.timeout,
        },
    )


def end_session_url(id_token: str, *, back_to: str) -> str:
    """Where to send the browser to end its session at the provider (OpenID Connect RP-initiated logout), then
    back to ``back_to``; "" when the provider advertises no ``end_session_endpoint`` or cannot be reached (the
    person is then signed out of Warroom only, and the log says why)."""
    oidc = config()
    try:
        metadata = client().load_server_metadata()
    except (requests.RequestException, ValueError, KeyError) as exc:
        log.warning("sso: the identity provider's discovery document could not be read at sign-out: %s", exc)
        return ""
    endpoint = metadata.get("end_session_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        log.warning(
            "sso: WARROOM_OIDC_END_SESSION is on, but %s advertises no end_session_endpoint: signed out of "
            "Warroom only",
            oidc.issuer,
        )
        return ""
    query = urlencode(
        {"id_token_hint": id_token, "client_id": oidc.client_id, "post_logout_redirect_uri": back_to}
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


#: the claims Warroom reads that a provider may leave out of the ID token and give only at its userinfo endpoint
USERINFO_CLAIMS = ("email", "email_verified", "name", "preferred_username", "given_name", "family_name")


def claims_of(token: Mapping[str, Any]) -> dict[str, Any]:
    """The verified ID token's claims, completed from the provider's userinfo endpoint when the token lacks the
    email or the groups (Okta and others put them there by default). Userinfo only adds claims the token does not
    have, and only when its ``sub`` is the token's (OpenID Connect Core 5.3.2); if it fails, the token's claims are
    used as they are."""
    claims = dict(token.get("userinfo") or {})
    oidc = config()
    if not claims or ("email" in claims and oidc.groups_claim in claims):
        return claims
    provider = client()
    if not provider.load_server_metadata().get("userinfo_endpoint"):
        return claims
    try:
        extra = dict(provider.userinfo(token=dict(token)))
    except Exception as exc:
        log.warning("sso: the userinfo endpoint failed, using the ID token's claims: %s", exc)
        return claims
    if extra.get("sub") != claims.get("sub"):
        log.warning("sso: the userinfo endpoint answered for another subject; ignored")
        return claims
    for key in (*USERINFO_CLAIMS, oidc.groups_claim):
        if key not in claims and key in extra:
            claims[key] = extra[key]
    return claims


def _email_of(claims: Mapping[str, Any], oidc: Oidc) -> str:
    """The claims' email if Warroom may trust it to name an account, else ""."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return ""
    verified = claims.get("email_verified")
    if verified is True or (isinstance(verified, str) and verified.lower() == "true") or oidc.trust_email:
        return email.strip()
    return ""


def _groups_of(claims: Mapping[str, Any], oidc: Oidc) -> list[str] | None:
    """The person's groups at the provider, or None when the token does not list them (then no team changes:
    a provider that stopped sending groups must not empty the teams)."""
    groups = claims.get(oidc.groups_claim)
    if isinstance(groups, str):
        return [groups]
    if isinstance(groups, list):
        return [str(group) for group in groups if isinstance(group, str | int)]
    return None


def _display_name(claims: Mapping[str, Any]) -> str:
    for key in ("name", "preferred_username"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:150]
    given, family = claims.get("given_name"), claims.get("family_name")
    parts = [part.strip() for part in (given, family) if isinstance(part, str) and part.strip()]
    return " ".join(parts)[:150]


def user_for(claims: Mapping[str, Any], *, issuer: str) -> User:
    """The active user the verified ID token's ``claims`` sign in (linking or creating as the module docstring
    says), or :class:`SignInRefused`. One transaction: a refusal writes nothing."""
    oidc = config()
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInRefused("The identity provider's answer has no usable subject (sub) for you.")
    email = _email_of(claims, oidc)
    shown = claims.get("email") if isinstance(claims.get("email"), str) else ""
    now = clock.now()
    try:
        with transaction.atomic():
            user = _user_for(claims, issuer=issuer, subject=subject, email=email, shown=str(shown), now=now)
            groups = _groups_of(claims, oidc)
            if groups is not None:
                accounts.sync_sso_teams(user=user, groups=groups, source="web")
            return user
    except IntegrityError:
        # two first sign-ins of one person at once: the other one linked it; use that link
        identity = (
            ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        )
        if identity is None or not identity.user.is_active:
            raise SignInRefused("Signing you in collided with another sign-in. Try again.") from None
        return identity.user


def _user_for(
    claims: Mapping[str, Any], *, issuer: str, subject: str, email: str, shown: str, now: Any
) -> User:
    oidc = config()
    identity = (
        ExternalIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is not None:
        user = identity.user
        _refuse_inactive(user)
        identity.last_used_at = now
        identity.email = (email or shown)[:254]
        identity.save(update_fields=["last_used_at", "email"])
        return user
    if not email:
        if shown:
            raise SignInRefused(
                f"The identity provider has not verified your email {shown}, so Warroom cannot tell which "
                "account is yours. Verify it at the provider, or ask an organisation admin."
            )
        raise SignInRefused(
            "The identity provider did not say who you are by email (ask for the email scope), so Warroom cannot "
            "tell which account is yours."
        )
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        _refuse_inactive(existing)
        if ExternalIdentity.objects.filter(user=existing, issuer=issuer).exists():
            raise SignInRefused(
                f"The Warroom account {existing.email} is already linked to another account at the identity "
                "provider. Ask an organisation admin."
            )
        _link(existing, issuer=issuer, subject=subject, email=email, now=now, created=False)
        return existing
    domain = email.rsplit("@", 1)[1].lower()
    if not oidc.create_users or (oidc.allowed_domains and domain not in oidc.allowed_domains):
        raise SignInRefused(
            f"No Warroom account uses {email}. Ask an organisation admin to add you with that email."
        )
    user = accounts.create_user(
        email=email,
        password=None,
        full_name=_display_name(claims),
        actor=None,
        source="web",
    )
    _link(user, issuer=issuer, subject=subject, email=email, now=now, created=True)
    return user


def _refuse_inactive(user: User) -> None:
    if not user.is_active:
        raise SignInRefused(f"The Warroom account {user.email} is deactivated. Ask an organisation admin.")


def _link(user: User, *, issuer: str, subject: str, email: str, now: Any, created: bool) -> None:
    identity = ExternalIdentity.objects.create(
        user=user, issuer=issuer, subject=subject, email=email[:254], created_at=now, last_used_at=now
    )
    audit.record(
        actor=user,
        source="web",
        action="user.sso.link",
        obj=user,
        after={
            "issuer": issuer,
            "subject": subject,
            "email": email,
            "created_user": created,
            "id": identity.pk,
        },
    )
