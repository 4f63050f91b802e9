"""Random secrets that are shown once and stored as an HMAC.

A secret looks like ``<prefix>_<43 url-safe characters>`` (256 random bits). The database keeps only
``digest(secret)``, an HMAC-SHA256 keyed with a key derived from ``SECRET_KEY``, so a leaked database does not
leak usable tokens. Look-ups are by digest; the final comparison is constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets

from django.conf import settings


def _key() -> bytes:
    return hashlib.sha256(b"warroom-secret-digest:" + settings.SECRET_KEY.encode()).digest()


def generate(prefix: str) -> str:
    """Return a new random secret with a readable prefix such as ``wr_at``."""
    return f"{prefix}_{_secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """Return the hex HMAC-SHA256 of ``secret``."""
    return hmac.new(_key(), secret.encode(), hashlib.sha256).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Constant-time check of ``secret`` against a stored digest."""
    return hmac.compare_digest(digest(secret), stored_digest)
