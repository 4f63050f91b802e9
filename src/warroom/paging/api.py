"""REST routes for an incident's paging: where its escalation stands, who was paged, and the actions
(acknowledge, escalate now, reassign to a person or a policy, snooze)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from warroom.accounts import selectors as accounts
from warroom.accounts.schemas import caller, lookup, source_of, user_key
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.lib.apitypes import IsoDateTime
from warroom.lib.schema import InputSchema
from warroom.oncall import selectors as oncall
from warroom.paging import services
from warroom.paging.models import IncidentEscalation, Page

router = Router(tags=["paging"])


class EscalationPageOut(Schema):
    user: int
    name: str
    via: str
    step: int
    round: int
    reachable: bool
    note: str
    at: datetime


class EscalationOut(Schema):
    status: str
    policy: int | None
    user: int | None
    next_step: int
    round: int
    next_at: datetime | None
    snoozed_until: datetime | None
    pages: list[EscalationPageOut]


class ReassignIn(InputSchema):
    user: int | str | None = Field(None, description="A person (id or email)")
    policy: int | None = Field(None, description="An escalation policy id")


class SnoozeIn(InputSchema):
    until: IsoDateTime


def _incident(request: HttpRequest, ref: str) -> tuple[Any, Incident]:
    user = caller(request)
    return user, incident_selectors.get_incident_for_user_or_404(user, ref=ref)


def escalation_json(incident: Incident) -> dict[str, Any] | None:
    esc = IncidentEscalation.objects.filter(incident=incident).first()
    if esc is None:
        return None
    pages = Page.objects.filter(escalation=esc).select_related("user").order_by("at", "id")
    return {
        "status": esc.status,
        "policy": esc.policy_id,
        "user": esc.user_id,
        "next_step": esc.step_index + 1,
        "round": esc.loop + 1,
        "next_at": esc.next_at,
        "snoozed_until": esc.snoozed_until,
        "pages": [
            {
                "user": p.user_id,
                "name": p.user.display_name,
                "via": p.via,
                "step": p.step_index + 1,
                "round": p.loop + 1,
                "reachable": p.reachable,
                "note": p.note,
                "at": p.at,
            }
            for p in pages
        ],
    }


@router.get("/incidents/{ref}/escalation", response=EscalationOut | None, summary="An incident's escalation")
def get_escalation(request: HttpRequest, ref: str) -> dict[str, Any] | None:
    _user, incident = _incident(request, ref)
    return escalation_json(incident)


@router.post(
    "/incidents/{ref}/escalation/acknowledge", response=EscalationOut, summary="Acknowledge the page"
)
def acknowledge(request: HttpRequest, ref: str) -> dict[str, Any] | None:
    """Stop paging, as the acknowledge link of a page does: a New incident moves to In Progress; one already in
    progress but paged again (reassigned) just stops paging. Whoever was paged for the incident may do it
    without the right to change the incident (the move is then the system's, with a note naming them)."""
    user, incident = _incident(request, ref)
    services.acknowledge_page(incident=incident, actor=user, source=source_of(request))
    return escalation_json(incident)


@router.post("/incidents/{ref}/escalation/escalate-now", response=EscalationOut, summary="Escalate now")
def escalate_now(request: HttpRequest, ref: str) -> dict[str, Any] | None:
    """Page the next step now instead of waiting (ends a snooze)."""
    user, incident = _incident(request, ref)
    services.escalate_now(incident=incident, actor=user, source=source_of(request))
    return escalation_json(incident)


@router.post("/incidents/{ref}/escalation/reassign", response=EscalationOut, summary="Reassign paging")
def reassign(request: HttpRequest, ref: str, payload: ReassignIn) -> dict[str, Any] | None:
    """Page a person (now, and every 15 minutes until acknowledged) or run a policy from its first step."""
    user, incident = _incident(request, ref)
    person = (
        lookup("user", partial(accounts.get_user_for_user_or_404, user, key=user_key(payload.user)))
        if payload.user is not None
        else None
    )
    policy = (
        lookup("policy", partial(oncall.get_policy_for_user_or_404, user, key=payload.policy))
        if payload.policy is not None
        else None
    )
    services.reassign(incident=incident, actor=user, source=source_of(request), user=person, policy=policy)
    return escalation_json(incident)


@router.post("/incidents/{ref}/escalation/snooze", response=EscalationOut, summary="Snooze paging")
def snooze(request: HttpRequest, ref: str, payload: SnoozeIn) -> dict[str, Any] | None:
    """Pause paging until ``until`` (at most 24 hours ahead); then the last step pages again."""
    user, incident = _incident(request, ref)
    services.snooze(incident=incident, actor=user, source=source_of(request), until=payload.until)
    return escalation_json(incident)
