"""The subscriber outbox: :class:`~warroom.comms.models.Delivery` rows for recipients that are addresses (an
email address, a signed webhook URL), not Warroom users.

:func:`enqueue` is the one way in, for stakeholder updates (``comms.services``) and the status pages alike. It
inserts one row inside the caller's transaction, so the row commits or rolls back with the change that caused
it. It is idempotent on ``dedup_key``: a producer that runs twice (a crash before commit, two engines) inserts
once. Every row gets a fixed ``delivery_id`` (``wrd_…``) that goes out with every attempt: webhook receivers
see it as ``Warroom-Delivery-Id``, mail clients as the ``Message-ID``.

The engine module ``comms.deliver`` sends the rows (:func:`run`, below).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from warroom.audit import services as audit
from warroom.comms.models import (
    PAGE_SUBSCRIBER_KEY_PREFIX,
    Delivery,
    DeliveryStatus,
    Maintenance,
    PageSubscriber,
    RecipientKind,
    StatusUpdate,
    Subscription,
)
from warroom.integrations import registry
from warroom.integrations.base import Channel, ChannelError, Contact
from warroom.integrations.base import Message as ChannelMessage
from warroom.integrations.email import channel as email_channel
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.lib.ids import as_id
from warroom.notify.sender import Result, backoff  # the notification outbox's retry rule and result

SUBJECT_MAX = 300
ADDRESS_MAX = 500
DEDUP_KEY_MAX = 300
BODY_MAX = 50_000
CONTEXT_MAX = 50_000  # bytes of JSON


def new_delivery_id() -> str:
    """A fresh delivery id; the same id goes with every attempt of one delivery."""
    return f"wrd_{uuid.uuid4().hex}"


def _checked_context(context: dict[str, Any]) -> dict[str, Any]:
    try:
        encoded = json.dumps(context, sort_keys=True, default=str)
    except (TypeError, ValueError):
        raise ValidationFailed("context must be JSON", field="context") from None
    if len(encoded.encode()) > CONTEXT_MAX:
        raise ValidationFailed(f"context is at most {CONTEXT_MAX} bytes of JSON", field="context")
    loaded: dict[str, Any] = json.loads(encoded)
    return loaded


def _row(
    *,
    kind: str,
    address: str,
    secret: dict[str, Any],
    subject: str,
    body: str,
    context: dict[str, Any],
    dedup_key: str,
    update: StatusUpdate | None,
    maintenance: Maintenance | None,
    now: datetime,
    category: str = "",
) -> Delivery:
    """A checked, unsaved pending delivery, due at ``now``."""
    if kind not in RecipientKind.values:
        raise ValidationFailed(f"kind must be one of {', '.join(RecipientKind.values)}", field="kind")
    address = (address or "").strip()
    if not address or len(address) > ADDRESS_MAX:
        raise ValidationFailed(f"an address is 1 to {ADDRESS_MAX} characters", field="address")
    clean_subject = " ".join((subject or "").split())[:SUBJECT_MAX]
    if not clean_subject:
        raise ValidationFailed("a delivery needs a subject", field="subject")
    if not dedup_key or len(dedup_key) > DEDUP_KEY_MAX:
        raise ValidationFailed(f"dedup_key is 1 to {DEDUP_KEY_MAX} characters", field="dedup_key")
    if len(body or "") > BODY_MAX:
        raise ValidationFailed(f"body is at most {BODY_MAX} characters", field="body")
    clean_secret = dict(secret or {})
    if kind == RecipientKind.WEBHOOK:
        clean_secret.setdefault("url", address)
    return Delivery(
        kind=kind,
        address=address,
        secret=clean_secret,
        subject=clean_subject,
        body=body or "",
        context=_checked_context(context or {}),
        dedup_key=dedup_key,
        category=category or CATEGORY,
        delivery_id=new_delivery_id(),
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        update=update,
        maintenance=maintenance,
        created_at=now,
    )


def enqueue(
    *,
    kind: str,
    address: str,
    secret: dict[str, Any],
    subject: str,
    body: str,
    context: dict[str, Any],
    dedup_key: str,
    update: StatusUpdate | None = None,
    maintenance: Maintenance | None = None,
    category: str = "",
) -> Delivery | None:
    """Insert one pending delivery, due now, in the caller's transaction; returns it, or None when a row with
    ``dedup_key`` exists already (nothing is inserted, the existing row is left alone).

    ``kind`` is ``email`` or ``webhook``; ``address`` the email address or, for a webhook, the URL (the webhook
    channel reads the URL from ``secret["url"]``; it is filled in from ``address`` when missing) and ``secret``
    holds ``signing_secret`` for webhooks. ``context`` is the JSON a webhook carries under ``context`` (and the
    links an email shows: ``url``); ``category`` what the message is to its channel (a webhook's ``type`` is
    ``warroom.<category>``; by default a stakeholder update). Raises :class:`ValidationFailed` on a bad kind, an empty address or subject,
    or an oversized field."""
    row = _row(
        kind=kind,
        address=address,
        secret=secret,
        subject=subject,
        body=body,
        context=context,
        dedup_key=dedup_key,
        update=update,
        maintenance=maintenance,
        now=clock.now(),
        category=category,
    )
    with transaction.atomic():
        # INSERT … ON CONFLICT DO NOTHING: a concurrent producer of the same key waits for the other's commit,
        # then inserts nothing; no savepoint dance, no IntegrityError in the caller's transaction.
        Delivery.objects.bulk_create([row], ignore_conflicts=True)
        return Delivery.objects.filter(delivery_id=row.delivery_id).first()


@dataclass(frozen=True)
class Draft:
    """One delivery for :func:`enqueue_many`: the arguments of :func:`enqueue` but ``update``/``maintenance``."""

    kind: str
    address: str
    secret: dict[str, Any]
    subject: str
    body: str
    context: dict[str, Any]
    dedup_key: str


def enqueue_many(
    drafts: list[Draft], *, update: StatusUpdate | None = None, maintenance: Maintenance | None = None
) -> int:
    """:func:`enqueue` for many recipients in one ``INSERT … ON CONFLICT DO NOTHING`` (in the caller's
    transaction); every draft is checked first, so a bad one inserts nothing. Returns how many were asked for
    (rows whose dedup key exists already are skipped silently)."""
    now = clock.now()
    rows = [
        _row(
            kind=d.kind,
            address=d.address,
            secret=d.secret,
            subject=d.subject,
            body=d.body,
            context=d.context,
            dedup_key=d.dedup_key,
            update=update,
            maintenance=maintenance,
            now=now,
        )
        for d in drafts
    ]
    if rows:
        with transaction.atomic():
            Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


# ---------------------------------------------------------------------------------------------------------------
# the sender: engine module ``comms.deliver``
#
# 1. expire leases: a row still ``sending`` after its lease means a sender died between leasing and recording;
#    email and webhooks are at least once, so it goes back to ``pending`` and is sent again with the same id;
# 2. lease: due ``pending`` rows, ``FOR UPDATE SKIP LOCKED``, become ``sending`` with a deadline; commit;
# 3. deliver: outside any transaction, through the channel registry (a bounded thread pool), then record every
#    result in one transaction with a compare-and-set on (status ``sending``, attempt number).

log = logging.getLogger("warroom.comms.outbox")

LEASE = timedelta(minutes=2)
#: the longest one channel call may take (HTTP: 10 s; SMTP: WARROOM_SMTP_TIMEOUT per step)
CALL_BUDGET = timedelta(seconds=30)
BATCH = 100
MAX_BATCHES = 20
WORKERS = 8
MAX_ATTEMPTS = 8
#: what the channels see as a delivery's category unless it says another (a webhook's ``type`` is
#: ``warroom.stakeholder_update``)
CATEGORY = email_channel.SUBSCRIPTION


@dataclass(frozen=True)
class Leased:
    delivery_pk: int
    number: int
    delivery_id: str
    lease_until: datetime
    channel: Channel
    contact: Contact
    message: ChannelMessage


def run(now: datetime) -> int:
    """One pass: expire leases, then lease, send and record due deliveries in batches. Returns rows moved."""
    moved = expire_leases(now)
    for _ in range(MAX_BATCHES):
        leased = lease(clock.now(), limit=BATCH)
        moved += len(leased)
        if not leased or not deliver(leased):
            break
    return moved


def expire_leases(now: datetime, *, limit: int = 500) -> int:
    """Put deliveries whose sender died back to ``pending``, due now (same delivery id)."""
    with transaction.atomic():
        expired = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.SENDING, lease_until__lte=now)
            .order_by("lease_until", "id")[:limit]
        )
        for row in expired:
            Delivery.objects.filter(pk=row.pk, status=DeliveryStatus.SENDING, attempts=row.attempts).update(
                status=DeliveryStatus.PENDING,
                lease_until=None,
                next_attempt_at=now,
                last_error="the sender stopped before recording the result: sending again with the same "
                "delivery id",
            )
            log.warning("delivery %s: lease expired, will resend", row.pk)
    return len(expired)


def _leased(row: Delivery) -> Leased:
    return Leased(
        delivery_pk=row.pk,
        number=row.attempts,
        delivery_id=row.delivery_id,
        lease_until=row.lease_until or clock.now(),
        channel=registry.get(row.kind),
        contact=Contact(kind=row.kind, value=row.address, secret=dict(row.secret)),
        message=ChannelMessage(
            subject=row.subject,
            body=row.body,
            urgency="low",
            category=row.category or CATEGORY,
            url=str(row.context.get("url") or ""),
            created_at=row.created_at,
            context=dict(row.context),
        ),
    )


def lease(now: datetime, *, limit: int = BATCH) -> list[Leased]:
    """Take up to ``limit`` due deliveries (``SKIP LOCKED``: rows another sender holds are passed over), mark
    them ``sending`` with a lease and one more attempt, and commit."""
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        until = now + LEASE
        for row in due:
            row.status, row.lease_until, row.attempts = DeliveryStatus.SENDING, until, row.attempts + 1
        if due:
            Delivery.objects.bulk_update(due, ["status", "lease_until", "attempts"])
    return [_leased(row) for row in due]


def call_channel(item: Leased) -> Result:
    """Render and send one delivery. Never raises: a bug in a channel counts as a transient error."""
    try:
        rendered = item.channel.render(item.message)
        return Result(sent=item.channel.send(item.contact, rendered, item.delivery_id))
    except ChannelError as exc:
        return Result(error=exc)
    except Exception as exc:
        log.exception("channel %s failed on delivery %s", item.channel.kind, item.delivery_pk)
        return Result(error=ChannelError(f"unexpected error: {type(exc).__name__}: {exc}", transient=True))


def _call_in_time(item: Leased) -> Result | None:
    """The channel's result, or None when the lease is now too short to call at all."""
    if clock.now() + CALL_BUDGET > item.lease_until:
        return None
    return call_channel(item)


