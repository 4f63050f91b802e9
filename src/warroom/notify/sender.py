"""The outbox sender, run by the ``notify.send`` engine module. Every cycle it:

1. **Expires leases** (:func:`expire_leases`): a message still ``sending`` after its lease means the sender
   died between leasing and recording. At-most-once channels (SMS, voice) mark it failed with an unknown
   outcome and never send it again; at-least-once channels put it back to ``pending`` to be sent again with
   the same delivery id.
2. **Leases** due messages (:func:`lease`): in one transaction it takes due ``pending`` rows
   ``FOR UPDATE SKIP LOCKED``, locks their contact methods (``SKIP LOCKED`` too, so one sender at a time plans
   a destination's throttle and bundles), refuses what cannot be sent (deleted, disabled, unverified
   destinations), applies the throttle, bundles, and marks the rest ``sending`` with a lease deadline and an
   in-flight :class:`DeliveryAttempt`. Then it commits.
3. **Delivers** (:func:`deliver`), outside any transaction: renders and sends each leased message through its
   channel with the message's stable delivery id, then records the result with a compare-and-set on (status,
   attempt number), so a late result never overwrites a newer attempt. At-least-once messages (webhooks, chat,
   email) go out in parallel through a bounded thread pool (:data:`WORKERS`) and their results are recorded
   together in one transaction (:func:`record_many`); a crash before that is a resend with the same delivery
   id. At-most-once messages (SMS, voice) are sent one after another, meanwhile, each result recorded before
   the next call, so a crash or a database failure leaves at most one phone message with an unknown outcome.

``notify.send`` is not exclusive: several engines run it at once, each leasing its own batches (``SKIP LOCKED``
on the messages and on their contact methods, so one sender at a time plans a destination's throttle).

Transient errors retry with exponential backoff (30 s doubling, at most 15 min, or the provider's
``Retry-After``) up to :data:`MAX_ATTEMPTS`; permanent ones fail at once. For at-most-once channels an error
after which the provider may have acted (a timeout once the request was out) is final: failed, outcome unknown.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from warroom.engine.registry import More
from warroom.integrations import registry
from warroom.integrations.base import Channel, ChannelError, Contact, Delivery, SendResult
from warroom.integrations.base import Message as ChannelMessage
from warroom.lib import bulk, clock, http
from warroom.notify import services, throttle
from warroom.notify.models import (
    Category,
    ContactMethod,
    DeliveryAttempt,
    Failure,
    Message,
    Outcome,
    Status,
)

log = logging.getLogger("warroom.notify.sender")

LEASE = timedelta(minutes=2)
#: the longest one channel call may take (HTTP: 10 s; SMTP: WARROOM_SMTP_TIMEOUT per step)
CALL_BUDGET = timedelta(seconds=30)
BATCH = 200
MAX_BATCHES = 20
#: a pass takes no new batch after this many seconds: the messages due meanwhile wait for the next cycle, which
#: starts at once (:class:`~warroom.engine.registry.More`) and runs escalation first, so pages enqueued during a
#: long pass are not held behind it
PASS_SECONDS = 1.0
#: at-least-once messages of a batch in flight at once (threads of one sender)
WORKERS = 32
#: the most due messages of the batch's destinations looked at for bundling in one lease
BUNDLE_SCAN = 2000
MAX_ATTEMPTS = 6
BACKOFF_BASE = 30.0
BACKOFF_MAX = 900.0
BUNDLE_LISTED = 10
HIDDEN_CODE = "(verification code hidden once sent)"


@dataclass(frozen=True)
class Leased:
    """A message this sender holds the lease of, with everything needed to send it outside the database."""

    message_id: int
    attempt_id: int
    number: int
    delivery_id: str
    lease_until: datetime
    category: str
    contact_method_id: int
    channel: Channel
    contact: Contact
    message: ChannelMessage


@dataclass(frozen=True)
class Result:
    sent: SendResult | None = None
    error: ChannelError | None = None


def backoff(number: int, retry_after: float | None = None) -> timedelta:
    """The wait before attempt ``number + 1``: 30 s, 60 s, 120 s ... at most 15 min; at least Retry-After."""
    seconds = min(BACKOFF_BASE * 2 ** max(number - 1, 0), BACKOFF_MAX)
    return timedelta(seconds=max(seconds, retry_after or 0.0))


# ---------------------------------------------------------------------------------------------------------------
# the cycle


def run(now: datetime) -> int:
    """One pass: expire leases, then lease and deliver due messages in batches, for up to :data:`PASS_SECONDS`
    (at least one batch) and :data:`MAX_BATCHES`. Returns the rows moved; as
    :class:`~warroom.engine.registry.More` when the pass stopped at one of those bounds (the engine then runs
    its next cycle at once, escalation first, and this pass carries on there)."""
    moved = expire_leases(now)
    began = time.monotonic()
    for _ in range(MAX_BATCHES):
        leased, touched = lease(clock.now(), limit=BATCH)
        moved += touched
        if touched == 0 or not deliver(leased):
            return moved
        if time.monotonic() - began >= PASS_SECONDS:
            break
    return More(moved)


# ---------------------------------------------------------------------------------------------------------------
# 1. expired leases


def expire_leases(now: datetime, *, limit: int = 500) -> int:
    with transaction.atomic():
        expired = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.SENDING, lease_until__lte=now)
            .order_by("lease_until")[:limit]
        )
        for message in expired:
            at_most_once = registry.get(message.kind).delivery == Delivery.AT_MOST_ONCE
            if at_most_once:
                error = (
                    "the sender stopped between taking the lease and recording the result; the outcome is "
                    f"unknown and {message.kind} is never sent twice (at most once)"
                )
                Message.objects.filter(pk=message.pk).update(
                    status=Status.FAILED,
                    failure=Failure.UNKNOWN,
                    lease_until=None,
                    finished_at=now,
                    last_error=error,
                )
            else:
                error = (
                    "the sender stopped before recording the result: sending again with the same delivery id"
                )
                Message.objects.filter(pk=message.pk).update(
                    status=Status.PENDING, lease_until=None, next_attempt_at=now, last_error=error
                )
            DeliveryAttempt.objects.filter(
                message_id=message.pk, number=message.attempts, outcome=Outcome.IN_FLIGHT
            ).update(outcome=Outcome.LEASE_EXPIRED, finished_at=now, error=error)
            log.warning(
                "message %s: lease expired (%s)", message.pk, "failed" if at_most_once else "will resend"
            )
    return len(expired)


# ---------------------------------------------------------------------------------------------------------------
# 2. leasing


def _unusable(message: Message, method: ContactMethod | None, channel: Channel) -> tuple[str, str] | None:
    """(status, reason) when ``message`` cannot be sent at all, else None."""
    if method is None:
        return Status.CANCELLED, "the contact method was deleted"
    if not method.user.is_active:
        return Status.CANCELLED, "the person was deactivated"
    if method.disabled:
        return Status.FAILED, f"the contact method is disabled ({method.disabled_reason or 'by its owner'})"
    if message.category == Category.NOTIFICATION and method.verified_at is None:
        return Status.FAILED, "the contact method is not verified"
    if message.category == Category.VERIFICATION and method.verified_at is not None:
        return Status.CANCELLED, "the contact method is verified already"
    if not channel.configured():
        return Status.FAILED, channel.not_configured_reason()
    return None


def _bundle(carrier: Message, riders: list[Message]) -> None:
    """Fold ``riders`` into ``carrier``, which then says how many notifications it covers."""
    everything = [carrier, *riders]
    total = sum(m.bundle_count for m in everything)
    subjects: list[str] = []
    for message in everything:
        listed = message.context.get("bundle", {}).get("subjects") if message.bundle_count > 1 else None
        subjects.extend(listed or [message.subject])
    newest = max(everything, key=lambda m: (m.due_at, m.pk))
    lines = [f"• {s}" for s in subjects[-BUNDLE_LISTED:]]
    if len(subjects) > BUNDLE_LISTED:
        lines.insert(0, f"… and {len(subjects) - BUNDLE_LISTED} earlier")
    urls = {str(m.context.get("url") or "") for m in everything}
    context: dict[str, Any] = {"bundle": {"count": total, "subjects": subjects[-100:]}}
    if len(urls) == 1 and "" not in urls:
        context["url"] = urls.pop()
    carrier.subject = f"{total} notifications, latest: {newest.subject}"[: services.SUBJECT_MAX]
    carrier.body = "\n".join(lines)
    carrier.context = context
    carrier.bundle_count = total
    carrier.urgency = "high" if any(m.urgency == "high" for m in everything) else carrier.urgency
    for rider in riders:
        rider.status = Status.BUNDLED
        rider.bundled_into = carrier
        rider.note = f"sent as part of message {carrier.pk}"


def _collapse_groups(messages: list[Message], now: datetime) -> list[Message]:
    """Several due messages of one group (one incident) to one destination: only the oldest goes, carrying the
    others' count (GoAlert #1764). Returns the survivors; the others are marked bundled."""
    survivors: list[Message] = []
    by_group: dict[str, Message] = {}
    for message in messages:
        first = by_group.get(message.group) if message.group else None
        if first is None:
            survivors.append(message)
            if message.group:
                by_group[message.group] = message
            continue
        first.bundle_count += message.bundle_count
        message.status, message.bundled_into, message.finished_at = Status.BUNDLED, first, now
        message.note = f"sent as part of message {first.pk} (same group)"
    return survivors


