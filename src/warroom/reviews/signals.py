"""Receivers of other apps' signals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.incidents.models import Incident
from warroom.incidents.states import State
from warroom.reviews import services


def on_incident_transitioned(
    sender: Any, *, incident: Incident, frm: str, to: str, acknowledged: bool, at: datetime, **kwargs: Any
) -> None:
    """An incident that resolves with a priority the policy names gets a draft postmortem, in the same
    transaction as the resolution (see :func:`services.create_required_postmortem`)."""
    if to == State.RESOLVED:
        services.create_required_postmortem(incident=incident)
