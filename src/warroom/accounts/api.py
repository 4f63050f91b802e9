"""REST routes for the signed-in user, teams and their members, users and API tokens.

Reads go through :mod:`warroom.accounts.selectors` (another team's team or user is a 404); writes go through
:mod:`warroom.accounts.services`, which check who may do what (403) and write the audit log.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from warroom.accounts import deactivation, selectors, services
from warroom.accounts.models import Team, User
from warroom.accounts.schemas import (
    MembershipIn,
    MembershipOut,
    Page,
    Paging,
    PasswordChangeIn,
    PasswordResetOut,
    ProfilePatch,
    TeamDetailOut,
    TeamIn,
    TeamOut,
    TeamPatch,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserCreatedOut,
    UserIn,
    UserOut,
    UserPatch,
    UserPatchedOut,
    caller,
    left_behind_json,
    membership_json,
    paginate,
    source_of,
    team_json,
    token_json,
    user_json,
    user_key,
)
from warroom.lib.errors import ValidationFailed

router = Router(tags=["accounts"])


def _user_json(viewer: User, user: User) -> dict[str, Any]:
    return user_json(user, list(selectors.memberships_visible_to(viewer, user)))


def _team_detail(viewer: User, team: Team) -> dict[str, Any]:
    data = team_json(team, selectors.role_in(viewer, team.pk))
    data["member_count"] = selectors.team_members(team).count()
    return data


# ---------------------------------------------------------------------------------------------------------------
# me


@router.get("/me", response=UserOut, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    """The authenticated user, with every team they belong to and their role there."""
    user = caller(request)
    return _user_json(user, user)


@router.patch("/me", response=UserOut, summary="Change your name or time zone")
def update_me(request: HttpRequest, payload: ProfilePatch) -> dict[str, Any]:
    """Only the fields sent change: ``full_name`` (or ``name``, the same thing; empty shows your email) and
    ``time_zone`` (an IANA name; the console shows your times in it). Answers like ``GET /me``."""
    user = caller(request)
    sent = payload.dict(exclude_unset=True)
    for field, value in sent.items():
        if value is None:
            raise ValidationFailed(f"{field} cannot be null", field=field)
    if "name" in sent and "full_name" in sent and sent["name"].strip() != sent["full_name"].strip():
        raise ValidationFailed("send full_name or name, not two different names", field="name")
    services.update_profile(
        user=user,
        actor=user,
        source=source_of(request),
        full_name=sent.get("full_name", sent.get("name")),
        time_zone=sent.get("time_zone"),
    )
    return _user_json(user, user)


@router.post("/me/password", response={204: None}, summary="Change your password")
def change_my_password(request: HttpRequest, payload: PasswordChangeIn) -> Status[None]:
    """Give your current password and the new one. A wrong current password or a weak new one is a 400 naming
    the field. Your console sessions end (sign in again); API tokens keep working."""
    user = caller(request)
    services.change_password(
        user=user,
        current_password=payload.current_password,
        new_password=payload.new_password,
        actor=user,
        source=source_of(request),
    )
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# teams


@router.get("/teams", response=Page[TeamOut], summary="List teams")
def list_teams(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """The teams you belong to (organisation admins: every team)."""
    user = caller(request)
    roles = selectors.roles_by_team(user)
    return paginate(selectors.visible_teams(user), paging, lambda t: team_json(t, roles.get(t.pk)))


@router.post("/teams", response={201: TeamDetailOut}, summary="Create a team")
def create_team(request: HttpRequest, payload: TeamIn) -> Status[dict[str, Any]]:
    """Organisation admins only. The slug is derived from the name."""
    user = caller(request)
    team = services.create_team(
        name=payload.name, description=payload.description, actor=user, source=source_of(request)
    )
    return Status(201, _team_detail(user, team))


@router.get("/teams/{slug}", response=TeamDetailOut, summary="Get a team")
def get_team(request: HttpRequest, slug: str) -> dict[str, Any]:
    user = caller(request)
    return _team_detail(user, selectors.get_team_for_user_or_404(user, key=slug))


@router.patch("/teams/{slug}", response=TeamDetailOut, summary="Link a team to a single sign-on group")
def update_team(request: HttpRequest, slug: str, payload: TeamPatch) -> dict[str, Any]:
    """Organisation admins only. Members of the group at the provider join the team as responders when they sign
    in through it, and leave when they are no longer in it (docs/sso.md); ``""`` unlinks the team."""
    user = caller(request)
    team = selectors.get_team_for_user_or_404(user, key=slug)
    team = services.set_team_sso_group(
        team=team, group=payload.sso_group, actor=user, source=source_of(request)
    )
    return _team_detail(user, team)


@router.get("/teams/{slug}/members", response=Page[MembershipOut], summary="List a team's members")
def list_members(request: HttpRequest, slug: str, paging: Query[Paging]) -> dict[str, Any]:
    user = caller(request)
    team = selectors.get_team_for_user_or_404(user, key=slug)
    return paginate(selectors.team_members(team).select_related("team"), paging, membership_json)


@router.put(
    "/teams/{slug}/members/{user_id}", response=MembershipOut, summary="Add a member or change a role"
)
def set_member(request: HttpRequest, slug: str, user_id: str, payload: MembershipIn) -> dict[str, Any]:
    """Team admins and managers (and organisation admins). ``user_id`` is an id or an email address of a
    user you can already see; organisation admins see everyone."""
    user = caller(request)
    team = selectors.get_team_for_user_or_404(user, key=slug)
    member = selectors.get_user_for_user_or_404(user, key=user_key(user_id))
    membership = services.set_membership(
        team=team, user=member, role=payload.role, actor=user, source=source_of(request)
    )
    return membership_json(membership)


@router.delete("/teams/{slug}/members/{user_id}", response={204: None}, summary="Remove a member")
def remove_member(request: HttpRequest, slug: str, user_id: str) -> Status[None]:
    user = caller(request)
    team = selectors.get_team_for_user_or_404(user, key=slug)
    key = user_key(user_id)
    member = selectors.team_member(team, key=key) or selectors.get_user_for_user_or_404(user, key=key)
    services.remove_membership(team=team, user=member, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# users


@router.get("/users", response=Page[UserOut], summary="List users")
def list_users(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """The people in your teams (organisation admins: everyone)."""
    user = caller(request)
    return paginate(
        selectors.visible_users(user).order_by("full_name", "email"), paging, lambda u: _user_json(user, u)
    )


@router.post("/users", response={201: UserCreatedOut}, summary="Create a user")
def create_user(request: HttpRequest, payload: UserIn) -> Status[dict[str, Any]]:
    """Organisation admins only. Without a password one is generated and returned in this answer only."""
    user = caller(request)
    generated = payload.password is None
    password = services.generate_password() if payload.password is None else payload.password
    created = services.create_user(
        email=payload.email,
        password=password,
        full_name=payload.full_name,
        time_zone=payload.time_zone,
        is_org_admin=payload.is_org_admin,
        actor=user,
        source=source_of(request),
        validate=not generated,
    )
    return Status(201, {"user": _user_json(user, created), "password": password if generated else None})


@router.get("/users/{user_id}", response=UserOut, summary="Get a user")
def get_user(request: HttpRequest, user_id: str) -> dict[str, Any]:
    """``user_id`` is an id or an email address."""
    user = caller(request)
    return _user_json(user, selectors.get_user_for_user_or_404(user, key=user_key(user_id)))


@router.patch("/users/{user_id}", response=UserPatchedOut, summary="Deactivate or reactivate a user")
def update_user(request: HttpRequest, user_id: str, payload: UserPatch) -> dict[str, Any]:
    """Organisation admins only (not on themselves): ``{"is_active": false}`` when someone leaves. They can no
    longer sign in, their sessions end and their API tokens are revoked; paging skips them. Their history
    stays. The answer's ``warnings`` list what they leave behind: open incidents assigned to them, schedules
    and escalation policies that still name them; hand those over. ``{"is_active": true}`` brings them back
    (organisation admins find deactivated people by id or email here)."""
    user = caller(request)
    target = selectors.get_user_to_administer_or_404(user, key=user_key(user_id))
    services.set_active(user=target, active=payload.is_active, actor=user, source=source_of(request))
    warnings = [] if target.is_active else deactivation.left_behind(target)
    return {**_user_json(user, target), "warnings": [left_behind_json(w) for w in warnings]}


@router.post("/users/{user_id}/password", response=PasswordResetOut, summary="Reset a user's password")
def reset_password(request: HttpRequest, user_id: str) -> dict[str, Any]:
    """Organisation admins only: give the user a new generated password, returned in this answer only. Their
    console sessions end; their API tokens keep working."""
    user = caller(request)
    target = selectors.get_user_to_administer_or_404(user, key=user_key(user_id))
    return {"password": services.reset_password(user=target, actor=user, source=source_of(request))}


# ---------------------------------------------------------------------------------------------------------------
# tokens


@router.get("/tokens", response=Page[TokenOut], summary="List your API tokens")
def list_tokens(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Your own tokens, newest first, including revoked and expired ones, with their scope and expiry.
    Secrets are never shown again."""
    return paginate(selectors.tokens_of(caller(request)), paging, token_json)


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """A new token for yourself. The answer holds the secret; it is shown only this once.

    It expires after ``expires_in_days`` (default 90, at most 1095) or at ``expires_at``; an expired token is
    refused with 401 ``token_expired``. ``"scope": "read"`` makes a read-only token: anything but GET/HEAD
    with it is a 403."""
    user = caller(request)
    token, secret = services.create_api_token(
        user=user,
        name=payload.name,
        actor=user,
        source=source_of(request),
        scope=payload.scope,
        expires_in_days=payload.expires_in_days,
        expires_at=payload.expires_at,
    )
    return Status(201, {**token_json(token), "token": secret})


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int) -> dict[str, Any]:
    """Revoke one of your tokens; it stops working at once. Revoking twice is a 409."""
    user = caller(request)
    token = selectors.get_token_for_user_or_404(user, token_id=token_id)
    return token_json(services.revoke_api_token(token=token, actor=user, source=source_of(request)))