def _plan_destination(
    method: ContactMethod, messages: list[Message], now: datetime
) -> tuple[list[Message], list[Message]]:
    """(messages to lease, messages changed otherwise) for one locked destination."""
    to_lease: list[Message] = []
    changed: list[Message] = []
    channel = registry.get(method.kind)
    notifications: list[Message] = []
    for message in messages:
        refusal = _unusable(message, method, channel)
        if refusal is not None:
            message.status, message.note, message.finished_at = refusal[0], refusal[1][:300], now
            if refusal[0] == Status.FAILED:
                message.failure, message.last_error = Failure.UNUSABLE, refusal[1]
            changed.append(message)
        elif message.category == Category.NOTIFICATION:
            notifications.append(message)
        else:
            to_lease.append(message)
    survivors = _collapse_groups(notifications, now)
    changed.extend(m for m in notifications if m.status == Status.BUNDLED)
    if not survivors:
        return to_lease, changed
    allowed = throttle.allowance(method.pk, method.kind, now)
    if allowed.free is None or len(survivors) <= allowed.free:
        return to_lease + survivors, changed
    if allowed.free == 0:
        until = allowed.frees_at or now + timedelta(minutes=1)
        for message in survivors:
            message.next_attempt_at = until
            message.note = (
                f"throttled: {method.kind} at most {allowed.reason}; waiting until {until:%H:%M:%S} UTC"
            )
        return to_lease, changed + survivors
    singles, rest = survivors[: allowed.free - 1], survivors[allowed.free - 1 :]
    carrier, riders = rest[0], rest[1:]
    _bundle(carrier, riders)
    for rider in riders:
        rider.finished_at = now
    return to_lease + singles + [carrier], changed + riders


