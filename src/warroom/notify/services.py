"""Every write to contact methods, notification rules and the outbox.

A person manages their own contact methods and rules (``actor`` must be that person; ``actor=None`` is the
system). :func:`enqueue` is the entry point for other apps: it expands a person's rules into outbox rows inside
the caller's transaction. See docs/notifications.md for the contracts.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, overload

from django.db import IntegrityError, transaction

from warroom.accounts.models import User
from warroom.audit import services as audit
from warroom.integrations import registry
from warroom.integrations.base import Channel, InvalidAddress
from warroom.lib import bulk, clock, tokens, zones
from warroom.lib.errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from warroom.notify.models import (
    Category,
    ContactMethod,
    Kind,
    Message,
    NotificationRule,
    ShiftReminder,
    ShiftReminderSetting,
    Status,
    Urgency,
    WorkingHours,
)
from warroom.notify.working_hours import (
    Window,
    days_from_mask,
    days_to_mask,
    describe,
    next_working_instant,
    parse_days,
    zone_or_none,
)

NAME_MAX = 100
SUBJECT_MAX = 300
BODY_MAX = 20_000
CONTEXT_MAX = 20_000  # bytes of JSON
DEDUP_KEY_MAX = 200
GROUP_MAX = 200
DELAY_MAX = 1440

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=15)
CODE_RESEND_AFTER = timedelta(seconds=60)
CODE_MAX_ATTEMPTS = 5

#: kinds that wake a phone: a new one gets a high-urgency rule only
PHONE_KINDS = frozenset({Kind.SMS, Kind.VOICE})

_UNSET: Any = object()


class TooManyRequests(ServiceError):
    """Asked again too soon (a verification code within a minute of the last)."""

    status = 429
    code = "throttled"


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _check_owner(user: User, actor: User | None) -> None:
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("people manage their own contact methods and notification rules")


def _channel(kind: str) -> Channel:
    if kind not in Kind.values:
        raise ValidationFailed(f"kind must be one of {', '.join(Kind.values)}", field="kind")
    return registry.get(kind)


def _clean_name(name: str | None) -> str:
    value = " ".join((name or "").split())
    if not value or len(value) > NAME_MAX:
        raise ValidationFailed(f"a name is 1 to {NAME_MAX} characters", field="name")
    return value


def _snapshot(method: ContactMethod) -> dict[str, Any]:
    """What the audit log keeps of a contact method: never its secret."""
    return {
        "kind": method.kind,
        "name": method.name,
        "display": method.display,
        "verified": method.verified_at is not None,
        "disabled": method.disabled,
    }


def _rule_snapshot(rule: NotificationRule) -> dict[str, Any]:
    return {
        "contact_method": rule.contact_method_id,
        "urgency": rule.urgency,
        "delay_minutes": rule.delay_minutes,
        "working_hours_only": rule.working_hours_only,
    }


def new_delivery_id() -> str:
    return f"wrd_{uuid.uuid4().hex}"


def _code_digest(method: ContactMethod, code: str) -> str:
    return tokens.digest(f"contact-method-code:{method.pk}:{code}")


def _message_row(
    *,
    method: ContactMethod,
    category: str,
    urgency: str,
    subject: str,
    body: str,
    context: dict[str, Any],
    dedup_key: str,
    group: str,
    due_at: datetime,
    now: datetime,
    note: str = "",
) -> Message:
    return Message(
        user_id=method.user_id,
        contact_method=method,
        kind=method.kind,
        target=method.display,
        category=category,
        urgency=urgency,
        subject=subject[:SUBJECT_MAX],
        body=body,
        context=context,
        dedup_key=dedup_key,
        group=group,
        delivery_id=new_delivery_id(),
        due_at=due_at,
        next_attempt_at=due_at,
        note=note[:300],
        created_at=now,
    )


# ---------------------------------------------------------------------------------------------------------------
# contact methods


@dataclass(frozen=True)
class Created:
    method: ContactMethod
    #: shown to the owner once (a generated webhook signing secret)
    reveal: dict[str, str] = field(default_factory=dict)


def _parse(channel: Channel, address: str, token: str) -> Any:
    if not channel.configured():
        raise ValidationFailed(channel.not_configured_reason(), field="kind")
    try:
        return channel.parse_address(address, token=token or "")
    except InvalidAddress as exc:
        raise ValidationFailed(str(exc), field="address") from None


def address_key(kind: str, value: str) -> str:
    """What makes two addresses of one kind the same place: an email address in any case (``Ops@x.com`` and
    ``ops@x.com`` reach one mailbox, in practice), any other address as stored. Empty for kinds whose address is
    a secret URL (compared by nobody)."""
    return value.casefold() if kind == Kind.EMAIL else value


def _refuse_same_address(user: User, kind: str, value: str, exclude: int | None = None) -> None:
    """One person, one contact method per address: two would page them twice for every rung."""
    key = address_key(kind, value)
    if not key:
        return
    others = ContactMethod.objects.filter(user=user, kind=kind).only("name", "kind", "value")
    if exclude is not None:
        others = others.exclude(pk=exclude)
    same = next((m for m in others if address_key(m.kind, m.value) == key), None)
    if same is not None:
        raise Conflict(
            f"{value} is already your contact method {same.name!r}"
            + (" (email addresses are compared without regard to case)" if same.value != value else "")
            + ": give it another rule instead of a second method",
            field="address",
        )


def create_contact_method(
    *,
    user: User,
    kind: str,
    name: str,
    address: str,
    token: str = "",
    actor: User | None,
    source: str,
    send_code: bool = True,
) -> Created:
    """Add a contact method (unverified) and, unless ``send_code`` is false, send it a verification code."""
    _check_owner(user, actor)
    channel = _channel(kind)
    clean_name = _clean_name(name)
    target = _parse(channel, address, token)
    now = clock.now()
    try:
        with transaction.atomic():
            _refuse_same_address(user, kind, target.value)
            method = ContactMethod.objects.create(
                user=user,
                kind=kind,
                name=clean_name,
                value=target.value,
                display=target.display,
                config=target.config,
                secret=target.secret,
                created_at=now,
                updated_at=now,
            )
            audit.record(
                actor=actor,
                source=source,
                action="contact_method.create",
                obj=method,
                after=_snapshot(method),
            )
            if send_code:
                _send_code(method, now)
    except IntegrityError:
        raise Conflict(f"you already have a contact method named {clean_name!r}", field="name") from None
    return Created(method=method, reveal=dict(target.reveal))


def update_contact_method(
    *,
    method: ContactMethod,
    actor: User | None,
    source: str,
    name: str = _UNSET,
    disabled: bool = _UNSET,
    address: str = _UNSET,
    token: str = _UNSET,
) -> Created:
    """Rename, disable or re-enable, or change the address (which needs a new verification)."""
    _check_owner(method.user, actor)
    now = clock.now()
    try:
        with transaction.atomic():
            locked = (
                ContactMethod.objects.select_for_update(of=("self",)).select_related("user").get(pk=method.pk)
            )
            before = _snapshot(locked)
            reveal: dict[str, str] = {}
            if name is not _UNSET:
                locked.name = _clean_name(name)
            if disabled is not _UNSET:
                locked.disabled = bool(disabled)
                locked.disabled_reason = "" if not disabled else "disabled by its owner"
            if address is not _UNSET or token is not _UNSET:
                if address is _UNSET:
                    raise ValidationFailed("give the address again with a new token", field="address")
                target = _parse(registry.get(locked.kind), address, "" if token is _UNSET else token)
                _refuse_same_address(locked.user, locked.kind, target.value, exclude=locked.pk)
                locked.value, locked.display = target.value, target.display
                locked.config, locked.secret = target.config, target.secret
                locked.verified_at = None
                locked.code_digest, locked.code_expires_at, locked.code_attempts = "", None, 0
                reveal = dict(target.reveal)
            locked.updated_at = now
            locked.save()
            audit.record(
                actor=actor,
                source=source,
                action="contact_method.update",
                obj=locked,
                before=before,
                after=_snapshot(locked),
            )
    except IntegrityError:
        raise Conflict(f"you already have a contact method named {name!r}", field="name") from None
    return Created(method=locked, reveal=reveal)


def delete_contact_method(*, method: ContactMethod, actor: User | None, source: str) -> None:
    """Delete a contact method and its rules; its pending messages are cancelled (the log keeps them)."""
    _check_owner(method.user, actor)
    now = clock.now()
    with transaction.atomic():
        locked = ContactMethod.objects.select_for_update(of=("self",)).get(pk=method.pk)
        Message.objects.filter(contact_method=locked, status=Status.PENDING).update(
            status=Status.CANCELLED, note="the contact method was deleted", finished_at=now
        )
        audit.record(
            actor=actor, source=source, action="contact_method.delete", obj=locked, before=_snapshot(locked)
        )
        locked.delete()


def disable_contact_method(*, method_id: int, reason: str, source: str = "engine") -> bool:
    """The system stops using a dead address (unsubscribed number, archived channel, 410 Gone)."""
    with transaction.atomic():
        locked = (
            ContactMethod.objects.select_for_update(of=("self",)).filter(pk=method_id, disabled=False).first()
        )
        if locked is None:
            return False
        before = _snapshot(locked)
        locked.disabled, locked.disabled_reason, locked.updated_at = True, reason[:500], clock.now()
        locked.save(update_fields=["disabled", "disabled_reason", "updated_at"])
        audit.record(
            actor=None,
            source=source,
            action="contact_method.disable",
            obj=locked,
            before=before,
            after=_snapshot(locked),
        )
    return True


# ---------------------------------------------------------------------------------------------------------------
# verification


def _send_code(method: ContactMethod, now: datetime) -> Message:
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    method.code_digest = _code_digest(method, code)
    method.code_expires_at = now + CODE_TTL
    method.code_sent_at = now
    method.code_attempts = 0
    method.save(update_fields=["code_digest", "code_expires_at", "code_sent_at", "code_attempts"])
    minutes = int(CODE_TTL.total_seconds() // 60)
    message = _message_row(
        method=method,
        category=Category.VERIFICATION,
        urgency=Urgency.HIGH,
        subject="Your Warroom verification code",
        body=f"Your Warroom verification code is {code}. It expires in {minutes} minutes.",
        context={"code": code},
        dedup_key=f"verification:{method.pk}:{uuid.uuid4().hex}",
        group=f"contact-method:{method.pk}",
        due_at=now,
        now=now,
    )
    message.save()
    return message


def send_verification(*, method: ContactMethod, actor: User | None, source: str) -> Message:
    """Send a new code (the previous one stops working). At most one per minute per contact method."""
    _check_owner(method.user, actor)
    now = clock.now()
    with transaction.atomic():
        locked = ContactMethod.objects.select_for_update(of=("self",)).get(pk=method.pk)
        if locked.verified_at is not None:
            raise Conflict("this contact method is already verified")
        channel = registry.get(locked.kind)
        if not channel.configured():
            raise ValidationFailed(channel.not_configured_reason(), field="kind")
        if locked.code_sent_at is not None and now - locked.code_sent_at < CODE_RESEND_AFTER:
            wait = int((locked.code_sent_at + CODE_RESEND_AFTER - now).total_seconds()) + 1
            raise TooManyRequests(f"a code was sent moments ago: ask again in {wait} s")
        message = _send_code(locked, now)
        audit.record(actor=actor, source=source, action="contact_method.send_code", obj=locked)
    return message


def is_well_formed_code(code: str) -> bool:
    """Whether ``code`` (spaces already removed) has a verification code's format: ``CODE_DIGITS`` ASCII digits."""
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def verify_contact_method(
    *, method: ContactMethod, code: str, actor: User | None, source: str
) -> ContactMethod:
    """Check ``code`` (spaces ignored). A malformed code (not ``CODE_DIGITS`` digits) is refused without counting;
    wrong well-formed guesses count: after 5 the code is void and a new one must be sent. A first
    successful verification adds an immediate rule (high urgency; low urgency too except for phones) when the
    method has none, so a verified method is never silently unused."""
    _check_owner(method.user, actor)
    now = clock.now()
    refusal: ServiceError | None = None
    with transaction.atomic():
        locked = ContactMethod.objects.select_for_update(of=("self",)).get(pk=method.pk)
        if locked.verified_at is not None:
            return locked
        given = "".join((code or "").split())
        if not locked.code_digest:
            refusal = ValidationFailed("no code is waiting: send a new one", field="code")
        elif locked.code_expires_at is None or locked.code_expires_at <= now:
            refusal = ValidationFailed("the code has expired: send a new one", field="code")
        elif not is_well_formed_code(given):
            # A typo or a paste of something else is not a guess: refused without using up a try.
            refusal = ValidationFailed(
                f"a code is {CODE_DIGITS} digits (0-9), as in the message we sent; this was not used up as a try",
                field="code",
            )
        elif not tokens.matches(f"contact-method-code:{locked.pk}:{given}", locked.code_digest):
            locked.code_attempts += 1
            left = CODE_MAX_ATTEMPTS - locked.code_attempts
            if left <= 0:
                locked.code_digest, locked.code_expires_at = "", None
                refusal = ValidationFailed("wrong code, and too many tries: send a new one", field="code")
            else:
                refusal = ValidationFailed(f"wrong code ({left} tries left)", field="code")
            locked.save(update_fields=["code_attempts", "code_digest", "code_expires_at"])
            audit.record(actor=actor, source=source, action="contact_method.verify_failed", obj=locked)
        else:
            before = _snapshot(locked)
            locked.verified_at, locked.updated_at = now, now
            locked.code_digest, locked.code_expires_at, locked.code_attempts = "", None, 0
            locked.save()
            _default_rules(locked, now)
            audit.record(
                actor=actor,
                source=source,
                action="contact_method.verify",
                obj=locked,
                before=before,
                after=_snapshot(locked),
            )
    if refusal is not None:
        raise refusal
    return locked


