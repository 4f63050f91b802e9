"""Reads of stakeholder updates, update templates, internal subscriptions and their deliveries, scoped to what
the asking user may see.

* Updates and their deliveries are visible to whoever may see the incident (the incident selectors' rules,
  private incidents included); another team's incident is a :class:`NotFound`.
* A person sees and deletes only the subscriptions they made.
* Update templates: everyone sees the built-in defaults and the organisation-wide rows; a team's own rows are
  seen by its members (and organisation admins) and managed by its admins and managers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import selectors as catalog
from warroom.comms.models import (
    Component,
    Delivery,
    DeliveryStatus,
    RecipientKind,
    StatusUpdate,
    Subscription,
    UpdateStatus,
    UpdateTemplate,
)
from warroom.incidents import selectors as incidents
from warroom.incidents.models import Incident
from warroom.integrations.base import elide_url
from warroom.lib.errors import NotFound

#: the messages that pre-fill the update form when neither the team nor the organisation has a template
BUILTIN_TEMPLATES: dict[str, str] = {
    UpdateStatus.INVESTIGATING: (
        "We are investigating reports of a problem affecting this service. "
        "We will post another update within 30 minutes."
    ),
    UpdateStatus.IDENTIFIED: (
        "We have identified the cause of the problem and are working on a fix. "
        "We will post another update within 30 minutes."
    ),
    UpdateStatus.MONITORING: (
        "A fix has been applied and we are monitoring the results. "
        "We will post another update once we are confident the problem is resolved."
    ),
    UpdateStatus.RESOLVED: (
        "The problem has been resolved and the service is operating normally. Thank you for your patience."
    ),
}


# ---------------------------------------------------------------------------------------------------------------
# updates


def can_post_update(user: User, incident: Incident) -> bool:
    """Who may post an update on an incident they can see: acting members of its assignment group
    (responders, managers, admins), organisation admins, its assignee and its role holders (the Communications
    Lead among them). Observers and watchers read updates only."""
    return incidents.can_edit(user, incident)


def updates_of(incident: Incident) -> QuerySet[StatusUpdate]:
    """Every update of ``incident``, newest first, with its author, components and delivery counts
    (``n_sent``, ``n_pending``, ``n_failed``, ``n_deliveries``)."""
    return (
        StatusUpdate.objects.filter(incident=incident)
        .select_related("author")
        .prefetch_related("components__page")
        .annotate(
            n_deliveries=Count("deliveries"),
            n_sent=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
            n_failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
            n_pending=Count(
                "deliveries",
                filter=Q(deliveries__status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            ),
        )
        .order_by("-created_at", "-id")
    )


def get_update_or_404(incident: Incident, update_id: int) -> StatusUpdate:
    """An update of ``incident`` (already fetched through the incident selectors)."""
    update = updates_of(incident).filter(pk=update_id).first()
    if update is None:
        raise NotFound(f"update {update_id} of {incident.ref} not found")
    return update


def latest_update(incident: Incident) -> StatusUpdate | None:
    return StatusUpdate.objects.filter(incident=incident).order_by("-created_at", "-id").first()


def shown_address(delivery: Delivery) -> str:
    """A delivery's address as the console and API show it: a webhook's scheme and host (its URL may hold a
    secret); a status page subscriber's email masked (the public's address is for the page's managers, on the
    page's own console); a colleague's email in full."""
    if delivery.kind == RecipientKind.WEBHOOK:
        return elide_url(delivery.address)
    if delivery.to_page_subscriber:
        local, _, domain = delivery.address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return delivery.address


def deliveries_of(update: StatusUpdate) -> QuerySet[Delivery]:
    return Delivery.objects.filter(update=update).order_by("created_at", "id")


def components() -> QuerySet[Component]:
    """Every status-page component, by page: what an update may name."""
    return Component.objects.select_related("page").order_by("page__name", "position", "id")


def default_update_status(incident: Incident) -> str:
    """What the update form starts on: ``resolved`` once the incident is resolved or closed (posting it does
    not resolve the incident), else the status of the latest update, else ``investigating``."""
    if incident.state in ("resolved", "closed"):
        return UpdateStatus.RESOLVED
    latest = latest_update(incident)
    return latest.status if latest is not None else UpdateStatus.INVESTIGATING


# ---------------------------------------------------------------------------------------------------------------
# templates


@dataclass(frozen=True)
class TemplateChoice:
    """One pre-fill the form offers. ``key`` is the row id as text, or ``builtin:<status>``."""

    key: str
    status: str
    name: str
    body: str
    origin: str  # "team", "organisation" or "built-in"
    template: UpdateTemplate | None = None


def templates_visible_to(user: User) -> QuerySet[UpdateTemplate]:
    """The organisation-wide rows and those of the teams ``user`` can see."""
    qs = UpdateTemplate.objects.select_related("team")
    if user.is_org_admin:
        return qs
    return qs.filter(Q(team__isnull=True) | Q(team_id__in=accounts.team_ids(user)))


def get_template_for_user_or_404(user: User, template_id: int) -> UpdateTemplate:
    template = templates_visible_to(user).filter(pk=template_id).first()
    if template is None:
        raise NotFound(f"update template {template_id} not found")
    return template


def can_manage_template(user: User, team_id: int | None) -> bool:
    """A team's templates: its admins and managers; organisation-wide ones: organisation admins."""
    if team_id is None:
        return user.is_org_admin
    return accounts.can_manage_team(user, team_id)


