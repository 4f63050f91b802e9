"""Every change to status pages: pages, component groups, components and their status, maintenance, and the
people and machines who follow a page.

Rules (docs/status-pages.md):

* Each service is keyword-only and runs in one transaction with its audit row. The owning team's admins and
  managers (and organisation admins) change a page; ``actor=None`` is the system (the engine, the receivers).
* A component's status changes only through :func:`_apply_status`: a compare-and-set on the component, the open
  :class:`ComponentStatusPeriod` closed and a new one opened, the page's ``content_version`` bumped. Nothing is
  written when the status does not change, so the engine can run it as often as it likes.
* **Derived** components follow the open, non-private incidents of their linked services
  (:data:`PRIORITY_STATUS`). An update that sets ``component_status`` on a component overrides that incident's
  mapping for the component while the incident stays open (the people running the incident know better than the
  priority; for a private incident it is the only way it shows); the worst status over all open incidents wins,
  and an in-progress maintenance raises an operational component to "under maintenance". **Manual** components
  keep what a person (or an update) set, except that a maintenance turns an operational one "under
  maintenance" for its duration.
* Every change that shows on a page bumps ``StatusPage.content_version`` (a new random value), which keys the
  cached renderings of the page, its feeds and its JSON summary.
* Subscriber messages go through the subscriber outbox (:func:`warroom.comms.outbox.enqueue`) in the same
  transaction, with a dedup key per subscriber and event, so each update or maintenance step reaches each
  subscriber once. Only confirmed subscribers get them: an email address once its owner followed the
  confirmation link, a webhook once its endpoint answered the subscription challenge
  (:func:`verify_webhook`, before anything is stored).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email, validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils.text import slugify

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.alerts import services as alert_services
from warroom.alerts.models import MaintenanceWindow
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.comms import outbox, page_selectors
from warroom.comms.models import (
    PAGE_SUBSCRIBER_KEY_PREFIX,
    PUBLIC_AUDIENCES,
    SEVERITY,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusPeriod,
    Maintenance,
    MaintenanceState,
    PageSubscriber,
    RecipientKind,
    StatusMode,
    StatusPage,
    StatusUpdate,
    Visibility,
    recipient_key,
)
from warroom.incidents.models import Incident
from warroom.incidents.states import OPEN_STATES
from warroom.integrations import registry
from warroom.integrations.base import InvalidAddress, check_http_url
from warroom.integrations.webhook.channel import encode as encode_webhook
from warroom.integrations.webhook.channel import sign as sign_webhook
from warroom.lib import clock, http, instants, tokens
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

#: open incident priority → the status it gives the components of its services (derived mode)
PRIORITY_STATUS: dict[int, str] = {
    1: ComponentStatus.MAJOR_OUTAGE,
    2: ComponentStatus.PARTIAL_OUTAGE,
    3: ComponentStatus.DEGRADED,
    4: ComponentStatus.DEGRADED,
    5: ComponentStatus.DEGRADED,
}

NAME_MAX = 100
DESCRIPTION_MAX = 2_000
COMPONENT_DESCRIPTION_MAX = 300
TITLE_MAX = 200
MESSAGE_MAX = 10_000
FOOTER_LINKS_MAX = 10
FOOTER_LABEL_MAX = 50
URL_MAX = 200
HISTORY_DAYS = (7, 90)
MAINTENANCE_MAX = timedelta(days=31)
SECRET_PREFIX = "wr_sp"
WEBHOOK_SECRET_PREFIX = "whsec_"
CONFIRM_MAX_AGE = timedelta(days=7)
CONFIRM_SALT = "warroom.statuspage.confirm"
UNSUBSCRIBE_SALT = "warroom.statuspage.unsubscribe"
BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: the subscription challenge a webhook endpoint must echo (:func:`verify_webhook`)
VERIFY_EVENT = "subscription.verify"
VERIFY_TIMEOUT = 5.0
VERIFY_MAX_BYTES = 64 * 1024

_UNSET: Any = object()
_url = URLValidator(schemes=["http", "https"])


# ---------------------------------------------------------------------------------------------------------------
# input checks


def _text(value: Any, *, field: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"{field.replace('_', ' ')} must not be empty", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"{field.replace('_', ' ')} is at most {limit} characters", field=field)
    return value


def _name(value: Any, *, field: str = "name", limit: int = NAME_MAX) -> str:
    return " ".join(_text(value, field=field, limit=limit * 2, required=True).split())[:limit]


def _slug(value: Any) -> str:
    text = _text(value, field="slug", limit=NAME_MAX, required=True).lower()
    try:
        validate_slug(text)
    except ValidationError:
        raise ValidationFailed(
            "a slug is lower-case letters, digits, hyphens and underscores", field="slug"
        ) from None
    return text


def _web_url(value: Any, *, field: str, https_only: bool = False, limit: int = URL_MAX) -> str:
    text = _text(value, field=field, limit=limit)
    if not text:
        return ""
    try:
        _url(text)
    except ValidationError:
        raise ValidationFailed(f"{field.replace('_', ' ')} must be an http(s) URL", field=field) from None
    if https_only and not text.startswith("https://"):
        raise ValidationFailed(f"{field.replace('_', ' ')} must be an https URL", field=field)
    return text


def _brand_color(value: Any) -> str:
    text = _text(value, field="brand_color", limit=7, required=True)
    if not BRAND_COLOR.match(text):
        raise ValidationFailed("brand color must be #rrggbb (six hex digits)", field="brand_color")
    return text.lower()


def _footer_links(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationFailed("footer links must be a list of {label, url}", field="footer_links")
    if len(value) > FOOTER_LINKS_MAX:
        raise ValidationFailed(f"at most {FOOTER_LINKS_MAX} footer links", field="footer_links")
    links = []
    for item in value:
        if not isinstance(item, Mapping):
            raise ValidationFailed("each footer link is {label, url}", field="footer_links")
        label = _text(item.get("label"), field="footer_links", limit=FOOTER_LABEL_MAX, required=True)
        url = _web_url(item.get("url"), field="footer_links", limit=500)
        if not url:
            raise ValidationFailed(f"the footer link {label!r} needs a URL", field="footer_links")
        links.append({"label": label, "url": url})
    return links


def _choice(value: Any, *, field: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValidationFailed(f"{field} must be one of {', '.join(choices)} (got {value!r})", field=field)
    return str(value)


def _history_days(value: Any) -> int:
    low, high = HISTORY_DAYS
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(f"history days is a whole number from {low} to {high}", field="history_days")
    return value


def _moment(value: Any, *, field: str) -> datetime:
    return instants.to_utc(value, field=field, message=f"{field} must be a date and time with a time zone")


def clean_email(value: Any) -> str:
    """A normalised email address (domain lower-cased); :class:`ValidationFailed` on ``email`` otherwise."""
    text = _text(value, field="email", limit=254, required=True)
    local, _, domain = text.rpartition("@")
    text = f"{local}@{domain.lower()}" if local else text
    try:
        validate_email(text)
    except ValidationError:
        raise ValidationFailed(f"{text[:80]!r} is not an email address", field="email") from None
    return text


# ---------------------------------------------------------------------------------------------------------------
# permission, versions, audit


def _require_manage(actor: User | None, page: StatusPage | None = None, *, team: Team | None = None) -> None:
    team_id = team.pk if team is not None else page.team_id if page is not None else None
    if actor is not None and not accounts.can_manage_team(actor, team_id):
        raise PermissionDenied(
            "only the owning team's admins and managers (or an org admin) change a status page"
        )


def bump(page_ids: Iterable[int]) -> None:
    """Give the pages a new ``content_version``: their cached renderings are stale from now on."""
    ids = sorted(set(page_ids))
    if ids:
        StatusPage.objects.filter(pk__in=ids).update(content_version=uuid.uuid4().hex)
        _forget()


def _forget() -> None:
    """This process forgets the page rows it remembered, now and once the change commits."""
    page_selectors.forget_pages()
    transaction.on_commit(page_selectors.forget_pages)


def _page_snapshot(page: StatusPage) -> dict[str, Any]:
    return {
        "name": page.name,
        "slug": page.slug,
        "visibility": page.visibility,
        "logo_url": page.logo_url,
        "brand_color": page.brand_color,
        "footer_links": page.footer_links,
        "history_days": page.history_days,
        "team": page.team_id,
    }


def _component_snapshot(component: Component) -> dict[str, Any]:
    return {
        "name": component.name,
        "group": component.group_id,
        "status_mode": component.status_mode,
        "status": component.status,
        "position": component.position,
    }


def _maintenance_snapshot(m: Maintenance) -> dict[str, Any]:
    return {
        "title": m.title,
        "state": m.state,
        "scheduled_start": m.scheduled_start.isoformat(),
        "scheduled_end": m.scheduled_end.isoformat(),
        "components": sorted(c.pk for c in m.components.all()),
    }


# ---------------------------------------------------------------------------------------------------------------
# pages


@dataclass(frozen=True)
class PageResult:
    page: StatusPage
    #: the secret link's token, shown once (when a secret-link page is made or its link rotated)
    secret: str | None = None


def _page_values(values: dict[str, Any]) -> dict[str, Any]:
    checks = {
        "name": lambda v: _name(v),
        "slug": _slug,
        "description": lambda v: _text(v, field="description", limit=DESCRIPTION_MAX),
        "visibility": lambda v: _choice(v, field="visibility", choices=Visibility.values),
        "logo_url": lambda v: _web_url(v, field="logo_url", https_only=True),
        "brand_color": _brand_color,
        "footer_links": _footer_links,
        "history_days": _history_days,
    }
    return {key: checks[key](value) for key, value in values.items()}


def create_page(
    *,
    team: Team,
    name: str,
    actor: User | None,
    source: str,
    slug: str = "",
    description: str = "",
    visibility: str = Visibility.PUBLIC,
    logo_url: str = "",
    brand_color: str = "#1f6feb",
    footer_links: Sequence[Mapping[str, str]] = (),
    history_days: int = 90,
) -> PageResult:
    """Make a status page owned by ``team``. A secret-link page gets its token here (returned once)."""
    _require_manage(actor, team=team)
    values = _page_values(
        {
            "name": name,
            "slug": slug or slugify(str(name or ""))[:NAME_MAX] or "status",
            "description": description,
            "visibility": visibility,
            "logo_url": logo_url,
            "brand_color": brand_color,
            "footer_links": list(footer_links),
            "history_days": history_days,
        }
    )
    secret = tokens.generate(SECRET_PREFIX) if values["visibility"] == Visibility.SECRET_LINK else None
    now = clock.now()
    try:
        with transaction.atomic():
            page = StatusPage.objects.create(
                team=team,
                secret_digest=tokens.digest(secret) if secret else "",
                content_version=uuid.uuid4().hex,
                created_at=now,
                updated_at=now,
                **values,
            )
            audit.record(
                actor=actor, source=source, action="statuspage.create", obj=page, after=_page_snapshot(page)
            )
            _forget()
    except IntegrityError:
        raise Conflict(f"the slug {values['slug']!r} is taken by another status page", field="slug") from None
    return PageResult(page, secret)


def update_page(*, page: StatusPage, actor: User | None, source: str, **changes: Any) -> PageResult:
    """Change a page's settings. Turning a page into a secret-link page without a link yet makes one."""
    _require_manage(actor, page)
    allowed = {
        "name",
        "slug",
        "description",
        "visibility",
        "logo_url",
        "brand_color",
        "footer_links",
        "history_days",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(unknown)}", field=unknown[0])
    values = _page_values(changes)
    secret = None
    try:
        with transaction.atomic():
            locked = StatusPage.objects.select_for_update().get(pk=page.pk)
            before = _page_snapshot(locked)
            for key, value in values.items():
                setattr(locked, key, value)
            if locked.visibility == Visibility.SECRET_LINK and not locked.secret_digest:
                secret = tokens.generate(SECRET_PREFIX)
                locked.secret_digest = tokens.digest(secret)
            locked.updated_at = clock.now()
            locked.content_version = uuid.uuid4().hex
            locked.save()
            _forget()
            audit.record(
                actor=actor,
                source=source,
                action="statuspage.update",
                obj=locked,
                before=before,
                after=_page_snapshot(locked),
            )
    except IntegrityError:
        raise Conflict(
            f"the slug {values.get('slug')!r} is taken by another status page", field="slug"
        ) from None
    return PageResult(locked, secret)