def _default_rules(method: ContactMethod, now: datetime) -> None:
    if NotificationRule.objects.filter(contact_method=method).exists():
        return
    urgencies = [Urgency.HIGH] if method.kind in PHONE_KINDS else [Urgency.HIGH, Urgency.LOW]
    for urgency in urgencies:
        NotificationRule.objects.create(
            user_id=method.user_id, contact_method=method, urgency=urgency, delay_minutes=0, created_at=now
        )


def send_test(*, method: ContactMethod, actor: User | None, source: str) -> Message:
    """Send a test message to a verified contact method, now."""
    _check_owner(method.user, actor)
    if not method.is_usable:
        raise Conflict("verify and enable the contact method first")
    now = clock.now()
    with transaction.atomic():
        message = _message_row(
            method=method,
            category=Category.TEST,
            urgency=Urgency.LOW,
            subject="Test notification from Warroom",
            body=f"This is a test of your contact method {method.name!r}. No action is needed.",
            context={},
            dedup_key=f"test:{method.pk}:{uuid.uuid4().hex}",
            group=f"contact-method:{method.pk}",
            due_at=now,
            now=now,
        )
        message.save()
        audit.record(actor=actor, source=source, action="contact_method.test", obj=method)
    return message


# ---------------------------------------------------------------------------------------------------------------
# notification rules


