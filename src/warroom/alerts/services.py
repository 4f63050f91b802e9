"""Every write to integrations and their keys. Keyword-only, one transaction each."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.alerts.models import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_SEVERITY_MAP,
    KEY_PREFIX,
    SIGNING_SECRET_MAX,
    Grouping,
    HeartbeatMonitor,
    Integration,
    IntegrationKey,
    Kind,
    MaintenanceWindow,
    Recurrence,
    default_severity_map,
)
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.lib import clock, instants, tokens, zones
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed

NAME_MAX = 100
SECRET_MAX = 128
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: ``secret`` is shown once and never stored."""

    key: IntegrationKey
    secret: str


def _snapshot(integration: Integration) -> dict[str, Any]:
    return {
        "service": integration.service_id,
        "kind": integration.kind,
        "name": integration.name,
        "grouping": integration.grouping,
        "window_minutes": integration.window_minutes,
        "severity_map": integration.severity_map,
        "auto_resolve_incident": integration.auto_resolve_incident,
        "signed": bool(integration.signing_secret),
        "group_fields": integration.group_fields,
        "field_mapping": integration.field_mapping,
        "rate_limit_per_minute": integration.rate_limit_per_minute,
        "email_address": integration.email_address,
        "email_dedup_pattern": integration.email_dedup_pattern,
        "email_resolve_pattern": integration.email_resolve_pattern,
    }


def _require_manage(actor: User | None, service: Service) -> None:
    if actor is not None and not accounts.can_manage_team(actor, service.team_id):
        raise PermissionDenied("only the team's admins and managers manage integrations")


