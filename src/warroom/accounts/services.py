"""Every write to users, teams, memberships and API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from warroom.accounts import selectors
from warroom.accounts.models import ApiToken, Membership, Role, Team, TokenScope, User
from warroom.accounts.slugs import unique_slug
from warroom.audit import services as audit
from warroom.lib import clock, instants, tokens, zones
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ServiceError, ValidationFailed

API_TOKEN_PREFIX = "wr_at"
#: last_used_at is written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: a new API token expires after this many days unless asked otherwise (a leaked, forgotten token stops working)
TOKEN_DEFAULT_DAYS = 90
#: and at most this many days after it was made (three years)
TOKEN_MAX_DAYS = 3 * 365
#: what a read-only token may do
READ_METHODS = frozenset({"GET", "HEAD"})
#: the longest team description (as on the console's form)
TEAM_DESCRIPTION_MAX = 2000


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(f"{email!r} is not a valid email address", field="email") from None
    return email


def _clean_full_name(full_name: str) -> str:
    name = (full_name or "").strip()
    if len(name) > 150:
        raise ValidationFailed(f"names are at most 150 characters (got {len(name)})", field="full_name")
    return name


def generate_password() -> str:
    """A random password a person can type: 4 groups of 5 characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def create_user(
    *,
    email: str,
    password: str | None,
    full_name: str = "",
    time_zone: str = "UTC",
    is_org_admin: bool = False,
    actor: User | None,
    source: str,
    validate: bool = True,
) -> User:
    """Create a user. ``password=None`` leaves the account without a usable password. ``time_zone`` is the
    IANA zone the console shows their times in (see :func:`warroom.lib.zones.clean`)."""
    email = _clean_email(email)
    full_name = _clean_full_name(full_name)
    time_zone = zones.clean(time_zone)
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins create users")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(f"a user with email {email} already exists", field="email")
    if password is not None and validate:
        try:
            validate_password(password, User(email=email, full_name=full_name))
        except DjangoValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from None
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name,
            time_zone=time_zone,
            is_org_admin=is_org_admin,
            is_staff=is_org_admin,
            is_superuser=is_org_admin,
        )
        audit.record(
            actor=actor,
            source=source,
            action="user.create",
            obj=user,
            after={"email": email, "is_org_admin": is_org_admin, "time_zone": time_zone},
        )
    return user


def update_profile(
    *,
    user: User,
    actor: User | None,
    source: str,
    full_name: str | None = None,
    time_zone: str | None = None,
) -> User:
    """Change ``user``'s display name and/or time zone; a field left ``None`` stays as it is.

    A person changes their own profile; an organisation admin may change anyone's (``actor=None`` is the
    system). One audit row ``user.profile.update`` lists what changed, before and after; nothing changed, no
    row. Returns ``user`` with the new values.
    """
    if actor is not None and actor.pk != user.pk and not actor.is_org_admin:
        raise PermissionDenied("you can only change your own profile")
    wanted: dict[str, str] = {}
    if full_name is not None:
        wanted["full_name"] = _clean_full_name(full_name)
    if time_zone is not None:
        wanted["time_zone"] = zones.clean(time_zone)
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        before = {
            key: getattr(current, key) for key, value in wanted.items() if getattr(current, key) != value
        }
        after = {key: wanted[key] for key in before}
        if after:
            User.objects.filter(pk=user.pk).update(**after)
            audit.record(
                actor=actor,
                source=source,
                action="user.profile.update",
                obj=current,
                before=before,
                after=after,
            )
    for key, value in wanted.items():
        setattr(user, key, value)
    return user


def _check_new_password(user: User, password: str, *, field: str) -> None:
    if not password:
        raise ValidationFailed("give the new password", field=field)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field=field) from None


def change_password(
    *, user: User, current_password: str, new_password: str, actor: User | None, source: str
) -> User:
    """A person changes their own password, giving the current one (so a session left open or a leaked API
    token cannot take the account over). The new one passes the password validators. Their other console
    sessions end (Django ties a session to the password); API tokens keep working. Audit row
    ``user.password.change``, without either password."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("you can only change your own password")
    if not current_password or not user.check_password(current_password):
        raise ValidationFailed("that is not your current password", field="current_password")
    _check_new_password(user, new_password, field="new_password")
    _store_password(user, new_password, actor=actor, source=source, action="user.password.change")
    return user


def _store_password(user: User, password: str, *, actor: User | None, source: str, action: str) -> None:
    """Set ``user``'s password (hashed) with its audit row, which never holds it."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        audit.record(actor=actor, source=source, action=action, obj=locked)
    user.password = locked.password


