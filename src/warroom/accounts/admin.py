"""Admin site pages of people, teams and tokens.

Changes that carry rights go through an audited path or are read-only here: a person's active state through
:func:`warroom.accounts.services.set_active`; every other change to a person (their organisation admin, staff
and superuser flags among them: the admin site is the one place to change those) writes an audit row
``user.admin.update`` with the fields before and after. Team memberships and API tokens are read-only here:
members change on the team's console page or through the API (which enforce who may grant the admin role),
tokens are made and revoked by their owner, and all of a person's are revoked when they are deactivated.
Changes to teams (name, slug, description; creating or deleting one) are audited as ``team.admin.*``
(:class:`warroom.audit.admin_mixins.AuditedAdmin`).
"""

from typing import Any

from django.contrib import admin, messages
from django.forms import ModelForm
from django.forms.models import model_to_dict
from django.http import HttpRequest

from warroom.accounts import deactivation, services
from warroom.accounts.models import ApiToken, ExternalIdentity, Membership, Team, User
from warroom.audit import services as audit
from warroom.audit.admin_mixins import AuditedAdmin
from warroom.lib.errors import ServiceError


class MembershipInline(admin.TabularInline[Membership, Team]):
    """Read-only: members change on the team's console page or through the API (audited, with the rule that only
    the team's admins grant the admin role)."""

    model = Membership
    extra = 0
    fields = ["user", "role", "via_sso", "created_at"]
    readonly_fields = ["user", "role", "via_sso", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["email", "full_name", "is_org_admin", "is_active"]
    search_fields = ["email", "full_name"]
    exclude = ["password", "user_permissions", "groups"]
    readonly_fields = ["last_login", "date_joined"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """People are deactivated, never deleted: deleting would take their pages and history with them, and
        the audit log keeps who acted (the actor is protected)."""
        return False

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        """Active or not goes through :func:`warroom.accounts.services.set_active` (tokens revoked, audit row);
        the other fields are saved as the admin site does, with an audit row ``user.admin.update`` (or
        ``user.admin.create``) naming them before and after, in the admin's transaction."""
        wanted = obj.is_active
        toggled = change and "is_active" in form.changed_data
        if toggled:
            obj.is_active = not wanted
        audited = [name for name in form.changed_data if name != "is_active"]
        before = model_to_dict(User.objects.get(pk=obj.pk), fields=audited) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        if audited or not change:
            audit.record(
                actor=request.user,  # type: ignore[arg-type]
                source="web",
                action="user.admin.update" if change else "user.admin.create",
                obj=obj,
                before=_plain(before),
                after=_plain(model_to_dict(obj, fields=audited if change else form.changed_data)),
            )
        if not toggled:
            return
        try:
            services.set_active(user=obj, active=wanted, actor=request.user, source="web")  # type: ignore[arg-type]
        except ServiceError as exc:
            messages.error(request, exc.message)
            return
        if not wanted:
            for item in deactivation.left_behind(obj):
                messages.warning(request, f"{obj.display_name} leaves behind {item.message}")


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Field values as JSON can hold them (times as ISO text)."""
    if values is None:
        return None
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


@admin.register(Team)
class TeamAdmin(AuditedAdmin[Team]):
    """Changes are audited: ``team.admin.create``, ``team.admin.update``, ``team.admin.delete``."""

    list_display = ["name", "slug", "sso_group"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Read-only: a token is made and revoked by its owner (console or API); deactivating a person revokes all
    of theirs."""

    list_display = [
        "name",
        "user",
        "prefix",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(AuditedAdmin[ExternalIdentity]):
    """A person's link to their account at the single sign-on provider (docs/sso.md). Read-only; deleting one
    unlinks it (audited ``externalidentity.admin.delete``): their next sign-in through the provider links again
    by verified email, for example to another account at the provider that now has their email."""

    list_display = ["user", "email", "issuer", "subject", "created_at", "last_used_at"]
    search_fields = ["user__email", "email", "subject"]
    readonly_fields = ["user", "issuer", "subject", "email", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
