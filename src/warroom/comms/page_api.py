"""REST routes of the status pages, under ``/api/v1/status-pages``: pages, their groups, components (services,
status mode, a status set by hand), maintenance and subscribers.

A page is addressed by its slug or id. A page the caller may not see (not a member of its team, not an org
admin) is a 404 whatever the route; references in the body that do not resolve (a service, a group, a component
of another page) are 400s naming the field; the services decide rights (403: only the team's admins and
managers change a page), states (409) and bad input (400 naming the field). The public side — the page itself,
its JSON summary, feeds and the subscription forms — lives under ``/status/<slug>/`` (docs/status-pages.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.accounts.schemas import Page, Paging, caller, paginate, source_of
from warroom.comms import page_selectors as selectors
from warroom.comms import page_services as services
from warroom.comms.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    Maintenance,
    PageSubscriber,
    StatusMode,
    StatusPage,
    Visibility,
)
from warroom.lib.apitypes import IsoDateTime
from warroom.lib.errors import ValidationFailed
from warroom.lib.schema import InputSchema

router = Router(tags=["status pages"])

Ref = int | str


class FooterLink(InputSchema):
    label: str
    url: str


class PageIn(InputSchema):
    team: Ref = Field(description="The owning team: slug or id (you must be one of its admins or managers).")
    name: str
    slug: str = Field("", description="The public address /status/<slug>/; default: from the name.")
    description: str = ""
    visibility: str = Field(Visibility.PUBLIC, description="public, secret_link or signed_in.")
    logo_url: str = Field("", description="An https URL.")
    brand_color: str = Field("#1f6feb", description="#rrggbb.")
    footer_links: list[FooterLink] = Field(default_factory=list)
    history_days: int = Field(90, description="Days of uptime history shown (7-90).")


class PagePatch(InputSchema):
    name: str | None = None
    slug: str | None = None
    description: str | None = None
    visibility: str | None = None
    logo_url: str | None = None
    brand_color: str | None = None
    footer_links: list[FooterLink] | None = None
    history_days: int | None = None


class FooterLinkOut(Schema):
    label: str
    url: str


class PageOut(Schema):
    id: int
    name: str
    slug: str
    team: str
    description: str
    visibility: str
    logo_url: str
    brand_color: str
    footer_links: list[FooterLinkOut]
    history_days: int
    url: str
    #: only in the answer that made it: the secret link, shown once
    secret_link: str | None = None


class GroupIn(InputSchema):
    name: str
    position: int | None = None


class GroupPatch(InputSchema):
    name: str | None = None
    position: int | None = None


class GroupOut(Schema):
    id: int
    name: str
    position: int


class ComponentIn(InputSchema):
    name: str
    description: str = ""
    group: int | None = Field(None, description="A group of this page (id).")
    position: int | None = None
    services: list[Ref] = Field(default_factory=list, description="Services (slug or id) it follows.")
    status_mode: str = Field(StatusMode.DERIVED, description="derived (from open incidents) or manual.")
    status: str = Field(ComponentStatus.OPERATIONAL, description="The first status (manual components).")


class ComponentPatch(InputSchema):
    name: str | None = None
    description: str | None = None
    group: int | None = None
    position: int | None = None
    services: list[Ref] | None = None
    status_mode: str | None = None


class StatusIn(InputSchema):
    status: str = Field(description=", ".join(ComponentStatus.values) + ". The component becomes manual.")


class ComponentOut(Schema):
    id: int
    name: str
    description: str
    group: int | None
    position: int
    services: list[str]
    status_mode: str
    status: str
    status_changed_at: datetime


class PageDetailOut(PageOut):
    groups: list[GroupOut]
    components: list[ComponentOut]


class MaintenanceIn(InputSchema):
    title: str
    message: str = ""
    scheduled_start: IsoDateTime
    scheduled_end: IsoDateTime
    components: list[int] = Field(default_factory=list, description="Components of this page (ids).")


class MaintenancePatch(InputSchema):
    title: str | None = None
    message: str | None = None
    scheduled_start: IsoDateTime | None = None
    scheduled_end: IsoDateTime | None = None
    components: list[int] | None = None


class MaintenanceOut(Schema):
    id: int
    title: str
    message: str
    state: str
    scheduled_start: datetime
    scheduled_end: datetime
    started_at: datetime | None
    completed_at: datetime | None
    components: list[int]
    alert_windows: list[int] = Field(description="The intake maintenance windows it holds (one per service).")


class SubscriberOut(Schema):
    id: int
    kind: str
    address: str
    confirmed: bool
    components: list[int]
    created_at: datetime


class SecretOut(Schema):
    secret_link: str


# ---------------------------------------------------------------------------------------------------------------
# JSON


def page_json(page: StatusPage, secret: str | None = None) -> dict[str, Any]:
    url = services.page_url(page)
    return {
        "id": page.pk,
        "name": page.name,
        "slug": page.slug,
        "team": page.team.slug,
        "description": page.description,
        "visibility": page.visibility,
        "logo_url": page.logo_url,
        "brand_color": page.brand_color,
        "footer_links": page.footer_links,
        "history_days": page.history_days,
        "url": url,
        "secret_link": f"{url}?key={secret}" if secret else None,
    }


def group_json(group: ComponentGroup) -> dict[str, Any]:
    return {"id": group.pk, "name": group.name, "position": group.position}


def component_json(c: Component) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "description": c.description,
        "group": c.group_id,
        "position": c.position,
        "services": [s.slug for s in c.services.all()],
        "status_mode": c.status_mode,
        "status": c.status,
        "status_changed_at": c.status_changed_at,
    }


def maintenance_json(m: Maintenance) -> dict[str, Any]:
    return {
        "id": m.pk,
        "title": m.title,
        "message": m.message,
        "state": m.state,
        "scheduled_start": m.scheduled_start,
        "scheduled_end": m.scheduled_end,
        "started_at": m.started_at,
        "completed_at": m.completed_at,
        "components": sorted(c.pk for c in m.components.all()),
        "alert_windows": sorted(w.pk for w in m.alert_windows.all()),
    }


def subscriber_json(s: PageSubscriber) -> dict[str, Any]:
    return {
        "id": s.pk,
        "kind": s.kind,
        "address": s.address,
        "confirmed": s.confirmed_at is not None,
        "components": sorted(c.pk for c in s.components.all()),
        "created_at": s.created_at,
    }


def _page(request: HttpRequest, key: str) -> tuple[User, StatusPage]:
    user = caller(request)
    return user, selectors.get_page_for_user_or_404(user, key=key)


def _detail(page: StatusPage, secret: str | None = None) -> dict[str, Any]:
    page = StatusPage.objects.select_related("team").get(pk=page.pk)
    return {
        **page_json(page, secret),
        "groups": [group_json(g) for g in ComponentGroup.objects.filter(page=page)],
        "components": [component_json(c) for c in selectors.page_components(page)],
    }


def _links(links: list[FooterLink] | None) -> list[dict[str, str]] | None:
    return None if links is None else [link.dict() for link in links]


# ---------------------------------------------------------------------------------------------------------------
# pages


@router.get("/status-pages", response=Page[PageOut], summary="List status pages")
def list_pages(request: HttpRequest, query: Query[Paging]) -> dict[str, Any]:
    """The pages of your teams (all of them for an org admin)."""
    user = caller(request)
    return paginate(selectors.visible_pages(user).order_by("name", "id"), query, page_json)


@router.post("/status-pages", response={201: PageDetailOut}, summary="Create a status page")
def create_page(request: HttpRequest, payload: PageIn) -> Status[dict[str, Any]]:
    """A secret-link page's link is in ``secret_link``, this once."""
    user = caller(request)
    team = accounts.get_team_for_user_or_404(user, key=payload.team)
    result = services.create_page(
        team=team,
        name=payload.name,
        slug=payload.slug,
        description=payload.description,
        visibility=payload.visibility,
        logo_url=payload.logo_url,
        brand_color=payload.brand_color,
        footer_links=_links(payload.footer_links) or [],
        history_days=payload.history_days,
        actor=user,
        source=source_of(request),
    )
    return Status(201, _detail(result.page, result.secret))


