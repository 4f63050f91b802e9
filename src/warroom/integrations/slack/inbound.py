"""Slack's interactivity requests (button clicks): the signing-secret check.

Slack signs each request with ``X-Slack-Signature: v0=<hex HMAC-SHA256>`` keyed with the app's signing secret,
over ``v0:<X-Slack-Request-Timestamp>:<raw body>``. A timestamp more than five minutes from now is refused, so a
captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

MAX_SKEW_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` Slack sends for ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def check(secret: str, timestamp: str, body: bytes, given: str, now: datetime) -> str:
    """ "" when the request is genuine and fresh, else why not."""
    if not secret:
        return "Slack interactivity is not configured on this server (WARROOM_SLACK_SIGNING_SECRET)"
    try:
        sent = int(timestamp)
    except ValueError:
        return "missing or malformed X-Slack-Request-Timestamp"
    if abs(now.timestamp() - sent) > MAX_SKEW_SECONDS:
        return "X-Slack-Request-Timestamp is more than five minutes away: refused as a possible replay"
    if not given or not hmac.compare_digest(signature(secret, timestamp, body), given):
        return "X-Slack-Signature does not match"
    return ""