def rotate_secret_link(*, page: StatusPage, actor: User | None, source: str) -> str:
    """Make a new secret link for the page (the old one stops working); returns the token, shown once."""
    _require_manage(actor, page)
    secret = tokens.generate(SECRET_PREFIX)
    with transaction.atomic():
        StatusPage.objects.filter(pk=page.pk).update(
            secret_digest=tokens.digest(secret), content_version=uuid.uuid4().hex, updated_at=clock.now()
        )
        audit.record(actor=actor, source=source, action="statuspage.rotate_secret", obj=page)
        _forget()
    page.secret_digest = tokens.digest(secret)
    return secret


def delete_page(*, page: StatusPage, actor: User | None, source: str) -> None:
    """Remove a page with its components, history, maintenance (and their intake windows) and subscribers."""
    _require_manage(actor, page)
    with transaction.atomic():
        windows = MaintenanceWindow.objects.filter(
            pk__in=Maintenance.alert_windows.through.objects.filter(
                maintenance__page=page,
                maintenance__state__in=[MaintenanceState.SCHEDULED, MaintenanceState.IN_PROGRESS],
            ).values("maintenancewindow_id")
        )
        for window in windows.select_related("service"):
            alert_services.delete_maintenance_window(window=window, actor=None, source=source)
        audit.record(
            actor=actor, source=source, action="statuspage.delete", obj=page, before=_page_snapshot(page)
        )
        page.delete()
        _forget()


# ---------------------------------------------------------------------------------------------------------------
# groups


