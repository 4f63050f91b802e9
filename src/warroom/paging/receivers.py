"""The paging side of incidents: an acknowledgement, a resolve or a cancel stops escalation and cancels pages not
yet sent; a reopen starts escalation afresh (runs inside ``transition_incident``'s transaction, with the incident
row locked). And a person paged for an incident may see it, whatever team they are in and even when it is
private, so they can open what woke them and acknowledge it (changing it still needs the usual rights)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q

from warroom.accounts import deactivation
from warroom.accounts.deactivation import LeftBehind
from warroom.accounts.models import User
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.incidents.signals import incident_transitioned
from warroom.incidents.states import OPEN_STATES, State
from warroom.paging import services
from warroom.paging.models import EscalationStatus, IncidentEscalation, Page


def on_incident_transitioned(
    sender: Any, *, incident: Incident, frm: str, to: str, acknowledged: bool, at: datetime, **kwargs: Any
) -> None:
    if to not in OPEN_STATES:
        services.stop_escalation(
            incident=incident, status=EscalationStatus.STOPPED, reason=f"{State(to).label.lower()}", at=at
        )
    elif acknowledged:
        services.stop_escalation(
            incident=incident, status=EscalationStatus.ACKNOWLEDGED, reason="acknowledged", at=at
        )
    elif frm == State.RESOLVED and to == State.IN_PROGRESS:
        services.restart_escalation(incident=incident, at=at, why="reopened")


incident_transitioned.connect(
    on_incident_transitioned, dispatch_uid="warroom.paging.on_incident_transitioned"
)


def paged_for(user: User) -> Q:
    """The incidents ``user`` has been paged for (any round, any epoch)."""
    return Q(pk__in=Page.objects.filter(user=user).values("incident_id"))


incident_selectors.also_visible_to(paged_for)


def escalations_reassigned_to(user: User) -> list[LeftBehind]:
    """Active escalations reassigned to ``user``: pages that would go to no one once they are deactivated
    (:mod:`warroom.accounts.deactivation`)."""
    rows = (
        IncidentEscalation.objects.filter(user=user, status=EscalationStatus.ACTIVE)
        .select_related("incident")
        .order_by("incident__number")
    )
    return [
        LeftBehind("escalation", f"{e.incident.ref} {e.incident.title}", "paging was reassigned to them")
        for e in rows
    ]


deactivation.register(escalations_reassigned_to)