_pool_guard = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_guard:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="warroom-comms")
        return _pool


def deliver(leased: list[Leased]) -> bool:
    """Send every leased delivery and record the results. Deliveries whose lease would run out before the call
    could finish are given back untouched; then this returns False (the pass ends)."""
    if len(leased) == 1:
        results = [(leased[0], _call_in_time(leased[0]))]
    else:
        pool = _executor()
        futures = [(item, pool.submit(_call_in_time, item)) for item in leased]
        results = [(item, future.result()) for item, future in futures]
    done = [(item, result) for item, result in results if result is not None]
    late = [item for item, result in results if result is None]
    if done:
        record(done)
    if late:
        release(late)
    return not late


def release(items: list[Leased]) -> None:
    """Give leased deliveries back, not sent, due now (the attempt does not count)."""
    now = clock.now()
    with transaction.atomic():
        for item in items:
            Delivery.objects.filter(
                pk=item.delivery_pk, status=DeliveryStatus.SENDING, attempts=item.number
            ).update(
                status=DeliveryStatus.PENDING, lease_until=None, next_attempt_at=now, attempts=item.number - 1
            )


def _outcome(item: Leased, result: Result, now: datetime) -> dict[str, Any]:
    if result.sent is not None:
        return {
            "status": DeliveryStatus.SENT,
            "sent_at": now,
            "finished_at": now,
            "lease_until": None,
            "last_error": "",
        }
    error = result.error
    assert error is not None
    common: dict[str, Any] = {"lease_until": None, "last_error": error.message[:4000]}
    if not error.transient:
        return {**common, "status": DeliveryStatus.FAILED, "finished_at": now}
    if item.number >= MAX_ATTEMPTS:
        common["last_error"] = f"gave up after {item.number} attempts: {error.message}"[:4000]
        return {**common, "status": DeliveryStatus.FAILED, "finished_at": now}
    return {
        **common,
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": now + backoff(item.number, error.retry_after),
    }


