"""What happens to alerts when a person moves their incident: acknowledging the incident acknowledges its
triggered alerts; resolving or cancelling it resolves its open alerts, so the next trigger with the same dedup
key opens a new alert (and a new incident), as in PagerDuty."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.alerts.models import Alert, AlertStatus
from warroom.incidents.models import Incident
from warroom.incidents.states import State


def on_incident_transitioned(
    sender: Any, *, incident: Incident, frm: str, to: str, acknowledged: bool, at: datetime, **kwargs: Any
) -> None:
    if to in (State.RESOLVED, State.CANCELED):
        Alert.objects.filter(incident=incident).exclude(status=AlertStatus.RESOLVED).update(
            status=AlertStatus.RESOLVED, resolved_at=at
        )
    elif acknowledged:
        Alert.objects.filter(incident=incident, status=AlertStatus.TRIGGERED).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=at
        )