@router.get("/status-pages/{key}", response=PageDetailOut, summary="Get a status page")
def get_page(request: HttpRequest, key: str) -> dict[str, Any]:
    _user, page = _page(request, key)
    return _detail(page)


@router.patch("/status-pages/{key}", response=PageDetailOut, summary="Change a status page")
def update_page(request: HttpRequest, key: str, payload: PagePatch) -> dict[str, Any]:
    """Only the fields sent change. Making a page secret-link returns its new link in ``secret_link``."""
    user, page = _page(request, key)
    sent = payload.dict(exclude_unset=True)
    for name, value in sent.items():
        if value is None:
            raise ValidationFailed(f"{name} cannot be null", field=name)
    if "footer_links" in sent:
        sent["footer_links"] = _links(payload.footer_links)
    result = services.update_page(page=page, actor=user, source=source_of(request), **sent)
    return _detail(result.page, result.secret)


@router.delete("/status-pages/{key}", response={204: None}, summary="Delete a status page")
def delete_page(request: HttpRequest, key: str) -> Status[None]:
    user, page = _page(request, key)
    services.delete_page(page=page, actor=user, source=source_of(request))
    return Status(204, None)


@router.post("/status-pages/{key}/secret-link", response=SecretOut, summary="Make a new secret link")
def rotate_secret(request: HttpRequest, key: str) -> dict[str, Any]:
    """The old link stops working; the new one is shown this once."""
    user, page = _page(request, key)
    if page.visibility != Visibility.SECRET_LINK:
        raise ValidationFailed("only a secret-link page has a secret link", field="visibility")
    secret = services.rotate_secret_link(page=page, actor=user, source=source_of(request))
    return {"secret_link": f"{services.page_url(page)}?key={secret}"}