def reset_password(*, user: User, actor: User | None, source: str) -> str:
    """An organisation admin gives ``user`` a new generated password (they forgot theirs, or it leaked) and
    returns it, to be handed over once. Their console sessions end; API tokens keep working. Audit row
    ``user.password.reset``, without the password."""
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins reset passwords")
    password = generate_password()
    _store_password(user, password, actor=actor, source=source, action="user.password.reset")
    return password


def set_active(*, user: User, active: bool, actor: User | None, source: str) -> User:
    """Deactivate a person who left (or reactivate them). Organisation admins only, and not themselves.

    A deactivated person cannot sign in, their console sessions end and their API tokens are revoked (a
    reactivated person makes new ones); paging skips them (the escalation moves on and says why) and schedules flag them. What they did stays theirs
    on timelines and in the audit log; nothing is deleted. Audit row ``user.deactivate`` or ``user.reactivate``;
    asking for the state the person is already in changes nothing and writes no row.
    """
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins deactivate or reactivate people")
    if actor is not None and actor.pk == user.pk and not active:
        raise ValidationFailed(
            "you cannot deactivate yourself; ask another organisation admin", field="is_active"
        )
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=not active).update(is_active=active)
        if changed:
            after: dict[str, Any] = {"is_active": active}
            if not active:
                after["tokens_revoked"] = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                    revoked_at=clock.now()
                )
            audit.record(
                actor=actor,
                source=source,
                action="user.reactivate" if active else "user.deactivate",
                obj=user,
                before={"is_active": not active},
                after=after,
            )
    user.is_active = active
    return user


def create_team(*, name: str, description: str = "", actor: User | None, source: str) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a team needs a name", field="name")
    if len(name) > 100:
        raise ValidationFailed("team names are at most 100 characters", field="name")
    description = description or ""
    if len(description) > TEAM_DESCRIPTION_MAX:
        raise ValidationFailed(
            f"a team's description is at most {TEAM_DESCRIPTION_MAX} characters (got {len(description)})",
            field="description",
        )
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins create teams")
    if Team.objects.filter(name__iexact=name).exists():
        raise Conflict(f"a team named {name!r} already exists", field="name")
    try:
        with transaction.atomic():
            slug = unique_slug(Team.objects.all(), name, fallback="team")
            team = Team.objects.create(name=name, slug=slug, description=description)
            audit.record(actor=actor, source=source, action="team.create", obj=team, after={"name": name})
    except IntegrityError:
        raise Conflict(f"a team named {name!r} already exists", field="name") from None
    return team


def _set_team_field(
    *, team: Team, name: str, value: str, actor: User | None, source: str, action: str
) -> Team:
    """Set one organisation-level field of ``team`` (organisation admins; the caller checked the value) in one
    transaction with its audit row ``action``; nothing is written when it already has that value."""
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        if getattr(team, name) == value:
            return team
        before = {name: getattr(team, name)}
        setattr(team, name, value)
        team.save(update_fields=[name])
        audit.record(actor=actor, source=source, action=action, obj=team, before=before, after={name: value})
    return team


def set_team_description(*, team: Team, description: str, actor: User | None, source: str) -> Team:
    """Change ``team``'s description (organisation admins, as they create teams). Audited as ``team.update``."""
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins change a team's description")
    description = description or ""
    if len(description) > TEAM_DESCRIPTION_MAX:
        raise ValidationFailed(
            f"a team's description is at most {TEAM_DESCRIPTION_MAX} characters (got {len(description)})",
            field="description",
        )
    return _set_team_field(
        team=team, name="description", value=description, actor=actor, source=source, action="team.update"
    )


def set_team_sso_group(*, team: Team, group: str, actor: User | None, source: str) -> Team:
    """Link ``team`` to a group at the single sign-on provider ("" unlinks it; docs/sso.md). Organisation admins
    only: the group decides who joins the team. Members who joined through the group stay until their next
    sign-in; unlinking leaves them in the team. Audited as ``team.sso_group``."""
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins link a team to a single sign-on group")
    group = (group or "").strip()
    if len(group) > 255:
        raise ValidationFailed("a group name is at most 255 characters", field="sso_group")
    return _set_team_field(
        team=team, name="sso_group", value=group, actor=actor, source=source, action="team.sso_group"
    )