def _leased(message: Message, method: ContactMethod, attempt: DeliveryAttempt) -> Leased:
    return Leased(
        message_id=message.pk,
        attempt_id=attempt.pk,
        number=message.attempts,
        delivery_id=message.delivery_id,
        lease_until=message.lease_until or clock.now(),
        category=message.category,
        contact_method_id=method.pk,
        channel=registry.get(method.kind),
        contact=Contact(
            kind=method.kind, value=method.value, config=dict(method.config), secret=dict(method.secret)
        ),
        message=ChannelMessage(
            subject=message.subject,
            body=message.body,
            urgency=message.urgency,
            category=message.category,
            url=str(message.context.get("url") or ""),
            created_at=message.created_at,
            bundle_count=message.bundle_count,
            context=dict(message.context),
        ),
    )


_CHANGED_FIELDS = [
    "status",
    "failure",
    "note",
    "last_error",
    "finished_at",
    "next_attempt_at",
    "bundled_into",
    "bundle_count",
    "subject",
    "body",
    "context",
    "urgency",
]
_LEASED_FIELDS = [*_CHANGED_FIELDS, "lease_until", "attempts"]


def lease(now: datetime, *, limit: int = BATCH) -> tuple[list[Leased], int]:
    """Take up to ``limit`` due messages (and the other due messages of their destinations, for bundling).
    Returns (what this sender must now send, how many rows changed)."""
    with transaction.atomic():
        due = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if not due:
            return [], 0
        orphans = [m for m in due if m.contact_method_id is None]
        for message in orphans:
            message.status, message.note, message.finished_at = (
                Status.CANCELLED,
                "the contact method was deleted",
                now,
            )
        methods = {
            m.pk: m
            for m in ContactMethod.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk__in={m.contact_method_id for m in due if m.contact_method_id})
        }
        by_method: dict[int, list[Message]] = defaultdict(list)
        for message in (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, next_attempt_at__lte=now, contact_method_id__in=list(methods))
            .order_by("due_at", "id")[:BUNDLE_SCAN]
        ):
            by_method[message.contact_method_id or 0].append(message)
        to_lease: list[tuple[Message, ContactMethod]] = []
        changed: list[Message] = list(orphans)
        for method_id, messages in by_method.items():
            method = methods[method_id]
            leasing, other = _plan_destination(method, messages, now)
            to_lease.extend((m, method) for m in leasing)
            changed.extend(other)
        for message, _method in to_lease:
            message.status, message.lease_until, message.note = Status.SENDING, now + LEASE, ""
            message.attempts += 1
        if changed:
            bulk.save_fields(Message, changed, _CHANGED_FIELDS)
        if to_lease:
            bulk.save_fields(Message, [m for m, _ in to_lease], _LEASED_FIELDS)
        attempts = DeliveryAttempt.objects.bulk_create(
            [
                DeliveryAttempt(
                    message=message,
                    contact_method=method,
                    number=message.attempts,
                    delivery_id=message.delivery_id,
                    started_at=now,
                    counts_for_throttle=message.category == Category.NOTIFICATION,
                )
                for message, method in to_lease
            ]
        )
        leased = [_leased(m, method, a) for (m, method), a in zip(to_lease, attempts, strict=True)]
    return leased, len(changed) + len(leased)


