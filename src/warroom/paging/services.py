"""The escalation runtime: starting, advancing and stopping an incident's escalation, and the manual actions
(escalate now, reassign, snooze, acknowledge from the page).

Lock order, everywhere: the incident row first, then its escalation row. ``transition_incident`` locks the
incident and its ``incident_transitioned`` receiver then stops the escalation, so an acknowledgement and a step
firing at the same instant are serialised: either the step commits first (and the acknowledgement cancels its
pending messages) or the acknowledgement commits first (and the step sees a stopped escalation and pages nobody).

Exactly once: a step pages each person through ``notify.enqueue`` with the dedup key
``page:<incident>:<epoch>:<loop>:<step>:<user>`` and a unique :class:`~warroom.paging.models.Page` row, in the same
transaction as the escalation's move, so a batch redone after a crash, or a second engine, pages nobody twice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes

from warroom.accounts.models import Role, Team, User
from warroom.accounts.selectors import role_in
from warroom.audit import services as audit
from warroom.incidents import selectors as incident_selectors
from warroom.incidents import services as incidents
from warroom.incidents.models import EntryKind, Incident, TimelineEntry
from warroom.incidents.priority import Priority
from warroom.incidents.states import OPEN_STATES, State
from warroom.lib import bulk, clock
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from warroom.notify import services as notify
from warroom.notify.working_hours import zone_or_none
from warroom.oncall import selectors as oncall
from warroom.oncall.models import EscalationPolicy, EscalationStep
from warroom.paging.models import AckLinkUse, EscalationStatus, IncidentEscalation, Page

SOURCE = "engine"
BATCH = 100
#: escalations advanced per transaction (:func:`advance_due`)
STEP_BATCH = 500
#: A reassignment to a person pages them now and again every 15 minutes, three times in all, until acknowledged.
REASSIGN_DELAY_MINUTES = 15
REASSIGN_REPEAT = 2
MAX_SNOOZE = timedelta(hours=24)
ACK_SALT = "warroom.paging.ack-link"
UTC_ZONE = ZoneInfo("UTC")


def group_of(incident_id: int) -> str:
    """The outbox group of an incident's pages: what an acknowledgement cancels."""
    return f"incident:{incident_id}"


def urgency_for(incident: Incident) -> str:
    """High urgency for the priorities in ``WARROOM_HIGH_URGENCY_PRIORITIES`` (default 1 Critical and 2 High),
    low for the rest: which of each person's notification ladders is used."""
    high = getattr(settings, "WARROOM_HIGH_URGENCY_PRIORITIES", (1, 2))
    return "high" if incident.priority in high else "low"


def ack_link_max_age() -> timedelta:
    return timedelta(minutes=getattr(settings, "WARROOM_ACK_LINK_MINUTES", 60))


# ---------------------------------------------------------------------------------------------------------------
# the plan an escalation follows


Resolver = Callable[..., list[oncall.Resolved]]


@dataclass(frozen=True)
class Plan:
    name: str
    repeat: int
    steps: list[tuple[int, Resolver]]


def _plan(esc: IncidentEscalation, steps: list[EscalationStep] | None = None) -> Plan:
    """What ``esc`` pages: its reassigned person, or its policy's ``steps`` (loaded here when not given)."""
    if esc.user_id is not None and esc.user is not None:
        person = esc.user

        def resolve_person(*, at: datetime) -> list[oncall.Resolved]:
            return [oncall.Resolved(person, "reassigned")] if person.is_active else []

        return Plan(
            f"reassignment to {person.display_name}",
            REASSIGN_REPEAT,
            [(REASSIGN_DELAY_MINUTES, resolve_person)],
        )
    if esc.policy is None:
        return Plan("no policy", 0, [])
    return _plan_of_policy(esc.policy, oncall.steps_of(esc.policy) if steps is None else steps)


def _plan_of_policy(policy: EscalationPolicy, steps: list[EscalationStep]) -> Plan:
    return Plan(
        policy.name, policy.repeat, [(s.delay_minutes, partial(oncall.resolve_step, s)) for s in steps]
    )


def _timeline(incident: Incident, message: str, now: datetime) -> None:
    incidents.record_paging(incident=incident, source=SOURCE, message=message, at=now)


def _save(esc: IncidentEscalation, now: datetime, **values: Any) -> None:
    """Compare-and-set on ``version``; a lost race raises, so the whole batch rolls back and is redone."""
    updated = IncidentEscalation.objects.filter(pk=esc.pk, version=esc.version).update(
        **values, updated_at=now, version=esc.version + 1
    )
    if updated != 1:
        raise Conflict(f"escalation of incident {esc.incident_id} changed meanwhile", field="version")
    for key, value in values.items():
        setattr(esc, key, value)
    esc.version += 1