def _next_position(rows: Any) -> int:
    top: int | None = rows.aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def _position(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
        raise ValidationFailed("position is a whole number from 0 to 100000", field="position")
    return value


def create_group(
    *, page: StatusPage, name: str, actor: User | None, source: str, position: int | None = None
) -> ComponentGroup:
    _require_manage(actor, page)
    clean = _name(name)
    try:
        with transaction.atomic():
            group = ComponentGroup.objects.create(
                page=page,
                name=clean,
                position=_position(position) if position is not None else _next_position(page.groups.all()),
            )
            bump([page.pk])
            audit.record(
                actor=actor, source=source, action="statuspage.group.create", obj=group, after={"name": clean}
            )
    except IntegrityError:
        raise Conflict(f"the page has a group called {clean!r} already", field="name") from None
    return group


def update_group(
    *, group: ComponentGroup, actor: User | None, source: str, name: str = _UNSET, position: int = _UNSET
) -> ComponentGroup:
    _require_manage(actor, group.page)
    before = {"name": group.name, "position": group.position}
    if name is not _UNSET:
        group.name = _name(name)
    if position is not _UNSET:
        group.position = _position(position)
    try:
        with transaction.atomic():
            group.save(update_fields=["name", "position"])
            bump([group.page_id])
            audit.record(
                actor=actor,
                source=source,
                action="statuspage.group.update",
                obj=group,
                before=before,
                after={"name": group.name, "position": group.position},
            )
    except IntegrityError:
        raise Conflict(f"the page has a group called {group.name!r} already", field="name") from None
    return group


def delete_group(*, group: ComponentGroup, actor: User | None, source: str) -> None:
    """Remove a group; its components stay on the page, ungrouped."""
    _require_manage(actor, group.page)
    with transaction.atomic():
        audit.record(
            actor=actor,
            source=source,
            action="statuspage.group.delete",
            obj=group,
            before={"name": group.name},
        )
        bump([group.page_id])
        group.delete()


# ---------------------------------------------------------------------------------------------------------------
# components and their status


def _check_group(page: StatusPage, group: ComponentGroup | None) -> None:
    if group is not None and group.page_id != page.pk:
        raise ValidationFailed(f"the group {group.name!r} is on another page", field="group")


def _apply_status(component: Component, status: str, now: datetime) -> bool:
    """Move ``component`` to ``status`` (compare-and-set on its current status) and write its history; False
    when it already had that status or someone else changed it first (the caller's next pass sees theirs)."""
    if component.status == status:
        return False
    moved = Component.objects.filter(pk=component.pk, status=component.status).update(
        status=status, status_changed_at=now
    )
    if moved != 1:
        return False
    open_period = ComponentStatusPeriod.objects.filter(
        component_id=component.pk, ended_at__isnull=True
    ).first()
    if open_period is not None:
        open_period.ended_at = max(now, open_period.started_at)
        open_period.save(update_fields=["ended_at"])
    ComponentStatusPeriod.objects.create(component_id=component.pk, status=status, started_at=now)
    component.status = status
    component.status_changed_at = now
    return True


def _worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY[s], default=ComponentStatus.OPERATIONAL)


def derived_statuses(component_ids: Sequence[int]) -> dict[int, str]:
    """What each (derived) component's status should be now: the worst over the open incidents that touch it
    (an incident's own ``component_status`` override for the component, else its priority through
    :data:`PRIORITY_STATUS` when it is about a linked service and not private; a test incident never counts),
    raised to under maintenance while a maintenance of the component is in progress. Four queries, whatever the
    number of components."""
    ids = list(component_ids)
    links = Component.services.through.objects.filter(component_id__in=ids).values_list(
        "component_id", "service_id"
    )
    services_of: dict[int, set[int]] = defaultdict(set)
    for component_id, service_id in links:
        services_of[component_id].add(service_id)
    all_services = {s for found in services_of.values() for s in found}
    incidents_of_service: dict[int, dict[int, int]] = defaultdict(dict)  # service → {incident: priority}
    if all_services:
        # A private incident (a security incident, say) never shows through its priority: that would turn the
        # public page red and tell the world it exists. Only an update that names components and a status for
        # them (someone's deliberate choice, below) moves a component for it.
        # Nor does a test incident (opened by a test alert, warroom.alerts.actions.send_test_alert), at all.
        rows = Incident.services.through.objects.filter(
            service_id__in=all_services,
            incident__state__in=list(OPEN_STATES),
            incident__is_private=False,
            incident__is_test=False,
        ).values_list("service_id", "incident_id", "incident__priority")
        for service_id, incident_id, priority in rows:
            incidents_of_service[service_id][incident_id] = priority
    overrides: dict[tuple[int, int], tuple[datetime, int, str]] = {}  # (component, incident) → latest
    rows2 = (
        StatusUpdate.components.through.objects.filter(
            component_id__in=ids,
            statusupdate__incident__state__in=list(OPEN_STATES),
            statusupdate__incident__is_test=False,
        )
        .exclude(statusupdate__component_status="")
        .values_list(
            "component_id",
            "statusupdate__incident_id",
            "statusupdate__created_at",
            "statusupdate_id",
            "statusupdate__component_status",
        )
    )
    for component_id, incident_id, created_at, update_id, status in rows2:
        key = (component_id, incident_id)
        if key not in overrides or (created_at, update_id) > overrides[key][:2]:
            overrides[key] = (created_at, update_id, status)
    in_maintenance = set(
        Maintenance.components.through.objects.filter(
            component_id__in=ids, maintenance__state=MaintenanceState.IN_PROGRESS
        ).values_list("component_id", flat=True)
    )
    result: dict[int, str] = {}
    for component_id in ids:
        per_incident: dict[int, str] = {}
        for service_id in services_of.get(component_id, ()):
            for incident_id, priority in incidents_of_service.get(service_id, {}).items():
                per_incident[incident_id] = PRIORITY_STATUS.get(priority, ComponentStatus.DEGRADED)
        for (c_id, incident_id), (_at, _id, status) in overrides.items():
            if c_id == component_id:
                per_incident[incident_id] = status
        status = _worst(per_incident.values())
        if component_id in in_maintenance:
            status = _worst([status, ComponentStatus.UNDER_MAINTENANCE])
        result[component_id] = status
    return result


def refresh_components(*, now: datetime, component_ids: Sequence[int] | None = None, limit: int = 500) -> int:
    """Bring derived components (all of them, or those in ``component_ids``) to their derived status; returns
    how many changed. Runs in the caller's transaction or its own; changes nothing when nothing is due."""
    qs = Component.objects.filter(status_mode=StatusMode.DERIVED).order_by("id")
    if component_ids is not None:
        qs = qs.filter(pk__in=list(component_ids))
    changed = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(qs.filter(pk__gt=last_id)[:limit])
            if not batch:
                return changed
            targets = derived_statuses([c.pk for c in batch])
            moved_pages = set()
            for component in batch:
                if _apply_status(component, targets[component.pk], now):
                    changed += 1
                    moved_pages.add(component.page_id)
                    audit.record(
                        actor=None,
                        source="engine",
                        action="statuspage.component.derive",
                        obj=component,
                        after={"status": component.status},
                    )
            bump(moved_pages)
        last_id = batch[-1].pk
        if len(batch) < limit:
            return changed


def _resolve_services(services: Iterable[Service]) -> list[Service]:
    return list({s.pk: s for s in services}.values())