# ---------------------------------------------------------------------------------------------------------------
# groups


@router.post("/status-pages/{key}/groups", response={201: GroupOut}, summary="Add a component group")
def create_group(request: HttpRequest, key: str, payload: GroupIn) -> Status[dict[str, Any]]:
    user, page = _page(request, key)
    group = services.create_group(
        page=page, name=payload.name, position=payload.position, actor=user, source=source_of(request)
    )
    return Status(201, group_json(group))


@router.patch("/status-pages/{key}/groups/{group_id}", response=GroupOut, summary="Rename or move a group")
def update_group(request: HttpRequest, key: str, group_id: int, payload: GroupPatch) -> dict[str, Any]:
    user, page = _page(request, key)
    group = selectors.get_group_or_404(page, group_id)
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    updated = services.update_group(group=group, actor=user, source=source_of(request), **sent)
    return group_json(updated)


@router.delete("/status-pages/{key}/groups/{group_id}", response={204: None}, summary="Delete a group")
def delete_group(request: HttpRequest, key: str, group_id: int) -> Status[None]:
    """Its components stay, ungrouped."""
    user, page = _page(request, key)
    services.delete_group(
        group=selectors.get_group_or_404(page, group_id), actor=user, source=source_of(request)
    )
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# components


@router.get("/status-pages/{key}/components", response=list[ComponentOut], summary="List components")
def list_components(request: HttpRequest, key: str) -> list[dict[str, Any]]:
    _user, page = _page(request, key)
    return [component_json(c) for c in selectors.page_components(page)]


@router.post("/status-pages/{key}/components", response={201: ComponentOut}, summary="Add a component")
def create_component(request: HttpRequest, key: str, payload: ComponentIn) -> Status[dict[str, Any]]:
    user, page = _page(request, key)
    component = services.create_component(
        page=page,
        name=payload.name,
        description=payload.description,
        group=selectors.group_by_id(page, payload.group),
        position=payload.position,
        services=selectors.services_for_user(user, list(payload.services)),
        status_mode=payload.status_mode,
        status=payload.status,
        actor=user,
        source=source_of(request),
    )
    return Status(201, component_json(component))


@router.get("/status-pages/{key}/components/{component_id}", response=ComponentOut, summary="Get a component")
def get_component(request: HttpRequest, key: str, component_id: int) -> dict[str, Any]:
    _user, page = _page(request, key)
    return component_json(selectors.get_component_or_404(page, component_id))


@router.patch(
    "/status-pages/{key}/components/{component_id}", response=ComponentOut, summary="Change a component"
)
def update_component(
    request: HttpRequest, key: str, component_id: int, payload: ComponentPatch
) -> dict[str, Any]:
    """Only the fields sent change; ``group: null`` takes it out of its group."""
    user, page = _page(request, key)
    component = selectors.get_component_or_404(page, component_id)
    sent = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {}
    for name in ("name", "description", "position", "status_mode"):
        if name in sent:
            if sent[name] is None:
                raise ValidationFailed(f"{name} cannot be null", field=name)
            kwargs[name] = sent[name]
    if "group" in sent:
        kwargs["group"] = selectors.group_by_id(page, sent["group"])
    if "services" in sent:
        kwargs["services"] = selectors.services_for_user(user, list(sent["services"] or []))
    updated = services.update_component(component=component, actor=user, source=source_of(request), **kwargs)
    return component_json(updated)


@router.post(
    "/status-pages/{key}/components/{component_id}/status",
    response=ComponentOut,
    summary="Set a component's status by hand",
)
def set_status(request: HttpRequest, key: str, component_id: int, payload: StatusIn) -> dict[str, Any]:
    """The component becomes manual and keeps this status until changed (or switched back to derived)."""
    user, page = _page(request, key)
    component = selectors.get_component_or_404(page, component_id)
    updated = services.set_component_status(
        component=component, status=payload.status, actor=user, source=source_of(request)
    )
    return component_json(updated)


