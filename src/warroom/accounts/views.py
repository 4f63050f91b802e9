"""Console pages for teams (members and roles), the user's own API tokens and their profile."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors, services, sso
from warroom.accounts.forms import (
    AddMemberForm,
    PasswordForm,
    ProfileForm,
    RoleChangeForm,
    TeamForm,
    TokenForm,
    role_choices,
)
from warroom.accounts.models import Team
from warroom.catalog import selectors as catalog
from warroom.lib.errors import NotFound, PermissionDenied, ServiceError
from warroom.web import shown_once
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error

#: the refusal of a member change to someone who is not an admin or manager of the team (the service's words)
MAY_NOT_CHANGE_MEMBERS = "only the team's admins and managers change its members"

#: Where a new API token waits, sealed, for the page that shows it once (:mod:`warroom.web.shown_once`).
NEW_TOKEN_SESSION = "warroom.accounts.new_token"

# ---------------------------------------------------------------------------------------------------------------
# teams


def _teams_page(request: AuthedRequest, *, form: TeamForm | None = None, status: int = 200) -> HttpResponse:
    roles = selectors.roles_by_team(request.user)
    teams = [
        {"team": team, "role": roles.get(team.pk), "members": selectors.team_members(team).count()}
        for team in selectors.visible_teams(request.user)
    ]
    if form is None and request.user.is_org_admin:
        form = TeamForm()
    return render(request, "accounts/team_list.html", {"teams": teams, "form": form}, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def team_list(request: AuthedRequest) -> HttpResponse:
    """The teams the user can see; a POST from an organisation admin creates one."""
    if request.method == "GET":
        return _teams_page(request)
    if not request.user.is_org_admin:
        raise PermissionDenied("only organisation admins create teams")
    form = TeamForm(request.POST)
    if not form.is_valid():
        return _teams_page(request, form=form, status=400)
    try:
        team = services.create_team(
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _teams_page(request, form=form, status=form_error(form, exc))
    messages.success(request, f"{team.name} created. Add its members and give it services.")
    return redirect("web:team-detail", slug=team.slug)


def _team_page(
    request: AuthedRequest, team: Team, *, status: int = 200, add_form: forms.Form | None = None, **extra: Any
) -> HttpResponse:
    can_grant_admin = selectors.can_grant_admin(request.user, team.pk)
    context = {
        "team": team,
        "members": selectors.team_members(team),
        "services": catalog.visible_services(request.user).filter(team=team),
        "can_manage": selectors.can_manage_team(request.user, team.pk),
        "can_grant_admin": can_grant_admin,
        "my_role": selectors.role_in(request.user, team.pk),
        "add_form": add_form or AddMemberForm(with_admin=can_grant_admin),
        "role_choices": role_choices(with_admin=can_grant_admin),
        **extra,
    }
    return render(request, "accounts/team_detail.html", context, status=status)


@console_view
@require_GET
def team_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    return _team_page(request, selectors.get_team_for_user_or_404(request.user, key=slug))


@console_view
@require_POST
def team_member_add(request: AuthedRequest, slug: str) -> HttpResponse:
    """Add an existing active user, found by email, to the team (its admins and managers, org admins).

    Whether someone may add members is settled before the email is looked up: otherwise anyone who can see the
    team could learn, from "no active user with email …" against a refusal, which addresses belong to people."""
    team = selectors.get_team_for_user_or_404(request.user, key=slug)
    if not selectors.can_manage_team(request.user, team.pk):
        raise PermissionDenied(MAY_NOT_CHANGE_MEMBERS)
    form = AddMemberForm(request.POST, with_admin=selectors.can_grant_admin(request.user, team.pk))
    if not form.is_valid():
        return _team_page(request, team, status=400, add_form=form)
    person = selectors.find_active_user(form.cleaned_data["email"])
    try:
        if person is None:
            raise NotFound(f"there is no active user with email {form.cleaned_data['email']}", field="email")
        if selectors.is_member(person.pk, team.pk):
            form.add_error(
                "email", f"{person.display_name} is already in {team.name}; change their role below"
            )
            return _team_page(request, team, status=409, add_form=form)
        services.set_membership(
            team=team, user=person, role=form.cleaned_data["role"], actor=request.user, source=SOURCE
        )
    except ServiceError as exc:
        status = form_error(form, exc)
        return _team_page(request, team, status=400 if status == 404 else status, add_form=form)
    messages.success(request, f"{person.display_name} joined {team.name} as {form.cleaned_data['role']}.")
    return redirect("web:team-detail", slug=team.slug)


def _member(request: AuthedRequest, team: Team, user_id: int) -> Any:
    member = selectors.team_members(team).filter(user_id=user_id).first()
    if member is None:
        raise NotFound(f"user {user_id} is not a member of {team.name}")
    return member


@console_view
@require_POST
def team_member_role(request: AuthedRequest, slug: str, user_id: int) -> HttpResponse:
    team = selectors.get_team_for_user_or_404(request.user, key=slug)
    member = _member(request, team, user_id)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        return _team_page(request, team, status=400, member_error=(member.user_id, "choose a valid role"))
    try:
        services.set_membership(
            team=team, user=member.user, role=form.cleaned_data["role"], actor=request.user, source=SOURCE
        )
    except ServiceError as exc:
        if exc.status == 403 and not selectors.can_manage_team(request.user, team.pk):
            raise
        return _team_page(request, team, status=exc.status, member_error=(member.user_id, exc.message))
    messages.success(
        request, f"{member.user.display_name} is now {form.cleaned_data['role']} in {team.name}."
    )
    return redirect("web:team-detail", slug=team.slug)


@console_view
@require_POST
def team_member_remove(request: AuthedRequest, slug: str, user_id: int) -> HttpResponse:
    team = selectors.get_team_for_user_or_404(request.user, key=slug)
    member = _member(request, team, user_id)
    try:
        services.remove_membership(team=team, user=member.user, actor=request.user, source=SOURCE)
    except ServiceError as exc:
        if exc.status == 403 and not selectors.can_manage_team(request.user, team.pk):
            raise
        return _team_page(request, team, status=exc.status, member_error=(member.user_id, exc.message))
    messages.success(request, f"{member.user.display_name} left {team.name}.")
    return redirect("web:team-detail", slug=team.slug)


# ---------------------------------------------------------------------------------------------------------------
# API tokens


def _tokens_page(
    request: AuthedRequest, *, form: TokenForm | None = None, secret: str = "", status: int = 200
) -> HttpResponse:
    context = {"tokens": selectors.tokens_of(request.user), "form": form or TokenForm(), "secret": secret}
    return render(request, "accounts/tokens.html", context, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def token_list(request: AuthedRequest) -> HttpResponse:
    """List the user's tokens; a POST creates one and redirects here, where its secret shows this once."""
    if request.method == "GET":
        held = shown_once.take(request, NEW_TOKEN_SESSION, owner=request.user.pk)
        if held is None or not selectors.tokens_of(request.user).filter(pk=held.ref, revoked_at__isnull=True):
            return _tokens_page(request)
        response = _tokens_page(request, secret=held.secret)
        response["Cache-Control"] = "no-store"
        return response
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, form=form, status=400)
    try:
        token, secret = services.create_api_token(
            user=request.user,
            name=form.cleaned_data["name"],
            actor=request.user,
            source=SOURCE,
            scope=form.cleaned_data["scope"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
    except ServiceError as exc:
        return _tokens_page(request, form=form, status=form_error(form, exc))
    # POST/redirect/GET: a reload of the page that shows the token must not make another one.
    shown_once.hold(request, NEW_TOKEN_SESSION, shown_once.Held(request.user.pk, token.pk, secret))
    return redirect("web:token-list")


@console_view
@require_POST
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    token = selectors.get_token_for_user_or_404(request.user, token_id=token_id)
    try:
        services.revoke_api_token(token=token, actor=request.user, source=SOURCE)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _tokens_page(request, status=exc.status)
    messages.success(request, f"Token {token.name} revoked. Anything using it is now refused.")
    return redirect("web:token-list")


# ---------------------------------------------------------------------------------------------------------------
# profile


def _profile_page(
    request: AuthedRequest, *, form: ProfileForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    if form is None:
        form = ProfileForm(
            initial={"full_name": user.full_name, "time_zone": user.time_zone}, current_zone=user.time_zone
        )
    context = {
        "form": form,
        "sso": sso.config() if sso.enabled() else None,
        "identities": list(user.external_identities.order_by("created_at")),
    }
    return render(request, "accounts/profile.html", context, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def profile(request: AuthedRequest) -> HttpResponse:
    """The user's display name and time zone; a POST saves them."""
    if request.method == "GET":
        return _profile_page(request)
    form = ProfileForm(request.POST, current_zone=request.user.time_zone)
    if not form.is_valid():
        return _profile_page(request, form=form, status=400)
    try:
        user = services.update_profile(
            user=request.user,
            actor=request.user,
            source=SOURCE,
            full_name=form.cleaned_data["full_name"],
            time_zone=form.cleaned_data["time_zone"],
        )
    except ServiceError as exc:
        return _profile_page(request, form=form, status=form_error(form, exc))
    messages.success(request, f"Profile saved. Times are shown in {user.time_zone}.")
    return redirect("web:profile")


@console_view
@require_http_methods(["GET", "POST"])
def password(request: AuthedRequest) -> HttpResponse:
    """Change one's own password; this session stays signed in, the person's other sessions end."""
    if request.method == "GET":
        return render(request, "accounts/password.html", {"form": PasswordForm()})
    form = PasswordForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/password.html", {"form": form}, status=400)
    try:
        services.change_password(
            user=request.user,
            current_password=form.cleaned_data["current_password"],
            new_password=form.cleaned_data["new_password"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        status = form_error(form, exc)
        return render(request, "accounts/password.html", {"form": form}, status=status)
    update_session_auth_hash(request, request.user)
    messages.success(request, "Password changed. Your other signed-in sessions are signed out.")
    return redirect("web:profile")