#: the fields of the ``Page`` and timeline rows a batch inserts (:func:`warroom.lib.bulk.insert_values`)
_PAGE_FIELDS = (
    "escalation_id",
    "incident_id",
    "user_id",
    "epoch",
    "loop",
    "step_index",
    "via",
    "reachable",
    "note",
    "at",
)
_LINE_FIELDS = ("incident_id", "at", "actor_id", "source", "kind", "field", "message")
_PAGING_LINE = (None, SOURCE, EntryKind.LINK.value, "paging")


class _Step:
    """The effects of advancing a batch of escalations (all locked by the caller, incident row first), gathered
    in memory and written by :meth:`flush` in a few bulk statements inside the caller's transaction: the outbox
    rows (:class:`warroom.notify.services.Batch`, the same dedup keys as ``notify.enqueue``), the ``Page`` rows
    (unique per incident, epoch, round, step and person), the timeline lines, and the escalations' moves. Rows
    are kept as tuples of values, not model instances.

    Per batch, each policy's plan is loaded once and each step resolved once (every escalation of the batch is
    advanced at the same instant ``now``, so a schedule's on-call answer is the same for all of them), and each
    person gets one acknowledge link per incident."""

    _FIELDS = ("status", "step_index", "loop", "next_at", "snoozed_until", "updated_at", "version")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.outbox = notify.Batch()
        self.pages: list[tuple[Any, ...]] = []
        self.lines: list[tuple[int, str]] = []
        self.moved: dict[int, IncidentEscalation] = {}
        self._plans: dict[int, Plan] = {}
        self._people: dict[tuple[int, int], list[oncall.Resolved]] = {}
        self._ack_urls: dict[tuple[int, int], str] = {}
        self._about: dict[int, tuple[str, str]] = {}
        self._signer = _signer()
        self.base = str(settings.WARROOM_BASE_URL).rstrip("/")

    def preload_about(self, incidents: Iterable[Incident]) -> None:
        """Load the service and team names of ``incidents`` (what a page says they are about) in two queries."""
        wanted = {i.pk: i for i in incidents if i.pk not in self._about}
        if not wanted:
            return
        names: dict[int, list[str]] = {pk: [] for pk in wanted}
        links = Incident.services.through.objects.select_related("service").filter(
            incident_id__in=list(wanted)
        )
        for link in links.order_by("service__name", "service_id"):
            names[link.incident_id].append(link.service.name)
        team_ids = {i.team_id for i in wanted.values()}
        teams = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name"))
        for pk, incident in wanted.items():
            self._about[pk] = (", ".join(names[pk]), teams.get(incident.team_id, ""))

    def about(self, incident: Incident) -> tuple[str, str]:
        """(the names of ``incident``'s services, its team's name)."""
        if incident.pk not in self._about:
            self.preload_about([incident])
        return self._about[incident.pk]

    def incident_url(self, incident: Incident) -> str:
        head, tail = _incident_path()
        return f"{self.base}{head}{incident.ref}{tail}"

    def preload(self, escalations: list[IncidentEscalation]) -> None:
        """Load every policy the batch follows, with its steps, in three queries (not two per policy)."""
        following = {e.policy_id for e in escalations if e.user_id is None and e.policy_id is not None}
        wanted = following - set(self._plans)
        policies = EscalationPolicy.objects.in_bulk(wanted)
        for esc in escalations:
            if esc.policy_id in policies:
                esc.policy = policies[esc.policy_id]
        for policy_id, steps in oncall.steps_of_policies(set(policies)).items():
            self._plans[policy_id] = _plan_of_policy(policies[policy_id], steps)

    def plan(self, esc: IncidentEscalation) -> Plan:
        if esc.user_id is not None or esc.policy_id is None:
            return _plan(esc)
        if esc.policy_id not in self._plans:
            self._plans[esc.policy_id] = _plan(esc)
        return self._plans[esc.policy_id]

    def people(self, esc: IncidentEscalation, plan: Plan, step: int) -> list[oncall.Resolved]:
        if esc.user_id is not None or esc.policy_id is None:
            return plan.steps[step][1](at=self.now)
        key = (esc.policy_id, step)
        if key not in self._people:
            self._people[key] = plan.steps[step][1](at=self.now)
        return self._people[key]

    def ack_url(self, incident_id: int, user_id: int) -> str:
        """The acknowledge link of ``user_id`` for ``incident_id``: one per person and incident in a batch (a
        second page of the same person in the same batch carries the same single-use link)."""
        key = (incident_id, user_id)
        url = self._ack_urls.get(key)
        if url is None:
            token = _ack_token(self._signer, incident_id=incident_id, user_id=user_id)
            head, tail = _ack_path()
            url = self._ack_urls[key] = f"{self.base}{head}{token}{tail}"
        return url

    def timeline(self, incident: Incident, message: str) -> None:
        self.lines.append((incident.pk, message))

    def save(self, esc: IncidentEscalation, **values: Any) -> None:
        """Move ``esc`` (locked by the caller, so its version cannot change before :meth:`flush`)."""
        for key, value in values.items():
            setattr(esc, key, value)
        esc.updated_at = self.now
        esc.version += 1
        self.moved[esc.pk] = esc

    def flush(self) -> None:
        now = self.now
        self.outbox.flush()
        bulk.insert_values(Page, _PAGE_FIELDS, self.pages, skip_conflicts=True)
        if self.lines:
            bulk.insert_values(
                TimelineEntry, _LINE_FIELDS, [(pk, now, *_PAGING_LINE, message) for pk, message in self.lines]
            )
            bulk.update_values(Incident, ["updated_at"], [(pk, now) for pk in {pk for pk, _ in self.lines}])
        if self.moved:
            updated = bulk.update_values(
                IncidentEscalation,
                self._FIELDS,
                [(esc.pk, *(getattr(esc, name) for name in self._FIELDS)) for esc in self.moved.values()],
            )
            if updated != len(self.moved):
                raise Conflict("an escalation of the batch disappeared meanwhile", field="version")
        self.pages, self.lines, self.moved = [], [], {}


