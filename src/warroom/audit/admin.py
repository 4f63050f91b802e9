from django.contrib import admin

from warroom.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["at", "actor", "source", "action", "object_type", "object_id"]
    list_filter = ["source", "object_type"]
    search_fields = ["action", "object_id", "request_id"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
