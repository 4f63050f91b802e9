"""Integration keys: random, shown once, stored as HMAC, two active for rotation, revoked at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.conftest import Hooked, pd_trigger, post
from tests.conftest import World
from warroom.alerts import services
from warroom.alerts.models import IntakeEvent, IntegrationKey
from warroom.audit.models import AuditEvent
from warroom.lib import clock, tokens
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_secret_is_never_stored(pd: Hooked) -> None:
    assert pd.key.startswith("wr_ik_") and len(pd.key) >= 6 + 43
    key = IntegrationKey.objects.get()
    assert key.digest == tokens.digest(pd.key) and pd.key not in key.digest
    assert pd.key.startswith(key.prefix) and len(key.prefix) < 16
    for row in IntegrationKey.objects.values():
        assert pd.key not in str(row)
    for row in AuditEvent.objects.values():
        assert pd.key not in str(row)


def test_two_active_keys_both_work_and_revoking_takes_effect_at_once(pd: Hooked, world: World) -> None:
    second = services.create_integration_key(integration=pd.integration, actor=world.alice, source="test")
    assert post("/v2/enqueue", pd_trigger(pd.key, "a")).status_code == 202
    assert post("/v2/enqueue", pd_trigger(second.secret, "b")).status_code == 202

    first = IntegrationKey.objects.get(digest=tokens.digest(pd.key))
    services.revoke_integration_key(key=first, actor=world.alice, source="test")
    assert post("/v2/enqueue", pd_trigger(pd.key, "c")).status_code == 404
    assert post("/v2/enqueue", pd_trigger(second.secret, "d")).status_code == 202
    assert list(IntakeEvent.objects.order_by("id").values_list("dedup_key", flat=True)) == ["a", "b", "d"]
    with pytest.raises(Conflict):
        services.revoke_integration_key(key=first, actor=world.alice, source="test")


def test_last_used_is_touched_at_most_once_a_minute(pd: Hooked) -> None:
    with clock.frozen(T0):
        assert services.authenticate_key(pd.key) is not None
        assert IntegrationKey.objects.get().last_used_at == T0
        clock.advance(timedelta(seconds=30))
        services.authenticate_key(pd.key)
        assert IntegrationKey.objects.get().last_used_at == T0
        clock.advance(timedelta(seconds=31))
        services.authenticate_key(pd.key)
        assert IntegrationKey.objects.get().last_used_at == T0 + timedelta(seconds=61)


@pytest.mark.parametrize("secret", ["", "wr_ik_", "wr_at_" + "x" * 43, "wr_ik_" + "x" * 200, None, 5])
def test_authenticate_refuses_anything_else(pd: Hooked, secret: object) -> None:
    assert services.authenticate_key(secret) is None  # type: ignore[arg-type]


def test_only_the_services_team_admins_manage_integrations(world: World, pd: Hooked) -> None:
    with pytest.raises(PermissionDenied):
        services.create_integration(
            service=world.service_a, kind="webhook", name="x", actor=world.charlie, source="test"
        )
    with pytest.raises(PermissionDenied):
        services.create_integration_key(integration=pd.integration, actor=world.bob, source="test")
    key = IntegrationKey.objects.get()
    with pytest.raises(PermissionDenied):
        services.revoke_integration_key(key=key, actor=world.charlie, source="test")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"kind": "nagios"}, "kind"),
        ({"signing_secret": "s" * 257}, "signing_secret"),
        ({"name": " "}, "name"),
        ({"grouping": "labels"}, "grouping"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"severity_map": {"fatal": [1, 1]}}, "severity_map"),
        ({"severity_map": {"info": [1, 4]}}, "severity_map"),
        ({"auto_resolve_incident": "yes"}, "auto_resolve_incident"),
    ],
)
def test_create_integration_validates(world: World, options: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"kind": "webhook", "name": "x", **options}
    with pytest.raises(ValidationFailed) as info:
        services.create_integration(service=world.service_a, actor=world.alice, source="test", **args)  # type: ignore[arg-type]
    assert info.value.field == field
