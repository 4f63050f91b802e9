"""Secrets at rest: values sealed with Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key
ring; :class:`SealedJSONField`, a ``JSONField`` whose value is stored sealed, and :class:`SealedTextField`.

The ring: the keys of ``WARROOM_ENCRYPTION_KEYS`` (Fernet keys, comma-separated; the first seals, every one
opens), then a key derived from ``SECRET_KEY`` and one from each of ``SECRET_KEY_FALLBACKS`` (they open what was
sealed before explicit keys were configured; with no explicit key the first of them seals). To change keys: put
the new one first, run ``warroom manage warroom_reseal`` (every sealed value sealed again with it), then drop
the old one. A value no key of the ring opens is an error naming the setting, never a silent empty secret.

What a sealed field holds in the database is ``{"sealed": "<Fernet token>"}``: a database dump or backup shows
no webhook URL, token or signing secret. Lookups into such a field cannot work (each sealing differs).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Value

SEALED = "sealed"
TEXT_PREFIX = "fernet:"


class SealError(Exception):
    """A sealed value that no key of the ring opens."""


@lru_cache(maxsize=8)
def derived_key(secret: str) -> bytes:
    """The Fernet key derived from a ``SECRET_KEY`` (HKDF-SHA256, a fixed salt and purpose)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"warroom.sealed", info=b"secrets at rest, v1")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def _keys() -> tuple[bytes, ...]:
    explicit = tuple(key.encode() for key in getattr(settings, "WARROOM_ENCRYPTION_KEYS", ()))
    secrets = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    return (*explicit, *(derived_key(str(secret)) for secret in secrets))


@lru_cache(maxsize=8)
def _ring_of(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def ring() -> MultiFernet:
    return _ring_of(_keys())


def seal(text: str) -> str:
    return ring().encrypt(text.encode()).decode("ascii")


def unseal(token: str) -> str:
    try:
        return ring().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        raise SealError(
            "a stored secret cannot be opened with the configured keys: was a key removed from "
            "WARROOM_ENCRYPTION_KEYS, or WARROOM_SECRET_KEY changed, before `warroom manage warroom_reseal`?"
        ) from None


class SealedJSONField(models.JSONField):
    """A ``JSONField`` stored as ``{"sealed": "<Fernet token of its JSON>"}`` (module docstring). A value
    stored before the field was sealed reads as it is (the migration that made the field sealed seals it)."""

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return super().get_db_prep_value(value, connection, prepared)
        token = seal(json.dumps(value, cls=self.encoder, sort_keys=True))
        return super().get_db_prep_value({SEALED: token}, connection, prepared)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        loaded = super().from_db_value(value, expression, connection)
        if isinstance(loaded, dict) and set(loaded) == {SEALED} and isinstance(loaded[SEALED], str):
            return json.loads(unseal(loaded[SEALED]), cls=self.decoder)
        return loaded


class SealedTextField(models.TextField):
    """A ``TextField`` stored as ``fernet:<token>``; the empty string stays empty (it means "none"), and a value
    stored before the field was sealed reads as it is."""

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if not isinstance(value, str) or not value:
            return value
        return TEXT_PREFIX + seal(value)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if isinstance(value, str) and value.startswith(TEXT_PREFIX):
            return unseal(value.removeprefix(TEXT_PREFIX))
        return value


def _rewrite(model: type[models.Model], name: str, stored: Callable[[Any], Any]) -> int:
    """Write field ``name`` of every row of ``model`` again as ``stored(its value)``; returns the rows written."""
    manager = model._default_manager
    written = 0
    for row in manager.only("pk", name).iterator(chunk_size=500):
        written += manager.filter(pk=row.pk).update(**{name: stored(getattr(row, name))})
    return written


def reseal(model: type[models.Model], name: str) -> int:
    """Store field ``name`` of every row of ``model`` sealed afresh with the key that seals now: what the
    migration that sealed a field does, and ``warroom_reseal`` after a key change. Returns the rows written."""
    return _rewrite(model, name, lambda value: value)


def unseal_stored(model: type[models.Model], name: str) -> int:
    """Store field ``name`` of every row of ``model`` in the clear again (going back past the migration that
    sealed it)."""
    sealed_field = model._meta.get_field(name)
    plain_field = models.JSONField() if isinstance(sealed_field, models.JSONField) else models.TextField()
    return _rewrite(model, name, lambda value: Value(value, output_field=plain_field))
