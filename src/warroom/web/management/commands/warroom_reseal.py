from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from warroom.lib.sealed import SealedJSONField, SealedTextField, reseal


class Command(BaseCommand):
    help = (
        "Seal every stored secret (contact methods, subscriptions, deliveries, integrations' signing secrets) "
        "again with the key that seals now: the first of WARROOM_ENCRYPTION_KEYS, else the one derived from "
        "WARROOM_SECRET_KEY. Run it after putting a new key first, before removing the old one."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, SealedJSONField | SealedTextField):
                    with transaction.atomic():
                        written = reseal(model, field.name)
                    self.stdout.write(f"{model._meta.label}.{field.name}: {written} sealed again")