def _clean_rule(
    user: User, contact_method: ContactMethod, urgency: str, delay_minutes: int, working_hours_only: bool
) -> None:
    if contact_method.user_id != user.pk:
        raise ValidationFailed("contact method not found", field="contact_method")
    if urgency not in Urgency.values:
        raise ValidationFailed("urgency must be high or low", field="urgency")
    if (
        isinstance(delay_minutes, bool)
        or not isinstance(delay_minutes, int)
        or not 0 <= delay_minutes <= DELAY_MAX
    ):
        raise ValidationFailed(
            f"delay_minutes is a whole number from 0 to {DELAY_MAX}", field="delay_minutes"
        )
    if not isinstance(working_hours_only, bool):
        raise ValidationFailed("working_hours_only is true or false", field="working_hours_only")
    if working_hours_only and urgency != Urgency.LOW:
        raise ValidationFailed(
            "only low-urgency rules can wait for working hours: high urgency pages at once",
            field="working_hours_only",
        )


def create_rule(
    *,
    user: User,
    contact_method: ContactMethod,
    urgency: str,
    delay_minutes: int,
    actor: User | None,
    source: str,
    working_hours_only: bool = False,
) -> NotificationRule:
    """Add a rung. ``working_hours_only`` (low urgency only) holds its notifications until the person's working
    hours; it has no effect while they have none."""
    _check_owner(user, actor)
    _clean_rule(user, contact_method, urgency, delay_minutes, working_hours_only)
    try:
        with transaction.atomic():
            rule = NotificationRule.objects.create(
                user=user,
                contact_method=contact_method,
                urgency=urgency,
                delay_minutes=delay_minutes,
                working_hours_only=working_hours_only,
                created_at=clock.now(),
            )
            audit.record(
                actor=actor,
                source=source,
                action="notification_rule.create",
                obj=rule,
                after=_rule_snapshot(rule),
            )
    except IntegrityError:
        raise Conflict("that rule exists already (same contact method, urgency and delay)") from None
    return rule