# ---------------------------------------------------------------------------------------------------------------
# paging one step


def reply_hint(incident: Incident) -> str:
    """What an SMS page says about replying (commands in :mod:`warroom.paging.replies`)."""
    return f"Reply {incident.number}a to acknowledge, {incident.number}r to resolve."


_TOKEN_MARK = "TOKEN"


@cache
def _ack_path() -> tuple[str, str]:
    """The acknowledge link's path around its token, reversed once (``reverse`` costs more than the rest of
    paging one person)."""
    head, _, tail = reverse("paging:ack", kwargs={"token": _TOKEN_MARK}).rpartition(_TOKEN_MARK)
    return head, tail


@cache
def _incident_path() -> tuple[str, str]:
    """The incident page's path around its reference (``/incidents/INC0001042/``), reversed once."""
    head, _, tail = reverse("web:incident-detail", kwargs={"ref": _TOKEN_MARK}).rpartition(_TOKEN_MARK)
    return head, tail


def why_paged(who: oncall.Resolved, label: str) -> str:
    """Why ``who`` gets this page, in their words: which step of what, and through which of its targets."""
    if who.via == "reassigned":
        return "Paging for this incident was reassigned to you."
    if who.via == who.user.display_name:
        return f"You are paged by {label}, which names you."
    if who.via.startswith("team "):
        return f"You are paged by {label}, which pages {who.via}."
    return f"You are paged by {label}: you are {who.via}."


def page_body(incident: Incident, who: oncall.Resolved, label: str, services: str, team: str) -> str:
    """What a page says, for every channel that shows more than a subject (email, chat, push, webhooks, the
    voice call reads it): the incident, its priority, service and team, since when, and why this person. A test
    incident's page begins with "[TEST]", as its subject does."""
    zone = zone_or_none(who.user.time_zone) or UTC_ZONE
    opened = incident.opened_at.astimezone(zone)
    priority = str(Priority(incident.priority).label).split(" - ", 1)[-1]
    return "\n".join(
        [
            f"{incident.message_mark}{incident.ref} P{incident.priority} ({priority}): {incident.title}",
            f"Service: {services or 'none'} · Team: {team}",
            f"Opened: {opened:%Y-%m-%d %H:%M} {zone.key} · State: {State(incident.state).label}",
            why_paged(who, label),
        ]
    )


def _page_person(
    batch: _Step,
    esc: IncidentEscalation,
    incident: Incident,
    who: oncall.Resolved,
    step: int,
    loop: int,
    label: str,
) -> notify.Queued:
    user = who.user
    services, team = batch.about(incident)
    result = notify.enqueue(
        into=batch.outbox,
        user=user,
        urgency=urgency_for(incident),
        subject=f"{incident.message_mark}{incident.ref} {incident.title}",
        body=page_body(incident, who, label, services, team),
        context={
            "url": batch.incident_url(incident),
            "ack_url": batch.ack_url(incident.pk, user.pk),
            "incident": incident.ref,
            "incident_number": incident.number,
            "priority": incident.priority,
            "service": services,
            "team": team,
            "reply_hint": reply_hint(incident),
        },
        dedup_key=f"page:{incident.pk}:{esc.epoch}:{loop}:{step}:{user.pk}",
        group=group_of(incident.pk),
        start=batch.now,
    )
    batch.pages.append(
        (
            esc.pk,
            incident.pk,
            user.pk,
            esc.epoch,
            loop,
            step,
            who.via[:200],
            result.reachable,
            "; ".join(result.skipped)[:500],
            batch.now,
        )
    )
    return result