# ---------------------------------------------------------------------------------------------------------------
# 3. delivering


def call_channel(item: Leased) -> Result:
    """Render and send one message. Never raises: a bug in a channel counts as a transient error that may have
    delivered (so an at-most-once channel does not try again)."""
    try:
        rendered = item.channel.render(item.message)
        # keep-alive only where a repeat is allowed (lib.http): never for SMS and voice
        with http.reusing_connections(item.channel.delivery == Delivery.AT_LEAST_ONCE):
            return Result(sent=item.channel.send(item.contact, rendered, item.delivery_id))
    except ChannelError as exc:
        return Result(error=exc)
    except Exception as exc:
        log.exception("channel %s failed on message %s", item.channel.kind, item.message_id)
        return Result(
            error=ChannelError(
                f"unexpected error: {type(exc).__name__}: {exc}", transient=True, maybe_delivered=True
            )
        )


_pool_guard = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_guard:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="warroom-send")
        return _pool


def _too_late(item: Leased) -> bool:
    return clock.now() + CALL_BUDGET > item.lease_until


def _call_in_time(item: Leased) -> Result | None:
    """In a pool thread: the channel's result, or None when the lease is now too short to call at all."""
    if _too_late(item):
        return None
    return call_channel(item)


def deliver(leased: list[Leased]) -> bool:
    """Send each leased message and record the outcome. Messages whose lease would run out before the call could
    finish are given back untouched (released), never sent late; then this returns False (the pass ends).

    At-least-once messages are handed to the thread pool at once; at-most-once ones are sent here, one by one,
    meanwhile. The pool's results are then recorded in one transaction."""
    phones = [i for i in leased if i.channel.delivery == Delivery.AT_MOST_ONCE]
    others = [i for i in leased if i.channel.delivery != Delivery.AT_MOST_ONCE]
    futures: list[tuple[Leased, Future[Result | None]]] = []
    if len(others) > 1:
        pool = _executor()
        futures = [(item, pool.submit(_call_in_time, item)) for item in others]
    results: list[tuple[Leased, Result | None]] = []
    complete = True
    try:
        for index, item in enumerate(phones):
            if _too_late(item):
                release(phones[index:])
                complete = False
                break
            try:
                record(item, call_channel(item))
            except Exception:
                # The database failed us. Give back what was never called (best effort), so a phone message that
                # was not sent does not end up "outcome unknown" when its lease expires; then let the engine log it.
                with contextlib.suppress(Exception):
                    release(phones[index + 1 :])
                raise
        if len(others) == 1:  # a single message: no thread needed
            results = [(others[0], _call_in_time(others[0]))]
        else:
            results = [(item, future.result()) for item, future in futures]
            futures = []
    finally:
        # On an error above, calls not yet started are cancelled and given back; started ones finish and stay
        # leased: at least once, so their lease expires and they go again with the same delivery id.
        cancelled = [item for item, future in futures if future.cancel()]
        if cancelled:
            with contextlib.suppress(Exception):
                release(cancelled)
    late = [item for item, result in results if result is None]
    done = [(item, result) for item, result in results if result is not None]
    if done:
        record_many(done)
    if late:
        release(late)
        complete = False
    return complete


