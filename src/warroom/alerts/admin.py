from django.contrib import admin

from warroom.alerts.models import Alert, IntakeEvent, Integration, IntegrationKey


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin[Integration]):
    list_display = ("name", "service", "kind", "grouping", "created_at")


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(admin.ModelAdmin[IntegrationKey]):
    list_display = ("prefix", "integration", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("digest",)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    list_display = ("id", "service", "dedup_key", "status", "severity", "count", "incident", "last_seen")
    list_filter = ("status", "severity")


@admin.register(IntakeEvent)
class IntakeEventAdmin(admin.ModelAdmin[IntakeEvent]):
    list_display = ("id", "integration", "action", "dedup_key", "status", "received_at")
    list_filter = ("status", "action")
