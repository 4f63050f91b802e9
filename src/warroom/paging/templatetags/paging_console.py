"""The paging panels other console pages include, so their views need not know about paging:

* ``{% incident_escalation incident %}`` on the incident page: where the escalation stands (status, step, round,
  next step time), who was paged when, through which channel, and each message's outbox status; the manual
  actions for the people who work the incident;
* ``{% service_escalation_policy service %}`` on the service page: the policy that pages for the service, with a
  picker for the team's admins and managers.

The caller has already checked that the viewer may see the incident or service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import template

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.catalog.models import Service
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.incidents.states import OPEN_STATES, State
from warroom.lib import clock
from warroom.notify import selectors as notify_selectors
from warroom.notify.models import Message, Status
from warroom.oncall import selectors as oncall
from warroom.oncall.forms import ServicePolicyForm
from warroom.paging import services
from warroom.paging.models import EscalationStatus, IncidentEscalation, Page

register = template.Library()

#: the snooze choices of the incident page, in minutes
SNOOZE_CHOICES = ((15, "15 min"), (60, "1 h"), (240, "4 h"))
PAGES_SHOWN = 50

_STATUS_CLASS = {
    "active": "state-new",
    "snoozed": "state-on_hold",
    EscalationStatus.ACKNOWLEDGED: "state-in_progress",
    EscalationStatus.EXHAUSTED: "major",
    EscalationStatus.STOPPED: "state-closed",
}
_MESSAGE_CLASS = {
    "pending": "state-new",
    "throttled": "state-on_hold",
    "sending": "state-new",
    Status.SENT: "state-resolved",
    Status.FAILED: "major",
    Status.CANCELLED: "state-canceled",
    Status.BUNDLED: "state-closed",
}


def message_state(message: Message) -> str:
    """The outbox status as the incident page shows it: a pending row the throttle holds back is *throttled*."""
    if message.status == Status.PENDING and message.note.startswith("throttled"):
        return "throttled"
    return str(message.status)


@dataclass
class MessageRow:
    message: Message
    state: str

    @property
    def css(self) -> str:
        return _MESSAGE_CLASS.get(self.state, "state-closed")

    @property
    def why(self) -> str:
        """Why it waits, was cancelled or failed (empty when it just went out)."""
        m = self.message
        if m.status == Status.FAILED:
            return " · ".join(
                p for p in (m.get_failure_display() if m.failure else "", m.last_error[:200]) if p
            )
        return m.note


@dataclass
class PageRow:
    page: Page
    messages: list[MessageRow] = field(default_factory=list)


def _page_key(page: Page) -> str:
    return f"page:{page.incident_id}:{page.epoch}:{page.loop}:{page.step_index}:{page.user_id}"


def page_rows(esc: IncidentEscalation) -> list[PageRow]:
    """Every page of the escalation, newest first, each with the outbox rows it produced (by dedup key)."""
    by_key: dict[str, list[MessageRow]] = {}
    for message in notify_selectors.messages_in_group(services.group_of(esc.incident_id)):
        key = message.dedup_key.split("|", 1)[0]
        by_key.setdefault(key, []).append(MessageRow(message, message_state(message)))
    pages = Page.objects.filter(escalation=esc).select_related("user").order_by("-at", "-id")[:PAGES_SHOWN]
    return [PageRow(p, by_key.get(_page_key(p), [])) for p in pages]


def _step_count(esc: IncidentEscalation) -> tuple[int, int]:
    """(steps per round, rounds) of what the escalation follows."""
    if esc.user_id is not None:
        return 1, services.REASSIGN_REPEAT + 1
    if esc.policy is None:
        return 0, 1
    return len(oncall.steps_of(esc.policy)), esc.policy.repeat + 1


def status_of(esc: IncidentEscalation, now: datetime) -> str:
    if esc.status == EscalationStatus.ACTIVE and esc.snoozed_until is not None and esc.snoozed_until > now:
        return "snoozed"
    return str(esc.status)


def _paged_label(esc: IncidentEscalation, steps: int, rounds: int) -> str:
    """What the card's "Paged" line says: the last step paged and the round, out of what the escalation follows
    *now* (a policy edited since may have fewer steps or rounds than were paged, or none at all)."""
    last, round_ = esc.step_index, esc.loop + 1
    if esc.user_id is None and esc.policy_id is None:
        where = f"step {last}" if last else "nothing"
        return f"{where} · the policy it followed was deleted"
    if steps == 0:
        return "nobody: the policy has no steps" + (f" (step {last} was paged before)" if last else "")
    if last == 0:
        where = "nothing yet"
    elif last > steps:
        where = f"step {last} (the policy has {steps} step{'s' if steps != 1 else ''} now)"
    else:
        where = f"step {last} of {steps}"
    if round_ > rounds:
        return f"{where} · round {round_} (the policy runs {rounds} round{'s' if rounds != 1 else ''} now)"
    return f"{where} · round {round_} of {rounds}"


def _next_label(esc: IncidentEscalation, steps: int, rounds: int) -> str:
    if esc.status != EscalationStatus.ACTIVE:
        return ""
    if esc.snoozed_until is not None:
        return f"step {max(esc.step_index, 1)} again"
    if esc.step_index < steps:
        return f"step {esc.step_index + 1}"
    if esc.loop + 1 < rounds:
        return f"step 1 of round {esc.loop + 2}"
    return "exhausted, unless someone acknowledges"


def _may_acknowledge(user: User, incident: Incident, can_edit: bool) -> bool:
    if incident.state not in OPEN_STATES:
        return False
    return can_edit or Page.objects.filter(incident=incident, user=user).exists()


@register.inclusion_tag("paging/_incident_escalation.html", takes_context=True)
def incident_escalation(context: template.Context, incident: Incident) -> dict[str, Any]:
    """The "Escalation" card of the incident page."""
    request = context["request"]
    user: User = request.user
    now = clock.now()
    esc = IncidentEscalation.objects.filter(incident=incident).select_related("policy", "user").first()
    can_edit = incident_selectors.can_edit(user, incident)
    is_open = incident.state in OPEN_STATES
    card: dict[str, Any] = {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "incident": incident,
        "esc": esc,
        "now": now,
        "can_act": can_edit and is_open,
        "is_open": is_open,
        "is_new": incident.state == State.NEW,
        "snooze_choices": SNOOZE_CHOICES,
    }
    if esc is None:
        card["service_policy"] = oncall.policy_for_services(incident.services.values_list("pk", flat=True))
    else:
        steps, rounds = _step_count(esc)
        status = status_of(esc, now)
        card |= {
            "status": status,
            "status_class": _STATUS_CLASS.get(status, "state-closed"),
            "status_label": "Snoozed" if status == "snoozed" else esc.get_status_display(),
            "steps": steps,
            "rounds": rounds,
            "round": esc.loop + 1,
            "last_step": esc.step_index,
            "paged_label": _paged_label(esc, steps, rounds),
            "next_label": _next_label(esc, steps, rounds),
            "pages": page_rows(esc),
            "active": esc.status == EscalationStatus.ACTIVE,
        }
    unanswered = (EscalationStatus.ACTIVE, EscalationStatus.EXHAUSTED)
    card["may_acknowledge"] = _may_acknowledge(user, incident, can_edit) and (
        incident.state == State.NEW or (esc is not None and esc.status in unanswered)
    )
    if card["can_act"]:
        # only who may be paged for the team (not its observers): the view refuses anyone else
        card["people"] = list(oncall.on_call_people(incident.team_id))
        card["policies"] = list(oncall.visible_policies(user).order_by("team__name", "name"))
    return card


@register.inclusion_tag("oncall/policy_service_card.html", takes_context=True)
def service_escalation_policy(context: template.Context, service: Service) -> dict[str, Any]:
    """The "Escalation policy" card of the service page."""
    request = context["request"]
    user: User = request.user
    policy = oncall.policy_of_service(service.pk)
    visible = policy is not None and oncall.visible_policies(user).filter(pk=policy.pk).exists()
    can_manage = accounts.can_manage_team(user, service.team_id)
    steps = oncall.steps_of(policy) if policy is not None and visible else []
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "service": service,
        "policy": policy,
        "policy_visible": visible,
        "steps": [
            {
                "number": s.order + 1,
                "delay": s.delay_minutes,
                "targets": [oncall.target_label(t) for t in s.targets.all()],
            }
            for s in steps
        ],
        "can_manage": can_manage,
        "form": ServicePolicyForm(
            user=user, team_id=service.team_id, initial={"policy": policy.pk if policy else None}
        )
        if can_manage
        else None,
    }