def _check_admin_change(actor: User | None, team: Team, *, current: str | None, wanted: str | None) -> None:
    """A team's managers change its members, but only its admins (and organisation admins) decide who is an
    admin: an admin sees the team's private incidents, so a manager may neither grant the role (to anyone,
    themselves included) nor change or remove an admin."""
    if actor is None or selectors.can_grant_admin(actor, team.pk):
        return
    if wanted == Role.ADMIN and current != Role.ADMIN:
        raise PermissionDenied("only the team's admins make someone an admin")
    if current == Role.ADMIN and wanted != Role.ADMIN:
        raise PermissionDenied("only the team's admins change or remove an admin")


def set_membership(*, team: Team, user: User, role: str, actor: User | None, source: str) -> Membership:
    """Add ``user`` to ``team`` with ``role``, or change their role. Granting, changing or removing the admin
    role takes a team admin (see :func:`_check_admin_change`)."""
    if role not in Role.values:
        raise ValidationFailed(f"role must be one of {', '.join(Role.values)}", field="role")
    if actor is not None and not selectors.can_manage_team(actor, team.pk):
        raise PermissionDenied("only the team's admins and managers change its members")
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, team=team, defaults={"role": role}
        )
        _check_admin_change(actor, team, current=None if created else membership.role, wanted=role)
        before = None if created else {"role": membership.role}
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        audit.record(
            actor=actor,
            source=source,
            action="team.member.set",
            obj=membership,
            before=before,
            after={"user": user.email, "team": team.slug, "role": role},
        )
    return membership


def sync_sso_teams(*, user: User, groups: list[str], source: str) -> None:
    """Make ``user``'s memberships follow their ``groups`` at the single sign-on provider (docs/sso.md): they join
    each team whose ``sso_group`` is one of them as a responder (unless already a member, whatever the role), and
    leave each team they joined that way whose group they are no longer in. Memberships added by hand are never
    touched; neither are those of teams without an ``sso_group``. Audited as ``team.member.set`` and
    ``team.member.remove`` with ``"via": "sso"``; the caller's transaction holds it all."""
    wanted = {team.pk: team for team in Team.objects.filter(sso_group__in=[g for g in groups if g])}
    memberships = {m.team_id: m for m in Membership.objects.select_for_update().filter(user=user)}
    for team_id, team in sorted(wanted.items()):
        if team_id in memberships:
            continue
        membership = Membership.objects.create(user=user, team=team, role=Role.RESPONDER, via_sso=True)
        audit.record(
            actor=None,
            source=source,
            action="team.member.set",
            obj=membership,
            after={"user": user.email, "team": team.slug, "role": Role.RESPONDER, "via": "sso"},
        )
    for team_id, membership in sorted(memberships.items()):
        if not membership.via_sso or team_id in wanted or not membership.team.sso_group:
            continue
        audit.record(
            actor=None,
            source=source,
            action="team.member.remove",
            obj=membership,
            before={"user": user.email, "team": membership.team.slug, "role": membership.role, "via": "sso"},
        )
        membership.delete()


def remove_membership(*, team: Team, user: User, actor: User | None, source: str) -> None:
    if actor is not None and not selectors.can_manage_team(actor, team.pk):
        raise PermissionDenied("only the team's admins and managers change its members")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
        if membership is None:
            raise NotFound(f"{user.email} is not a member of {team.name}")
        _check_admin_change(actor, team, current=membership.role, wanted=None)
        audit.record(
            actor=actor,
            source=source,
            action="team.member.remove",
            obj=membership,
            before={"user": user.email, "team": team.slug, "role": membership.role},
        )
        membership.delete()


