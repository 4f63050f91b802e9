"""What happens to alerts when a person moves their incident: acknowledging the incident acknowledges its
triggered alerts; resolving or cancelling it resolves its open alerts, so the next trigger with the same dedup
key opens a new alert (and a new incident), as in PagerDuty."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from warroom.alerts.models import Alert, AlertStatus
from warroom.incidents.models import Incident
from warroom.incidents.states import State


def on_incident_transitioned(
    sender: Any, *, incident: Incident, frm: str, to: str, acknowledged: bool, at: datetime, **kwargs: Any
) -> None:
    if to in (State.RESOLVED, State.CANCELED):
        _in_order(Alert.objects.filter(incident=incident).exclude(status=AlertStatus.RESOLVED)).update(
            status=AlertStatus.RESOLVED, resolved_at=at
        )
    elif acknowledged:
        _in_order(Alert.objects.filter(incident=incident, status=AlertStatus.TRIGGERED)).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=at
        )


def _in_order(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """``alerts``, locked in the order of their ids first: the alert engine locks the open alerts of its batch in
    that order too, so the two never hold each other's rows (an ``UPDATE`` alone locks in the order it finds
    rows)."""
    if connection.vendor != "postgresql":
        return alerts
    ids = list(alerts.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
    return Alert.objects.filter(pk__in=ids)
