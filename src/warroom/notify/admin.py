from django.contrib import admin
from django.http import HttpRequest

from warroom.notify.models import (
    ContactMethod,
    DeliveryAttempt,
    Message,
    NotificationRule,
    ShiftReminderSetting,
    WorkingHours,
)


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin[ContactMethod]):
    list_display = ["user", "name", "kind", "display", "verified_at", "disabled"]
    list_filter = ["kind", "disabled"]
    search_fields = ["user__email", "name"]
    exclude = ["secret", "code_digest"]
    readonly_fields = ["value", "display", "config", "verified_at", "code_expires_at", "code_sent_at"]


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin[NotificationRule]):
    list_display = ["user", "urgency", "delay_minutes", "contact_method", "working_hours_only"]
    list_filter = ["urgency", "working_hours_only"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin[WorkingHours]):
    list_display = ["user", "time_zone", "days", "start", "end", "updated_at"]
    search_fields = ["user__email"]


@admin.register(ShiftReminderSetting)
class ShiftReminderSettingAdmin(admin.ModelAdmin[ShiftReminderSetting]):
    """Read-only: people set their own reminders ("Before my on-call shifts" in the console, or
    ``PUT /me/shift-reminders``) through :func:`warroom.notify.services.set_shift_reminder`, which audits it."""

    list_display = ["user", "minutes_before", "updated_at"]
    list_filter = ["minutes_before"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "minutes_before", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ShiftReminderSetting | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ShiftReminderSetting | None = None) -> bool:
        return False


class AttemptInline(admin.TabularInline[DeliveryAttempt, Message]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "number",
        "delivery_id",
        "started_at",
        "finished_at",
        "outcome",
        "provider_id",
        "error",
    ]
    exclude = ["contact_method", "counts_for_throttle"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ["created_at", "user", "kind", "target", "subject", "status", "failure", "attempts"]
    list_filter = ["status", "kind", "category"]
    search_fields = ["user__email", "subject", "delivery_id", "dedup_key", "group"]
    readonly_fields = [f.name for f in Message._meta.fields]
    inlines = [AttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