def _page_step(
    batch: _Step, esc: IncidentEscalation, incident: Incident, plan: Plan, step: int, loop: int
) -> bool:
    """Page everyone step ``step`` resolves to at ``now``; write what happened on the timeline. True when at
    least one person will be notified."""
    label = f"step {step + 1} of {plan.name}" + (f", round {loop + 1}" if loop else "")
    people = batch.people(esc, plan, step)
    if not people:
        batch.timeline(incident, f"Nobody to page at {label}: nobody is on call there; moving on at once")
        return False
    reached: list[str] = []
    lines: list[str] = []
    for who in people:
        result = _page_person(batch, esc, incident, who, step, loop, label)
        name = (
            who.user.display_name
            if who.via == who.user.display_name
            else f"{who.user.display_name} ({who.via})"
        )
        if result.reachable:
            reached.append(name)
        if result.skipped:
            lines.append(f"{who.user.display_name}: {'; '.join(result.skipped)}")
    if reached:
        message = f"Paged {', '.join(reached)} ({label})"
        if lines:
            message += ". Not reachable: " + " · ".join(lines)
        batch.timeline(incident, message)
        return True
    batch.timeline(incident, f"Nobody reachable at {label}: {' · '.join(lines)}; moving on at once")
    return False


# ---------------------------------------------------------------------------------------------------------------
# advancing


def _acknowledged_since_start(esc: IncidentEscalation, incident: Incident) -> bool:
    return incident.acknowledged_at is not None and incident.acknowledged_at >= esc.started_at


def _advance_into(batch: _Step, esc: IncidentEscalation, incident: Incident) -> None:
    """Page the escalation's next step (moving on at once past steps that reach nobody) and schedule the one
    after; after the last step, start the next round or mark it exhausted. Both rows are locked by the caller;
    the effects go into ``batch``."""
    now = batch.now
    if incident.state not in OPEN_STATES or _acknowledged_since_start(esc, incident):
        status = EscalationStatus.ACKNOWLEDGED if incident.state in OPEN_STATES else EscalationStatus.STOPPED
        batch.save(esc, status=status, next_at=None, snoozed_until=None)
        return
    plan = batch.plan(esc)
    step, loop = esc.step_index, esc.loop
    while True:
        if step >= len(plan.steps):
            if plan.steps and loop < plan.repeat:
                step, loop = 0, loop + 1
                batch.timeline(
                    incident, f"Nobody acknowledged: {plan.name} starts round {loop + 1} of {plan.repeat + 1}"
                )
                continue
            why = "has no steps" if not plan.steps else f"ran {plan.repeat + 1} round(s)"
            batch.timeline(incident, f"Escalation exhausted: {plan.name} {why} and nobody acknowledged")
            batch.save(
                esc,
                status=EscalationStatus.EXHAUSTED,
                step_index=step,
                loop=loop,
                next_at=None,
                snoozed_until=None,
            )
            return
        if _page_step(batch, esc, incident, plan, step, loop):
            delay = timedelta(minutes=plan.steps[step][0])
            batch.save(esc, step_index=step + 1, loop=loop, next_at=now + delay, snoozed_until=None)
            return
        step += 1


def _advance(esc: IncidentEscalation, incident: Incident, now: datetime) -> None:
    """:func:`_advance_into` for one escalation (the manual actions), written at once."""
    batch = _Step(now)
    _advance_into(batch, esc, incident)
    batch.flush()


def _lock_pair(incident_id: int, *, skip_locked: bool) -> tuple[Incident, IncidentEscalation | None] | None:
    incident = (
        Incident.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .filter(pk=incident_id)
        .first()
    )
    if incident is None:
        return None
    esc = (
        IncidentEscalation.objects.select_for_update(of=("self",))
        .select_related("policy", "user")
        .filter(incident_id=incident_id)
        .first()
    )
    return incident, esc