def record(results: list[tuple[Leased, Result]]) -> None:
    """Write the outcomes in one transaction. A row changes only while it is still ``sending`` this attempt:
    a late result (its lease expired and another sender took it again) never overwrites a newer one."""
    now = clock.now()
    with transaction.atomic():
        gone: list[tuple[int, str]] = []
        for item, result in results:
            updated = Delivery.objects.filter(
                pk=item.delivery_pk, status=DeliveryStatus.SENDING, attempts=item.number
            ).update(**_outcome(item, result, now))
            if not updated:
                log.info(
                    "delivery %s: attempt %s finished after a newer state", item.delivery_pk, item.number
                )
            elif result.error is not None and result.error.disable_contact:
                gone.append((item.delivery_pk, result.error.message))
        for delivery_pk, reason in gone:
            forget_address(Delivery.objects.get(pk=delivery_pk), reason)


def forget_address(delivery: Delivery, reason: str) -> int:
    """The address of ``delivery`` is dead for good (a webhook answered 410 Gone): remove the status page
    subscriber it was sent to, or every internal subscription to that address, each with an audit row, so the
    next update does not try it again. Returns how many were removed; in the caller's transaction."""
    if delivery.to_page_subscriber:
        pk = delivery.dedup_key.removeprefix(PAGE_SUBSCRIBER_KEY_PREFIX).split(":", 1)[0]
        found: list[PageSubscriber | Subscription] = list(
            PageSubscriber.objects.filter(pk=ident) if (ident := as_id(pk)) is not None else []
        )
        action = "statuspage.subscriber.remove"
    else:
        found = list(Subscription.objects.filter(kind=delivery.kind, address=delivery.address))
        action = "comms.subscription.delete"
    for subscriber in found:
        audit.record(
            actor=None,
            source="engine",
            action=action,
            obj=subscriber,
            before={"kind": subscriber.kind},
            after={"reason": f"delivery {delivery.delivery_id}: {reason}"[:1000]},
        )
        log.warning("%s %s: %s", action, subscriber.pk, reason)
        subscriber.delete()
    return len(found)
