"""Admin site pages: the configurable parts (postmortem templates, the contributing-factor taxonomy) are
editable here; postmortems, problems and action items are read-only, because every change to them goes through
the services (version, audit, the incident's timeline)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from warroom.reviews.models import (
    ActionItem,
    FactorCategory,
    Postmortem,
    PostmortemPolicy,
    PostmortemTemplate,
    Problem,
)


@admin.register(PostmortemTemplate)
class PostmortemTemplateAdmin(admin.ModelAdmin[PostmortemTemplate]):
    list_display = ["name", "is_default", "updated_at"]


@admin.register(FactorCategory)
class FactorCategoryAdmin(admin.ModelAdmin[FactorCategory]):
    list_display = ["name", "slug", "position", "is_active"]
    list_editable = ["position", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PostmortemPolicy)
class PostmortemPolicyAdmin(_ReadOnly, admin.ModelAdmin[PostmortemPolicy]):
    """Changed on the console's postmortem settings page or through the API (audited)."""

    list_display = ["required_priorities", "template", "due_days", "updated_at"]


@admin.register(Postmortem)
class PostmortemAdmin(_ReadOnly, admin.ModelAdmin[Postmortem]):
    list_display = ["incident", "title", "status", "team", "required", "created_at"]
    list_filter = ["status", "required", "team"]
    search_fields = ["title"]


@admin.register(Problem)
class ProblemAdmin(_ReadOnly, admin.ModelAdmin[Problem]):
    list_display = ["pk", "title", "status", "team", "created_at"]
    list_filter = ["status", "team"]
    search_fields = ["title"]


@admin.register(ActionItem)
class ActionItemAdmin(_ReadOnly, admin.ModelAdmin[ActionItem]):
    list_display = ["title", "status", "owner", "due_date", "team"]
    list_filter = ["status", "team"]
    search_fields = ["title"]