def start_escalations(now: datetime, *, limit: int = BATCH) -> int:
    """Give every open, unacknowledged incident on a service with a policy an escalation (due at once).
    One transaction; incidents another engine holds are skipped. Returns how many started."""
    candidates = list(
        Incident.objects.filter(
            state__in=list(OPEN_STATES),
            acknowledged_at__isnull=True,
            escalation__isnull=True,
            services__escalation__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()[:limit]
    )
    started = 0
    with transaction.atomic():
        locked = Incident.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk__in=candidates)
        for incident in locked.order_by("pk"):
            if incident.state not in OPEN_STATES or incident.acknowledged_at is not None:
                continue
            if IncidentEscalation.objects.filter(incident=incident).exists():
                continue
            policy = oncall.policy_for_services(incident.services.values_list("pk", flat=True))
            if policy is None:
                continue
            IncidentEscalation.objects.create(
                incident=incident, policy=policy, next_at=now, started_at=now, updated_at=now
            )
            _timeline(incident, f"Escalation started: {policy.name}", now)
            started += 1
    return started


def advance_due(now: datetime, *, limit: int = STEP_BATCH) -> int:
    """Advance up to ``limit`` escalations due at ``now`` in one transaction; returns how many moved.

    Rows are locked as everywhere else, incident rows first (``SKIP LOCKED``: an incident another engine or an
    acknowledgement holds is left for the next batch), then their escalation rows, so the batch can never wait in
    a cycle with ``transition_incident`` (which locks one incident, then its escalation). The incidents are
    picked and locked by one query, so a second engine takes the next due ones instead of finding the same
    candidates locked. The effects are written in bulk at the end (:class:`_Step`)."""
    with transaction.atomic():
        # One statement locks each due incident with its escalation; SKIP LOCKED, so it never waits for a lock
        # and cannot take part in a deadlock whatever order it locks the two rows of a pair in.
        locked = {
            i.pk: i
            for i in Incident.objects.select_for_update(skip_locked=True, of=("self", "escalation"))
            .select_related("escalation", "escalation__user")
            .filter(escalation__status=EscalationStatus.ACTIVE, escalation__next_at__lte=now)
            .order_by("escalation__next_at", "escalation__id")[:limit]
        }
        if not locked:
            return 0
        escalations = [i.escalation for i in locked.values()]
        batch = _Step(now)
        batch.preload(escalations)
        batch.preload_about(locked.values())
        # who the batch's current steps reach, and their notification rules, in a few queries
        wanted: set[int] = set()
        for esc in escalations:
            plan = batch.plan(esc)
            if esc.step_index < len(plan.steps):
                wanted.update(r.user.pk for r in batch.people(esc, plan, esc.step_index))
        batch.outbox.prefetch(wanted)
        for esc in escalations:
            _advance_into(batch, esc, locked[esc.incident_id])
        batch.flush()
    return len(escalations)


def run(now: datetime) -> int:
    """The engine module: start new escalations, then advance due ones, batch by batch."""
    total = 0
    while True:
        started = start_escalations(now)
        total += started
        if started < BATCH:
            break
    while True:
        moved = advance_due(now)
        total += moved
        if moved < STEP_BATCH:
            return total


# ---------------------------------------------------------------------------------------------------------------
# stopping (the incident_transitioned receiver) and restarting


def stop_escalation(
    *, incident: Incident, status: str, reason: str, at: datetime, by: User | None = None
) -> int:
    """Stop ``incident``'s escalation and cancel its pages not yet sent; in the caller's transaction, with the
    incident row locked by the caller. Returns how many messages were cancelled.

    A running escalation takes ``status``; an exhausted one is acknowledged too (``status`` acknowledged: somebody
    answered after all), so the incident page never shows "Exhausted" for an acknowledged incident. Either way
    the timeline says "Escalation stopped" once; an escalation already acknowledged or stopped is left as it is.
    An acknowledgement records ``by`` (None: the system, or a state change whose author the timeline names)."""
    esc = IncidentEscalation.objects.select_for_update(of=("self",)).filter(incident=incident).first()
    cancelled = notify.cancel_pending(group=group_of(incident.pk), reason=reason)
    if esc is None:
        return cancelled
    acknowledging = status == EscalationStatus.ACKNOWLEDGED
    exhausted = esc.status == EscalationStatus.EXHAUSTED
    if esc.status == EscalationStatus.ACTIVE or (exhausted and acknowledging):
        values: dict[str, Any] = {"status": status, "next_at": None, "snoozed_until": None}
        if acknowledging:
            values |= {"acknowledged_by": by, "acknowledged_at": at}
        _save(esc, at, **values)
        extra = f"; {cancelled} pending notification(s) cancelled" if cancelled else ""
        after = " (after it was exhausted)" if exhausted else ""
        _timeline(incident, f"Escalation stopped: {reason}{after}{extra}", at)
    return cancelled


