"""Every write of stakeholder updates, update templates and internal subscriptions (docs/communication.md).

Each service is keyword-only, runs in one transaction and writes its audit row with the change.
:func:`post_update` also writes the incident's timeline entry and the subscriber outbox rows
(:func:`warroom.comms.outbox.enqueue`), then sends :data:`~warroom.comms.signals.update_posted` inside the same
transaction, so the status pages' reaction commits or rolls back with the update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from warroom.accounts.models import Team, User
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.comms import outbox, selectors
from warroom.comms.models import (
    INTERNAL_AUDIENCES,
    Audience,
    Component,
    ComponentStatus,
    RecipientKind,
    StatusUpdate,
    Subscription,
    UpdateStatus,
    UpdateTemplate,
    recipient_key,
)
from warroom.comms.signals import update_posted
from warroom.incidents import selectors as incidents
from warroom.incidents.models import EntryKind, Incident, TimelineEntry
from warroom.integrations import registry
from warroom.integrations.base import InvalidAddress
from warroom.lib import clock
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MESSAGE_MAX = 10_000
TEMPLATE_NAME_MAX = 100
TEMPLATE_BODY_MAX = 10_000
ADDRESS_MAX = 500
#: subscriptions one person may hold
SUBSCRIPTIONS_MAX = 200


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _choice(value: Any, allowed: Sequence[str], *, field: str, blank: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if blank and text == "":
        return ""
    if text not in allowed:
        raise ValidationFailed(f"{field} must be one of {', '.join(allowed)} (got {value!r})", field=field)
    return text


def _clean_text(value: Any, *, field: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"{field} is at most {limit} characters (got {len(text)})", field=field)
    return text


def _absolute(path: str) -> str:
    return str(settings.WARROOM_BASE_URL).rstrip("/") + path


def _components(values: Sequence[Component | int]) -> list[Component]:
    """The components an update names, checked to exist: an unknown id is a 400 naming ``components``."""
    ids: list[int] = []
    for value in values:
        pk = value.pk if isinstance(value, Component) else value
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise ValidationFailed(f"components: {value!r} is not a component id", field="components")
        if pk not in ids:
            ids.append(pk)
    found = {c.pk: c for c in Component.objects.select_related("page").filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        listed = ", ".join(str(pk) for pk in missing)
        raise ValidationFailed(f"components: no status-page component with id {listed}", field="components")
    return [found[pk] for pk in ids]


def _dedup_key(update: StatusUpdate, kind: str, address: str) -> str:
    digest = hashlib.sha256(recipient_key(kind, address).encode()).hexdigest()[:40]
    return f"update:{update.pk}:{kind}:{digest}"


# ---------------------------------------------------------------------------------------------------------------
# updates


def update_snapshot(update: StatusUpdate, components: Sequence[Component]) -> dict[str, Any]:
    return {
        "incident": update.incident_id,
        "status": update.status,
        "audience": update.audience,
        "components": [c.pk for c in components],
        "component_status": update.component_status,
    }


def _recipients(incident: Incident) -> list[tuple[Subscription, list[Subscription]]]:
    """The internal subscriptions an update of ``incident`` reaches, one per (kind, address): (the one whose
    secret is used, every one that matched). A subscription matches when it follows the incident, one of its
    services or its team, and its maker is still active and may still see the incident. A private incident
    reaches only subscriptions to that incident itself."""
    match = Subscription.objects.filter(incident=incident)
    if not incident.is_private:
        service_ids = list(incident.services.values_list("pk", flat=True))
        match = match | Subscription.objects.filter(team_id=incident.team_id)
        if service_ids:
            match = match | Subscription.objects.filter(service_id__in=service_ids)
    rows = list(
        match.select_related("created_by", "service", "team", "incident").order_by("created_at", "id")
    )
    seeing: dict[int, bool] = {}
    for row in rows:
        maker = row.created_by
        if maker is not None and maker.pk not in seeing:
            seeing[maker.pk] = (
                maker.is_active and incidents.visible_incidents(maker).filter(pk=incident.pk).exists()
            )
    grouped: dict[tuple[str, str], list[Subscription]] = {}
    for row in rows:
        if row.created_by_id is None or not seeing.get(row.created_by_id, False):
            continue
        grouped.setdefault((row.kind, recipient_key(row.kind, row.address)), []).append(row)
    return [(group[0], group) for group in grouped.values()]


def _delivery_text(update: StatusUpdate, components: Sequence[Component]) -> tuple[str, str, dict[str, Any]]:
    """(subject, body, webhook context) of one update, the same for every subscriber."""
    incident = update.incident
    status_label = UpdateStatus(update.status).label
    url = _absolute(reverse("web:incident-detail", args=[incident.ref]))
    subject = f"{incident.ref} {status_label}: {incident.title}"
    lines = [f"{status_label} · {incident.ref} {incident.title}", "", update.message]
    if components:
        lines += ["", "Affected: " + ", ".join(c.name for c in components)]
    context: dict[str, Any] = {
        "event": "incident.update_posted",
        "url": url,
        "update": {
            "id": update.pk,
            "status": update.status,
            "message": update.message,
            "audience": update.audience,
            "component_status": update.component_status,
            "components": [{"id": c.pk, "name": c.name, "page": c.page.slug} for c in components],
            "author": update.author.display_name if update.author is not None else None,
            "created_at": update.created_at.isoformat(),
        },
        "incident": {
            "ref": incident.ref,
            "title": incident.title,
            "state": incident.state,
            "priority": incident.priority,
            "team": incident.team.slug,
            "url": url,
        },
    }
    return subject, "\n".join(lines), context


def _enqueue_subscribers(update: StatusUpdate, components: Sequence[Component]) -> int:
    subject, body, context = _delivery_text(update, components)
    manage = _absolute(reverse("comms-subscriptions"))
    drafts: list[outbox.Draft] = []
    for chosen, matched in _recipients(update.incident):
        follows = [selectors.subscription_target(s) for s in matched]
        footer = (
            f"\n\nYou receive this because {chosen.address} follows {', '.join(follows)}.\nManage: {manage}"
        )
        drafts.append(
            outbox.Draft(
                kind=chosen.kind,
                address=chosen.address,
                secret=dict(chosen.secret),
                subject=subject,
                body=body + footer,
                context={**context, "subscription": {"id": chosen.pk, "follows": follows}},
                dedup_key=_dedup_key(update, chosen.kind, chosen.address),
            )
        )
    return outbox.enqueue_many(drafts, update=update)


def post_update(
    *,
    incident: Incident,
    status: str,
    message: str,
    audience: str,
    components: Sequence[Component | int] = (),
    component_status: str = "",
    actor: User | None,
    source: str,
) -> StatusUpdate:
    """Post a stakeholder update on ``incident`` (which the caller fetched through the incident selectors).

    Who may: see :func:`selectors.can_post_update` (403 otherwise); ``actor=None`` is the system. In one
    transaction: the update and its components, a timeline note "Update posted: <status>, <audience>", an audit
    row, one outbox row per internal subscriber address when the audience is internal or both (an address
    matched through the incident, a service and the team still gets one), then ``update_posted``.

    Posting ``resolved`` does not resolve the incident. A private incident's updates are internal only: a
    public or both audience is refused (400, ``audience``); a test incident's too, and they set no component
    status. Components must exist (400, ``components``);
    ``component_status`` needs at least one component."""
    if actor is not None and not selectors.can_post_update(actor, incident):
        raise PermissionDenied(f"you may view {incident.ref} but not post updates on it")
    clean_status = _choice(status, UpdateStatus.values, field="status")
    clean_audience = _choice(audience, Audience.values, field="audience")
    text = _clean_text(message, field="message", limit=MESSAGE_MAX)
    clean_component_status = _choice(
        component_status, ComponentStatus.values, field="component_status", blank=True
    )
    chosen = _components(components)
    if clean_component_status and not chosen:
        raise ValidationFailed(
            "component_status sets the status of the update's components: name at least one component",
            field="component_status",
        )
    if incident.is_private and clean_audience != Audience.INTERNAL:
        raise ValidationFailed(
            f"{incident.ref} is private: its updates are internal only (make the incident non-private to "
            "post a public update)",
            field="audience",
        )
    if incident.is_test and (clean_audience != Audience.INTERNAL or clean_component_status):
        raise ValidationFailed(
            f"{incident.ref} is a test incident: its updates are internal only and set no component's status, "
            "so that a status page never shows a test",
            field="component_status" if clean_audience == Audience.INTERNAL else "audience",
        )
    with transaction.atomic():
        now = clock.now()
        update = StatusUpdate.objects.create(
            incident=incident,
            status=clean_status,
            message=text,
            audience=clean_audience,
            component_status=clean_component_status,
            author=actor,
            created_at=now,
        )
        if chosen:
            update.components.set(chosen)
        summary = (
            f"Update posted: {UpdateStatus(clean_status).label}, {Audience(clean_audience).label.lower()}"
        )
        TimelineEntry.objects.create(
            incident=incident,
            at=now,
            actor=actor,
            source=source,
            kind=EntryKind.NOTE,
            field="status_update",
            new_value=clean_status,
            message=f"**{summary}**\n\n{text}",
        )
        Incident.objects.filter(pk=incident.pk).update(updated_at=now)
        audit.record(
            actor=actor,
            source=source,
            action="comms.update.post",
            obj=update,
            after=update_snapshot(update, chosen),
        )
        if clean_audience in INTERNAL_AUDIENCES:
            _enqueue_subscribers(update, chosen)
        update_posted.send(sender=StatusUpdate, update=update, at=now)
    return update


# ---------------------------------------------------------------------------------------------------------------
# templates


def _template_snapshot(template: UpdateTemplate) -> dict[str, Any]:
    return {"team": template.team_id, "status": template.status, "name": template.name, "body": template.body}


def _require_template_manager(actor: User | None, team_id: int | None) -> None:
    if actor is not None and not selectors.can_manage_template(actor, team_id):
        if team_id is None:
            raise PermissionDenied("organisation-wide update templates are managed by organisation admins")
        raise PermissionDenied("a team's update templates are managed by its admins and managers")


def _check_template_name(team_id: int | None, status: str, name: str, exclude: int | None) -> None:
    """NULL teams are distinct in a unique index, so organisation-wide names are checked here too."""
    clash = UpdateTemplate.objects.filter(status=status, name=name)
    clash = clash.filter(team__isnull=True) if team_id is None else clash.filter(team_id=team_id)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise Conflict(f"there is already a {status} template named {name!r}", field="name")


def create_update_template(
    *, team: Team | None, status: str, name: str, body: str, actor: User | None, source: str
) -> UpdateTemplate:
    """A template that pre-fills the update form for ``status``: ``team`` None makes it organisation-wide
    (organisation admins), else it is the team's own (its admins and managers). A name is unique per team and
    status (409, ``name``)."""
    _require_template_manager(actor, team.pk if team is not None else None)
    clean_status = _choice(status, UpdateStatus.values, field="status")
    clean_name = " ".join(_clean_text(name, field="name", limit=TEMPLATE_NAME_MAX).split())
    clean_body = _clean_text(body, field="body", limit=TEMPLATE_BODY_MAX)
    try:
        with transaction.atomic():
            _check_template_name(team.pk if team else None, clean_status, clean_name, None)
            now = clock.now()
            template = UpdateTemplate.objects.create(
                team=team,
                status=clean_status,
                name=clean_name,
                body=clean_body,
                created_at=now,
                updated_at=now,
            )
            audit.record(
                actor=actor,
                source=source,
                action="comms.template.create",
                obj=template,
                after=_template_snapshot(template),
            )
    except IntegrityError:
        raise Conflict(
            f"there is already a {clean_status} template named {clean_name!r}", field="name"
        ) from None
    return template


def update_update_template(
    *,
    template: UpdateTemplate,
    status: str | None = None,
    name: str | None = None,
    body: str | None = None,
    actor: User | None,
    source: str,
) -> UpdateTemplate:
    """Change a template's status, name or body (only what is passed). Its team never changes."""
    _require_template_manager(actor, template.team_id)
    before = _template_snapshot(template)
    values = {
        "status": _choice(status, UpdateStatus.values, field="status")
        if status is not None
        else template.status,
        "name": " ".join(_clean_text(name, field="name", limit=TEMPLATE_NAME_MAX).split())
        if name is not None
        else template.name,
        "body": _clean_text(body, field="body", limit=TEMPLATE_BODY_MAX)
        if body is not None
        else template.body,
    }
    try:
        with transaction.atomic():
            _check_template_name(template.team_id, values["status"], values["name"], template.pk)
            UpdateTemplate.objects.filter(pk=template.pk).update(**values, updated_at=clock.now())
            template.refresh_from_db()
            audit.record(
                actor=actor,
                source=source,
                action="comms.template.update",
                obj=template,
                before=before,
                after=_template_snapshot(template),
            )
    except IntegrityError:
        raise Conflict(
            f"there is already a {values['status']} template named {values['name']!r}", field="name"
        ) from None
    return template


