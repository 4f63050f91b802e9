from typing import Any

from django.contrib import admin, messages
from django.forms import ModelForm
from django.http import HttpRequest

from warroom.accounts import services
from warroom.accounts.models import ApiToken, Membership, Team, User
from warroom.lib.errors import ServiceError


class MembershipInline(admin.TabularInline[Membership, Team]):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["email", "full_name", "is_org_admin", "is_active"]
    search_fields = ["email", "full_name"]
    exclude = ["password", "user_permissions", "groups"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """People are deactivated, never deleted: deleting would take their pages and history with them and
        leave their audit rows without an actor."""
        return False

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        """Active or not goes through :func:`warroom.accounts.services.set_active` (tokens revoked, audit row);
        the other fields are saved as the admin site does."""
        wanted = obj.is_active
        toggled = change and "is_active" in form.changed_data
        if toggled:
            obj.is_active = not wanted
        super().save_model(request, obj, form, change)
        if not toggled:
            return
        try:
            services.set_active(user=obj, active=wanted, actor=request.user, source="web")  # type: ignore[arg-type]
        except ServiceError as exc:
            messages.error(request, exc.message)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["digest", "prefix"]