def create_component(
    *,
    page: StatusPage,
    name: str,
    actor: User | None,
    source: str,
    description: str = "",
    group: ComponentGroup | None = None,
    position: int | None = None,
    services: Iterable[Service] = (),
    status_mode: str = StatusMode.DERIVED,
    status: str = ComponentStatus.OPERATIONAL,
) -> Component:
    """Add a component. A derived one takes its status from its services' open incidents at once."""
    _require_manage(actor, page)
    clean = _name(name)
    _check_group(page, group)
    mode = _choice(status_mode, field="status_mode", choices=StatusMode.values)
    first = _choice(status, field="status", choices=ComponentStatus.values)
    linked = _resolve_services(services)
    now = clock.now()
    try:
        with transaction.atomic():
            component = Component.objects.create(
                page=page,
                group=group,
                name=clean,
                description=_text(description, field="description", limit=COMPONENT_DESCRIPTION_MAX),
                position=_position(position)
                if position is not None
                else _next_position(page.components.all()),
                status_mode=mode,
                status=first,
                status_changed_at=now,
                created_at=now,
            )
            component.services.set(linked)
            ComponentStatusPeriod.objects.create(component=component, status=first, started_at=now)
            if mode == StatusMode.DERIVED:
                refresh_components(now=now, component_ids=[component.pk])
            bump([page.pk])
            component.refresh_from_db()
            audit.record(
                actor=actor,
                source=source,
                action="statuspage.component.create",
                obj=component,
                after={**_component_snapshot(component), "services": [s.pk for s in linked]},
            )
    except IntegrityError:
        raise Conflict(f"the page has a component called {clean!r} already", field="name") from None
    return component


def update_component(
    *,
    component: Component,
    actor: User | None,
    source: str,
    name: str = _UNSET,
    description: str = _UNSET,
    group: ComponentGroup | None = _UNSET,
    position: int = _UNSET,
    services: Iterable[Service] = _UNSET,
    status_mode: str = _UNSET,
) -> Component:
    """Change a component's name, description, group, position, services or status mode. Switching to derived
    (or changing a derived component's services) re-derives its status at once."""
    page = component.page
    _require_manage(actor, page)
    values: dict[str, Any] = {}
    if name is not _UNSET:
        values["name"] = _name(name)
    if description is not _UNSET:
        values["description"] = _text(description, field="description", limit=COMPONENT_DESCRIPTION_MAX)
    if group is not _UNSET:
        _check_group(page, group)
        values["group"] = group
    if position is not _UNSET:
        values["position"] = _position(position)
    if status_mode is not _UNSET:
        values["status_mode"] = _choice(status_mode, field="status_mode", choices=StatusMode.values)
    linked = _resolve_services(services) if services is not _UNSET else None
    now = clock.now()
    try:
        with transaction.atomic():
            locked = Component.objects.select_for_update().get(pk=component.pk)
            before = _component_snapshot(locked)
            for key, value in values.items():
                setattr(locked, key, value)
            locked.save()
            if linked is not None:
                locked.services.set(linked)
            if locked.status_mode == StatusMode.DERIVED:
                refresh_components(now=now, component_ids=[locked.pk])
                locked.refresh_from_db()
            bump([page.pk])
            audit.record(
                actor=actor,
                source=source,
                action="statuspage.component.update",
                obj=locked,
                before=before,
                after=_component_snapshot(locked),
            )
    except IntegrityError:
        raise Conflict(
            f"the page has a component called {values.get('name')!r} already", field="name"
        ) from None
    return locked


def set_component_status(*, component: Component, status: str, actor: User | None, source: str) -> Component:
    """Set a component's status by hand. The component becomes manual: it keeps this status until someone (or
    an update naming it) changes it, or it is switched back to derived."""
    _require_manage(actor, component.page)
    target = _choice(status, field="status", choices=ComponentStatus.values)
    now = clock.now()
    with transaction.atomic():
        locked = Component.objects.select_for_update().get(pk=component.pk)
        before = _component_snapshot(locked)
        if locked.status_mode != StatusMode.MANUAL:
            locked.status_mode = StatusMode.MANUAL
            locked.save(update_fields=["status_mode"])
        _apply_status(locked, target, now)
        bump([locked.page_id])
        audit.record(
            actor=actor,
            source=source,
            action="statuspage.component.status",
            obj=locked,
            before=before,
            after=_component_snapshot(locked),
        )
    return locked


def delete_component(*, component: Component, actor: User | None, source: str) -> None:
    _require_manage(actor, component.page)
    with transaction.atomic():
        audit.record(
            actor=actor,
            source=source,
            action="statuspage.component.delete",
            obj=component,
            before=_component_snapshot(component),
        )
        bump([component.page_id])
        component.delete()


# ---------------------------------------------------------------------------------------------------------------
# subscriber messages


def page_url(page: StatusPage, path: str = "") -> str:
    base = settings.WARROOM_BASE_URL.rstrip("/")
    return base + reverse("statuspages:public-page", args=[page.slug]) + path


def _address_hash(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:16]


def confirm_token(subscriber: PageSubscriber) -> str:
    return signing.dumps(
        {"s": subscriber.pk, "a": _address_hash(subscriber.address)}, salt=CONFIRM_SALT, compress=True
    )


def unsubscribe_token(subscriber: PageSubscriber) -> str:
    return signing.dumps(
        {"s": subscriber.pk, "a": _address_hash(subscriber.address)}, salt=UNSUBSCRIBE_SALT, compress=True
    )


def confirm_url(subscriber: PageSubscriber) -> str:
    base = settings.WARROOM_BASE_URL.rstrip("/")
    return base + reverse("statuspages:confirm", args=[subscriber.page.slug, confirm_token(subscriber)])


def unsubscribe_url(subscriber: PageSubscriber) -> str:
    base = settings.WARROOM_BASE_URL.rstrip("/")
    return base + reverse(
        "statuspages:unsubscribe", args=[subscriber.page.slug, unsubscribe_token(subscriber)]
    )


def _subscribers(page_id: int, component_ids: set[int]) -> list[PageSubscriber]:
    """The confirmed subscribers of the page who follow all of it or one of ``component_ids``."""
    qs = (
        PageSubscriber.objects.filter(page_id=page_id, confirmed_at__isnull=False)
        .select_related("page")
        .prefetch_related("components")
        .order_by("id")
    )
    chosen = []
    for sub in qs:
        followed = {c.pk for c in sub.components.all()}
        if not followed or not component_ids or followed & component_ids:
            chosen.append(sub)
    return chosen


def _send(
    sub: PageSubscriber,
    *,
    event: str,
    subject: str,
    body: str,
    data: dict[str, Any],
    update: StatusUpdate | None = None,
    maintenance: Maintenance | None = None,
) -> None:
    page = sub.page
    context: dict[str, Any] = {
        "url": page_url(page),
        "page": page.slug,
        "event": data.get("type", ""),
        **data,
    }
    text = body
    if sub.kind == RecipientKind.EMAIL:
        unsubscribe = unsubscribe_url(sub)
        context["unsubscribe_url"] = unsubscribe
        context["list_unsubscribe"] = f"<{unsubscribe}>"
        context["list_unsubscribe_post"] = "List-Unsubscribe=One-Click"
        text = f"{body}\n\nStatus page: {page_url(page)}\nUnsubscribe: {unsubscribe}"
    outbox.enqueue(
        kind=sub.kind,
        address=sub.address,
        secret=dict(sub.secret or {}),
        subject=f"[{page.name}] {subject}",
        body=text,
        context=context,
        dedup_key=f"{PAGE_SUBSCRIBER_KEY_PREFIX}{sub.pk}:{event}"[:300],
        update=update,
        maintenance=maintenance,
    )


