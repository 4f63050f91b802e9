"""Signals other apps listen to. Sent inside the transaction of the change, so a receiver's writes commit or
roll back with it."""

from django.dispatch import Signal

#: Sent by ``transition_incident`` after the state change is saved, with ``incident`` (the locked row, new state),
#: ``frm`` and ``to`` (states), ``acknowledged`` (this change acknowledged the incident) and ``at``.
incident_transitioned = Signal()
