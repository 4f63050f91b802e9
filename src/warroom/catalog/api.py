"""REST routes for the service catalog: services, their owners and their dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.accounts.schemas import Page, Paging, caller, lookup, paginate, source_of
from warroom.catalog import selectors, services
from warroom.catalog.models import Service
from warroom.catalog.schemas import (
    ServiceDetailOut,
    ServiceIn,
    ServiceOut,
    ServicePatch,
    service_json,
    service_ref,
)
from warroom.lib.errors import ValidationFailed

router = Router(tags=["services"])

_PLAIN_FIELDS = ("name", "description", "tier", "runbook_url", "dashboard_url", "repository_url")


class ServiceQuery(Paging):
    team: str | None = None


def _detail(user: User, service: Service) -> dict[str, Any]:
    upstream, downstream = selectors.dependency_graph(service, user)
    data = service_json(service)
    data["depends_on"] = [service_ref(s) for s in upstream]
    data["dependents"] = [service_ref(s) for s in downstream]
    return data


def _dependencies(user: User, keys: list[str | int]) -> list[Service]:
    return [
        lookup("depends_on", partial(selectors.get_service_for_user_or_404, user, key=key)) for key in keys
    ]


@contextmanager
def _dependency_field() -> Iterator[None]:
    """The services call the dependency list ``dependencies``; the API calls it ``depends_on``."""
    try:
        yield
    except ValidationFailed as exc:
        if exc.field != "dependencies":
            raise
        raise ValidationFailed(exc.message, field="depends_on") from None


def _plain(payload: Schema) -> dict[str, Any]:
    sent = payload.dict(exclude_unset=True)
    return {key: sent[key] for key in _PLAIN_FIELDS if key in sent}


@router.get("/services", response=Page[ServiceOut], summary="List services")
def list_services(request: HttpRequest, query: Query[ServiceQuery]) -> dict[str, Any]:
    """The services of your teams (organisation admins: all). ``team`` narrows to one team (slug or id); one you
    cannot see is a 400 naming it."""
    user = caller(request)
    services_qs = selectors.visible_services(user).order_by("name")
    if query.team:
        team = lookup("team", partial(accounts.get_team_for_user_or_404, user, key=query.team))
        services_qs = services_qs.filter(team=team)
    return paginate(services_qs, query, service_json)


@router.post("/services", response={201: ServiceDetailOut}, summary="Create a service")
def create_service(request: HttpRequest, payload: ServiceIn) -> Status[dict[str, Any]]:
    """Team admins and managers. The slug is derived from the name."""
    user = caller(request)
    team = lookup("team", partial(accounts.get_team_for_user_or_404, user, key=payload.team))
    with _dependency_field():
        service = services.create_service(
            team=team,
            actor=user,
            source=source_of(request),
            dependencies=_dependencies(user, payload.depends_on),
            **_plain(payload),
        )
    return Status(201, _detail(user, service))


@router.get("/services/{slug}", response=ServiceDetailOut, summary="Get a service")
def get_service(request: HttpRequest, slug: str) -> dict[str, Any]:
    """One service with what it depends on and what depends on it."""
    user = caller(request)
    return _detail(user, selectors.get_service_for_user_or_404(user, key=slug))


@router.patch("/services/{slug}", response=ServiceDetailOut, summary="Change a service")
def update_service(request: HttpRequest, slug: str, payload: ServicePatch) -> dict[str, Any]:
    """Only the fields sent change. ``team`` moves the service; ``depends_on`` replaces the dependencies you can
    see (those on other teams' services stay)."""
    user = caller(request)
    service = selectors.get_service_for_user_or_404(user, key=slug)
    sent = payload.dict(exclude_unset=True)
    team = None
    if "team" in sent:
        if payload.team is None:
            raise ValidationFailed("a service must belong to a team", field="team")
        team = lookup("team", partial(accounts.get_team_for_user_or_404, user, key=payload.team))
    dependencies = None
    if "depends_on" in sent:
        # It replaces the dependencies the caller can see; those on services they cannot see stay.
        dependencies = [
            *_dependencies(user, payload.depends_on or []),
            *selectors.hidden_dependencies(service, user),
        ]
    with _dependency_field():
        updated = services.update_service(
            service=service,
            actor=user,
            source=source_of(request),
            team=team,
            dependencies=dependencies,
            **_plain(payload),
        )
    return _detail(user, updated)