def _notify_page(
    page_id: int,
    component_ids: set[int],
    *,
    event: str,
    subject: str,
    body: str,
    data: dict[str, Any],
    update: StatusUpdate | None = None,
    maintenance: Maintenance | None = None,
) -> int:
    subs = _subscribers(page_id, component_ids)
    for sub in subs:
        _send(sub, event=event, subject=subject, body=body, data=data, update=update, maintenance=maintenance)
    return len(subs)


# ---------------------------------------------------------------------------------------------------------------
# stakeholder updates (the ``update_posted`` receiver) and incident changes


def pages_of_incident(incident_id: int) -> set[int]:
    """Pages that show (or could show) the incident: those with components linked to its services or named
    by its updates."""
    by_service = Component.objects.filter(services__incidents__pk=incident_id).values_list(
        "page_id", flat=True
    )
    by_update = Component.objects.filter(updates__incident_id=incident_id).values_list("page_id", flat=True)
    return set(by_service) | set(by_update)


def _address_key(sub: PageSubscriber) -> tuple[str, str]:
    """What makes two subscribers one recipient: the same email address (whatever its case) or webhook URL."""
    return sub.kind, recipient_key(sub.kind, sub.address)


def publish_update(*, update: StatusUpdate, at: datetime) -> int:
    """What a posted stakeholder update does to the status pages, inside the posting transaction:

    * with ``component_status``: its components take that status (manual ones directly; derived ones hold it as
      the incident's override until the incident closes);
    * public (or both): one delivery per confirmed subscriber of every page that shows the update — a page with
      components the update names, about those; any other page with components linked to the incident's
      services (it shows the update too), about those — and once per address (email whatever its case) however
      many of those pages it follows, whatever runs twice.

    Returns the number of subscriber deliveries queued."""
    named = list(update.components.select_related("page").all())
    touched_pages = {c.page_id for c in named}
    if update.component_status:
        for component in named:
            if component.status_mode == StatusMode.MANUAL:
                _apply_status(component, update.component_status, at)
        refresh_components(now=at, component_ids=[c.pk for c in named if c.status_mode == StatusMode.DERIVED])
    if update.audience not in PUBLIC_AUDIENCES:
        bump(touched_pages)
        return 0
    linked = list(
        Component.objects.filter(services__incidents__pk=update.incident_id).select_related("page").distinct()
    )
    affected: dict[int, list[Component]] = defaultdict(list)
    for component in named:
        affected[component.page_id].append(component)
    for component in linked:
        if component.page_id not in touched_pages:
            affected[component.page_id].append(component)
    bump(set(affected) | touched_pages | pages_of_incident(update.incident_id))
    incident = update.incident
    data = {
        "type": "incident.update",
        "incident": {"id": incident.number, "title": incident.title, "state": incident.state},
        "update": {
            "id": update.pk,
            "status": update.status,
            "message": update.message,
            "created_at": update.created_at.isoformat(),
            "component_status": update.component_status,
        },
    }
    reached: set[tuple[str, str]] = set()
    queued = 0
    for page_id, components in sorted(affected.items()):
        component_ids = {c.pk for c in components}
        names = ", ".join(c.name for c in components)
        for sub in _subscribers(page_id, component_ids):
            if _address_key(sub) in reached:
                continue
            reached.add(_address_key(sub))
            _send(
                sub,
                event=f"update:{update.pk}",
                subject=f"{update.get_status_display()}: {incident.title}",
                body=f"{update.get_status_display()} — {incident.title}\nAffected: {names}\n\n{update.message}",
                data={**data, "components": sorted(component_ids)},
                update=update,
            )
            queued += 1
    return queued


def on_update_posted(sender: Any, *, update: StatusUpdate, at: datetime, **kwargs: Any) -> None:
    """Receiver of :data:`warroom.comms.signals.update_posted`."""
    publish_update(update=update, at=at)


def on_incident_changed(sender: Any, *, incident: Incident, **kwargs: Any) -> None:
    """Receiver of the incident signals: the pages that show the incident are stale (its state, title or
    services changed). Component statuses follow in the engine's next cycle."""
    bump(pages_of_incident(incident.pk))


# ---------------------------------------------------------------------------------------------------------------
# maintenance


def _check_components(page: StatusPage, components: Iterable[Component]) -> list[Component]:
    chosen = list({c.pk: c for c in components}.values())
    for component in chosen:
        if component.page_id != page.pk:
            raise ValidationFailed(f"the component {component.name!r} is on another page", field="components")
    return chosen


def _check_window(start: Any, end: Any, now: datetime, *, started: bool = False) -> tuple[datetime, datetime]:
    begin = _moment(start, field="scheduled_start")
    finish = _moment(end, field="scheduled_end")
    if finish <= begin:
        raise ValidationFailed("scheduled_end must be after scheduled_start", field="scheduled_end")
    if finish <= now:
        raise ValidationFailed("scheduled_end is in the past", field="scheduled_end")
    if finish - begin > MAINTENANCE_MAX:
        raise ValidationFailed(
            f"a maintenance lasts at most {MAINTENANCE_MAX.days} days", field="scheduled_end"
        )
    return begin, finish


def _services_of(components: Iterable[Component]) -> list[Service]:
    found: dict[int, Service] = {}
    for service in Service.objects.filter(status_components__in=[c.pk for c in components]).select_related(
        "team"
    ):
        found[service.pk] = service
    return sorted(found.values(), key=lambda s: s.pk)


def _require_silence(actor: User | None, services: Iterable[Service]) -> None:
    """Planning a maintenance silences the intake of its services: the actor must manage each one's team."""
    for service in services:
        if actor is not None and not accounts.can_manage_team(actor, service.team_id):
            raise PermissionDenied(
                f"this maintenance would silence the alerts of {service.name} (team {service.team.name}); only "
                "that team's admins and managers, or an org admin, may plan that",
                field="components",
            )


def _sync_windows(m: Maintenance, *, actor: User | None, source: str, end: datetime | None = None) -> None:
    """Make ``m.alert_windows`` one intake maintenance window per linked service, over the maintenance's
    times (``end`` overrides the end: completing early)."""
    services = _services_of(m.components.all())
    want = {s.pk: s for s in services}
    finish = end or m.scheduled_end
    title = f"Status page maintenance: {m.title}"[:200]
    have = {w.service_id: w for w in m.alert_windows.select_related("service")}
    for service_id, window in have.items():
        if service_id not in want or finish <= window.starts_at:
            m.alert_windows.remove(window)
            alert_services.delete_maintenance_window(window=window, actor=None, source=source)
        elif (window.starts_at, window.ends_at, window.title) != (m.scheduled_start, finish, title):
            alert_services.update_maintenance_window(
                window=window,
                actor=None,
                source=source,
                title=title,
                starts_at=m.scheduled_start,
                ends_at=finish,
            )
    for service_id, service in want.items():
        if service_id not in have and finish > m.scheduled_start:
            window = alert_services.create_maintenance_window(
                service=service,
                title=title,
                starts_at=m.scheduled_start,
                ends_at=finish,
                actor=None,
                source=source,
            )
            m.alert_windows.add(window)


def _drop_windows(m: Maintenance, *, source: str) -> None:
    for window in list(m.alert_windows.select_related("service")):
        m.alert_windows.remove(window)
        alert_services.delete_maintenance_window(window=window, actor=None, source=source)