def _token_expiry(*, now: datetime, expires_in_days: int | None, expires_at: datetime | None) -> datetime:
    """When a new token expires: ``expires_at`` or ``expires_in_days`` from now (not both), by default
    :data:`TOKEN_DEFAULT_DAYS`; in the future and at most :data:`TOKEN_MAX_DAYS` ahead."""
    if expires_in_days is not None and expires_at is not None:
        raise ValidationFailed("give expires_in_days or expires_at, not both", field="expires_at")
    latest = now + timedelta(days=TOKEN_MAX_DAYS)
    if expires_at is None:
        days = TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
        if isinstance(days, bool) or not 1 <= days <= TOKEN_MAX_DAYS:
            raise ValidationFailed(
                f"expires_in_days must be a whole number of days from 1 to {TOKEN_MAX_DAYS}",
                field="expires_in_days",
            )
        return now + timedelta(days=days)
    expires_at = instants.to_utc(
        expires_at, field="expires_at", message="expires_at needs a time zone (e.g. 2027-01-31T00:00:00Z)"
    )
    if expires_at <= now:
        raise ValidationFailed("expires_at must be in the future", field="expires_at")
    if expires_at > latest:
        raise ValidationFailed(
            f"expires_at is at most {TOKEN_MAX_DAYS} days ahead (until {latest:%Y-%m-%dT%H:%M:%SZ})",
            field="expires_at",
        )
    return expires_at


def create_api_token(
    *,
    user: User,
    name: str,
    actor: User | None,
    source: str,
    expires_in_days: int | None = None,
    expires_at: datetime | None = None,
    scope: str = TokenScope.FULL,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the secret, which is never shown again.

    Every new token expires: ``expires_at`` (an aware time) or ``expires_in_days`` from now, by default
    :data:`TOKEN_DEFAULT_DAYS` days, at most :data:`TOKEN_MAX_DAYS`. ``scope`` ``"read"`` makes a token that may
    only read (GET/HEAD); ``"full"`` (the default) may do whatever its owner may. Audit row ``token.create``
    with the scope and the expiry.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a token needs a name", field="name")
    if len(name) > 100:
        raise ValidationFailed("token names are at most 100 characters", field="name")
    if scope not in TokenScope.values:
        raise ValidationFailed(f"scope must be one of {', '.join(TokenScope.values)}", field="scope")
    if actor is not None and actor.pk != user.pk and not actor.is_org_admin:
        raise PermissionDenied("you can only create tokens for yourself")
    now = clock.now()
    expiry = _token_expiry(now=now, expires_in_days=expires_in_days, expires_at=expires_at)
    secret = tokens.generate(API_TOKEN_PREFIX)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[: len(API_TOKEN_PREFIX) + 7],
            digest=tokens.digest(secret),
            created_at=now,
            expires_at=expiry,
            scope=scope,
        )
        audit.record(
            actor=actor,
            source=source,
            action="token.create",
            obj=token,
            after={
                "user": user.email,
                "name": name,
                "scope": scope,
                "expires_at": expiry.isoformat(),
            },
        )
    return token, secret


def revoke_api_token(*, token: ApiToken, actor: User | None, source: str) -> ApiToken:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
        if not updated:
            raise Conflict("this token is already revoked")
        token.refresh_from_db()
        audit.record(actor=actor, source=source, action="token.revoke", obj=token, after={"name": token.name})
    return token


class TokenExpired(ServiceError):
    """A bearer token that was valid once and has expired: 401, saying so (an unknown or revoked token gets
    the plain "authentication required")."""

    status = 401
    code = "token_expired"


def authenticate_token(secret: str, *, method: str | None = None) -> User | None:
    """Return the active user behind a bearer secret, or None (unknown, revoked, or its owner deactivated).
    Touches last_used_at (coarsely).

    An expired token raises :class:`TokenExpired` (401). A read-only token used for anything but a read raises
    :class:`~warroom.lib.errors.PermissionDenied` (403): ``method`` is the request's HTTP method; without it a
    read-only token is refused (the caller cannot tell a read from a write).
    """
    if not secret or not secret.startswith(API_TOKEN_PREFIX + "_") or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=tokens.digest(secret)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if not tokens.matches(secret, token.digest):
        return None
    now = clock.now()
    if token.is_expired_at(now):
        assert token.expires_at is not None
        raise TokenExpired(
            f"this API token ({token.name}, {token.prefix}…) expired at "
            f"{token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one"
        )
    if token.is_read_only and (method or "").upper() not in READ_METHODS:
        verb = (method or "").upper() or "this request"
        raise PermissionDenied(
            f"this API token ({token.name}) is read-only: it may only read (GET, HEAD), not {verb}"
        )
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
