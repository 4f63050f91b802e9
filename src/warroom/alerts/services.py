"""Every write to integrations and their keys. Keyword-only, one transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.alerts.models import (
    DEFAULT_SEVERITY_MAP,
    KEY_PREFIX,
    SIGNING_SECRET_MAX,
    Grouping,
    Integration,
    IntegrationKey,
    Kind,
    default_severity_map,
)
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.lib import clock, tokens
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
    }


def _require_manage(actor: User | None, service: Service) -> None:
    if actor is not None and not accounts.can_manage_team(actor, service.team_id):
        raise PermissionDenied("only the team's admins and managers manage integrations")


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


def create_integration(
    *,
    service: Service,
    kind: str,
    name: str,
    actor: User | None,
    source: str,
    grouping: str = Grouping.ALERT,
    window_minutes: int = 10,
    severity_map: dict[str, Any] | None = None,
    auto_resolve_incident: bool = True,
    signing_secret: str = "",
) -> Integration:
    """Add an integration of ``kind`` to ``service``. It has no key yet: see :func:`create_integration_key`."""
    _require_manage(actor, service)
    if kind not in Kind.values:
        raise ValidationFailed(f"unknown kind {kind!r}; kinds are {', '.join(Kind.values)}", field="kind")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
        raise ValidationFailed(f"a name is 1 to {NAME_MAX} characters", field="name")
    if grouping not in Grouping.values:
        raise ValidationFailed(
            f"unknown grouping {grouping!r}; choose {', '.join(Grouping.values)}", field="grouping"
        )
    if (
        not isinstance(window_minutes, int)
        or isinstance(window_minutes, bool)
        or not 1 <= window_minutes <= 1440
    ):
        raise ValidationFailed("window_minutes is 1 to 1440", field="window_minutes")
    if not isinstance(auto_resolve_incident, bool):
        raise ValidationFailed("auto_resolve_incident must be true or false", field="auto_resolve_incident")
    if not isinstance(signing_secret, str) or len(signing_secret) > SIGNING_SECRET_MAX:
        raise ValidationFailed(
            f"signing_secret is a string of at most {SIGNING_SECRET_MAX} characters", field="signing_secret"
        )
    mapping = _clean_severity_map(severity_map)
    with transaction.atomic():
        integration = Integration.objects.create(
            service=service,
            kind=kind,
            name=name.strip(),
            created_at=clock.now(),
            grouping=grouping,
            window_minutes=window_minutes,
            severity_map=mapping,
            auto_resolve_incident=auto_resolve_incident,
            signing_secret=signing_secret,
        )
        audit.record(
            actor=actor,
            source=source,
            action="integration.create",
            obj=integration,
            after=_snapshot(integration),
        )
    return integration


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