def restart_escalation(*, incident: Incident, at: datetime, why: str) -> bool:
    """Start ``incident``'s escalation afresh (a reopen): a new epoch from step 1 of its service's policy."""
    esc = IncidentEscalation.objects.select_for_update(of=("self",)).filter(incident=incident).first()
    policy = oncall.policy_for_services(incident.services.values_list("pk", flat=True))
    if policy is None:
        return False
    if esc is None:
        IncidentEscalation.objects.create(
            incident=incident, policy=policy, next_at=at, started_at=at, updated_at=at
        )
    else:
        _save(
            esc,
            at,
            policy=policy,
            user=None,
            status=EscalationStatus.ACTIVE,
            epoch=esc.epoch + 1,
            step_index=0,
            loop=0,
            next_at=at,
            snoozed_until=None,
            started_at=at,
        )
    _timeline(incident, f"Escalation started afresh ({why}): {policy.name}", at)
    return True


# ---------------------------------------------------------------------------------------------------------------
# manual actions


def _require_edit(actor: User | None, incident: Incident) -> None:
    if actor is not None and not incident_selectors.can_edit(actor, incident):
        raise PermissionDenied("only people who work this incident change its paging")


def _locked_escalation(incident: Incident) -> tuple[Incident, IncidentEscalation | None]:
    pair = _lock_pair(incident.pk, skip_locked=False)
    if pair is None:
        raise NotFound(f"incident {incident.pk} not found")
    return pair


def _who(actor: User | None) -> str:
    return actor.display_name if actor else "The system"


def escalate_now(*, incident: Incident, actor: User | None, source: str) -> IncidentEscalation:
    """Page the next step now instead of waiting out the current step's delay (and end a snooze)."""
    _require_edit(actor, incident)
    with transaction.atomic():
        locked, esc = _locked_escalation(incident)
        if esc is None or esc.status != EscalationStatus.ACTIVE:
            raise Conflict(f"{locked.ref} is not escalating; reassign it to page someone", field="escalation")
        now = clock.now()
        _timeline(locked, f"{_who(actor)} escalated now", now)
        _advance(esc, locked, now)
        audit.record(
            actor=actor,
            source=source,
            action="escalation.escalate_now",
            obj=esc,
            after={"step_index": esc.step_index, "loop": esc.loop},
        )
        return esc


def _require_pageable(incident: Incident, person: User) -> None:
    """Paging goes only to someone who may be on call for the incident's team (the console's picker offers no
    one else, and the API is held to the same rule): a deactivated person, an observer or an outsider is refused,
    saying why."""
    if not person.is_active:
        raise ValidationFailed(f"{person.display_name} is deactivated", field="user")
    if oncall.on_call_people(incident.team_id).filter(pk=person.pk).exists():
        return
    team = incident.team.name
    role = role_in(person, incident.team_id)
    why = f"an observer of {team}" if role == Role.OBSERVER else f"not a member of {team}"
    raise ValidationFailed(
        f"{person.display_name} is {why} and cannot be paged for {incident.ref}: choose one of {team}'s admins,"
        " managers or responders, or a policy",
        field="user",
    )


def reassign(
    *,
    incident: Incident,
    actor: User | None,
    source: str,
    user: User | None = None,
    policy: EscalationPolicy | None = None,
) -> IncidentEscalation:
    """Page ``user`` (now, and again every 15 minutes until acknowledged) or run ``policy`` from its first step,
    instead of whoever was being paged; their pending notifications are cancelled. Exactly one of the two."""
    if (user is None) == (policy is None):
        raise ValidationFailed("reassign to a person or to a policy (one of them)", field="user")
    _require_edit(actor, incident)
    if user is not None:
        _require_pageable(incident, user)
    with transaction.atomic():
        locked, esc = _locked_escalation(incident)
        if locked.state not in OPEN_STATES:
            raise Conflict(f"{locked.ref} is {State(locked.state).label}; nothing to page for", field="state")
        now = clock.now()
        notify.cancel_pending(group=group_of(locked.pk), reason=f"reassigned by {_who(actor)}")
        if esc is None:
            esc = IncidentEscalation.objects.create(
                incident=locked, policy=policy, user=user, next_at=now, started_at=now, updated_at=now
            )
        else:
            _save(
                esc,
                now,
                policy=policy,
                user=user,
                status=EscalationStatus.ACTIVE,
                epoch=esc.epoch + 1,
                step_index=0,
                loop=0,
                next_at=now,
                snoozed_until=None,
                started_at=now,
            )
        target = user.display_name if user else f"policy {policy.name if policy else ''}"
        _timeline(locked, f"{_who(actor)} reassigned paging to {target}", now)
        _advance(esc, locked, now)
        audit.record(
            actor=actor,
            source=source,
            action="escalation.reassign",
            obj=esc,
            after={"user": user.pk if user else None, "policy": policy.pk if policy else None},
        )
        return esc


