"""Read-only admin pages: schedules change through the API and console so every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from warroom.oncall.models import CalendarFeed, Layer, LayerMember, Override, Restriction, Schedule


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MemberInline(ReadOnly, admin.TabularInline[LayerMember, Layer]):
    model = LayerMember
    extra = 0


class RestrictionInline(ReadOnly, admin.TabularInline[Restriction, Layer]):
    model = Restriction
    extra = 0


@admin.register(Schedule)
class ScheduleAdmin(ReadOnly, admin.ModelAdmin[Schedule]):
    list_display = ["name", "team", "time_zone"]
    list_filter = ["team"]
    search_fields = ["name"]


@admin.register(Layer)
class LayerAdmin(ReadOnly, admin.ModelAdmin[Layer]):
    list_display = ["name", "schedule", "priority", "rotation_kind", "shift_length"]
    inlines = [MemberInline, RestrictionInline]


@admin.register(Override)
class OverrideAdmin(ReadOnly, admin.ModelAdmin[Override]):
    list_display = ["schedule", "user", "replaces", "start", "end"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnly, admin.ModelAdmin[CalendarFeed]):
    list_display = ["kind", "user", "schedule", "prefix", "created_at", "revoked_at"]
    exclude = ["digest"]
