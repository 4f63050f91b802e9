"""A generic signed webhook: Warroom POSTs JSON to a URL the person chose. At least once.

Every request carries::

    Content-Type: application/json
    Warroom-Delivery-Id: <stable across retries of one message: drop a repeat you have already handled>
    Warroom-Timestamp: <unix seconds when this attempt was made>
    Warroom-Signature: v1=<hex HMAC-SHA256(signing secret, "<timestamp>.<raw body>")>

The receiver recomputes the signature over the raw body bytes, compares it in constant time, and refuses
timestamps more than 5 minutes away from its clock. The signing secret is generated when the contact method is
created (or given by its owner) and shown once. The body is the same bytes on every retry; only the timestamp
and signature change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from warroom.integrations.base import (
    Channel,
    Contact,
    Delivery,
    InvalidAddress,
    Message,
    Rendered,
    SendResult,
    Target,
    check_http_url,
    elide_url,
    http_error,
    permanent,
    short,
    status_error,
)
from warroom.lib import clock, http

SECRET_PREFIX = "whsec_"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Warroom-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookChannel(Channel):
    kind = "webhook"
    label = "Webhook"
    delivery = Delivery.AT_LEAST_ONCE
    address_help = (
        "An http(s) URL that receives signed JSON; optionally your own signing secret (16+ characters)."
    )

    def parse_address(self, address: str, *, token: str = "") -> Target:
        url = check_http_url(address, what="webhook")
        given = (token or "").strip()
        if given and (len(given) < 16 or len(given) > 200):
            raise InvalidAddress(
                "a signing secret is 16 to 200 characters; leave it out to have one generated"
            )
        signing_secret = given or SECRET_PREFIX + secrets.token_urlsafe(32)
        return Target(
            value="",
            display=elide_url(url),
            secret={"url": url, "signing_secret": signing_secret},
            reveal={} if given else {"signing_secret": signing_secret},
        )

    def render(self, message: Message) -> Rendered:
        document = {
            "type": f"warroom.{message.category}",
            "subject": message.subject,
            "body": message.body,
            "urgency": message.urgency,
            "url": message.url,
            "created_at": message.created_at.isoformat() if message.created_at else None,
            "bundle_count": message.bundle_count,
            "context": message.context,
        }
        return Rendered({"body": encode(document).decode()})

    def send(self, contact: Contact, rendered: Rendered, delivery_id: str) -> SendResult:
        secret = str(contact.secret.get("signing_secret") or "")
        if not secret:
            raise permanent("the webhook has no signing secret")
        body = rendered.payload["body"].encode()
        timestamp = int(clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "Warroom-Delivery-Id": delivery_id,
            "Warroom-Timestamp": str(timestamp),
            "Warroom-Signature": sign(secret, timestamp, body),
        }
        what = "webhook"
        try:
            response = http.post(str(contact.secret.get("url") or ""), content=body, headers=headers)
        except http.OutboundError as exc:
            raise http_error(exc, what=what) from None
        if not response.ok:
            raise status_error(response, what=what, detail=short(response.text, 200))
        return SendResult(detail=f"HTTP {response.status}")