def update_rule(
    *,
    rule: NotificationRule,
    actor: User | None,
    source: str,
    contact_method: ContactMethod = _UNSET,
    urgency: str = _UNSET,
    delay_minutes: int = _UNSET,
    working_hours_only: bool = _UNSET,
) -> NotificationRule:
    _check_owner(rule.user, actor)
    try:
        with transaction.atomic():
            locked = (
                NotificationRule.objects.select_for_update(of=("self",))
                .select_related("user")
                .get(pk=rule.pk)
            )
            before = _rule_snapshot(locked)
            if contact_method is not _UNSET:
                locked.contact_method = contact_method
            if urgency is not _UNSET:
                locked.urgency = urgency
            if delay_minutes is not _UNSET:
                locked.delay_minutes = delay_minutes
            if working_hours_only is not _UNSET:
                locked.working_hours_only = working_hours_only
            _clean_rule(
                locked.user,
                locked.contact_method,
                locked.urgency,
                locked.delay_minutes,
                locked.working_hours_only,
            )
            locked.save()
            audit.record(
                actor=actor,
                source=source,
                action="notification_rule.update",
                obj=locked,
                before=before,
                after=_rule_snapshot(locked),
            )
    except IntegrityError:
        raise Conflict("that rule exists already (same contact method, urgency and delay)") from None
    return locked


