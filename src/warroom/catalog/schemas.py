"""Schemas of the service catalog API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from warroom.accounts.schemas import TeamRef, team_ref
from warroom.catalog.models import Service, Tier
from warroom.lib.schema import InputSchema


class ServiceRef(Schema):
    id: int
    slug: str
    name: str
    team: str = Field(description="The owning team's slug.")


class ServiceOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    tier: int
    tier_label: str
    team: TeamRef
    runbook_url: str
    dashboard_url: str
    repository_url: str
    created_at: datetime


class ServiceDetailOut(ServiceOut):
    depends_on: list[ServiceRef] = Field(description="Services this one depends on (that you can see).")
    dependents: list[ServiceRef] = Field(description="Services that depend on this one (that you can see).")


class ServiceIn(InputSchema):
    team: str | int = Field(description="The owning team: slug or id.")
    name: str
    description: str = ""
    tier: int = Field(3, description="1 (mission critical) to 4 (administrative).")
    runbook_url: str = ""
    dashboard_url: str = ""
    repository_url: str = ""
    depends_on: list[str | int] = Field(default_factory=list, description="Slugs (or ids) of services.")


class ServicePatch(InputSchema):
    """Only the fields sent are changed. ``depends_on`` replaces the whole list."""

    team: str | int | None = None
    name: str | None = None
    description: str | None = None
    tier: int | None = None
    runbook_url: str | None = None
    dashboard_url: str | None = None
    repository_url: str | None = None
    depends_on: list[str | int] | None = None


def service_ref(service: Service) -> dict[str, Any]:
    return {"id": service.pk, "slug": service.slug, "name": service.name, "team": service.team.slug}


def service_json(service: Service) -> dict[str, Any]:
    return {
        "id": service.pk,
        "slug": service.slug,
        "name": service.name,
        "description": service.description,
        "tier": service.tier,
        "tier_label": Tier(service.tier).label,
        "team": team_ref(service.team),
        "runbook_url": service.runbook_url,
        "dashboard_url": service.dashboard_url,
        "repository_url": service.repository_url,
        "created_at": service.created_at,
    }