def delete_update_template(*, template: UpdateTemplate, actor: User | None, source: str) -> None:
    """Remove a template; when a status has no template left, the form falls back to the built-in default."""
    _require_template_manager(actor, template.team_id)
    with transaction.atomic():
        audit.record(
            actor=actor,
            source=source,
            action="comms.template.delete",
            obj=template,
            before=_template_snapshot(template),
        )
        UpdateTemplate.objects.filter(pk=template.pk).delete()


# ---------------------------------------------------------------------------------------------------------------
# subscriptions


@dataclass(frozen=True)
class SubscriptionCreated:
    subscription: Subscription
    #: shown to its maker once: a webhook's signing secret
    reveal: dict[str, str] = field(default_factory=dict)


def _subscription_snapshot(subscription: Subscription) -> dict[str, Any]:
    """What the audit log keeps: never the signing secret."""
    return {
        "kind": subscription.kind,
        "address": subscription.address,
        "service": subscription.service_id,
        "team": subscription.team_id,
        "incident": subscription.incident_id,
    }


def _parse_subscriber(kind: str, address: Any) -> tuple[str, dict[str, str], dict[str, str]]:
    """(normalised address, secret to store, what to reveal once). Webhooks must be https and pass the SSRF
    client's rules for saved URLs (no credentials, no literal private or loopback address)."""
    clean_kind = _choice(kind, RecipientKind.values, field="kind")
    text = address.strip() if isinstance(address, str) else ""
    if not text:
        raise ValidationFailed("give an email address or an https URL", field="address")
    if len(text) > ADDRESS_MAX:
        raise ValidationFailed(f"address is at most {ADDRESS_MAX} characters", field="address")
    channel = registry.get(clean_kind)
    if not channel.configured():
        raise ValidationFailed(channel.not_configured_reason(), field="kind")
    if clean_kind == RecipientKind.WEBHOOK:
        url, secret = webhook_target(text, field="address")
        return url, secret, dict(secret)
    try:
        target = channel.parse_address(text)
    except InvalidAddress as exc:
        raise ValidationFailed(str(exc), field="address") from None
    return target.value, {}, {}


