"""Audit rows for changes made in the Django admin site.

The admin site writes models directly, past the services that audit every other change. A ``ModelAdmin`` that
mixes in :class:`AuditedAdmin` writes one row per saved or deleted object, in the admin's transaction:
``<model>.admin.create`` (the fields given), ``<model>.admin.update`` (the changed fields, before and after;
nothing changed, no row) and ``<model>.admin.delete`` (the object as it was), actor the signed-in admin,
source ``web``. Foreign keys appear as ids; times as ISO text.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.forms.models import model_to_dict
from django.http import HttpRequest

from warroom.audit import services as audit


def plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Field values as JSON can hold them (times and dates as ISO text, other objects as text)."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, list | tuple | set):
            value = sorted(getattr(v, "pk", v) for v in value)
        elif value is not None and not isinstance(value, str | int | float | bool):
            value = str(value)
        out[key] = value
    return out


class AuditedAdmin[M: models.Model](admin.ModelAdmin[M]):
    """A ``ModelAdmin`` whose saves and deletes are audited (see the module's docstring)."""

    def _action(self, obj: M, verb: str) -> str:
        return f"{obj._meta.model_name}.admin.{verb}"

    def save_model(self, request: HttpRequest, obj: M, form: ModelForm[M], change: bool) -> None:
        fields = [name for name in form.changed_data if name in {f.name for f in obj._meta.concrete_fields}]
        before = None
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = model_to_dict(stored, fields=fields) if stored is not None else None
        super().save_model(request, obj, form, change)
        if change and not fields:
            return
        audit.record(
            actor=request.user,  # type: ignore[arg-type]
            source="web",
            action=self._action(obj, "update" if change else "create"),
            obj=obj,
            before=plain(before),
            after=plain(model_to_dict(obj, fields=fields)),
        )

    def _record_delete(self, request: HttpRequest, obj: M) -> None:
        audit.record(
            actor=request.user,  # type: ignore[arg-type]
            source="web",
            action=self._action(obj, "delete"),
            obj=obj,
            before=plain(model_to_dict(obj, fields=[f.name for f in obj._meta.concrete_fields])),
        )

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        self._record_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        """The list's "delete selected" action: the rows and the deletes together, or neither."""
        with transaction.atomic():
            for obj in queryset:
                self._record_delete(request, obj)
            super().delete_queryset(request, queryset)