def delete_rule(*, rule: NotificationRule, actor: User | None, source: str) -> None:
    _check_owner(rule.user, actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            source=source,
            action="notification_rule.delete",
            obj=rule,
            before=_rule_snapshot(rule),
        )
        NotificationRule.objects.filter(pk=rule.pk).delete()


# ---------------------------------------------------------------------------------------------------------------
# the outbox: the API other apps call


@dataclass(frozen=True)
class Enqueued:
    """What :func:`enqueue` did: the outbox rows of this logical message (new or already there), and why some
    of the person's rules produced nothing. ``reachable`` is false when nothing will be sent: the caller
    should say so where people look (the incident timeline)."""

    messages: list[Message]
    skipped: list[str]

    @property
    def reachable(self) -> bool:
        return bool(self.messages)


def _clean_context(context: dict[str, Any] | None) -> dict[str, Any]:
    context = dict(context or {})
    try:
        encoded = json.dumps(context)
    except (TypeError, ValueError):
        raise ValidationFailed(
            "context must be JSON (strings, numbers, lists, objects)", field="context"
        ) from None
    if len(encoded) > CONTEXT_MAX:
        raise ValidationFailed(f"context is at most {CONTEXT_MAX} bytes of JSON", field="context")
    for key in ("url", "ack_url"):
        value = context.get(key, "")
        if value and not (isinstance(value, str) and value.startswith(("http://", "https://"))):
            raise ValidationFailed(f"context.{key} must be an http(s) URL", field=f"context.{key}")
    return context


def _checked(
    urgency: str, subject: str, body: str, context: dict[str, Any] | None, dedup_key: str, group: str
) -> tuple[str, dict[str, Any]]:
    """Validate one enqueue request; returns (normalised subject, clean context)."""
    if urgency not in Urgency.values:
        raise ValidationFailed("urgency must be high or low", field="urgency")
    subject = " ".join((subject or "").split())
    if not subject:
        raise ValidationFailed("a notification needs a subject", field="subject")
    if not dedup_key or len(dedup_key) > DEDUP_KEY_MAX:
        raise ValidationFailed(f"dedup_key is 1 to {DEDUP_KEY_MAX} characters", field="dedup_key")
    if len(group) > GROUP_MAX:
        raise ValidationFailed(f"group is at most {GROUP_MAX} characters", field="group")
    if len(body or "") > BODY_MAX:
        raise ValidationFailed(f"body is at most {BODY_MAX} characters", field="body")
    return subject, _clean_context(context)


def _usable(
    user: User, urgency: str, rules: list[NotificationRule]
) -> tuple[list[NotificationRule], list[str]]:
    """The rules of ``user`` for ``urgency`` that give outbox rows, and why the others give none. Of rules that
    would send to the same address at the same delay through two contact methods (made before such duplicates
    were refused, :func:`address_key`), only the first sends: one page, not two."""
    usable: list[NotificationRule] = []
    skipped: list[str] = []
    sending: set[tuple[str, str, int]] = set()
    for rule in rules:
        method = rule.contact_method
        channel = registry.get(method.kind)
        same = (method.kind, address_key(method.kind, method.value), rule.delay_minutes)
        if same[1] and same in sending:
            continue
        if method.disabled:
            skipped.append(f"{method.name}: disabled ({method.disabled_reason or 'by its owner'})")
        elif method.verified_at is None:
            skipped.append(f"{method.name}: not verified")
        elif not channel.configured():
            skipped.append(f"{method.name}: {channel.not_configured_reason()}")
        else:
            usable.append(rule)
            sending.add(same)
    if not rules:
        skipped.append(f"{user.display_name} has no {urgency}-urgency notification rules")
    return usable, skipped


def _rung_key(dedup_key: str, rule: NotificationRule) -> str:
    """The dedup key of one rung: ``"<dedup_key>|<contact method id>|<delay>"``."""
    return f"{dedup_key}|{rule.contact_method_id}|{rule.delay_minutes}"


def _expand(
    *,
    user: User,
    urgency: str,
    rules: list[NotificationRule],
    window: Window | None,
    subject: str,
    body: str,
    context: dict[str, Any],
    dedup_key: str,
    group: str,
    begin: datetime,
    now: datetime,
) -> tuple[list[Message], list[str]]:
    """The outbox rows ``user``'s ``rules`` give for one logical message, and why some rules gave none."""
    usable, skipped = _usable(user, urgency, rules)
    rows: list[Message] = []
    for rule in usable:
        due_at, note = _due(begin + timedelta(minutes=rule.delay_minutes), rule, window)
        rows.append(
            _message_row(
                method=rule.contact_method,
                category=Category.NOTIFICATION,
                urgency=urgency,
                subject=subject,
                body=body or "",
                context=context,
                dedup_key=_rung_key(dedup_key, rule),
                group=group,
                due_at=due_at,
                now=now,
                note=note,
            )
        )
    return rows, skipped


