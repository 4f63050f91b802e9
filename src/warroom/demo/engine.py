"""The engine's part of the seeded past: what its modules would have done while the stories happened.

While the steps run in time order, :func:`catch_up` runs the paging and SLA modules at every instant one of
their rows fell due (an escalation step, an SLA threshold), and :func:`after_step` lets paging start an
escalation the moment an incident is declared, as a running engine would within seconds. So escalations page
whoever was on call then, stop at the acknowledgement and run out when nobody acknowledges; SLA clocks warn and
breach on time.

Nothing of the past is delivered: every message the seeded history puts in the outbox is withdrawn at once
(:data:`UNSENT`), so the engine of a freshly seeded server has nothing to send and no escalation to advance.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Min

from warroom.alerts import retention
from warroom.analytics import rollup
from warroom.incidents import engine as incident_engine
from warroom.incidents import major
from warroom.incidents import sla_services as sla
from warroom.incidents.models import ClockState, Incident, SlaClock
from warroom.incidents.states import OPEN_STATES
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Message, Status
from warroom.paging import services as paging
from warroom.paging.models import EscalationStatus, IncidentEscalation
from warroom.reviews import reminders

UNSENT = "demo history: written by the demo seed, never delivered"


def withdraw_unsent() -> int:
    """Cancel every message still waiting in the outbox (the seed's, all of them in the past)."""
    groups = set(Message.objects.filter(status=Status.PENDING).values_list("group", flat=True))
    return sum(notify.cancel_pending(group=group, reason=UNSENT) for group in groups if group)


def _next_escalation() -> datetime | None:
    found: datetime | None = IncidentEscalation.objects.filter(status=EscalationStatus.ACTIVE).aggregate(
        at=Min("next_at")
    )["at"]
    return found


def _next_sla_check() -> datetime | None:
    found: datetime | None = SlaClock.objects.filter(state=ClockState.RUNNING).aggregate(
        at=Min("next_check_at")
    )["at"]
    return found


def catch_up(until: datetime) -> int:
    """Run paging and the SLA clocks at each instant something of theirs was due, up to ``until``."""
    ticks, last = 0, None
    while True:
        escalation, check = _next_escalation(), _next_sla_check()
        due = [at for at in (escalation, check) if at is not None and at <= until]
        if not due:
            return ticks
        at = min(due)
        if at == last:
            raise RuntimeError(
                f"demo seed: the engine modules left work due at {at:%Y-%m-%d %H:%M:%S} undone"
            )
        last = at
        with clock.frozen(at):
            if escalation is not None and escalation <= at:
                paging.run(at)
            if check is not None and check <= at:
                sla.run_engine(at)
            withdraw_unsent()
        ticks += 1


def _paging_has_work(at: datetime) -> bool:
    """An escalation is due, or an open incident nobody acknowledged has none yet (what paging would start)."""
    due = _next_escalation()
    if due is not None and due <= at:
        return True
    return Incident.objects.filter(
        state__in=list(OPEN_STATES),
        acknowledged_at__isnull=True,
        escalation__isnull=True,
        services__escalation__isnull=False,
    ).exists()


def after_step(at: datetime) -> None:
    """A step just ran at ``at``: the engine starts the escalation of an incident it declared (or restarts that
    of a reopened one) within seconds, as a running engine would."""
    if not _paging_has_work(at):
        return
    with clock.frozen(at):
        paging.run(at)
        withdraw_unsent()


def finish(now: datetime) -> None:
    """Bring every module up to ``now``: due escalations and SLA checks, the reminders of an overdue major
    incident update and of today's overdue action items (so none goes out at start-up), the auto-close of
    incidents resolved long enough ago, the raw event log's retention, and the report summaries from scratch."""
    catch_up(now)
    with clock.frozen(now):
        major.run_engine(now)
        incident_engine.autoclose(now)
        reminders.run(now)
        retention.prune(now)
        withdraw_unsent()
        rollup.rebuild_all(now)