def release(items: list[Leased]) -> None:
    now = clock.now()
    with transaction.atomic():
        for item in items:
            Message.objects.filter(pk=item.message_id, status=Status.SENDING, attempts=item.number).update(
                status=Status.PENDING, lease_until=None, next_attempt_at=now
            )
            DeliveryAttempt.objects.filter(pk=item.attempt_id).update(
                outcome=Outcome.RELEASED,
                finished_at=now,
                counts_for_throttle=False,
                error="not sent: lease too short",
            )


def _outcome(item: Leased, result: Result, now: datetime) -> tuple[dict[str, Any], str]:
    """(the message fields to write, the attempt's outcome)."""
    if result.sent is not None:
        fields = {
            "status": Status.SENT,
            "failure": Failure.NONE,
            "sent_at": now,
            "finished_at": now,
            "provider_id": result.sent.provider_id[:200],
            "last_error": "",
            "lease_until": None,
        }
        return fields, Outcome.SENT
    error = result.error
    assert error is not None
    common: dict[str, Any] = {"last_error": error.message[:4000], "lease_until": None}
    if not error.transient:
        return {
            **common,
            "status": Status.FAILED,
            "failure": Failure.PERMANENT,
            "finished_at": now,
        }, Outcome.PERMANENT
    if item.channel.delivery == Delivery.AT_MOST_ONCE and error.maybe_delivered:
        return {
            **common,
            "status": Status.FAILED,
            "failure": Failure.UNKNOWN,
            "finished_at": now,
        }, Outcome.UNKNOWN
    if item.number >= MAX_ATTEMPTS:
        return {
            **common,
            "status": Status.FAILED,
            "failure": Failure.EXHAUSTED,
            "finished_at": now,
        }, Outcome.TRANSIENT
    fields = {
        **common,
        "status": Status.PENDING,
        "next_attempt_at": now + backoff(item.number, error.retry_after),
    }
    return fields, Outcome.TRANSIENT