_OPTION_FIELDS = (
    "grouping",
    "window_minutes",
    "auto_resolve_incident",
    "signing_secret",
    "group_fields",
    "field_mapping",
    "rate_limit_per_minute",
    "email_dedup_pattern",
    "email_resolve_pattern",
)
#: The alert fields a generic webhook's field mapping can point at.
MAPPABLE_FIELDS = ("summary", "severity", "dedup_key", "action", "source", "details", "links", "group_key")
PATTERN_MAX = 500
GROUP_FIELDS_MAX = 10
HEARTBEAT_INTERVAL = (60, 31 * 86400)
HEARTBEAT_GRACE_DEFAULT = 60
#: The kinds whose intake checks an HMAC signature (``warroom.alerts.intake``: the Grafana and generic webhook
#: views are the only ones with a ``verify``); a signing secret means nothing to the others.
SIGNING_KINDS: tuple[str, ...] = (Kind.GRAFANA, Kind.WEBHOOK)
#: The kinds whose intake takes a key per request and counts it against the rate limit: email has no key and a
#: heartbeat ping is not rate limited.
RATE_LIMITED_KINDS: tuple[str, ...] = tuple(k for k in Kind.values if k not in (Kind.EMAIL, Kind.HEARTBEAT))
#: Options that only some kinds read, and those kinds; every other option applies to every kind. Any kind takes
#: the option's empty value (``""``, ``{}``, null; the default grace and rate limit), so a client may send every
#: field.
OPTION_KINDS: dict[str, tuple[str, ...]] = {
    "signing_secret": SIGNING_KINDS,
    "rate_limit_per_minute": RATE_LIMITED_KINDS,
    "field_mapping": (Kind.WEBHOOK,),
    "email_dedup_pattern": (Kind.EMAIL,),
    "email_resolve_pattern": (Kind.EMAIL,),
    "heartbeat_interval_seconds": (Kind.HEARTBEAT,),
    "heartbeat_grace_seconds": (Kind.HEARTBEAT,),
}
_EMPTY_OPTION: dict[str, tuple[Any, ...]] = {
    "signing_secret": ("", None),
    "rate_limit_per_minute": (DEFAULT_RATE_LIMIT, None),
    "field_mapping": ({}, None),
    "email_dedup_pattern": ("", None),
    "email_resolve_pattern": ("", None),
    "heartbeat_interval_seconds": (None,),
    "heartbeat_grace_seconds": (None, HEARTBEAT_GRACE_DEFAULT),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_pattern(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > PATTERN_MAX:
        raise ValidationFailed(
            f"{field} is a regular expression of at most {PATTERN_MAX} characters", field=field
        )
    if value:
        try:
            re.compile(value)
        except RecursionError:
            raise ValidationFailed(f"{field} is nested too deeply to compile", field=field) from None
        except (re.error, OverflowError, ValueError) as exc:  # a huge repeat count is an OverflowError
            raise ValidationFailed(f"{field} is not a valid regular expression: {exc}", field=field) from None
    return value


def _is_empty_option(name: str, value: Any) -> bool:
    return any(value == empty and type(value) is type(empty) for empty in _EMPTY_OPTION[name])


def _kinds_text(kinds: tuple[str, ...]) -> str:
    names = [str(kind) for kind in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _check_option_kinds(kind: str, options: dict[str, Any], *, stored: dict[str, Any] | None = None) -> None:
    """Refuse an option of ``options`` that ``kind`` does not read, unless it has its empty value or (an update)
    the value ``stored`` already holds: rows from before this check keep working and may be sent back as read."""
    for name, kinds in OPTION_KINDS.items():
        if name not in options or kind in kinds or _is_empty_option(name, options[name]):
            continue
        if stored is not None and name in stored and options[name] == stored[name]:
            continue
        raise ValidationFailed(
            f"{name} applies to {_kinds_text(kinds)} integrations only (this is {_article(kind)} integration)",
            field=name,
        )


def _article(kind: str) -> str:
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def _clean_options(
    *,
    grouping: Any,
    window_minutes: Any,
    auto_resolve_incident: Any,
    signing_secret: Any,
    group_fields: Any,
    field_mapping: Any,
    rate_limit_per_minute: Any,
    email_dedup_pattern: Any,
    email_resolve_pattern: Any,
) -> dict[str, Any]:
    """Validate the options every kind shares; returns the model field values."""
    if grouping not in Grouping.values:
        raise ValidationFailed(
            f"unknown grouping {grouping!r}; choose {', '.join(Grouping.values)}", field="grouping"
        )
    if not _is_int(window_minutes) or not 1 <= window_minutes <= 1440:
        raise ValidationFailed("window_minutes is 1 to 1440", field="window_minutes")
    if not isinstance(auto_resolve_incident, bool):
        raise ValidationFailed("auto_resolve_incident must be true or false", field="auto_resolve_incident")
    if not isinstance(signing_secret, str) or len(signing_secret) > SIGNING_SECRET_MAX:
        raise ValidationFailed(
            f"signing_secret is a string of at most {SIGNING_SECRET_MAX} characters", field="signing_secret"
        )
    fields = [] if group_fields is None else group_fields
    if (
        not isinstance(fields, list)
        or len(fields) > GROUP_FIELDS_MAX
        or any(not isinstance(f, str) or not f.strip() or len(f) > 100 for f in fields)
    ):
        raise ValidationFailed(
            f"group_fields is a list of up to {GROUP_FIELDS_MAX} label or field names", field="group_fields"
        )
    fields = [f.strip() for f in fields]
    if grouping == Grouping.FIELDS and not fields:
        raise ValidationFailed(
            "grouping by fields needs at least one name in group_fields", field="group_fields"
        )
    mapping = {} if field_mapping is None else field_mapping
    if not isinstance(mapping, dict):
        raise ValidationFailed("field_mapping must be an object of field: path", field="field_mapping")
    for target, path in mapping.items():
        if target not in MAPPABLE_FIELDS:
            raise ValidationFailed(
                f"field_mapping: unknown field {target!r}; fields are {', '.join(MAPPABLE_FIELDS)}",
                field="field_mapping",
            )
        if not isinstance(path, str) or not path.strip() or len(path) > 200:
            raise ValidationFailed(
                f"field_mapping[{target!r}] must be a dotted path such as 'alert.title'",
                field="field_mapping",
            )
    if not _is_int(rate_limit_per_minute) or not 0 <= rate_limit_per_minute <= 1_000_000:
        raise ValidationFailed(
            "rate_limit_per_minute is 0 (no limit) to 1000000", field="rate_limit_per_minute"
        )
    return {
        "grouping": grouping,
        "window_minutes": window_minutes,
        "auto_resolve_incident": auto_resolve_incident,
        "signing_secret": signing_secret,
        "group_fields": fields,
        "field_mapping": {k: v.strip() for k, v in mapping.items()},
        "rate_limit_per_minute": rate_limit_per_minute,
        "email_dedup_pattern": _clean_pattern(email_dedup_pattern, "email_dedup_pattern"),
        "email_resolve_pattern": _clean_pattern(email_resolve_pattern, "email_resolve_pattern"),
    }


def _clean_heartbeat(interval: Any, grace: Any) -> tuple[int, int]:
    low, high = HEARTBEAT_INTERVAL
    if not _is_int(interval) or not low <= interval <= high:
        raise ValidationFailed(
            f"a heartbeat needs heartbeat_interval_seconds, {low} to {high} (1 minute to 31 days)",
            field="heartbeat_interval_seconds",
        )
    if not _is_int(grace) or not 0 <= grace <= high:
        raise ValidationFailed(
            f"heartbeat_grace_seconds is 0 to {high} (up to 31 days)", field="heartbeat_grace_seconds"
        )
    return interval, grace


def _new_email_address(service: Service) -> str:
    """A fresh, hard-to-guess local part: the address is the email integration's only credential."""
    base = re.sub(r"[^a-z0-9-]", "-", service.slug.lower())[:30].strip("-") or "service"
    return f"{base}-{secrets.token_hex(8)}"


def _clean_severity_map(value: dict[str, Any] | None) -> dict[str, list[int]]:
    if value is None:
        return default_severity_map()
    if not isinstance(value, dict):
        raise ValidationFailed("severity_map must be an object", field="severity_map")
    clean = default_severity_map()
    for severity, pair in value.items():
        if severity not in DEFAULT_SEVERITY_MAP:
            raise ValidationFailed(
                f"unknown severity {severity!r}; severities are {', '.join(DEFAULT_SEVERITY_MAP)}",
                field="severity_map",
            )
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or any(not isinstance(v, int) or isinstance(v, bool) or v not in (1, 2, 3) for v in pair)
        ):
            raise ValidationFailed(
                f"severity_map[{severity!r}] must be [impact, urgency], each 1, 2 or 3", field="severity_map"
            )
        clean[severity] = [pair[0], pair[1]]
    return clean


#: Senders that group alerts themselves: their group key is what a person would group by (one notification of
#: a 50-alert Alertmanager group is one problem, not 50 incidents).
GROUPING_BY_KIND: dict[str, str] = {Kind.ALERTMANAGER: Grouping.GROUP_KEY, Kind.GRAFANA: Grouping.GROUP_KEY}


def default_grouping(kind: str) -> str:
    """How a new integration of ``kind`` groups alerts unless told: by the upstream group key for Alertmanager
    and Grafana, one incident per alert for the others."""
    return GROUPING_BY_KIND.get(kind, str(Grouping.ALERT))


def create_integration(
    *,
    service: Service,
    kind: str,
    name: str,
    actor: User | None,
    source: str,
    grouping: str | None = None,
    window_minutes: int = 10,
    severity_map: dict[str, Any] | None = None,
    auto_resolve_incident: bool = True,
    signing_secret: str = "",
    group_fields: list[str] | None = None,
    field_mapping: dict[str, Any] | None = None,
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
    email_dedup_pattern: str = "",
    email_resolve_pattern: str = "",
    heartbeat_interval_seconds: int | None = None,
    heartbeat_grace_seconds: int = HEARTBEAT_GRACE_DEFAULT,
) -> Integration:
    """Add an integration of ``kind`` to ``service``. It has no key yet: see :func:`create_integration_key`.

    An email integration gets its own address (``<service slug>-<random>``); a heartbeat integration gets its
    monitor, which waits for the first ping. An option the kind does not read (:data:`OPTION_KINDS`) is refused
    naming it, unless it has its empty value. ``grouping`` None: the kind's default (:func:`default_grouping`)."""
    _require_manage(actor, service)
    if kind not in Kind.values:
        raise ValidationFailed(f"unknown kind {kind!r}; kinds are {', '.join(Kind.values)}", field="kind")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
        raise ValidationFailed(f"a name is 1 to {NAME_MAX} characters", field="name")
    _check_option_kinds(
        kind,
        {
            "signing_secret": signing_secret,
            "rate_limit_per_minute": rate_limit_per_minute,
            "field_mapping": field_mapping,
            "email_dedup_pattern": email_dedup_pattern,
            "email_resolve_pattern": email_resolve_pattern,
            "heartbeat_interval_seconds": heartbeat_interval_seconds,
            "heartbeat_grace_seconds": heartbeat_grace_seconds,
        },
    )
    values = _clean_options(
        grouping=default_grouping(kind) if grouping is None else grouping,
        window_minutes=window_minutes,
        auto_resolve_incident=auto_resolve_incident,
        signing_secret=signing_secret,
        group_fields=group_fields,
        field_mapping=field_mapping,
        rate_limit_per_minute=rate_limit_per_minute,
        email_dedup_pattern=email_dedup_pattern,
        email_resolve_pattern=email_resolve_pattern,
    )
    values["severity_map"] = _clean_severity_map(severity_map)
    if kind == Kind.HEARTBEAT:
        interval, grace = _clean_heartbeat(heartbeat_interval_seconds, heartbeat_grace_seconds)
    with transaction.atomic():
        integration = Integration.objects.create(
            service=service,
            kind=kind,
            name=name.strip(),
            created_at=clock.now(),
            email_address=_new_email_address(service) if kind == Kind.EMAIL else None,
            **values,
        )
        if kind == Kind.HEARTBEAT:
            HeartbeatMonitor.objects.create(
                integration=integration, interval_seconds=interval, grace_seconds=grace
            )
        audit.record(
            actor=actor,
            source=source,
            action="integration.create",
            obj=integration,
            after=_snapshot(integration),
        )
    return integration


def update_integration(
    *, integration: Integration, actor: User | None, source: str, **changes: Any
) -> Integration:
    """Change an integration's options (the keyword arguments of :func:`create_integration`, but not its kind or
    service; ``heartbeat_interval_seconds``/``heartbeat_grace_seconds`` for a heartbeat).

    An option the kind does not read (:data:`OPTION_KINDS`) is refused naming it unless it is empty or the value
    already stored (an integration saved before that rule keeps working, and its options may be sent back as
    read); nothing changes then."""
    _require_manage(actor, integration.service)
    allowed = set(_OPTION_FIELDS) | {
        "name",
        "severity_map",
        "heartbeat_interval_seconds",
        "heartbeat_grace_seconds",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(unknown)}", field=unknown[0])
    with transaction.atomic():
        locked = Integration.objects.select_for_update().select_related("service").get(pk=integration.pk)
        before = _snapshot(locked)
        current = {name: getattr(locked, name) for name in _OPTION_FIELDS}
        _check_option_kinds(locked.kind, changes, stored=current)
        current.update({k: v for k, v in changes.items() if k in _OPTION_FIELDS})
        values = _clean_options(**current)
        if "severity_map" in changes:
            values["severity_map"] = _clean_severity_map(changes["severity_map"])
        if "name" in changes:
            name = changes["name"]
            if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
                raise ValidationFailed(f"a name is 1 to {NAME_MAX} characters", field="name")
            values["name"] = name.strip()
        if locked.kind == Kind.HEARTBEAT and any(k.startswith("heartbeat_") for k in changes):
            monitor = HeartbeatMonitor.objects.select_for_update().get(integration=locked)
            interval, grace = _clean_heartbeat(
                changes.get("heartbeat_interval_seconds", monitor.interval_seconds),
                changes.get("heartbeat_grace_seconds", monitor.grace_seconds),
            )
            monitor.interval_seconds, monitor.grace_seconds = interval, grace
            if monitor.last_ping_at is not None:
                monitor.due_at = monitor.last_ping_at + timedelta(seconds=interval + grace)
            monitor.save(update_fields=["interval_seconds", "grace_seconds", "due_at"])
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(values))
        audit.record(
            actor=actor,
            source=source,
            action="integration.update",
            obj=locked,
            before=before,
            after=_snapshot(locked),
        )
    return locked


def create_integration_key(*, integration: Integration, actor: User | None, source: str) -> NewKey:
    """Make a new key for ``integration``; the secret is returned once and only its digest is kept. Older
    keys stay active until revoked, so two can work at once while a sender is switched over."""
    _require_manage(actor, integration.service)
    secret = tokens.generate(KEY_PREFIX)
    with transaction.atomic():
        key = IntegrationKey.objects.create(
            integration=integration,
            prefix=secret[: len(KEY_PREFIX) + 7],
            digest=tokens.digest(secret),
            created_at=clock.now(),
        )
        audit.record(
            actor=actor, source=source, action="integration.key.create", obj=key, after={"prefix": key.prefix}
        )
    return NewKey(key=key, secret=secret)


def revoke_integration_key(*, key: IntegrationKey, actor: User | None, source: str) -> IntegrationKey:
    """Revoke ``key``; requests with it are refused from the moment this commits."""
    _require_manage(actor, key.integration.service)
    with transaction.atomic():
        now = clock.now()
        updated = IntegrationKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
        if updated != 1:
            raise Conflict("the key is already revoked", field="key")
        key.revoked_at = now
        audit.record(
            actor=actor,
            source=source,
            action="integration.key.revoke",
            obj=key,
            after={"revoked_at": str(now)},
        )
    return key


def authenticate_key(secret: str) -> IntegrationKey | None:
    """The active key ``secret`` stands for, with its integration and service loaded, or None.

    Looks the key up by its HMAC digest and confirms in constant time; touches ``last_used_at`` at most once a
    minute (a conditional update, so a storm of requests does not queue on the key's row)."""
    if not isinstance(secret, str) or not secret.startswith(KEY_PREFIX + "_") or len(secret) > SECRET_MAX:
        return None
    digest = tokens.digest(secret)
    key = (
        IntegrationKey.objects.select_related("integration__service__team")
        .filter(digest=digest, revoked_at__isnull=True)
        .first()
    )
    if key is None or not tokens.matches(secret, key.digest):
        return None
    now = clock.now()
    if key.last_used_at is None or key.last_used_at <= now - TOUCH_EVERY:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_EVERY)
        IntegrationKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


