"""Microsoft Teams through a Workflows ("When a Teams webhook request is received") webhook, posting an
Adaptive Card. At least once.

The request is ``POST <workflow URL>`` with ``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <AdaptiveCard 1.4>}]}``; the
workflow answers 202 Accepted (200 on some tenants). The URL carries its own signature (``sig=``), so it is
stored as a secret.
"""

from __future__ import annotations

from typing import Any

from warroom.integrations.base import (
    Channel,
    Contact,
    Delivery,
    Message,
    Rendered,
    SendResult,
    Target,
    check_http_url,
    elide_url,
    http_error,
    short,
    status_error,
)
from warroom.lib import http

CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def card(message: Message) -> dict[str, Any]:
    """The Adaptive Card for ``message``."""
    urgent = message.urgency == "high" and message.category == "notification"
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": short(message.subject, 200),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": "Attention" if urgent else "Default",
        }
    ]
    if message.body.strip():
        body.append({"type": "TextBlock", "text": short(message.body, 3000), "wrap": True})
    facts = [{"title": "Urgency", "value": message.urgency}]
    if message.bundle_count > 1:
        facts.append({"title": "Notifications", "value": str(message.bundle_count)})
    body.append({"type": "FactSet", "facts": facts})
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    actions = []
    ack_url = str(message.context.get("ack_url") or "")
    if ack_url:  # opens the link's confirmation page: a Workflows card cannot post back without a bot
        actions.append(
            {"type": "Action.OpenUrl", "title": "Acknowledge", "url": ack_url, "style": "positive"}
        )
    if message.url:
        actions.append({"type": "Action.OpenUrl", "title": "Open in Warroom", "url": message.url})
    if actions:
        content["actions"] = actions
    return content


class TeamsChannel(Channel):
    kind = "teams"
    label = "Microsoft Teams"
    delivery = Delivery.AT_LEAST_ONCE
    address_help = (
        "The URL of a Teams Workflows webhook (Post to a channel when a webhook request is received)."
    )

    def parse_address(self, address: str, *, token: str = "") -> Target:
        url = check_http_url(address, what="Teams workflow")
        return Target(value="", display=elide_url(url), secret={"url": url})

    def render(self, message: Message) -> Rendered:
        return Rendered(
            {
                "type": "message",
                "attachments": [{"contentType": CARD_TYPE, "contentUrl": None, "content": card(message)}],
            }
        )

    def send(self, contact: Contact, rendered: Rendered, delivery_id: str) -> SendResult:
        what = "Teams workflow"
        try:
            response = http.post(str(contact.secret.get("url") or ""), json=rendered.payload)
        except http.OutboundError as exc:
            raise http_error(exc, what=what) from None
        if not response.ok:
            raise status_error(response, what=what, detail=short(response.text, 200))
        run_id = response.headers.get("x-ms-workflow-run-id", "")
        return SendResult(provider_id=run_id, detail=f"HTTP {response.status}")
