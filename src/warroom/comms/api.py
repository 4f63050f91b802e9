"""REST routes of stakeholder updates (``/incidents/{ref}/updates``), update templates (``/update-templates``)
and the caller's internal subscriptions (``/me/subscriptions``). See docs/communication.md.

Incidents are fetched through the incident selectors, so one the caller may not see is a 404 whatever the
route. Every change goes through :mod:`warroom.comms.services`. A component id in the body that does not exist
is a 400 naming ``components``; a subscription target the caller cannot see is a 404 naming it.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from warroom.accounts import selectors as accounts
from warroom.accounts.schemas import (
    Page,
    Paging,
    TeamRef,
    UserRef,
    caller,
    lookup,
    paginate,
    source_of,
    user_ref,
)
from warroom.catalog import selectors as catalog
from warroom.comms import selectors, services
from warroom.comms.models import Audience, Delivery, StatusUpdate, Subscription, UpdateTemplate
from warroom.incidents import selectors as incidents
from warroom.lib.errors import NotFound
from warroom.lib.schema import InputSchema

router = Router(tags=["stakeholder updates"])


# ---------------------------------------------------------------------------------------------------------------
# schemas


class ComponentRef(Schema):
    id: int
    name: str
    page: str = Field(description="The status page's slug.")


class DeliveryCounts(Schema):
    total: int
    sent: int
    pending: int = Field(description="Pending or being sent.")
    failed: int


class UpdateOut(Schema):
    id: int
    incident: str = Field(description="The incident's reference, e.g. INC0001042.")
    status: str
    message: str
    audience: str
    components: list[ComponentRef]
    component_status: str = Field(description="The status the update set for its components; empty: none.")
    author: UserRef | None
    created_at: datetime
    deliveries: DeliveryCounts = Field(description="Outbox rows to internal subscribers, by state.")


class UpdateIn(InputSchema):
    status: str = Field(description="investigating, identified, monitoring or resolved.")
    message: str
    audience: str = Field(Audience.INTERNAL, description="internal, public or both.")
    components: list[int] = Field(default_factory=list, description="Status-page component ids.")
    component_status: str = Field(
        "", description="Set the components to this status (operational, degraded_performance, ...)."
    )


class DeliveryOut(Schema):
    id: int
    kind: str
    address: str = Field(description="The email address, or the webhook URL's scheme and host only.")
    status: str
    attempts: int
    delivery_id: str = Field(description="Stable across retries: Warroom-Delivery-Id / the Message-ID.")
    last_error: str
    next_attempt_at: datetime
    sent_at: datetime | None
    created_at: datetime


class TemplateOut(Schema):
    key: str = Field(description="The template's id as text, or builtin:<status> for a built-in default.")
    id: int | None
    team: TeamRef | None = Field(description="Null: organisation-wide (or built-in).")
    status: str
    name: str
    body: str
    origin: str = Field(description="team, organisation or built-in.")


class TemplateIn(InputSchema):
    team: int | str | None = Field(None, description="Team id or slug; null: organisation-wide (org admins).")
    status: str
    name: str
    body: str


class TemplatePatch(InputSchema):
    status: str | None = None
    name: str | None = None
    body: str | None = None


class TemplateQuery(Schema):
    team: str | None = Field(None, description="Only this team's templates (id or slug).")


class SubscriptionTarget(Schema):
    type: str = Field(description="service, team or incident.")
    id: int
    name: str = Field(description="The service's or team's name, or the incident's reference.")


class SubscriptionOut(Schema):
    id: int
    kind: str
    address: str
    target: SubscriptionTarget
    created_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    signing_secret: str | None = Field(
        description="A webhook's signing secret: in this answer only, never again. Null for email."
    )


class SubscriptionIn(InputSchema):
    kind: str = Field(description="email or webhook.")
    address: str = Field(description="An email address, or an https URL for a webhook.")
    service: int | str | None = Field(None, description="Follow a service (id or slug) ...")
    team: int | str | None = Field(None, description="... or a team (id or slug) ...")
    incident: str | None = Field(
        None, description="... or one incident (INC0001042): exactly one of the three."
    )


# ---------------------------------------------------------------------------------------------------------------
# JSON


def update_json(update: StatusUpdate) -> dict[str, Any]:
    counts = {
        "total": getattr(update, "n_deliveries", 0),
        "sent": getattr(update, "n_sent", 0),
        "pending": getattr(update, "n_pending", 0),
        "failed": getattr(update, "n_failed", 0),
    }
    return {
        "id": update.pk,
        "incident": update.incident.ref,
        "status": update.status,
        "message": update.message,
        "audience": update.audience,
        "components": [{"id": c.pk, "name": c.name, "page": c.page.slug} for c in update.components.all()],
        "component_status": update.component_status,
        "author": user_ref(update.author),
        "created_at": update.created_at,
        "deliveries": counts,
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "kind": delivery.kind,
        "address": selectors.shown_address(delivery),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "delivery_id": delivery.delivery_id,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at,
        "sent_at": delivery.sent_at,
        "created_at": delivery.created_at,
    }


def _team_ref(team: Any) -> dict[str, Any] | None:
    return {"id": team.pk, "slug": team.slug, "name": team.name} if team is not None else None


def template_json(template: UpdateTemplate) -> dict[str, Any]:
    return {
        "key": str(template.pk),
        "id": template.pk,
        "team": _team_ref(template.team),
        "status": template.status,
        "name": template.name,
        "body": template.body,
        "origin": "team" if template.team_id is not None else "organisation",
    }


def choice_json(choice: selectors.TemplateChoice) -> dict[str, Any]:
    if choice.template is not None:
        return template_json(choice.template)
    return {
        "key": choice.key,
        "id": None,
        "team": None,
        "status": choice.status,
        "name": choice.name,
        "body": choice.body,
        "origin": choice.origin,
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    if subscription.service is not None:
        target = {"type": "service", "id": subscription.service.pk, "name": subscription.service.name}
    elif subscription.team is not None:
        target = {"type": "team", "id": subscription.team.pk, "name": subscription.team.name}
    else:
        assert subscription.incident is not None
        target = {"type": "incident", "id": subscription.incident.pk, "name": subscription.incident.ref}
    return {
        "id": subscription.pk,
        "kind": subscription.kind,
        "address": subscription.address,
        "target": target,
        "created_at": subscription.created_at,
    }


# ---------------------------------------------------------------------------------------------------------------
# updates


@router.get("/incidents/{ref}/updates", response=Page[UpdateOut], summary="List an incident's updates")
def list_updates(request: HttpRequest, ref: str, paging: Query[Paging]) -> dict[str, Any]:
    """Newest first, with how many internal subscribers each reached."""
    incident = incidents.get_incident_for_user_or_404(caller(request), ref=ref)
    return paginate(selectors.updates_of(incident).select_related("incident"), paging, update_json)


@router.post("/incidents/{ref}/updates", response={201: UpdateOut}, summary="Post an update")
def post_update(request: HttpRequest, ref: str, payload: UpdateIn) -> Status[dict[str, Any]]:
    """Tell stakeholders: internal subscribers of the incident, its services and its team (audience internal
    or both) and the status pages (public or both). Posting ``resolved`` does not resolve the incident."""
    user = caller(request)
    incident = incidents.get_incident_for_user_or_404(user, ref=ref)
    update = services.post_update(
        incident=incident,
        status=payload.status,
        message=payload.message,
        audience=payload.audience,
        components=payload.components,
        component_status=payload.component_status,
        actor=user,
        source=source_of(request),
    )
    return Status(201, update_json(selectors.get_update_or_404(incident, update.pk)))


@router.get("/incidents/{ref}/updates/{update_id}", response=UpdateOut, summary="Get an update")
def get_update(request: HttpRequest, ref: str, update_id: int) -> dict[str, Any]:
    incident = incidents.get_incident_for_user_or_404(caller(request), ref=ref)
    return update_json(selectors.get_update_or_404(incident, update_id))


@router.get(
    "/incidents/{ref}/updates/{update_id}/deliveries",
    response=Page[DeliveryOut],
    summary="List an update's deliveries",
)
def list_deliveries(request: HttpRequest, ref: str, update_id: int, paging: Query[Paging]) -> dict[str, Any]:
    """One row per subscriber address: its state, attempts, the last error and the stable delivery id."""
    incident = incidents.get_incident_for_user_or_404(caller(request), ref=ref)
    update = selectors.get_update_or_404(incident, update_id)
    return paginate(selectors.deliveries_of(update), paging, delivery_json)


@router.get(
    "/incidents/{ref}/update-templates",
    response=list[TemplateOut],
    summary="List the templates for an incident's updates",
)
def incident_templates(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    """What pre-fills this incident's update form, per status: its team's templates, then the organisation's,
    then the built-in default for a status with neither."""
    incident = incidents.get_incident_for_user_or_404(caller(request), ref=ref)
    return [choice_json(c) for c in selectors.template_choices(incident.team)]


# ---------------------------------------------------------------------------------------------------------------
# templates


@router.get("/update-templates", response=Page[TemplateOut], summary="List update templates")
def list_templates(
    request: HttpRequest, query: Query[TemplateQuery], paging: Query[Paging]
) -> dict[str, Any]:
    """The stored templates you can see: organisation-wide ones and those of your teams. The built-in defaults
    are listed by ``GET /incidents/{ref}/update-templates``."""
    user = caller(request)
    rows = selectors.templates_visible_to(user).order_by("team__name", "status", "name", "id")
    if query.team:
        rows = rows.filter(
            team=lookup("team", partial(accounts.get_team_for_user_or_404, user, key=query.team))
        )
    return paginate(rows, paging, template_json)


@router.post("/update-templates", response={201: TemplateOut}, summary="Create an update template")
def create_template(request: HttpRequest, payload: TemplateIn) -> Status[dict[str, Any]]:
    """A team's template (its admins and managers) or, with ``team`` null, an organisation-wide one
    (organisation admins)."""
    user = caller(request)
    team = (
        lookup("team", partial(accounts.get_team_for_user_or_404, user, key=payload.team))
        if payload.team is not None
        else None
    )
    template = services.create_update_template(
        team=team,
        status=payload.status,
        name=payload.name,
        body=payload.body,
        actor=user,
        source=source_of(request),
    )
    return Status(201, template_json(template))


@router.get("/update-templates/{template_id}", response=TemplateOut, summary="Get an update template")
def get_template(request: HttpRequest, template_id: int) -> dict[str, Any]:
    return template_json(selectors.get_template_for_user_or_404(caller(request), template_id))


@router.patch("/update-templates/{template_id}", response=TemplateOut, summary="Change an update template")
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch) -> dict[str, Any]:
    user = caller(request)
    template = selectors.get_template_for_user_or_404(user, template_id)
    changed = services.update_update_template(
        template=template,
        status=payload.status,
        name=payload.name,
        body=payload.body,
        actor=user,
        source=source_of(request),
    )
    return template_json(changed)


@router.delete("/update-templates/{template_id}", response={204: None}, summary="Delete an update template")
def delete_template(request: HttpRequest, template_id: int) -> Status[None]:
    user = caller(request)
    template = selectors.get_template_for_user_or_404(user, template_id)
    services.delete_update_template(template=template, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# subscriptions


@router.get("/me/subscriptions", response=Page[SubscriptionOut], summary="List your subscriptions")
def list_subscriptions(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    return paginate(selectors.subscriptions_of(caller(request)), paging, subscription_json)


def _target(name: str, find: Any) -> Any:
    """A subscription target from the body: unknown or not visible is a 404 naming the field."""
    try:
        return find()
    except NotFound as exc:
        raise NotFound(f"{name}: {exc.message}", field=name) from None


@router.post("/me/subscriptions", response={201: SubscriptionCreatedOut}, summary="Subscribe to updates")
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Status[dict[str, Any]]:
    """Follow exactly one service, team or incident you can see, by email or an https webhook. A webhook's
    signing secret is in this answer only. The same address following the same thing twice is a 409."""
    user = caller(request)
    service = (
        _target("service", partial(catalog.get_service_for_user_or_404, user, key=payload.service))
        if payload.service is not None
        else None
    )
    team = (
        _target("team", partial(accounts.get_team_for_user_or_404, user, key=payload.team))
        if payload.team is not None
        else None
    )
    incident = (
        _target("incident", partial(incidents.get_incident_for_user_or_404, user, ref=payload.incident))
        if payload.incident is not None
        else None
    )
    created = services.create_subscription(
        kind=payload.kind,
        address=payload.address,
        service=service,
        team=team,
        incident=incident,
        actor=user,
        source=source_of(request),
    )
    body = {**subscription_json(created.subscription), "signing_secret": created.reveal.get("signing_secret")}
    return Status(201, body)


@router.get("/me/subscriptions/{subscription_id}", response=SubscriptionOut, summary="Get a subscription")
def get_subscription(request: HttpRequest, subscription_id: int) -> dict[str, Any]:
    return subscription_json(selectors.get_own_subscription_or_404(caller(request), subscription_id))


@router.delete("/me/subscriptions/{subscription_id}", response={204: None}, summary="Delete a subscription")
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    """Stop following; deliveries already queued still go."""
    user = caller(request)
    subscription = selectors.get_own_subscription_or_404(user, subscription_id)
    services.delete_subscription(subscription=subscription, actor=user, source=source_of(request))
    return Status(204, None)