def snooze(*, incident: Incident, actor: User | None, source: str, until: datetime) -> IncidentEscalation:
    """Pause paging until ``until`` (at most 24 hours ahead): pending notifications are cancelled, and at
    ``until`` the last step paged is paged again, then escalation carries on."""
    _require_edit(actor, incident)
    now = clock.now()
    if until.tzinfo is None:
        raise ValidationFailed("give the snooze end with a time zone (or Z)", field="until")
    if not now < until <= now + MAX_SNOOZE:
        raise ValidationFailed("snooze until a time in the next 24 hours", field="until")
    with transaction.atomic():
        locked, esc = _locked_escalation(incident)
        if esc is None or esc.status != EscalationStatus.ACTIVE:
            raise Conflict(f"{locked.ref} is not escalating; nothing to snooze", field="escalation")
        notify.cancel_pending(group=group_of(locked.pk), reason=f"snoozed by {_who(actor)}")
        _save(
            esc,
            now,
            epoch=esc.epoch + 1,
            step_index=max(esc.step_index - 1, 0),
            next_at=until,
            snoozed_until=until,
        )
        _timeline(locked, f"{_who(actor)} snoozed paging until {until:%Y-%m-%d %H:%M} UTC", now)
        audit.record(
            actor=actor,
            source=source,
            action="escalation.snooze",
            obj=esc,
            after={"until": until.isoformat()},
        )
        return esc


def acknowledge_page(*, incident: Incident, actor: User, source: str) -> Incident:
    """``actor`` acknowledges the page: paging stops (and is recorded as acknowledged by them) and a New
    incident moves to In Progress; an incident already acknowledged but being paged again (reassigned) just
    stops paging. A person paged for the incident may acknowledge even without edit rights on it: the transition
    is then made by the system with a note naming them. Acknowledging what is acknowledged already changes
    nothing (see :func:`acknowledgement_of` for who did it)."""
    with transaction.atomic():
        locked, _esc = _locked_escalation(incident)
        paged = Page.objects.filter(incident=locked, user=actor).exists()
        if not paged:
            _require_edit(actor, locked)
        if locked.state not in OPEN_STATES:
            raise Conflict(f"{locked.ref} is {State(locked.state).label} already", field="state")
        may_edit = incident_selectors.can_edit(actor, locked)
        stop_escalation(
            incident=locked,
            status=EscalationStatus.ACKNOWLEDGED,
            reason=f"acknowledged by {actor.display_name}",
            at=clock.now(),
            by=actor,
        )
        if locked.state == State.NEW:
            return incidents.transition_incident(
                incident=locked,
                actor=actor if may_edit else None,
                source=source,
                to=State.IN_PROGRESS,
                note="" if may_edit else f"Acknowledged by {actor.display_name} from the page",
            )
        return locked


@dataclass(frozen=True)
class Acknowledgement:
    """Who acknowledged an incident's paging, and when."""

    who: str
    at: datetime

    def describe(self, zone_name: str = "UTC") -> str:
        """``"Alice Admin at 2026-03-02 09:03 Europe/Paris"``: the time in ``zone_name`` (UTC if unknown)."""
        zone = zone_or_none(zone_name) or UTC_ZONE
        return f"{self.who} at {self.at.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def acknowledgement_of(incident: Incident) -> Acknowledgement | None:
    """Who acknowledged ``incident`` when there is nothing left to acknowledge (it is open, past New, and its
    paging is not running or exhausted); None when an acknowledgement would still stop or record something."""
    if incident.state not in OPEN_STATES or incident.state == State.NEW:
        return None
    esc = IncidentEscalation.objects.select_related("acknowledged_by").filter(incident=incident).first()
    if esc is not None and esc.status in (EscalationStatus.ACTIVE, EscalationStatus.EXHAUSTED):
        return None
    at = (esc.acknowledged_at if esc is not None else None) or incident.acknowledged_at
    if at is None:
        return None
    if esc is not None and esc.acknowledged_by is not None:
        return Acknowledgement(esc.acknowledged_by.display_name, at)
    # acknowledged by a change of state (console, API, an alert): its timeline line names who
    line = (
        TimelineEntry.objects.filter(incident=incident, kind=EntryKind.STATE, at=at)
        .select_related("actor")
        .first()
    )
    if line is not None and line.actor is not None:
        return Acknowledgement(line.actor.display_name, at)
    return Acknowledgement(f"Warroom ({line.source})" if line is not None else "Warroom", at)


# ---------------------------------------------------------------------------------------------------------------
# signed acknowledge links


@dataclass(frozen=True)
class AckClaim:
    incident_id: int
    user_id: int
    nonce: str


