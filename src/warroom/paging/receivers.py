"""The paging side of incident state changes: an acknowledgement, a resolve or a cancel stops escalation and
cancels pages not yet sent; a reopen starts escalation afresh. Runs inside ``transition_incident``'s transaction,
with the incident row locked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.incidents.models import Incident
from warroom.incidents.signals import incident_transitioned
from warroom.incidents.states import OPEN_STATES, State
from warroom.paging import services
from warroom.paging.models import EscalationStatus


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
