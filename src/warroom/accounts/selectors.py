"""Reads of accounts data, scoped to what the asking user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from warroom.accounts.models import ACTING_ROLES, MANAGING_ROLES, ApiToken, Membership, Role, Team, User
from warroom.lib.errors import NotFound
from warroom.lib.ids import as_id


def roles_by_team(user: User) -> dict[int, str]:
    """Map team id → the user's role there. Cached on the user object for the request."""
    cached: dict[int, str] | None = getattr(user, "_warroom_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
        user._warroom_roles = cached  # type: ignore[attr-defined]
    return cached


def team_ids(user: User) -> set[int]:
    return set(roles_by_team(user))


def role_in(user: User, team_id: int | None) -> str | None:
    if team_id is None:
        return None
    return roles_by_team(user).get(team_id)


def can_act_for_team(user: User, team_id: int | None) -> bool:
    """May change the team's incidents and services (admin, manager or responder, or an org admin)."""
    return user.is_org_admin or role_in(user, team_id) in ACTING_ROLES


def can_manage_team(user: User, team_id: int | None) -> bool:
    """May change the team itself: members, roles, services."""
    return user.is_org_admin or role_in(user, team_id) in MANAGING_ROLES


def can_grant_admin(user: User, team_id: int | None) -> bool:
    """May make someone an admin of the team, or change or remove one of its admins (its admins, org admins)."""
    return user.is_org_admin or role_in(user, team_id) == Role.ADMIN


def visible_teams(user: User) -> QuerySet[Team]:
    if user.is_org_admin:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


def actionable_teams(user: User) -> QuerySet[Team]:
    """Teams the user may assign incidents to or declare for."""
    if user.is_org_admin:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user, memberships__role__in=list(ACTING_ROLES)).distinct()


def managed_teams(user: User) -> QuerySet[Team]:
    """Teams the user may change (members, roles, services): see :func:`can_manage_team`."""
    if user.is_org_admin:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user, memberships__role__in=list(MANAGING_ROLES)).distinct()


def get_team_for_user_or_404(user: User, *, key: int | str) -> Team:
    """A team by id or slug, if the user may see it; otherwise :class:`NotFound`."""
    teams = visible_teams(user)
    team = teams.filter(pk=ident).first() if (ident := as_id(key)) is not None else None
    if team is None:
        team = teams.filter(slug=str(key)).first()
    if team is None:
        raise NotFound(f"team {key!r} not found")
    return team


def visible_users(user: User) -> QuerySet[User]:
    """People the user can see: org admins see everyone, others see the members of their teams."""
    if user.is_org_admin:
        return User.objects.filter(is_active=True)
    return User.objects.filter(is_active=True, memberships__team__in=team_ids(user)).distinct()


def get_user_for_user_or_404(user: User, *, key: int | str) -> User:
    users = visible_users(user)
    found = (
        users.filter(pk=ident).first()
        if (ident := as_id(key)) is not None
        else users.filter(email__iexact=str(key)).first()
    )
    if found is None:
        raise NotFound(f"user {key!r} not found")
    return found


def team_member(team: Team, *, key: int | str) -> User | None:
    """A member of ``team`` (which the caller may see) by id or email, deactivated people included: a person who
    left is still taken out of their teams."""
    members = User.objects.filter(memberships__team=team)
    ident = as_id(key)
    return (
        members.filter(pk=ident).first()
        if ident is not None
        else members.filter(email__iexact=str(key)).first()
    )


def get_user_to_administer_or_404(user: User, *, key: int | str) -> User:
    """A user by id or email for an account change: organisation admins find everyone, deactivated people
    included (to reactivate them); others find who :func:`get_user_for_user_or_404` finds, and the service then
    refuses them."""
    if not user.is_org_admin:
        return get_user_for_user_or_404(user, key=key)
    users = User.objects.all()
    found = (
        users.filter(pk=ident).first()
        if (ident := as_id(key)) is not None
        else users.filter(email__iexact=str(key)).first()
    )
    if found is None:
        raise NotFound(f"user {key!r} not found")
    return found


def team_members(team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__full_name")


def is_member_acting(user_id: int, team_id: int) -> bool:
    return Membership.objects.filter(user_id=user_id, team_id=team_id, role__in=list(ACTING_ROLES)).exists()


def is_member(user_id: int, team_id: int) -> bool:
    return Membership.objects.filter(user_id=user_id, team_id=team_id).exists()


def memberships_visible_to(viewer: User, user: User) -> QuerySet[Membership]:
    """``user``'s memberships in the teams ``viewer`` may see (all of them for organisation admins)."""
    memberships = Membership.objects.filter(user=user).select_related("team").order_by("team__name")
    if viewer.is_org_admin:
        return memberships
    return memberships.filter(team_id__in=team_ids(viewer))


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def get_token_for_user_or_404(user: User, *, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound(f"token {token_id} not found")
    return token


def team_people(team: Team) -> QuerySet[User]:
    """The active members of ``team`` (any role), by name: who can hold a role or own a task on its incidents."""
    return User.objects.filter(memberships__team=team, is_active=True).order_by("full_name", "email")


def find_active_user(email: str) -> User | None:
    """The active user with this email, for a team manager adding an existing person to their team."""
    return User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()


__all__ = ["Role"]