@router.delete(
    "/status-pages/{key}/components/{component_id}", response={204: None}, summary="Remove a component"
)
def delete_component(request: HttpRequest, key: str, component_id: int) -> Status[None]:
    user, page = _page(request, key)
    component = selectors.get_component_or_404(page, component_id)
    services.delete_component(component=component, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# maintenance


@router.get("/status-pages/{key}/maintenance", response=Page[MaintenanceOut], summary="List maintenance")
def list_maintenance(request: HttpRequest, key: str, query: Query[Paging]) -> dict[str, Any]:
    _user, page = _page(request, key)
    return paginate(
        selectors.page_maintenances(page).order_by("-scheduled_start", "-id"), query, maintenance_json
    )


@router.post(
    "/status-pages/{key}/maintenance", response={201: MaintenanceOut}, summary="Announce maintenance"
)
def create_maintenance(request: HttpRequest, key: str, payload: MaintenanceIn) -> Status[dict[str, Any]]:
    """Subscribers are told now; the linked services' alerts are suppressed during the window; it starts and
    completes at its times."""
    user, page = _page(request, key)
    m = services.create_maintenance(
        page=page,
        title=payload.title,
        message=payload.message,
        scheduled_start=payload.scheduled_start,
        scheduled_end=payload.scheduled_end,
        components=selectors.components_of_page(page, list(payload.components)),
        actor=user,
        source=source_of(request),
    )
    return Status(201, maintenance_json(m))


def _maintenance(request: HttpRequest, key: str, maintenance_id: int) -> tuple[User, Maintenance]:
    _user, page = _page(request, key)
    return _user, selectors.get_maintenance_or_404(page, maintenance_id)


@router.get(
    "/status-pages/{key}/maintenance/{maintenance_id}", response=MaintenanceOut, summary="Get a maintenance"
)
def get_maintenance(request: HttpRequest, key: str, maintenance_id: int) -> dict[str, Any]:
    return maintenance_json(_maintenance(request, key, maintenance_id)[1])


@router.patch(
    "/status-pages/{key}/maintenance/{maintenance_id}",
    response=MaintenanceOut,
    summary="Edit or reschedule a maintenance",
)
def update_maintenance(
    request: HttpRequest, key: str, maintenance_id: int, payload: MaintenancePatch
) -> dict[str, Any]:
    user, m = _maintenance(request, key, maintenance_id)
    sent = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {}
    for name in ("title", "message", "scheduled_start", "scheduled_end", "components"):
        if name in sent:
            if sent[name] is None:
                raise ValidationFailed(f"{name} cannot be null", field=name)
            kwargs[name] = sent[name]
    if "components" in kwargs:
        kwargs["components"] = selectors.components_of_page(m.page, list(kwargs["components"]))
    updated = services.update_maintenance(maintenance=m, actor=user, source=source_of(request), **kwargs)
    return maintenance_json(updated)


@router.post(
    "/status-pages/{key}/maintenance/{maintenance_id}/cancel",
    response=MaintenanceOut,
    summary="Cancel a scheduled maintenance",
)
def cancel_maintenance(request: HttpRequest, key: str, maintenance_id: int) -> dict[str, Any]:
    user, m = _maintenance(request, key, maintenance_id)
    return maintenance_json(services.cancel_maintenance(maintenance=m, actor=user, source=source_of(request)))


@router.post(
    "/status-pages/{key}/maintenance/{maintenance_id}/complete",
    response=MaintenanceOut,
    summary="Complete an in-progress maintenance now",
)
def complete_maintenance(request: HttpRequest, key: str, maintenance_id: int) -> dict[str, Any]:
    user, m = _maintenance(request, key, maintenance_id)
    return maintenance_json(
        services.complete_maintenance(maintenance=m, actor=user, source=source_of(request))
    )


# ---------------------------------------------------------------------------------------------------------------
# subscribers


@router.get("/status-pages/{key}/subscribers", response=Page[SubscriberOut], summary="List subscribers")
def list_subscribers(request: HttpRequest, key: str, query: Query[Paging]) -> dict[str, Any]:
    user, page = _page(request, key)
    subscribers = selectors.page_subscribers_for(user, page)
    return paginate(subscribers.order_by("-created_at", "-id"), query, subscriber_json)


@router.delete(
    "/status-pages/{key}/subscribers/{subscriber_id}", response={204: None}, summary="Remove a subscriber"
)
def remove_subscriber(request: HttpRequest, key: str, subscriber_id: int) -> Status[None]:
    user, page = _page(request, key)
    sub = selectors.get_subscriber_or_404(page, subscriber_id)
    services.remove_subscriber(subscriber=sub, actor=user, source=source_of(request))
    return Status(204, None)
