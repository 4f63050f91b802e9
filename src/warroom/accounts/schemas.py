"""Schemas of the accounts API, and the few helpers every Warroom router shares.

The shared helpers live here because ``accounts`` is the root of the app dependency chain
(``accounts`` ← ``catalog`` ← ``incidents``): every router may import from it.

* :func:`caller` — the authenticated :class:`User` behind a request (token or session).
* :func:`source_of` — the ``source`` recorded on timeline and audit rows: ``"cli"`` when the request carries
  ``X-Warroom-Client: cli`` (the ``warroom`` client sends it), otherwise ``"api"``.
* :class:`Paging` and :func:`paginate` — ``limit``/``offset`` pagination answering
  ``{"items": [...], "count": N, "limit": L, "offset": O}``.
* :func:`lookup` — resolve a reference given in a request body, turning "not found" into a 400 naming the
  field (a reference in the path stays a 404).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import AuthenticationError

from warroom.accounts.deactivation import LeftBehind
from warroom.accounts.models import ApiToken, Membership, Role, Team, TokenScope, User
from warroom.accounts.services import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS
from warroom.lib.apitypes import IsoDateTime
from warroom.lib.errors import NotFound, ValidationFailed
from warroom.lib.schema import InputSchema

SOURCES = frozenset({"api", "cli"})
CLIENT_HEADER = "X-Warroom-Client"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


# ---------------------------------------------------------------------------------------------------------------
# shared helpers


def caller(request: HttpRequest) -> User:
    """The user the request authenticated as. Every route requires authentication, so this always exists."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):  # pragma: no cover - the router's auth refuses such requests first
        raise AuthenticationError()
    return user


def source_of(request: HttpRequest) -> str:
    """``"cli"`` for the ``warroom`` client, ``"api"`` for everything else."""
    claimed = request.headers.get(CLIENT_HEADER, "").strip().lower()
    return claimed if claimed in SOURCES else "api"


#: The largest offset a list takes (a larger one is a 422, not a database error: SQLite and PostgreSQL both stop
#: at 2**63 - 1).
OFFSET_MAX = 10**12


