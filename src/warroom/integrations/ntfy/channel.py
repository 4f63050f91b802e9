"""ntfy push notifications (https://ntfy.sh or a self-hosted server). At least once.

Publishing is ``POST <server>/<topic>`` with the message as the body and the options as headers: ``Title``,
``Priority`` (1-5), ``Tags`` (comma-separated emoji short codes), ``Click`` (URL opened on tap) and ``Actions``
(``view, <label>, <url>``), plus ``Authorization: Bearer <access token>`` for protected topics. ntfy answers
200 with the message as JSON (``{"id": "...", "time": ..., "event": "message", ...}``) or an error
``{"code": 42901, "http": 429, "error": "..."}``. Header values must be ASCII: a title with other characters is
sent RFC 2047 encoded, which ntfy decodes.
"""

from __future__ import annotations

import re
from email.header import Header

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
    http_error,
    short,
    status_error,
)
from warroom.lib import http

_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
BODY_MAX = 4000  # bytes; ntfy turns longer messages into attachments


def header_value(text: str) -> str:
    """``text`` as an ASCII header value (RFC 2047 when it needs it)."""
    text = " ".join((text or "").split())
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def _cut_bytes(text: str, limit: int) -> str:
    data = text.encode()
    return text if len(data) <= limit else data[: limit - 3].decode(errors="ignore") + "…"


class NtfyChannel(Channel):
    kind = "ntfy"
    label = "ntfy push"
    delivery = Delivery.AT_LEAST_ONCE
    address_help = "The topic URL, such as https://ntfy.sh/my-secret-topic; optionally an access token."

    def parse_address(self, address: str, *, token: str = "") -> Target:
        url = check_http_url(address, what="ntfy topic").rstrip("/")
        server, _, topic = url.rpartition("/")
        if "://" not in server or not server.split("://", 1)[1] or not _TOPIC.match(topic) or "?" in url:
            raise InvalidAddress(
                "give the topic URL, such as https://ntfy.sh/my-topic (letters, digits, - and _)"
            )
        token = (token or "").strip()
        if token and (len(token) > 200 or not token.isascii() or " " in token):
            raise InvalidAddress("the ntfy access token looks wrong (tk_... without spaces)")
        secret = {"url": url, **({"token": token} if token else {})}
        shown = f"{server}/{topic[:2]}…" + (" (with token)" if token else "")
        return Target(value="", display=shown, secret=secret)

    def render(self, message: Message) -> Rendered:
        urgent = message.urgency == "high" and message.category == "notification"
        tags = {"notification": "rotating_light" if urgent else "warning", "verification": "key"}
        headers = {
            "Title": header_value(short(message.subject, 200)),
            "Priority": "5" if urgent else "3",
            "Tags": tags.get(message.category, "bell"),
        }
        actions = []
        ack_url = str(message.context.get("ack_url") or "")
        if ack_url and "," not in ack_url and ";" not in ack_url:  # one tap: the app POSTs the signed link
            actions.append(f"http, Acknowledge, {ack_url}, method=POST, clear=true")
        if message.url:
            headers["Click"] = message.url
            actions.append(f"view, Open in Warroom, {message.url}")
        if actions:
            headers["Actions"] = "; ".join(actions)
        body = message.body.strip() or message.subject
        if message.bundle_count > 1:
            body = f"{body}\n({message.bundle_count} notifications in one)"
        return Rendered({"headers": headers, "body": _cut_bytes(body, BODY_MAX)})

    def send(self, contact: Contact, rendered: Rendered, delivery_id: str) -> SendResult:
        what = "ntfy"
        headers = dict(rendered.payload["headers"])
        token = str(contact.secret.get("token") or "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = http.post(
                str(contact.secret.get("url") or ""),
                content=rendered.payload["body"].encode(),
                headers=headers,
            )
        except http.OutboundError as exc:
            raise http_error(exc, what=what) from None
        body = response.json()
        if not response.ok:
            detail = str(body.get("error") or "") if isinstance(body, dict) else short(response.text, 200)
            raise status_error(response, what=what, detail=detail)
        return SendResult(provider_id=str(body.get("id") or "") if isinstance(body, dict) else "")
