"""Admin site pages for the configurable lists of the incident record: categories and subcategories, incident
roles and the priority matrix. Incidents themselves change only through the console, the API and the CLI,
which go through the services (timeline and audit); the admin shows them read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from warroom.incidents.models import Category, Incident, PriorityRule, RoleType, Subcategory


class SubcategoryInline(admin.TabularInline[Subcategory, Category]):
    model = Subcategory
    extra = 1


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    inlines = [SubcategoryInline]


@admin.register(RoleType)
class RoleTypeAdmin(admin.ModelAdmin[RoleType]):
    list_display = ["name", "slug", "position", "description"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin[PriorityRule]):
    """Read-only here: the console's priority matrix page edits it through the service (audited)."""

    list_display = ["impact", "urgency", "priority"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin[Incident]):
    """Read-only: every change to an incident must write its timeline and audit rows."""

    list_display = ["number", "title", "state", "priority", "team", "assignee", "opened_at"]
    list_filter = ["state", "priority", "team"]
    search_fields = ["title", "number"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


from warroom.incidents import sla_admin  # noqa: E402, F401 (registers the SLA admin pages)
