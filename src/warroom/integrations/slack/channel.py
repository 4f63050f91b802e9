"""Slack: an incoming webhook URL (the usual case), or a channel id through the Web API's
``chat.postMessage`` when the server has a bot token (``WARROOM_SLACK_BOT_TOKEN``). At least once.

Incoming webhooks answer ``200 ok`` or a plain-text error (``400 invalid_payload``, ``403 action_prohibited``,
``404 channel_not_found``/``no_service``, ``410 channel_is_archived``, ``429`` with ``Retry-After``,
``500 rollup_error``). The Web API answers ``200 {"ok": true, "channel": ..., "ts": ...}`` or
``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from warroom.integrations.base import (
    Channel,
    ChannelError,
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
    retry_after,
    short,
    status_error,
    transient,
)
from warroom.lib import http

_CHANNEL_ID = re.compile(r"^[CDGU][A-Z0-9]{6,20}$")
_TRANSIENT_API_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
_DEAD_API_ERRORS = {"is_archived", "channel_not_found", "account_inactive"}
_DEAD_WEBHOOK_ERRORS = {"no_service", "channel_is_archived", "channel_not_found"}


def escape_mrkdwn(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _incident_buttons(message: Message) -> list[dict[str, Any]]:
    """Acknowledge and Resolve buttons on a page, when Slack's clicks can reach this server (a signing secret is
    set; ``warroom.paging.hooks.slack_interactions`` receives them). The value is the incident number."""
    number = message.context.get("incident_number")
    if message.category != "notification" or not number or not settings.WARROOM_SLACK.signing_secret:
        return []
    return [
        {
            "type": "button",
            "action_id": "warroom_ack",
            "text": {"type": "plain_text", "text": "Acknowledge"},
            "style": "primary",
            "value": str(number),
        },
        {
            "type": "button",
            "action_id": "warroom_resolve",
            "text": {"type": "plain_text", "text": "Resolve"},
            "value": str(number),
            "confirm": {
                "title": {"type": "plain_text", "text": "Resolve the incident?"},
                "text": {"type": "plain_text", "text": "It is marked solved (permanently)."},
                "confirm": {"type": "plain_text", "text": "Resolve"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        },
    ]


class SlackChannel(Channel):
    kind = "slack"
    label = "Slack"
    delivery = Delivery.AT_LEAST_ONCE
    address_help = (
        "An incoming webhook URL, or a channel id (C0123ABCD) when the server has a Slack bot token."
    )

    def parse_address(self, address: str, *, token: str = "") -> Target:
        value = (address or "").strip()
        if _CHANNEL_ID.match(value):
            if not settings.WARROOM_SLACK.bot_token:
                raise InvalidAddress(
                    "this server has no Slack bot token (WARROOM_SLACK_BOT_TOKEN): give an incoming webhook URL"
                )
            return Target(value=value, display=f"Slack channel {value}", config={"mode": "api"})
        url = check_http_url(value, what="Slack incoming webhook")
        return Target(
            value="", display=elide_url(url), config={"mode": "webhook"}, secret={"webhook_url": url}
        )

    def render(self, message: Message) -> Rendered:
        icon = (
            ":rotating_light:"
            if message.urgency == "high" and message.category == "notification"
            else ":bell:"
        )
        title = short(message.subject, 140)
        fallback = f"{icon} {title}" + (f" {message.url}" if message.url else "")
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} *{escape_mrkdwn(title)}*"}},
        ]
        if message.body.strip():
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": escape_mrkdwn(short(message.body, 2900))},
                }
            )
        buttons = _incident_buttons(message)
        if message.url:
            buttons.append(
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open in Warroom"},
                    "url": message.url,
                }
            )
        if buttons:
            blocks.append({"type": "actions", "elements": buttons})
        note = f"{message.category} · urgency {message.urgency}"
        if message.bundle_count > 1:
            note += f" · {message.bundle_count} notifications in one"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(note)}]})
        return Rendered({"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False})

    def send(self, contact: Contact, rendered: Rendered, delivery_id: str) -> SendResult:
        if contact.secret.get("webhook_url"):
            return self._send_webhook(str(contact.secret["webhook_url"]), rendered)
        return self._send_api(contact.value, rendered)

    def _send_webhook(self, url: str, rendered: Rendered) -> SendResult:
        what = "Slack webhook"
        try:
            response = http.post(url, json=rendered.payload)
        except http.OutboundError as exc:
            raise http_error(exc, what=what) from None
        if response.ok:
            return SendResult(detail=short(response.text, 50))
        error = short(response.text.strip(), 200)
        if error in _DEAD_WEBHOOK_ERRORS:
            raise permanent(f"{what} answered {response.status}: {error}", disable_contact=True)
        raise status_error(response, what=what, detail=error)

    def _send_api(self, channel: str, rendered: Rendered) -> SendResult:
        cfg = settings.WARROOM_SLACK
        if not cfg.bot_token:
            raise permanent("Slack's Web API is not configured on this server (WARROOM_SLACK_BOT_TOKEN)")
        what = "Slack chat.postMessage"
        try:
            response = http.post(
                f"{cfg.api_url}/chat.postMessage",
                json={"channel": channel, **rendered.payload},
                headers={"Authorization": f"Bearer {cfg.bot_token}"},
            )
        except http.OutboundError as exc:
            raise http_error(exc, what=what) from None
        if not response.ok:
            raise status_error(response, what=what, detail=short(response.text, 200))
        body = response.json()
        if not isinstance(body, dict):
            raise transient(f"{what} answered something that is not JSON", maybe_delivered=True)
        if body.get("ok"):
            return SendResult(provider_id=f"{body.get('channel') or channel}/{body.get('ts') or ''}")
        raise self._api_error(str(body.get("error") or "unknown_error"), response, what=what)

    @staticmethod
    def _api_error(error: str, response: http.Response, *, what: str) -> ChannelError:
        text = f"{what}: {error}"
        if error in _TRANSIENT_API_ERRORS:
            return transient(text, retry_after=retry_after(response))
        return permanent(text, disable_contact=error in _DEAD_API_ERRORS)
