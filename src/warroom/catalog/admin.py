from django.contrib import admin

from warroom.catalog.models import Service, ServiceDependency


class DependencyInline(admin.TabularInline[ServiceDependency, Service]):
    model = ServiceDependency
    fk_name = "service"
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ["name", "team", "tier"]
    list_filter = ["team", "tier"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DependencyInline]
