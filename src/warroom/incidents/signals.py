"""Signals other apps listen to. Sent inside the transaction of the change, so a receiver's writes commit or
roll back with it."""

from django.dispatch import Signal

#: Sent by ``transition_incident`` after the state change is saved, with ``incident`` (the locked row, new state),
#: ``frm`` and ``to`` (states), ``acknowledged`` (this change acknowledged the incident) and ``at``.
incident_transitioned = Signal()

#: Sent by ``declare_incident`` after the incident, its services and its first timeline entry are saved, with
#: ``incident`` and ``at`` (its ``opened_at``).
incident_declared = Signal()

#: Sent by ``update_incident`` after a change is saved, with ``incident`` (the locked row, new values),
#: ``changed`` (a frozenset of field names, ``"services"`` included) and ``at``.
incident_updated = Signal()