@cache
def _hmac_key(salt: bytes | str, secret: bytes | str, algorithm: str) -> bytes:
    """The HMAC key Django's ``salted_hmac`` derives from a salt and a secret (a hash of the two)."""
    derived: bytes = getattr(hashlib, algorithm)(force_bytes(salt) + force_bytes(secret)).digest()
    return derived


class _AckSigner(signing.Signer):
    """Django's :class:`~django.core.signing.Signer`, the same tokens, but the HMAC key derived from the salt and
    each secret key once per process instead of once per signature, and the HMAC computed in one call."""

    def signature(self, value: bytes | str, key: bytes | str | None = None) -> str:
        derived = _hmac_key(force_bytes(self.salt) + b"signer", key or self.key, self.algorithm)
        return signing.b64_encode(hmac.digest(derived, force_bytes(value), self.algorithm)).decode()


def _signer() -> signing.Signer:
    return _AckSigner(salt=ACK_SALT)


def _ack_token(signer: signing.Signer, *, incident_id: int, user_id: int) -> str:
    issued = int(clock.now().timestamp())
    return signer.sign_object({"i": incident_id, "u": user_id, "t": issued, "n": secrets.token_urlsafe(16)})


def make_ack_token(*, incident_id: int, user_id: int) -> str:
    """A signed token naming the incident, the person, its issue time (read from :mod:`warroom.lib.clock`, so
    tests drive expiry with the clock) and a random nonce; valid ``WARROOM_ACK_LINK_MINUTES`` (60) and usable once
    (the nonce is recorded when used)."""
    return _ack_token(_signer(), incident_id=incident_id, user_id=user_id)


def read_ack_token(token: str) -> AckClaim:
    """The claim of a valid token; :class:`ValidationFailed` for an expired, tampered or unknown one."""
    try:
        data = _signer().unsign_object(token)
        claim = AckClaim(int(data["i"]), int(data["u"]), str(data["n"]))
        issued = datetime.fromtimestamp(int(data["t"]), tz=UTC)
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise ValidationFailed("this acknowledge link is not valid", field="token") from None
    age = clock.now() - issued
    if age > ack_link_max_age() or age < -timedelta(minutes=5):
        raise ValidationFailed("this acknowledge link has expired; open the incident instead", field="token")
    return claim


@dataclass(frozen=True)
class AckLinkTarget:
    claim: AckClaim
    incident: Incident
    user: User
    used: bool
    #: set when the incident's paging was acknowledged already (by anyone): the link has nothing left to do
    acknowledged: Acknowledgement | None = None

    @property
    def is_open(self) -> bool:
        return self.incident.state in OPEN_STATES

    @property
    def state_label(self) -> str:
        return str(State(self.incident.state).label)

    @property
    def acknowledged_text(self) -> str:
        """``"Alice Admin at 2026-03-02 09:03 UTC"``, in the zone of the person the link is for."""
        return self.acknowledged.describe(self.user.time_zone) if self.acknowledged else ""


def ack_link_target(token: str) -> AckLinkTarget:
    """What a link points at, for the confirmation page (no change)."""
    claim = read_ack_token(token)
    incident = Incident.objects.filter(pk=claim.incident_id).first()
    user = User.objects.filter(pk=claim.user_id, is_active=True).first()
    if incident is None or user is None:
        raise ValidationFailed("this acknowledge link is not valid any more", field="token")
    used = AckLinkUse.objects.filter(nonce=claim.nonce).exists()
    return AckLinkTarget(claim, incident, user, used, acknowledgement_of(incident))


def acknowledge_by_link(*, token: str, source: str = "email") -> Incident:
    """Acknowledge through a signed link (the POST of its confirmation page): once per link. A link used already,
    or for an incident acknowledged already (by anyone), is a :class:`Conflict` that says who acknowledged it and
    when, and changes nothing (the link stays unused)."""
    target = ack_link_target(token)
    with transaction.atomic():
        locked, _esc = _locked_escalation(target.incident)
        done = acknowledgement_of(locked)
        said = done.describe(target.user.time_zone) if done else ""
        if AckLinkUse.objects.filter(nonce=target.claim.nonce).exists():
            by = f"; {locked.ref} was acknowledged by {said}" if done else ""
            raise Conflict(f"this acknowledge link has been used already{by}", field="token")
        if done is not None:
            raise Conflict(
                f"{locked.ref} was acknowledged already by {said}; this link changed nothing", field="token"
            )
        try:
            with transaction.atomic():
                AckLinkUse.objects.create(
                    nonce=target.claim.nonce, incident=locked, user=target.user, used_at=clock.now()
                )
        except IntegrityError:
            raise Conflict("this acknowledge link has been used already", field="token") from None
        return acknowledge_page(incident=locked, actor=target.user, source=source)
