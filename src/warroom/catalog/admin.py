from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from warroom.audit.admin_mixins import AuditedAdmin
from warroom.catalog.models import Service, ServiceDependency


class DependencyInline(admin.TabularInline[ServiceDependency, Service]):
    """Read-only: dependencies change on the service's console page or through the API (audited)."""

    model = ServiceDependency
    fk_name = "service"
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(AuditedAdmin[Service]):
    """Changes are audited: ``service.admin.create``, ``service.admin.update``, ``service.admin.delete``, for
    the service's team (a service moved to another team: the row is its new team's, ``before`` names the old)."""

    list_display = ["name", "team", "tier"]
    list_filter = ["team", "tier"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DependencyInline]
