"""Admin site pages for SLAs: organisation admins define business calendars and SLA definitions here. Saving
and deleting go through :mod:`warroom.incidents.sla_services` (validation, audit, running clocks re-planned),
never straight to the table. Clocks are shown read-only."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from warroom.accounts.models import User
from warroom.incidents import sla_services
from warroom.incidents.models import BusinessCalendar, SlaClock, SlaDefinition
from warroom.lib.errors import ServiceError

SOURCE = "admin"


def _actor(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


def _org_admin(request: HttpRequest) -> bool:
    user = _actor(request)
    return bool(user is not None and user.is_active and user.is_org_admin)


class _OrgAdminOnly:
    """Only organisation admins see or change these pages (bulk deletes go through the services too)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _org_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _org_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _org_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _org_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _org_admin(request)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(_OrgAdminOnly, admin.ModelAdmin[BusinessCalendar]):
    list_display = ["name", "time_zone", "holiday_country", "holiday_subdivision", "updated_at"]
    search_fields = ["name"]
    exclude = ["created_at", "updated_at"]

    def save_model(
        self, request: HttpRequest, obj: BusinessCalendar, form: ModelForm[Any], change: bool
    ) -> None:
        sla_services.save_calendar(calendar=obj, actor=_actor(request), source=SOURCE)

    def delete_model(self, request: HttpRequest, obj: BusinessCalendar) -> None:
        try:
            sla_services.delete_calendar(calendar=obj, actor=_actor(request), source=SOURCE)
        except ServiceError as exc:
            messages.error(request, exc.message)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BusinessCalendar]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(SlaDefinition)
class SlaDefinitionAdmin(_OrgAdminOnly, admin.ModelAdmin[SlaDefinition]):
    list_display = [
        "name",
        "priority",
        "service",
        "team",
        "response_minutes",
        "resolution_minutes",
        "calendar",
        "is_active",
    ]
    list_filter = ["priority", "is_active", "calendar"]
    search_fields = ["name"]
    exclude = ["created_at", "updated_at"]

    def save_model(
        self, request: HttpRequest, obj: SlaDefinition, form: ModelForm[Any], change: bool
    ) -> None:
        sla_services.save_definition(definition=obj, actor=_actor(request), source=SOURCE)

    def delete_model(self, request: HttpRequest, obj: SlaDefinition) -> None:
        sla_services.delete_definition(definition=obj, actor=_actor(request), source=SOURCE)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SlaDefinition]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin[SlaClock]):
    """Read-only: clocks move only with their incident and the engine."""

    list_display = ["incident", "kind", "state", "name", "target", "due_at", "breached_at", "stopped_at"]
    list_filter = ["kind", "state"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _org_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _org_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