def template_choices(team: Team) -> list[TemplateChoice]:
    """What the update form of ``team``'s incidents offers, per status in order: the team's own templates,
    then the organisation-wide ones, then, for a status with neither, the built-in default."""
    rows = list(
        UpdateTemplate.objects.filter(Q(team=team) | Q(team__isnull=True)).order_by(
            "status", "-team_id", "name", "id"
        )
    )
    choices: list[TemplateChoice] = []
    for status in UpdateStatus.values:
        mine = [r for r in rows if r.status == status and r.team_id is not None]
        shared = [r for r in rows if r.status == status and r.team_id is None]
        for row in [*mine, *shared]:
            origin = "team" if row.team_id is not None else "organisation"
            choices.append(TemplateChoice(str(row.pk), status, row.name, row.body, origin, row))
        if not mine and not shared:
            label = UpdateStatus(status).label
            choices.append(
                TemplateChoice(f"builtin:{status}", status, label, BUILTIN_TEMPLATES[status], "built-in")
            )
    return choices


def template_choice(team: Team, *, key: str = "", status: str = "") -> TemplateChoice | None:
    """The choice named ``key`` (unknown keys give None), else the first one for ``status``."""
    choices = template_choices(team)
    if key:
        return next((c for c in choices if c.key == key), None)
    return next((c for c in choices if c.status == status), None)


# ---------------------------------------------------------------------------------------------------------------
# subscriptions


def subscriptions_of(user: User) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(created_by=user)
        .select_related("service", "team", "incident")
        .order_by("-created_at", "-id")
    )


def get_own_subscription_or_404(user: User, subscription_id: int) -> Subscription:
    subscription = subscriptions_of(user).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound(f"subscription {subscription_id} not found")
    return subscription


def can_see_target(
    user: User, *, service_id: int | None, team_id: int | None, incident_id: int | None
) -> bool:
    """Whether ``user`` may see what a subscription follows (the rule for making one, and for it to keep
    receiving updates)."""
    if service_id is not None:
        return catalog.visible_services(user).filter(pk=service_id).exists()
    if team_id is not None:
        return accounts.visible_teams(user).filter(pk=team_id).exists()
    if incident_id is not None:
        return incidents.visible_incidents(user).filter(pk=incident_id).exists()
    return False


def subscription_target(subscription: Subscription) -> str:
    """``service Checkout``, ``team Team A``, ``incident INC0000042``."""
    if subscription.service is not None:
        return f"service {subscription.service.name}"
    if subscription.team is not None:
        return f"team {subscription.team.name}"
    if subscription.incident is not None:
        return f"incident {subscription.incident.ref}"
    return "nothing"


def my_subscription_to(user: User, *, incident: Incident) -> list[Subscription]:
    """The caller's subscriptions to one incident (the incident page's subscribe control)."""
    return list(subscriptions_of(user).filter(incident=incident))