def webhook_target(address: str, *, field: str, signing_secret: str = "") -> tuple[str, dict[str, str]]:
    """An https URL that Warroom may POST signed JSON to, as the subscriber outbox sends it (subscriptions,
    workflows' webhooks): the URL and the secret to store (``{"signing_secret": …}``: ``signing_secret`` if
    given, 16 to 200 characters, else a new one). Refuses (400 on ``field``) what is not https, carries
    credentials or names a private, loopback or link-local address (the SSRF-safe client's rules)."""
    text = address.strip()
    try:
        scheme = httpx.URL(text).scheme
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ValidationFailed(f"{text[:80]!r} is not a URL", field=field) from None
    if scheme != "https":
        raise ValidationFailed("a webhook URL must start with https://", field=field)
    if len(text) > ADDRESS_MAX:
        raise ValidationFailed(f"a webhook URL is at most {ADDRESS_MAX} characters", field=field)
    try:
        target = registry.get(RecipientKind.WEBHOOK).parse_address(text, token=signing_secret)
    except InvalidAddress as exc:
        raise ValidationFailed(str(exc), field=field) from None
    return str(target.secret["url"]), {"signing_secret": str(target.secret["signing_secret"])}


def create_subscription(
    *,
    kind: str,
    address: str,
    service: Service | None = None,
    team: Team | None = None,
    incident: Incident | None = None,
    actor: User,
    source: str,
) -> SubscriptionCreated:
    """Subscribe an email address or an https webhook to exactly one of a service, a team or an incident that
    ``actor`` may see (404 otherwise). A webhook gets a generated signing secret, returned in ``reveal`` this
    once. The same address following the same thing twice is a 409."""
    targets = [t for t in (service, team, incident) if t is not None]
    if len(targets) != 1:
        raise ValidationFailed("subscribe to exactly one of a service, a team or an incident", field="target")
    if not selectors.can_see_target(
        actor,
        service_id=service.pk if service else None,
        team_id=team.pk if team else None,
        incident_id=incident.pk if incident else None,
    ):
        name = "service" if service else "team" if team else "incident"
        raise NotFound(f"{name} not found", field=name)
    clean_address, secret, reveal = _parse_subscriber(kind, address)
    target_field = "service" if service else "team" if team else "incident"
    if Subscription.objects.filter(created_by=actor).count() >= SUBSCRIPTIONS_MAX:
        raise ValidationFailed(
            f"you have {SUBSCRIPTIONS_MAX} subscriptions, the most one person may hold: delete some first",
            field="target",
        )
    duplicate = f"{clean_address} already follows this {target_field} by {kind}"
    if Subscription.objects.filter(kind=kind, address=clean_address, **{target_field: targets[0]}).exists():
        raise Conflict(duplicate, field="address")
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                kind=kind,
                address=clean_address,
                secret=secret,
                service=service,
                team=team,
                incident=incident,
                created_by=actor,
                created_at=clock.now(),
            )
            audit.record(
                actor=actor,
                source=source,
                action="comms.subscription.create",
                obj=subscription,
                after=_subscription_snapshot(subscription),
            )
    except IntegrityError:
        raise Conflict(duplicate, field="address") from None
    return SubscriptionCreated(subscription=subscription, reveal=reveal)


def delete_subscription(*, subscription: Subscription, actor: User, source: str) -> None:
    """Stop a subscription: its maker (or an organisation admin). Deliveries already queued still go."""
    if subscription.created_by_id != actor.pk and not actor.is_org_admin:
        raise NotFound(f"subscription {subscription.pk} not found")
    with transaction.atomic():
        audit.record(
            actor=actor,
            source=source,
            action="comms.subscription.delete",
            obj=subscription,
            before=_subscription_snapshot(subscription),
        )
        Subscription.objects.filter(pk=subscription.pk).delete()
