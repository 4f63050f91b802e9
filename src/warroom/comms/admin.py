"""Admin site pages of stakeholder updates: read-only, because every change goes through the services (audit,
the incident's timeline, the outbox). Subscriptions never show their signing secret."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from warroom.comms.models import Delivery, StatusUpdate, Subscription, UpdateTemplate


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatusUpdate)
class StatusUpdateAdmin(_ReadOnly, admin.ModelAdmin[StatusUpdate]):
    list_display = ["incident", "status", "audience", "author", "created_at"]
    list_filter = ["status", "audience"]


@admin.register(UpdateTemplate)
class UpdateTemplateAdmin(_ReadOnly, admin.ModelAdmin[UpdateTemplate]):
    list_display = ["name", "status", "team", "updated_at"]
    list_filter = ["status", "team"]


@admin.register(Subscription)
class SubscriptionAdmin(_ReadOnly, admin.ModelAdmin[Subscription]):
    list_display = ["kind", "address", "service", "team", "incident", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["address"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly, admin.ModelAdmin[Delivery]):
    list_display = ["kind", "address", "subject", "status", "attempts", "update", "maintenance", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["address", "delivery_id"]
    exclude = ["secret"]