@overload
def enqueue(
    *,
    user: User,
    urgency: str,
    subject: str,
    body: str = "",
    context: dict[str, Any] | None = None,
    dedup_key: str,
    group: str = "",
    start: datetime | None = None,
    into: None = None,
) -> Enqueued: ...


@overload
def enqueue(
    *,
    user: User,
    urgency: str,
    subject: str,
    body: str = "",
    context: dict[str, Any] | None = None,
    dedup_key: str,
    group: str = "",
    start: datetime | None = None,
    into: Batch,
) -> Queued: ...


def enqueue(
    *,
    user: User,
    urgency: str,
    subject: str,
    body: str = "",
    context: dict[str, Any] | None = None,
    dedup_key: str,
    group: str = "",
    start: datetime | None = None,
    into: Batch | None = None,
) -> Enqueued | Queued:
    """Expand ``user``'s notification rules for ``urgency`` into outbox rows, in the caller's transaction.

    Each rule (contact method, delay) gives one row due at ``start`` (default: now) plus the rule's delay, keyed
    ``"<dedup_key>|<contact method id>|<delay>"``: calling again with the same ``dedup_key`` inserts nothing new
    and returns the existing rows, so a producer that is redone after a crash pages nobody twice. Rules whose
    contact method is unverified, disabled or whose channel the server lacks are skipped and listed in
    ``skipped``. ``group`` (e.g. ``"incident:42"``) lets :func:`cancel_pending` stop the later rungs.

    A low-urgency rule marked ``working_hours_only`` is due at the first instant at or after that time inside
    the person's working hours (:func:`warroom.notify.working_hours.next_working_instant`), with a ``note``
    saying so; without working hours it is due at once like any other rule.

    With ``into`` (a :class:`Batch`), the rows are added to that batch instead, to be inserted with everyone
    else's by :meth:`Batch.flush` (one query for everyone's rules, one insert), and what was asked for is
    returned as a :class:`Queued`; see :class:`Batch`.
    """
    if into is not None:
        return into.add(
            user=user,
            urgency=urgency,
            subject=subject,
            body=body,
            context=context,
            dedup_key=dedup_key,
            group=group,
            start=start,
        )
    subject, clean_context = _checked(urgency, subject, body, context, dedup_key, group)
    now = clock.now()
    begin = start or now
    if not user.is_active:
        return Enqueued(messages=[], skipped=[f"{user.display_name} is deactivated"])
    rules = list(
        NotificationRule.objects.filter(user=user, urgency=urgency)
        .select_related("contact_method")
        .order_by("delay_minutes", "id")
    )
    window = working_window(user) if any(r.working_hours_only for r in rules) else None
    rows, skipped = _expand(
        user=user,
        urgency=urgency,
        rules=rules,
        window=window,
        subject=subject,
        body=body,
        context=clean_context,
        dedup_key=dedup_key,
        group=group,
        begin=begin,
        now=now,
    )
    with transaction.atomic():
        Message.objects.bulk_create(rows, ignore_conflicts=True)
    messages = list(
        Message.objects.filter(dedup_key__in=[r.dedup_key for r in rows]).order_by("due_at", "id")
    )
    return Enqueued(messages=messages, skipped=skipped)


@dataclass(frozen=True)
class Queued:
    """What :meth:`Batch.add` did: how many outbox rows it asked for (a row whose dedup key exists already is not
    inserted again), and why some of the person's rules produced nothing. ``reachable`` means what
    :attr:`Enqueued.reachable` means."""

    rows: int
    skipped: list[str]

    @property
    def reachable(self) -> bool:
        return self.rows > 0


#: the fields :meth:`Batch.add` gives each outbox row, in order (the others take their defaults), then
#: ``created_at``, stamped by :meth:`Batch.flush`
_BATCH_FIELDS = (
    "user_id",
    "contact_method_id",
    "kind",
    "target",
    "category",
    "urgency",
    "subject",
    "body",
    "context",
    "dedup_key",
    "group",
    "delivery_id",
    "due_at",
    "next_attempt_at",
    "note",
    "created_at",
)
_NOTIFICATION = Category.NOTIFICATION.value


