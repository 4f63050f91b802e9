"""The seam between stakeholder updates (``comms.services``) and status pages (``comms.page_services``). Sent
inside the transaction of the change, so a receiver's writes (outbox rows, component status) commit or roll back
with it."""

from django.dispatch import Signal

#: Sent by ``post_update`` after the update and its components are saved and its internal subscribers' outbox
#: rows are inserted, with ``update`` (a ``StatusUpdate``) and ``at``. The status pages listen: a public update
#: reaches the page subscribers, and an update with ``component_status`` sets its components' status.
update_posted = Signal()