def _maintenance_data(m: Maintenance, kind: str) -> dict[str, Any]:
    return {
        "type": f"maintenance.{kind}",
        "maintenance": {
            "id": m.pk,
            "title": m.title,
            "message": m.message,
            "state": m.state,
            "scheduled_start": m.scheduled_start.isoformat(),
            "scheduled_end": m.scheduled_end.isoformat(),
            "components": sorted(c.pk for c in m.components.all()),
        },
    }


_MAINTENANCE_SUBJECT = {
    "scheduled": "Scheduled maintenance: {title}",
    "rescheduled": "Maintenance rescheduled: {title}",
    "started": "Maintenance in progress: {title}",
    "completed": "Maintenance completed: {title}",
    "cancelled": "Maintenance cancelled: {title}",
}


def _notify_maintenance(m: Maintenance, kind: str, *, event: str | None = None) -> int:
    when = f"{m.scheduled_start:%Y-%m-%d %H:%M} – {m.scheduled_end:%Y-%m-%d %H:%M} UTC"
    names = ", ".join(c.name for c in m.components.all()) or "—"
    body = f"{_MAINTENANCE_SUBJECT[kind].format(title=m.title)}\nWhen: {when}\nComponents: {names}"
    if m.message:
        body += f"\n\n{m.message}"
    return _notify_page(
        m.page_id,
        {c.pk for c in m.components.all()},
        event=event or f"maintenance:{m.pk}:{kind}",
        subject=_MAINTENANCE_SUBJECT[kind].format(title=m.title),
        body=body,
        data=_maintenance_data(m, kind),
        maintenance=m,
    )


def _flip_manual(components: Iterable[Component], status_from: str, status_to: str, now: datetime) -> None:
    for component in components:
        if component.status_mode == StatusMode.MANUAL and component.status == status_from:
            _apply_status(component, status_to, now)


def _set_maintenance_components(m: Maintenance, status_from: str, status_to: str, now: datetime) -> None:
    """Manual components: ``status_from`` → ``status_to`` (operational ⇄ under maintenance); derived ones are
    re-derived (the in-progress maintenance is part of their derivation)."""
    components = list(m.components.all())
    for component in components:
        if component.status_mode == StatusMode.MANUAL and component.status == status_from:
            _apply_status(component, status_to, now)
    refresh_components(
        now=now, component_ids=[c.pk for c in components if c.status_mode == StatusMode.DERIVED]
    )


def _start(m: Maintenance, now: datetime, source: str) -> None:
    moved = Maintenance.objects.filter(pk=m.pk, state=MaintenanceState.SCHEDULED).update(
        state=MaintenanceState.IN_PROGRESS, started_at=now, updated_at=now
    )
    if moved != 1:
        return
    m.state, m.started_at = MaintenanceState.IN_PROGRESS, now
    _set_maintenance_components(m, ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE, now)
    _notify_maintenance(m, "started")
    audit.record(
        actor=None, source=source, action="statuspage.maintenance.start", obj=m, after={"state": m.state}
    )
    bump([m.page_id])


def _complete(m: Maintenance, now: datetime, *, actor: User | None, source: str) -> None:
    moved = Maintenance.objects.filter(pk=m.pk, state=MaintenanceState.IN_PROGRESS).update(
        state=MaintenanceState.COMPLETED, completed_at=now, updated_at=now
    )
    if moved != 1:
        return
    m.state, m.completed_at = MaintenanceState.COMPLETED, now
    if now < m.scheduled_end:
        _sync_windows(m, actor=actor, source=source, end=now)
    _set_maintenance_components(m, ComponentStatus.UNDER_MAINTENANCE, ComponentStatus.OPERATIONAL, now)
    _notify_maintenance(m, "completed")
    audit.record(
        actor=actor, source=source, action="statuspage.maintenance.complete", obj=m, after={"state": m.state}
    )
    bump([m.page_id])


def advance_maintenance(m: Maintenance, now: datetime, *, source: str = "engine") -> int:
    """Start a scheduled maintenance whose start has come, complete an in-progress one whose end has come
    (both, for one whose whole window passed while no engine ran). In the caller's transaction; returns the
    number of steps taken."""
    steps = 0
    if m.state == MaintenanceState.SCHEDULED and m.scheduled_start <= now:
        _start(m, now, source)
        steps += 1
    if m.state == MaintenanceState.IN_PROGRESS and m.scheduled_end <= now:
        _complete(m, now, actor=None, source=source)
        steps += 1
    return steps


def run_maintenance_schedule(now: datetime, *, limit: int = 100) -> int:
    """Engine step: take due maintenances ``FOR UPDATE SKIP LOCKED`` in batches and advance them."""
    due = Q(state=MaintenanceState.SCHEDULED, scheduled_start__lte=now) | Q(
        state=MaintenanceState.IN_PROGRESS, scheduled_end__lte=now
    )
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Maintenance.objects.filter(due)
                .select_for_update(skip_locked=True)
                .order_by("scheduled_start", "id")[:limit]
            )
            for m in batch:
                total += advance_maintenance(m, now)
        if len(batch) < limit:
            return total