_RECORDED_FIELDS = [
    "status",
    "failure",
    "sent_at",
    "finished_at",
    "provider_id",
    "last_error",
    "lease_until",
    "next_attempt_at",
]
#: what a verification code's final outcome also rewrites (the code is hidden once sent)
_HIDDEN_FIELDS = ["body", "context"]


def _current(message: Message, item: Leased, result: Result) -> bool:
    """The compare-and-set of :func:`record`, on a locked row."""
    if message.attempts != item.number:
        return False
    if message.status in (Status.SENDING, Status.PENDING):
        return True
    return result.sent is not None and message.status == Status.FAILED and message.failure == Failure.UNKNOWN


def record_many(results: list[tuple[Leased, Result]]) -> None:
    """Write the outcomes of several attempts in one transaction, with :func:`record`'s compare-and-set (the
    messages are locked, then only those whose latest attempt is this one and not final change)."""
    now = clock.now()
    with transaction.atomic():
        # only the columns compared and written (not the body and context, which can be large JSON)
        rows = {
            m.pk: m
            for m in Message.objects.select_for_update(of=("self",))
            .only("id", "attempts", *_RECORDED_FIELDS)
            .filter(pk__in=[item.message_id for item, _ in results])
        }
        changed: list[Message] = []
        hidden: list[Message] = []
        attempts: list[DeliveryAttempt] = []
        for item, result in results:
            fields, outcome = _outcome(item, result, now)
            if item.category == Category.VERIFICATION and fields["status"] in (Status.SENT, Status.FAILED):
                fields.update(body=HIDDEN_CODE, context={})
            message = rows.get(item.message_id)
            if message is not None and _current(message, item, result):
                for key, value in fields.items():
                    setattr(message, key, value)
                changed.append(message)
                if "body" in fields:
                    hidden.append(message)
            else:
                log.info(
                    "message %s: attempt %s finished after a newer state was recorded",
                    item.message_id,
                    item.number,
                )
            attempts.append(
                DeliveryAttempt(
                    pk=item.attempt_id,
                    outcome=outcome,
                    finished_at=now,
                    provider_id=(result.sent.provider_id if result.sent else "")[:200],
                    error=result.error.message[:4000] if result.error else "",
                )
            )
        if changed:
            bulk.save_fields(Message, changed, _RECORDED_FIELDS)
        if hidden:
            bulk.save_fields(Message, hidden, _HIDDEN_FIELDS)
        bulk.save_fields(DeliveryAttempt, attempts, ["outcome", "finished_at", "provider_id", "error"])
    for item, result in results:
        if result.error is not None and result.error.disable_contact:
            services.disable_contact_method(method_id=item.contact_method_id, reason=result.error.message)


def record(item: Leased, result: Result) -> None:
    """Write the outcome of one attempt. The message changes only while this attempt is its latest one and it
    is not final; a late success still turns an at-most-once "outcome unknown" into "sent"."""
    now = clock.now()
    fields, outcome = _outcome(item, result, now)
    final = fields["status"] in (Status.SENT, Status.FAILED)
    if item.category == Category.VERIFICATION and final:
        fields.update(body=HIDDEN_CODE, context={})
    current = Q(status__in=[Status.SENDING, Status.PENDING])
    if result.sent is not None:
        current |= Q(status=Status.FAILED, failure=Failure.UNKNOWN)
    with transaction.atomic():
        updated = Message.objects.filter(current, pk=item.message_id, attempts=item.number).update(**fields)
        DeliveryAttempt.objects.filter(pk=item.attempt_id).update(
            outcome=outcome,
            finished_at=now,
            provider_id=(result.sent.provider_id if result.sent else "")[:200],
            error=result.error.message[:4000] if result.error else "",
        )
    if not updated:
        log.info(
            "message %s: attempt %s finished after a newer state was recorded", item.message_id, item.number
        )
    if result.error is not None and result.error.disable_contact:
        services.disable_contact_method(method_id=item.contact_method_id, reason=result.error.message)