TITLE_MAX = 200
WINDOW_MAX = timedelta(days=366)


def _clean_window(
    *, title: Any, starts_at: Any, ends_at: Any, recurrence: Any, repeat_until: Any, time_zone: Any
) -> dict[str, Any]:
    if not isinstance(time_zone, str):
        raise ValidationFailed(
            "time_zone must be an IANA time zone name such as Europe/Berlin", field="time_zone"
        )
    zone = zones.clean(time_zone)
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > TITLE_MAX:
        raise ValidationFailed(f"a title is 1 to {TITLE_MAX} characters", field="title")
    starts_at = instants.to_utc(starts_at, field="starts_at")
    ends_at = instants.to_utc(ends_at, field="ends_at")
    if ends_at <= starts_at:
        raise ValidationFailed("ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > WINDOW_MAX:
        raise ValidationFailed("a maintenance window lasts at most 366 days", field="ends_at")
    if recurrence not in Recurrence.values:
        raise ValidationFailed(
            f"unknown recurrence {recurrence!r}; choose {', '.join(Recurrence.values)}", field="recurrence"
        )
    if repeat_until is not None:
        if recurrence == Recurrence.NONE:
            raise ValidationFailed("repeat_until is only for recurring windows", field="repeat_until")
        repeat_until = instants.to_utc(repeat_until, field="repeat_until")
        if repeat_until <= starts_at:
            raise ValidationFailed("repeat_until must be after starts_at", field="repeat_until")
    return {
        "title": title.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "recurrence": recurrence,
        "repeat_until": repeat_until,
        "time_zone": zone,
    }


def _window_snapshot(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "service": window.service_id,
        "title": window.title,
        "starts_at": str(window.starts_at),
        "ends_at": str(window.ends_at),
        "recurrence": window.recurrence,
        "repeat_until": str(window.repeat_until) if window.repeat_until else None,
        "time_zone": window.time_zone,
    }


def create_maintenance_window(
    *,
    service: Service,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    actor: User | None,
    source: str,
    recurrence: str = Recurrence.NONE,
    repeat_until: datetime | None = None,
    time_zone: str = "UTC",
) -> MaintenanceWindow:
    """Plan a maintenance window: while it is active, the service's alerts are suppressed (recorded, no
    incident). A recurring window repeats on the wall clock of ``time_zone`` (an IANA name, validated as
    :func:`warroom.lib.zones.clean` does; see :class:`MaintenanceWindow` for the DST rules)."""
    _require_manage(actor, service)
    values = _clean_window(
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        repeat_until=repeat_until,
        time_zone=time_zone,
    )
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(
            service=service, created_by=actor, created_at=clock.now(), **values
        )
        audit.record(
            actor=actor,
            source=source,
            action="maintenance.create",
            obj=window,
            after=_window_snapshot(window),
        )
    return window


def update_maintenance_window(
    *, window: MaintenanceWindow, actor: User | None, source: str, **changes: Any
) -> MaintenanceWindow:
    """Change a window's title, times, recurrence or time zone (e.g. end it early by setting ``ends_at`` to now).
    A new ``time_zone`` keeps the first occurrence's instants; the repeats follow the new zone's wall clock."""
    _require_manage(actor, window.service)
    allowed = {"title", "starts_at", "ends_at", "recurrence", "repeat_until", "time_zone"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(unknown)}", field=unknown[0])
    with transaction.atomic():
        locked = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        before = _window_snapshot(locked)
        current = {name: getattr(locked, name) for name in allowed}
        current.update(changes)
        values = _clean_window(**current)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(values))
        audit.record(
            actor=actor,
            source=source,
            action="maintenance.update",
            obj=locked,
            before=before,
            after=_window_snapshot(locked),
        )
    return locked


def delete_maintenance_window(*, window: MaintenanceWindow, actor: User | None, source: str) -> None:
    """Remove a window. Alerts it suppressed stay suppressed (they say so)."""
    _require_manage(actor, window.service)
    with transaction.atomic():
        snapshot = _window_snapshot(window)
        audit.record(actor=actor, source=source, action="maintenance.delete", obj=window, before=snapshot)
        window.delete()


def active_maintenance(service_id: int, at: datetime) -> MaintenanceWindow | None:
    """The maintenance window of the service active at ``at``, if any (the one that started last)."""
    candidates = MaintenanceWindow.objects.filter(service_id=service_id, starts_at__lte=at).filter(
        Q(recurrence=Recurrence.NONE, ends_at__gt=at)
        | (~Q(recurrence=Recurrence.NONE) & (Q(repeat_until__isnull=True) | Q(repeat_until__gt=at)))
    )
    for window in candidates.order_by("-starts_at", "-id"):
        if window.is_active(at):
            return window
    return None