def create_maintenance(
    *,
    page: StatusPage,
    title: str,
    scheduled_start: datetime,
    scheduled_end: datetime,
    actor: User | None,
    source: str,
    message: str = "",
    components: Iterable[Component] = (),
) -> Maintenance:
    """Announce a maintenance: subscribers are told now; intake silences the linked services over the window;
    it starts and completes at its times (at once when the start has come already)."""
    _require_manage(actor, page)
    now = clock.now()
    clean_title = _name(title, field="title", limit=TITLE_MAX)
    text = _text(message, field="message", limit=MESSAGE_MAX)
    begin, finish = _check_window(scheduled_start, scheduled_end, now)
    chosen = _check_components(page, components)
    _require_silence(actor, _services_of(chosen))
    with transaction.atomic():
        m = Maintenance.objects.create(
            page=page,
            title=clean_title,
            message=text,
            scheduled_start=begin,
            scheduled_end=finish,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        m.components.set(chosen)
        _sync_windows(m, actor=actor, source=source)
        audit.record(
            actor=actor,
            source=source,
            action="statuspage.maintenance.create",
            obj=m,
            after=_maintenance_snapshot(m),
        )
        _notify_maintenance(m, "scheduled")
        advance_maintenance(m, now, source=source)
        bump([page.pk])
    return m


def _locked_maintenance(m: Maintenance) -> Maintenance:
    return Maintenance.objects.select_for_update().select_related("page").get(pk=m.pk)


def update_maintenance(
    *,
    maintenance: Maintenance,
    actor: User | None,
    source: str,
    title: str = _UNSET,
    message: str = _UNSET,
    components: Iterable[Component] = _UNSET,
    scheduled_start: datetime = _UNSET,
    scheduled_end: datetime = _UNSET,
) -> Maintenance:
    """Edit or reschedule a maintenance that has not finished. An in-progress one keeps its start. Subscribers
    hear about a new time; the intake windows follow."""
    page = maintenance.page
    _require_manage(actor, page)
    now = clock.now()
    with transaction.atomic():
        m = _locked_maintenance(maintenance)
        if m.state not in (MaintenanceState.SCHEDULED, MaintenanceState.IN_PROGRESS):
            raise Conflict(
                f"the maintenance is {m.get_state_display().lower()}; it can no longer change", field="state"
            )
        before = _maintenance_snapshot(m)
        if title is not _UNSET:
            m.title = _name(title, field="title", limit=TITLE_MAX)
        if message is not _UNSET:
            m.message = _text(message, field="message", limit=MESSAGE_MAX)
        start = m.scheduled_start if scheduled_start is _UNSET else scheduled_start
        end = m.scheduled_end if scheduled_end is _UNSET else scheduled_end
        if m.state == MaintenanceState.IN_PROGRESS and start != m.scheduled_start:
            raise Conflict(
                "the maintenance is in progress; its start can no longer move", field="scheduled_start"
            )
        begin, finish = _check_window(start, end, now)
        moved = (begin, finish) != (m.scheduled_start, m.scheduled_end)
        m.scheduled_start, m.scheduled_end, m.updated_at = begin, finish, now
        m.save()
        if components is not _UNSET:
            chosen = _check_components(page, components)
            _require_silence(actor, _services_of(chosen))
            old = {c.pk for c in m.components.all()}
            m.components.set(chosen)
            if m.state == MaintenanceState.IN_PROGRESS:
                added = [c for c in m.components.all() if c.pk not in old]
                removed = list(Component.objects.filter(pk__in=old - {c.pk for c in chosen}))
                _flip_manual(added, ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE, now)
                _flip_manual(removed, ComponentStatus.UNDER_MAINTENANCE, ComponentStatus.OPERATIONAL, now)
                refresh_components(now=now, component_ids=sorted(old | {c.pk for c in chosen}))
        _sync_windows(m, actor=actor, source=source)
        after = _maintenance_snapshot(m)
        audit.record(
            actor=actor,
            source=source,
            action="statuspage.maintenance.update",
            obj=m,
            before=before,
            after=after,
        )
        if moved:
            _notify_maintenance(
                m,
                "rescheduled",
                event=f"maintenance:{m.pk}:rescheduled:{begin:%Y%m%dT%H%M}-{finish:%Y%m%dT%H%M}",
            )
        advance_maintenance(m, now, source=source)
        bump([page.pk])
    return m


def cancel_maintenance(*, maintenance: Maintenance, actor: User | None, source: str) -> Maintenance:
    """Call off a maintenance that has not started: its intake windows go, subscribers are told."""
    _require_manage(actor, maintenance.page)
    now = clock.now()
    with transaction.atomic():
        m = _locked_maintenance(maintenance)
        if m.state != MaintenanceState.SCHEDULED:
            hint = "; complete it instead" if m.state == MaintenanceState.IN_PROGRESS else ""
            raise Conflict(f"the maintenance is {m.get_state_display().lower()}{hint}", field="state")
        Maintenance.objects.filter(pk=m.pk).update(state=MaintenanceState.CANCELLED, updated_at=now)
        m.state = MaintenanceState.CANCELLED
        _drop_windows(m, source=source)
        audit.record(
            actor=actor,
            source=source,
            action="statuspage.maintenance.cancel",
            obj=m,
            after={"state": m.state},
        )
        _notify_maintenance(m, "cancelled")
        bump([m.page_id])
    return m


def complete_maintenance(*, maintenance: Maintenance, actor: User | None, source: str) -> Maintenance:
    """Finish an in-progress maintenance now (early): components return, the intake windows end now."""
    _require_manage(actor, maintenance.page)
    now = clock.now()
    with transaction.atomic():
        m = _locked_maintenance(maintenance)
        if m.state != MaintenanceState.IN_PROGRESS:
            hint = "; cancel it instead" if m.state == MaintenanceState.SCHEDULED else ""
            raise Conflict(f"the maintenance is {m.get_state_display().lower()}{hint}", field="state")
        _complete(m, now, actor=actor, source=source)
    return m


# ---------------------------------------------------------------------------------------------------------------
# subscribers


@dataclass(frozen=True)
class SubscribeResult:
    subscriber: PageSubscriber
    #: a webhook's signing secret, shown once
    signing_secret: str | None = None


def email_available() -> bool:
    """Whether this server sends email, so an email subscriber can get its confirmation link."""
    return registry.get(RecipientKind.EMAIL).configured()


NO_EMAIL = (
    "this server sends no email, so an email subscription could never be confirmed; subscribe with a webhook "
    "or follow the page's RSS or Atom feed"
)


def _verify_refused(exc: http.OutboundError) -> str:
    """Why the challenge request got no usable answer, in the words the subscribe form shows."""
    if isinstance(exc, http.TargetRefused):
        return f"the webhook URL is not allowed: {exc}"
    if isinstance(exc, http.ConnectFailed):
        return f"the endpoint could not be reached: {exc}"
    if isinstance(exc, http.ResponseTooLarge):
        return f"the endpoint's answer is over {VERIFY_MAX_BYTES // 1024} KB: answer with the challenge only"
    if "time" in str(exc).lower() or "within" in str(exc):
        return f"the endpoint did not answer the challenge: timed out after {VERIFY_TIMEOUT:g} s"
    return f"the endpoint broke off its answer to the challenge: {exc}"


def _echoed(response: http.Response, challenge: str) -> bool:
    """The answer carries the challenge: JSON ``{"challenge": "…"}`` or the bare challenge as the body."""
    document = response.json()
    if isinstance(document, dict) and document.get("challenge") == challenge:
        return True
    return response.text.strip() == challenge


def verify_webhook(*, page: StatusPage, url: str, signing_secret: str) -> None:
    """Prove that the endpoint at ``url`` wants this page's updates before anyone may subscribe it: POST it a
    signed ``{"type": "subscription.verify", "challenge": "<random>", …}`` (the webhook channel's headers and
    signature, through :mod:`warroom.lib.http`: SSRF rules, no redirects followed, :data:`VERIFY_TIMEOUT`) and
    require a 2xx answer that echoes the challenge. Raises :class:`ValidationFailed` on ``url`` saying what
    the endpoint did instead. Makes no write; call it outside any transaction (it waits on the network)."""
    challenge = secrets.token_urlsafe(24)
    now = clock.now()
    document = {
        "type": VERIFY_EVENT,
        "challenge": challenge,
        "page": {"name": page.name, "slug": page.slug, "url": page_url(page)},
        "url": url,
        "created_at": now.isoformat(),
        "body": (
            f"Someone asked for the status updates of {page.name} to be sent here. Answer 2xx with the challenge "
            '(JSON {"challenge": "…"} or the bare text) to confirm; any other answer declines.'
        ),
    }
    body = encode_webhook(document)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "Warroom-Delivery-Id": outbox.new_delivery_id(),
        "Warroom-Timestamp": str(timestamp),
        "Warroom-Signature": sign_webhook(signing_secret, timestamp, body),
    }
    try:
        response = http.post(
            url, content=body, headers=headers, timeout=VERIFY_TIMEOUT, max_bytes=VERIFY_MAX_BYTES
        )
    except http.OutboundError as exc:
        raise ValidationFailed(_verify_refused(exc), field="url") from None
    if 300 <= response.status < 400:
        raise ValidationFailed(
            f"the endpoint answered {response.status} (a redirect); Warroom does not follow redirects: give the "
            "final URL",
            field="url",
        )
    if not response.ok:
        raise ValidationFailed(
            f"the endpoint answered {response.status}, not 2xx with the challenge", field="url"
        )
    if not _echoed(response, challenge):
        raise ValidationFailed(
            f"the endpoint answered {response.status} but did not echo the challenge (answer "
            '{"challenge": "<the challenge>"} or the bare challenge)',
            field="url",
        )


