"""Every write to the service catalog."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.accounts.slugs import unique_slug
from warroom.audit import services as audit
from warroom.catalog.models import Service, ServiceDependency
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed

_URL_FIELDS = ("runbook_url", "dashboard_url", "repository_url")
_EDITABLE = ("name", "description", "tier", *_URL_FIELDS)


def _snapshot(service: Service) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(service, name) for name in _EDITABLE}
    data["team"] = service.team.slug
    data["dependencies"] = sorted(service.dependencies.values_list("slug", flat=True)) if service.pk else []
    return data


def _validate(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in _EDITABLE:
            raise ValidationFailed(f"unknown field {key!r}", field=key)
        if key == "name":
            value = (value or "").strip()
            if not value or len(value) > 100:
                raise ValidationFailed("a service name is 1 to 100 characters", field="name")
        elif key == "tier":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4:
                raise ValidationFailed("tier must be 1, 2, 3 or 4", field="tier")
        elif key in _URL_FIELDS:
            value = (value or "").strip()
            if value:
                try:
                    URLValidator(schemes=["http", "https"])(value)
                except DjangoValidationError:
                    raise ValidationFailed(f"{value!r} is not an http(s) URL", field=key) from None
        elif key == "description":
            value = value or ""
            if len(value) > 20000:
                raise ValidationFailed("the description is at most 20000 characters", field=key)
        clean[key] = value
    return clean


def _check_dependencies(service: Service | None, deps: Iterable[Service]) -> list[Service]:
    """``deps`` without repeats (a service named twice is one dependency), refusing itself and cycles."""
    deps = list({d.pk: d for d in deps}.values())
    if service is not None and any(d.pk == service.pk for d in deps):
        raise ValidationFailed("a service cannot depend on itself", field="dependencies")
    if service is not None and service.pk:
        # Refuse cycles: none of the new dependencies may (transitively) depend on this service.
        frontier = {d.pk for d in deps}
        seen: set[int] = set()
        while frontier:
            if service.pk in frontier:
                raise ValidationFailed("that dependency would make a cycle", field="dependencies")
            seen |= frontier
            frontier = (
                set(
                    ServiceDependency.objects.filter(service_id__in=frontier).values_list(
                        "depends_on_id", flat=True
                    )
                )
                - seen
            )
    return deps


def _check_name_free(name: str, service: Service | None = None) -> None:
    """Service names are unique, whatever their case ("Checkout" and "checkout" would be one service twice)."""
    others = Service.objects.filter(name__iexact=name)
    if service is not None:
        others = others.exclude(pk=service.pk)
    if others.exists():
        raise Conflict(f"a service named {name!r} already exists", field="name")


def create_service(
    *, team: Team, actor: User | None, source: str, dependencies: Iterable[Service] = (), **fields: Any
) -> Service:
    if actor is not None and not accounts.can_manage_team(actor, team.pk):
        raise PermissionDenied("only the team's admins and managers add services")
    clean = _validate(fields)
    if "name" not in clean:
        raise ValidationFailed("a service needs a name", field="name")
    deps = _check_dependencies(None, dependencies)
    _check_name_free(clean["name"])
    try:
        with transaction.atomic():
            slug = unique_slug(Service.objects.all(), clean["name"], fallback="service")
            service = Service.objects.create(team=team, slug=slug, **clean)
            for dep in deps:
                ServiceDependency.objects.create(service=service, depends_on=dep)
            audit.record(
                actor=actor, source=source, action="service.create", obj=service, after=_snapshot(service)
            )
    except IntegrityError:
        raise Conflict(f"a service named {clean['name']!r} already exists", field="name") from None
    return service


def update_service(
    *,
    service: Service,
    actor: User | None,
    source: str,
    team: Team | None = None,
    dependencies: Iterable[Service] | None = None,
    **fields: Any,
) -> Service:
    if actor is not None and not accounts.can_manage_team(actor, service.team_id):
        raise PermissionDenied("only the team's admins and managers change its services")
    if team is not None and actor is not None and not accounts.can_manage_team(actor, team.pk):
        raise PermissionDenied("you can only move a service to a team you manage")
    clean = _validate(fields)
    deps = _check_dependencies(service, dependencies) if dependencies is not None else None
    if "name" in clean:
        _check_name_free(clean["name"], service)
    try:
        with transaction.atomic():
            locked = Service.objects.select_for_update().select_related("team").get(pk=service.pk)
            before = _snapshot(locked)
            for key, value in clean.items():
                setattr(locked, key, value)
            if "name" in clean:
                others = Service.objects.exclude(pk=locked.pk)
                locked.slug = unique_slug(others, clean["name"], fallback="service")
            if team is not None:
                locked.team = team
            locked.save()
            if deps is not None:
                ServiceDependency.objects.filter(service=locked).delete()
                for dep in deps:
                    ServiceDependency.objects.create(service=locked, depends_on=dep)
            audit.record(
                actor=actor,
                source=source,
                action="service.update",
                obj=locked,
                before=before,
                after=_snapshot(locked),
            )
    except IntegrityError:  # a concurrent change took the name (or its slug) first
        if "name" in clean:
            raise Conflict(f"a service named {clean['name']!r} already exists", field="name") from None
        raise Conflict("the service changed at the same time; try again") from None
    return locked