class Batch:
    """The batch form of :func:`enqueue`, for an engine step that pages many people in one transaction.

    :meth:`prefetch` loads the rules (and working hours) of many people in one query each; :meth:`add` expands
    one logical message exactly as :func:`enqueue` does (same dedup keys, same skipped reasons, same due times)
    without touching the outbox; :meth:`flush` inserts every row in one ``INSERT … ON CONFLICT DO NOTHING``, in
    the caller's transaction. The rows are kept as tuples of values (:func:`warroom.lib.bulk.insert_values`),
    not model instances. Which of a person's rules are usable is worked out once per batch (contact methods do
    not change under a batch: its caller's transaction reads them once). Throttling and bundling happen when
    sending, as for :func:`enqueue`."""

    def __init__(self) -> None:
        self._rules: dict[int, dict[str, list[NotificationRule]]] = {}
        self._windows: dict[int, Window | None] = {}
        self._usable: dict[tuple[int, str], tuple[list[NotificationRule], list[str]]] = {}
        self.rows: list[tuple[Any, ...]] = []

    def prefetch(self, user_ids: set[int] | list[int]) -> None:
        wanted = [pk for pk in set(user_ids) if pk not in self._rules]
        if not wanted:
            return
        for pk in wanted:
            self._rules[pk] = {}
        for rule in (
            NotificationRule.objects.filter(user_id__in=wanted)
            .select_related("contact_method")
            .order_by("delay_minutes", "id")
        ):
            self._rules[rule.user_id].setdefault(rule.urgency, []).append(rule)
        holding = [
            pk for pk in wanted if any(r.working_hours_only for rs in self._rules[pk].values() for r in rs)
        ]
        for pk in holding:
            self._windows[pk] = None
        for hours in WorkingHours.objects.filter(user_id__in=holding):
            self._windows[hours.user_id] = window_of(hours)

    def _usable_rules(self, user: User, urgency: str) -> tuple[list[NotificationRule], list[str]]:
        key = (user.pk, urgency)
        found = self._usable.get(key)
        if found is None:
            self.prefetch([user.pk])
            found = self._usable[key] = _usable(user, urgency, self._rules[user.pk].get(urgency, []))
        return found

    def add(
        self,
        *,
        user: User,
        urgency: str,
        subject: str,
        body: str = "",
        context: dict[str, Any] | None = None,
        dedup_key: str,
        group: str = "",
        start: datetime | None = None,
    ) -> Queued:
        subject, clean_context = _checked(urgency, subject, body, context, dedup_key, group)
        now = clock.now()
        if not user.is_active:
            return Queued(rows=0, skipped=[f"{user.display_name} is deactivated"])
        usable, skipped = self._usable_rules(user, urgency)
        window = self._windows.get(user.pk) if any(r.working_hours_only for r in usable) else None
        begin = start or now
        subject, body = subject[:SUBJECT_MAX], body or ""
        for rule in usable:
            method = rule.contact_method
            due_at, note = _due(begin + timedelta(minutes=rule.delay_minutes), rule, window)
            self.rows.append(
                (
                    method.user_id,
                    method.pk,
                    method.kind,
                    method.display,
                    _NOTIFICATION,
                    urgency,
                    subject,
                    body,
                    clean_context,
                    _rung_key(dedup_key, rule),
                    group,
                    new_delivery_id(),
                    due_at,
                    due_at,
                    note[:300],
                )
            )
        return Queued(rows=len(usable), skipped=list(skipped))

    def flush(self) -> int:
        """Insert the rows added so far (stamped with the insert time); returns how many were asked for."""
        if not self.rows:
            return 0
        now = clock.now()
        with transaction.atomic(savepoint=False):  # in the caller's transaction: no savepoint of its own
            bulk.insert_values(
                Message, _BATCH_FIELDS, [(*row, now) for row in self.rows], skip_conflicts=True
            )
        count, self.rows = len(self.rows), []
        return count


def cancel_pending(*, group: str, reason: str) -> int:
    """Cancel the ``group``'s messages that have not started sending (e.g. the later rungs of everyone's ladder
    once an incident is acknowledged). Messages already being sent are not recalled. Returns how many."""
    if not group:
        raise ValidationFailed("give the group to cancel", field="group")
    return Message.objects.filter(group=group, status=Status.PENDING).update(
        status=Status.CANCELLED, note=(reason or "cancelled")[:300], finished_at=clock.now()
    )


def _due(at: datetime, rule: NotificationRule, window: Window | None) -> tuple[datetime, str]:
    """When ``rule``'s message is due, and the note that says why it waits."""
    if not rule.working_hours_only or window is None:
        return at, ""
    due = next_working_instant(window, at)
    if due == at:
        return at, ""
    local = due.astimezone(window.zone)
    return due, f"waiting for working hours: {local:%a %Y-%m-%d %H:%M} {window.zone.key}"