class Paging(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (1-500).")
    offset: int = Field(0, ge=0, le=OFFSET_MAX, description="How many items to skip.")


class Page[T](Schema):
    items: list[T]
    count: int = Field(description="How many items match, across all pages.")
    limit: int
    offset: int


def paginate[M: Model](
    rows: QuerySet[M] | Sequence[M],
    paging: Paging,
    render: Callable[[M], dict[str, Any]],
    *,
    prepare: Callable[[list[M]], None] | None = None,
) -> dict[str, Any]:
    """One page of ``rows``, each turned into JSON by ``render``; ``prepare`` sees the page's rows first (to
    adjust them all with one query)."""
    count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    window = list(rows[paging.offset : paging.offset + paging.limit])
    if prepare is not None:
        prepare(window)
    return {
        "items": [render(row) for row in window],
        "count": count,
        "limit": paging.limit,
        "offset": paging.offset,
    }


def lookup[T](field: str, find: Callable[[], T]) -> T:
    """Run a ``get_..._or_404`` selector for a reference given in the body: unknown → 400 naming ``field``."""
    try:
        return find()
    except NotFound as exc:
        raise ValidationFailed(f"{field}: {exc.message}", field=field) from None


def known_filter(field: str, find: Callable[[], object], *, seen: Callable[[], bool] | None = None) -> None:
    """Check a list filter that names an object (``?team=``, ``?service=``, ``?assignee=`` ...): one the caller
    cannot see, or that does not exist (the same answer), is a 400 naming the parameter, never a 404 nor a silent
    empty list. ``find`` is the ``get_..._or_404`` selector; ``seen``, where a list shows items beyond the
    caller's teams (an incident of another team they take part in), says whether such an item carries the value,
    which then filters as usual."""
    try:
        find()
    except NotFound as exc:
        if seen is not None and seen():
            return
        raise ValidationFailed(f"{field}: {exc.message}", field=field) from None


def user_key(value: int | str) -> int | str:
    """A user reference as the selectors take it: an id or an email address."""
    return value.strip() if isinstance(value, str) else value


# ---------------------------------------------------------------------------------------------------------------
# output


class UserRef(Schema):
    id: int
    email: str
    name: str


class TeamRef(Schema):
    id: int
    slug: str
    name: str


class TeamRoleOut(Schema):
    slug: str
    name: str
    role: str


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    name: str
    time_zone: str = Field(description="The IANA zone the console shows this person's times in.")
    is_org_admin: bool
    is_active: bool
    date_joined: datetime
    teams: list[TeamRoleOut] = Field(description="Teams the asking user can see, with this user's role.")


class UserCreatedOut(Schema):
    user: UserOut
    password: str | None = Field(
        description="The generated password when none was given; shown only this once, otherwise null."
    )


class TeamOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    created_at: datetime
    my_role: str | None = Field(description="Your role in this team, or null (organisation admins).")
    sso_group: str = Field(
        description='The single sign-on group whose members join this team at sign-in (docs/sso.md); "": none.'
    )


class TeamDetailOut(TeamOut):
    member_count: int


class MembershipOut(Schema):
    user: UserRef
    team: TeamRef
    role: str
    created_at: datetime
    via_sso: bool = Field(
        description="Made by the single sign-on group sync, which removes it when they leave."
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str = Field(description="full: may do whatever you may; read: GET and HEAD only.")
    created_at: datetime
    expires_at: datetime | None = Field(description="When it stops working; null: never (older tokens).")
    last_used_at: datetime | None
    revoked_at: datetime | None
    is_expired: bool
    is_active: bool = Field(description="Usable now: neither revoked nor expired.")


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret. Shown only this once; store it now.")


# ---------------------------------------------------------------------------------------------------------------
# input


class TeamIn(InputSchema):
    name: str
    description: str = ""


class TeamPatch(InputSchema):
    sso_group: str = Field(
        description='The single sign-on group whose members join this team at sign-in (docs/sso.md); "" unlinks.'
    )


class MembershipIn(InputSchema):
    role: str = Field(description=f"One of: {', '.join(Role.values)}.")


class UserIn(InputSchema):
    email: str
    full_name: str = ""
    time_zone: str = Field("UTC", description="An IANA time zone, e.g. Europe/London.")
    password: str | None = Field(None, description="Leave out to have one generated and returned once.")
    is_org_admin: bool = False


class TokenIn(InputSchema):
    name: str
    scope: str = Field(TokenScope.FULL, description="full (the default) or read: a read token may only GET.")
    expires_in_days: int | None = Field(
        None,
        description=f"Days until it expires, 1-{TOKEN_MAX_DAYS}; default {TOKEN_DEFAULT_DAYS}. "
        "Or give expires_at instead.",
    )
    expires_at: IsoDateTime | None = Field(
        None,
        description=f"When it expires, with a time zone; in the future, at most {TOKEN_MAX_DAYS} days ahead.",
    )


class UserPatch(InputSchema):
    is_active: bool = Field(description="false deactivates the person (they left); true reactivates them.")


class LeftBehindOut(Schema):
    kind: str = Field(description="incident, schedule, escalation_policy, escalation, ...")
    name: str
    detail: str
    message: str


class UserPatchedOut(UserOut):
    warnings: list[LeftBehindOut] = Field(
        description="What a deactivated person leaves behind (open incidents assigned to them, schedules and "
        "escalation policies naming them): hand it over. Empty when reactivating."
    )


class PasswordChangeIn(InputSchema):
    current_password: str = Field(description="Your password now.")
    new_password: str = Field(description="At least 10 characters, not common, not like your name or email.")


class PasswordResetOut(Schema):
    password: str = Field(description="The new generated password; shown only this once.")


class ProfilePatch(InputSchema):
    """Only the fields sent are changed. ``name`` is another spelling of ``full_name``."""

    full_name: str | None = Field(None, max_length=150, description="Your name; empty shows your email.")
    name: str | None = Field(None, max_length=150, description="The same as full_name.")
    time_zone: str | None = Field(None, description="An IANA time zone, e.g. America/Chicago.")


# ---------------------------------------------------------------------------------------------------------------
# rendering


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.display_name}


def team_ref(team: Team) -> dict[str, Any]:
    return {"id": team.pk, "slug": team.slug, "name": team.name}


def user_json(user: User, memberships: Sequence[Membership]) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "name": user.display_name,
        "time_zone": user.time_zone,
        "is_org_admin": user.is_org_admin,
        "is_active": user.is_active,
        "date_joined": user.date_joined,
        "teams": [{"slug": m.team.slug, "name": m.team.name, "role": m.role} for m in memberships],
    }


def team_json(team: Team, my_role: str | None) -> dict[str, Any]:
    return {
        "id": team.pk,
        "slug": team.slug,
        "name": team.name,
        "description": team.description,
        "created_at": team.created_at,
        "my_role": my_role,
        "sso_group": team.sso_group,
    }


def membership_json(membership: Membership) -> dict[str, Any]:
    return {
        "user": user_ref(membership.user),
        "team": team_ref(membership.team),
        "role": membership.role,
        "created_at": membership.created_at,
        "via_sso": membership.via_sso,
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "scope": token.scope,
        "expires_at": token.expires_at,
        "is_expired": token.is_expired,
        "is_active": token.is_active,
    }


def left_behind_json(item: LeftBehind) -> dict[str, Any]:
    return {"kind": item.kind, "name": item.name, "detail": item.detail, "message": item.message}
