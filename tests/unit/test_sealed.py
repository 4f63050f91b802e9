"""Secrets at rest: a contact method's webhook URL and signing secret are stored sealed (a database dump shows
neither), read back through the ORM, survive a key change with ``warroom_reseal``, and a value no key opens is
an error naming the setting. Bad keys in the environment stop start-up with a clear message."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import JSONField, Value

from tests.alerts.conftest import make_integration
from tests.conftest import World
from warroom import config
from warroom.alerts.models import Integration
from warroom.lib import sealed
from warroom.notify import services
from warroom.notify.models import ContactMethod

HOOK = "https://hooks.example.com/services/T000/B000/very-secret-path"


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _stored(method: ContactMethod) -> str:
    """The secret column as the database holds it (what a dump or a backup shows)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {ContactMethod._meta.db_table} WHERE id = %s", [method.pk])
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else str(value)


@pytest.fixture
def hook(world: World) -> ContactMethod:
    return services.create_contact_method(
        user=world.bob, kind="webhook", name="Pager hook", address=HOOK, actor=world.bob, source="api"
    ).method


@pytest.mark.django_db
def test_a_webhook_url_is_stored_sealed_and_read_back(hook: ContactMethod) -> None:
    raw = _stored(hook)
    assert "sealed" in raw and "hooks.example.com" not in raw and "very-secret-path" not in raw
    assert ContactMethod.objects.get(pk=hook.pk).secret["url"] == HOOK
    assert ContactMethod.objects.values_list("secret", flat=True).get(pk=hook.pk)["url"] == HOOK


@pytest.mark.django_db
def test_a_key_change_with_reseal(hook: ContactMethod, settings: Any) -> None:
    old, new = _key(), _key()
    settings.WARROOM_ENCRYPTION_KEYS = (old,)
    sealed.reseal(ContactMethod, "secret")  # now under the old explicit key
    settings.WARROOM_ENCRYPTION_KEYS = (new, old)  # the new key first, the old still opens
    assert ContactMethod.objects.get(pk=hook.pk).secret["url"] == HOOK
    out = io.StringIO()
    call_command("warroom_reseal", stdout=out)
    assert "notify.ContactMethod.secret: 1 sealed again" in out.getvalue()
    settings.WARROOM_ENCRYPTION_KEYS = (new,)  # the old key is gone
    assert ContactMethod.objects.get(pk=hook.pk).secret["url"] == HOOK

    settings.WARROOM_ENCRYPTION_KEYS = (old,)  # only a key that never sealed it
    with pytest.raises(sealed.SealError, match="WARROOM_ENCRYPTION_KEYS"):
        ContactMethod.objects.get(pk=hook.pk)


@pytest.mark.django_db
def test_the_migration_seals_what_was_stored_in_the_clear_and_going_back_opens_it(
    hook: ContactMethod,
) -> None:
    clear = Value({"url": HOOK}, output_field=JSONField())
    ContactMethod.objects.filter(pk=hook.pk).update(secret=clear)  # as before the field was sealed
    assert "very-secret-path" in _stored(hook)
    assert ContactMethod.objects.get(pk=hook.pk).secret == {"url": HOOK}  # still readable meanwhile

    assert sealed.reseal(ContactMethod, "secret") == 1
    assert "very-secret-path" not in _stored(hook)
    assert ContactMethod.objects.get(pk=hook.pk).secret == {"url": HOOK}

    assert sealed.unseal_stored(ContactMethod, "secret") == 1
    assert "very-secret-path" in _stored(hook)


@pytest.mark.parametrize(
    "keys", ["not-a-key", _key() + ",short", base64.urlsafe_b64encode(b"x" * 16).decode()]
)
def test_a_bad_key_stops_start_up_naming_the_setting(
    keys: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WARROOM_SECRET_KEY", "k" * 30 + "-0123456789abcdefghijklmnopqrstuvwxyz")
    monkeypatch.setenv("WARROOM_ENCRYPTION_KEYS", keys)
    with pytest.raises(config.ConfigError, match=r"WARROOM_ENCRYPTION_KEYS: key [12] is not a Fernet key"):
        config.load()


def test_good_keys_are_taken_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first, second = _key(), _key()
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WARROOM_SECRET_KEY", "k" * 30 + "-0123456789abcdefghijklmnopqrstuvwxyz")
    monkeypatch.setenv("WARROOM_ENCRYPTION_KEYS", f"{first}, {second}")
    assert config.load().encryption_keys == (first, second)


@pytest.mark.django_db
def test_an_integration_signing_secret_is_stored_sealed(world: World) -> None:
    signed = make_integration(world, "grafana", name="signed", signing_secret="grafana-hmac-secret")
    unsigned = make_integration(world, "webhook", name="unsigned")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, signing_secret FROM {Integration._meta.db_table} WHERE id IN (%s, %s)",
            [signed.integration.pk, unsigned.integration.pk],
        )
        stored = dict(cursor.fetchall())
    assert (
        stored[signed.integration.pk].startswith("fernet:")
        and "grafana-hmac" not in stored[signed.integration.pk]
    )
    assert stored[unsigned.integration.pk] == ""  # "not signed" stays readable as such
    assert Integration.objects.get(pk=signed.integration.pk).signing_secret == "grafana-hmac-secret"