# ---------------------------------------------------------------------------------------------------------------
# working hours


def working_window(user: User) -> Window | None:
    """``user``'s working hours as a :class:`Window`, or None when they have set none."""
    hours = WorkingHours.objects.filter(user=user).first()
    return window_of(hours) if hours is not None else None


def window_of(hours: WorkingHours) -> Window | None:
    zone = zone_or_none(hours.time_zone)
    if zone is None:  # the tz database lost the zone: hold nothing rather than fail the page
        return None
    return Window(zone=zone, days=days_from_mask(hours.days), start=hours.start, end=hours.end)


def _hours_snapshot(hours: WorkingHours) -> dict[str, Any]:
    window = window_of(hours)
    return {"time_zone": hours.time_zone, "working_hours": describe(window) if window else ""}


def _clean_time(value: Any, field_name: str) -> time:
    if isinstance(value, str):
        try:
            value = time.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(f"{field_name} is a time of day such as 09:00", field=field_name) from None
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ValidationFailed(f"{field_name} is a time of day such as 09:00", field=field_name)
    return value.replace(second=0, microsecond=0)


def set_working_hours(
    *,
    user: User,
    time_zone: str,
    days: list[str | int] | tuple[str | int, ...] | frozenset[int],
    start: time | str,
    end: time | str,
    actor: User | None,
    source: str,
) -> WorkingHours:
    """Set (create or replace) ``user``'s working hours: on ``days`` (``mon`` … ``sun``, ``weekdays``,
    ``weekend``, ``everyday`` or 0-6) from ``start`` to ``end`` in the IANA zone ``time_zone``; an end at or
    before the start runs past midnight. Messages already waiting keep their due time."""
    _check_owner(user, actor)
    zone = zones.clean(time_zone)
    try:
        day_set = parse_days(days)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="days") from None
    if not day_set:
        raise ValidationFailed("choose at least one working day", field="days")
    clean_start, clean_end = _clean_time(start, "start"), _clean_time(end, "end")
    now = clock.now()
    with transaction.atomic():
        existing = WorkingHours.objects.select_for_update().filter(user=user).first()
        before = _hours_snapshot(existing) if existing is not None else None
        hours = existing or WorkingHours(user=user)
        hours.time_zone, hours.days = zone, days_to_mask(day_set)
        hours.start, hours.end, hours.updated_at = clean_start, clean_end, now
        hours.save()
        audit.record(
            actor=actor,
            source=source,
            action="working_hours.set",
            obj=hours,
            before=before,
            after=_hours_snapshot(hours),
        )
    return hours


def clear_working_hours(*, user: User, actor: User | None, source: str) -> bool:
    """Remove ``user``'s working hours (held rules then notify at once). False when there were none."""
    _check_owner(user, actor)
    with transaction.atomic():
        hours = WorkingHours.objects.select_for_update().filter(user=user).first()
        if hours is None:
            return False
        audit.record(
            actor=actor, source=source, action="working_hours.clear", obj=hours, before=_hours_snapshot(hours)
        )
        hours.delete()
    return True


# ---------------------------------------------------------------------------------------------------------------
# shift reminders


def _clean_minutes_before(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in ShiftReminder.values:
        choices = ", ".join(str(v) for v in ShiftReminder.values)
        raise ValidationFailed(f"minutes_before is one of {choices} (0 is off)", field="minutes_before")
    return value


def set_shift_reminder(
    *, user: User, minutes_before: int, actor: User | None, source: str
) -> ShiftReminderSetting:
    """Set how long before each of ``user``'s on-call shifts they are reminded of it: ``minutes_before`` one of
    :class:`~warroom.notify.models.ShiftReminder` (0 turns reminders off). Audited when it changes. Reminders
    already in the outbox are not recalled."""
    _check_owner(user, actor)
    minutes = _clean_minutes_before(minutes_before)
    now = clock.now()
    with transaction.atomic():
        setting, _created = ShiftReminderSetting.objects.select_for_update().get_or_create(
            user=user, defaults={"minutes_before": ShiftReminder.OFF, "updated_at": now}
        )
        before = setting.minutes_before
        if before != minutes:
            setting.minutes_before, setting.updated_at = minutes, now
            setting.save(update_fields=["minutes_before", "updated_at"])
            audit.record(
                actor=actor,
                source=source,
                action="shift_reminder.set",
                obj=setting,
                before={"minutes_before": before, "label": ShiftReminder(before).label},
                after={"minutes_before": minutes, "label": ShiftReminder(minutes).label},
            )
    return setting