def _taken(clean: str, kind: str) -> Conflict:
    return Conflict(
        f"{clean} is subscribed to this page already", field="email" if kind == RecipientKind.EMAIL else "url"
    )


def subscribe(
    *,
    page: StatusPage,
    kind: str,
    address: str,
    source: str,
    components: Iterable[Component] = (),
    signing_secret: str = "",
) -> SubscribeResult:
    """Follow a page (all of it, or ``components``); nobody is told anything until the subscriber is confirmed.

    * Email: double opt-in — the subscriber counts once the link in the confirmation email is followed and
      confirmed. A server that sends no email refuses (400 on ``kind``): the link could never arrive.
    * Webhook: the endpoint must answer the subscription challenge first (:func:`verify_webhook`); only then is
      the subscriber stored, confirmed. Every POST is signed with ``signing_secret`` (generated unless given;
      returned once). The challenge is signed with it too, so a receiver that brings its own secret can check it.

    A second subscription of the same address is a 409 (an unconfirmed email address gets its confirmation
    again when the last one is over an hour old). Email addresses are the same whatever their case
    (``Ops@Example.com`` is ``ops@example.com``); the address is stored as typed, its domain lower-cased.
    Webhook URLs are compared as given."""
    kind = _choice(kind, field="kind", choices=RecipientKind.values)
    chosen = _check_components(page, components)
    secret: dict[str, str] = {}
    reveal = None
    if kind == RecipientKind.EMAIL:
        if not email_available():
            raise ValidationFailed(NO_EMAIL, field="kind")
        clean = clean_email(address)
    else:
        try:
            clean = check_http_url(_text(address, field="url", limit=500, required=True), what="webhook")
        except InvalidAddress as exc:
            raise ValidationFailed(str(exc), field="url") from None
        given = (signing_secret or "").strip()
        if given and not 16 <= len(given) <= 200:
            raise ValidationFailed("a signing secret is 16 to 200 characters", field="signing_secret")
        secret = {"url": clean, "signing_secret": given or WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)}
        reveal = None if given else secret["signing_secret"]
        if PageSubscriber.objects.filter(page=page, kind=kind, address=clean).exists():
            raise _taken(clean, kind)  # before the challenge: a known endpoint is not asked again
        verify_webhook(page=page, url=clean, signing_secret=secret["signing_secret"])
    now = clock.now()
    same = {"address__iexact": clean} if kind == RecipientKind.EMAIL else {"address": clean}
    with transaction.atomic():
        existing = PageSubscriber.objects.select_for_update().filter(page=page, kind=kind, **same).first()
        if existing is not None:
            if existing.confirmed_at is not None or kind != RecipientKind.EMAIL:
                raise _taken(clean, kind)
            sent = _send_confirmation(existing, now)
            if not sent:
                raise Conflict(
                    f"a confirmation email went to {clean} within the last hour; follow the link in it",
                    field="email",
                )
            return SubscribeResult(existing)
        try:
            with transaction.atomic():
                sub = PageSubscriber.objects.create(
                    page=page,
                    kind=kind,
                    address=clean,
                    secret=secret,
                    # a webhook is confirmed: its endpoint has just answered the challenge
                    confirmed_at=None if kind == RecipientKind.EMAIL else now,
                    created_at=now,
                )
        except IntegrityError:  # the same address, subscribed at the same moment by another request
            raise _taken(clean, kind) from None
        sub.components.set(chosen)
        if kind == RecipientKind.EMAIL:
            _send_confirmation(sub, now)
        audit.record(
            actor=None,
            source=source,
            action="statuspage.subscribe",
            obj=sub,
            after={
                "page": page.pk,
                "kind": kind,
                "components": [c.pk for c in chosen],
                **({"verified": "challenge answered"} if kind == RecipientKind.WEBHOOK else {}),
            },
        )
    return SubscribeResult(sub, reveal)


def _send_confirmation(sub: PageSubscriber, now: datetime) -> bool:
    page = sub.page
    link = confirm_url(sub)
    row = outbox.enqueue(
        kind=RecipientKind.EMAIL,
        address=sub.address,
        secret={},
        subject=f"[{page.name}] Confirm your subscription",
        body=(
            f"Someone (hopefully you) asked to receive status updates of {page.name} at this address.\n\n"
            f"Confirm: {link}\n\n"
            "If it was not you, ignore this message: nothing will be sent without confirmation."
        ),
        context={"url": link, "confirm_url": link, "page": page.slug, "event": "subscription.confirm"},
        dedup_key=f"{PAGE_SUBSCRIBER_KEY_PREFIX}{sub.pk}:confirm:{now:%Y%m%d%H}",
    )
    return row is not None


def _subscriber_from(token: str, *, salt: str, max_age: timedelta | None) -> PageSubscriber:
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise ValidationFailed(
            "this link has expired; subscribe again for a new one", field="token"
        ) from None
    except signing.BadSignature:
        raise ValidationFailed("this link is not valid (it may have been cut short)", field="token") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise ValidationFailed("this link is not valid", field="token")
    sub = PageSubscriber.objects.select_related("page").filter(pk=payload["s"]).first()
    if sub is None or not secrets.compare_digest(_address_hash(sub.address), str(payload.get("a"))):
        raise NotFound("this subscription does not exist (any more)")
    return sub


def check_confirm_token(token: str) -> PageSubscriber:
    """The subscriber a confirmation link is for (no change): 400 for a forged or expired link."""
    return _subscriber_from(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)


def check_unsubscribe_token(token: str) -> PageSubscriber:
    return _subscriber_from(token, salt=UNSUBSCRIBE_SALT, max_age=None)


def confirm_subscription(*, token: str, source: str) -> PageSubscriber:
    """Confirm an email subscriber from the link in its confirmation email (a POST). Idempotent."""
    sub = check_confirm_token(token)
    now = clock.now()
    with transaction.atomic():
        if PageSubscriber.objects.filter(pk=sub.pk, confirmed_at__isnull=True).update(confirmed_at=now):
            sub.confirmed_at = now
            audit.record(actor=None, source=source, action="statuspage.subscribe.confirm", obj=sub)
    return sub


def unsubscribe(*, token: str, source: str) -> PageSubscriber:
    """Remove the subscriber an unsubscribe link (or RFC 8058 one-click POST) is for."""
    sub = check_unsubscribe_token(token)
    with transaction.atomic():
        audit.record(
            actor=None, source=source, action="statuspage.unsubscribe", obj=sub, before={"kind": sub.kind}
        )
        sub.delete()
    return sub


def remove_subscriber(*, subscriber: PageSubscriber, actor: User | None, source: str) -> None:
    _require_manage(actor, subscriber.page)
    with transaction.atomic():
        audit.record(
            actor=actor,
            source=source,
            action="statuspage.subscriber.remove",
            obj=subscriber,
            before={"kind": subscriber.kind},
        )
        subscriber.delete()
