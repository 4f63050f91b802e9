"""Each channel against a real server on 127.0.0.1 that checks its wire format: Twilio (fake of its REST API),
Slack (incoming webhook and chat.postMessage), Teams (Workflows webhook with an Adaptive Card), ntfy, the
signed generic webhook, and email through a real SMTP server (aiosmtpd). No database: channels are pure I/O."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime
from email.header import decode_header, make_header
from typing import Any

import pytest

from tests.notify.receivers import FakeTwilio, Inbox, Receiver, as_json, text
from warroom.integrations import registry
from warroom.integrations.base import ChannelError, Contact, Delivery, InvalidAddress, Message
from warroom.integrations.webhook.channel import sign
from warroom.lib import clock

PAGE = Message(
    subject="INC0000042 Checkout returns 500",
    body="Checkout (tier 1) is failing: 43% of requests answer 500.",
    urgency="high",
    url="https://warroom.example.com/incidents/42/",
    created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    context={"url": "https://warroom.example.com/incidents/42/", "incident": "INC0000042"},
)


def send(kind: str, contact: Contact, message: Message = PAGE, delivery_id: str = "wrd_test1") -> Any:
    channel = registry.get(kind)
    return channel.send(contact, channel.render(message), delivery_id)


def failure(kind: str, contact: Contact, message: Message = PAGE) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        send(kind, contact, message)
    return caught.value


def test_every_channel_declares_its_delivery_policy() -> None:
    policies = {c.kind: c.delivery for c in registry.channels()}
    assert policies == {
        "email": Delivery.AT_LEAST_ONCE,
        "sms": Delivery.AT_MOST_ONCE,
        "voice": Delivery.AT_MOST_ONCE,
        "slack": Delivery.AT_LEAST_ONCE,
        "teams": Delivery.AT_LEAST_ONCE,
        "ntfy": Delivery.AT_LEAST_ONCE,
        "webhook": Delivery.AT_LEAST_ONCE,
    }


# -- Twilio ------------------------------------------------------------------------------------------------------


def test_sms_posts_twilio_messages_form_with_basic_auth(twilio: FakeTwilio) -> None:
    result = send("sms", Contact(kind="sms", value="+14155550100"))
    assert result.provider_id.startswith("SM") and result.detail == "queued"
    (request,) = twilio.requests
    assert request.path.endswith("/Messages.json")
    form = request.form()
    assert form["To"] == "+14155550100" and form["From"] == "+15005550006"
    assert (
        form["Body"] == "Warroom: INC0000042 Checkout returns 500 https://warroom.example.com/incidents/42/"
    )
    assert request.headers["authorization"].startswith("Basic ")


def test_voice_posts_twilio_calls_with_twiml(twilio: FakeTwilio) -> None:
    result = send("voice", Contact(kind="voice", value="+14155550100"))
    assert result.provider_id.startswith("CA")
    twiml = twilio.requests[0].form()["Twiml"]
    assert twiml.startswith("<Response><Say>This is Warroom. INC0000042 Checkout returns 500.")
    code = Message(subject="code", body="", category="verification", context={"code": "123456"})
    send("voice", Contact(kind="voice", value="+14155550100"), code)
    assert "1, 2, 3, 4, 5, 6" in twilio.requests[1].form()["Twiml"]


def test_twilio_errors_are_classified(twilio: FakeTwilio) -> None:
    sms = Contact(kind="sms", value="+14155550100")
    twilio.errors = [(400, 21211)]
    bad = failure("sms", sms)
    assert not bad.transient and "21211" in bad.message and not bad.disable_contact
    twilio.errors = [(400, 21610)]
    assert failure("sms", sms).disable_contact, "the person replied STOP"
    twilio.errors = [(429, 20429)]
    busy = failure("sms", sms)
    assert busy.transient and not busy.maybe_delivered
    twilio.errors = [(500, 20500)]
    broken = failure("sms", sms)
    assert broken.transient and broken.maybe_delivered, "a 500 may have sent it: at-most-once gives up"


def test_twilio_refuses_wrong_credentials(twilio: FakeTwilio, settings: Any) -> None:
    settings.WARROOM_TWILIO = settings.WARROOM_TWILIO.__class__(
        account_sid=settings.WARROOM_TWILIO.account_sid,
        auth_token="wrong",
        from_=settings.WARROOM_TWILIO.from_,
        base_url=settings.WARROOM_TWILIO.base_url,
    )
    error = failure("sms", Contact(kind="sms", value="+14155550100"))
    assert not error.transient and "20003" in error.message


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+1 (415) 555-0100", "+14155550100"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+33.1.23.45.67.89", "+33123456789"),
    ],
)
def test_phone_numbers_are_normalised(typed: str, stored: str) -> None:
    assert registry.get("sms").parse_address(typed).value == stored


@pytest.mark.parametrize("typed", ["415 555 0100", "+0123456789", "call me", "+1"])
def test_bad_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidAddress):
        registry.get("sms").parse_address(typed)


# -- Slack -------------------------------------------------------------------------------------------------------


def test_slack_incoming_webhook(receiver: Receiver) -> None:
    target = registry.get("slack").parse_address(receiver.url("/services/T000/B000/XXXX"))
    assert target.secret == {"webhook_url": receiver.url("/services/T000/B000/XXXX")}
    assert "XXXX" not in target.display
    send("slack", Contact(kind="slack", value="", secret=target.secret))
    body = receiver.requests[0].json()
    assert receiver.requests[0].headers["content-type"] == "application/json"
    assert body["text"].startswith(":rotating_light: INC0000042 Checkout returns 500")
    assert body["blocks"][0]["text"]["text"] == ":rotating_light: *INC0000042 Checkout returns 500*"
    assert body["blocks"][2]["elements"][0]["url"] == PAGE.url


def test_slack_webhook_errors(receiver: Receiver) -> None:
    contact = Contact(kind="slack", value="", secret={"webhook_url": receiver.url("/hook")})
    receiver.script = [text(410, "channel_is_archived")]
    archived = failure("slack", contact)
    assert not archived.transient and archived.disable_contact
    receiver.script = [text(429, "rate_limited", **{"Retry-After": "7"})]
    limited = failure("slack", contact)
    assert limited.transient and limited.retry_after == 7.0
    receiver.script = [text(400, "invalid_payload")]
    assert not failure("slack", contact).transient
    receiver.script = [text(500, "rollup_error")]
    assert failure("slack", contact).transient


def test_slack_web_api_chat_post_message(slack_api: Receiver) -> None:
    target = registry.get("slack").parse_address("C0123ABCD")
    slack_api.respond = lambda r: as_json(
        200, {"ok": True, "channel": "C0123ABCD", "ts": "1709370000.000100"}
    )
    result = send("slack", Contact(kind="slack", value=target.value, config=target.config))
    assert result.provider_id == "C0123ABCD/1709370000.000100"
    request = slack_api.requests[0]
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    assert request.json()["channel"] == "C0123ABCD" and "blocks" in request.json()
    slack_api.respond = lambda r: as_json(200, {"ok": False, "error": "channel_not_found"})
    gone = failure("slack", Contact(kind="slack", value="C0123ABCD"))
    assert not gone.transient and gone.disable_contact
    slack_api.respond = lambda r: as_json(200, {"ok": False, "error": "ratelimited"})
    assert failure("slack", Contact(kind="slack", value="C0123ABCD")).transient


def test_a_slack_channel_id_needs_a_bot_token(settings: Any) -> None:
    with pytest.raises(InvalidAddress, match="WARROOM_SLACK_BOT_TOKEN"):
        registry.get("slack").parse_address("C0123ABCD")


# -- Teams -------------------------------------------------------------------------------------------------------


def test_teams_workflow_gets_an_adaptive_card(receiver: Receiver) -> None:
    receiver.respond = lambda r: text(202, "", **{"x-ms-workflow-run-id": "08584693"})
    url = receiver.url("/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=secret")
    target = registry.get("teams").parse_address(url)
    assert "sig=" not in target.display
    result = send("teams", Contact(kind="teams", value="", secret=target.secret))
    assert result.provider_id == "08584693"
    request = receiver.requests[0]
    assert request.query["sig"] == ["secret"]
    body = request.json()
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == PAGE.subject and card["body"][0]["color"] == "Attention"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Warroom", "url": PAGE.url}]
    ack = "https://warroom.example.com/ack/eyJ0IjoiNDIifQ/"
    paged = dataclasses.replace(PAGE, context={**PAGE.context, "ack_url": ack})
    send("teams", Contact(kind="teams", value="", secret=target.secret), paged)
    card = receiver.requests[-1].json()["attachments"][0]["content"]
    assert [(a["title"], a["url"]) for a in card["actions"]] == [
        ("Acknowledge", ack),
        ("Open in Warroom", PAGE.url),
    ]
    receiver.respond = lambda r: text(404, "")
    assert not failure("teams", Contact(kind="teams", value="", secret=target.secret)).transient


# -- ntfy --------------------------------------------------------------------------------------------------------


def test_ntfy_publishes_with_headers_and_token(receiver: Receiver) -> None:
    receiver.respond = lambda r: as_json(200, {"id": "hwQ2YpKdmg", "time": 1709370000, "event": "message"})
    target = registry.get("ntfy").parse_address(receiver.url("/oncall-bob-7f3a"), token="tk_abcdef")
    assert "oncall-bob" not in target.display
    result = send("ntfy", Contact(kind="ntfy", value="", secret=target.secret))
    assert result.provider_id == "hwQ2YpKdmg"
    request = receiver.requests[0]
    assert request.method == "POST" and request.path == "/oncall-bob-7f3a"
    assert request.headers["title"] == PAGE.subject
    assert request.headers["priority"] == "5"
    assert request.headers["tags"] == "rotating_light"
    assert request.headers["click"] == PAGE.url
    assert request.headers["actions"] == f"view, Open in Warroom, {PAGE.url}"
    assert request.headers["authorization"] == "Bearer tk_abcdef"
    assert request.body.decode() == PAGE.body


def test_ntfy_non_ascii_title_is_rfc2047_encoded(receiver: Receiver) -> None:
    receiver.respond = lambda r: as_json(200, {"id": "x"})
    message = Message(subject="Paiement échoué — 🔥", body="Détails", urgency="low")
    send("ntfy", Contact(kind="ntfy", value="", secret={"url": receiver.url("/t")}), message)
    raw = receiver.requests[0].headers["title"]
    assert raw.startswith("=?utf-8?")
    assert str(make_header(decode_header(raw))) == "Paiement échoué — 🔥"
    assert (
        receiver.requests[0].headers["priority"] == "3"
        and "authorization" not in receiver.requests[0].headers
    )


def test_ntfy_errors(receiver: Receiver) -> None:
    contact = Contact(kind="ntfy", value="", secret={"url": receiver.url("/t")})
    receiver.script = [
        as_json(429, {"code": 42901, "http": 429, "error": "limit reached: too many requests"})
    ]
    limited = failure("ntfy", contact)
    assert limited.transient and "too many requests" in limited.message
    receiver.script = [as_json(403, {"code": 40301, "http": 403, "error": "forbidden"})]
    assert not failure("ntfy", contact).transient


@pytest.mark.parametrize(
    "typed", ["https://ntfy.sh/", "https://ntfy.sh/has space", "ntfy.sh/topic", "https://ntfy.sh/a?b=c"]
)
def test_ntfy_needs_a_topic_url(typed: str) -> None:
    with pytest.raises(InvalidAddress):
        registry.get("ntfy").parse_address(typed)


# -- webhook -----------------------------------------------------------------------------------------------------


def test_webhook_is_signed_over_timestamp_and_body(receiver: Receiver, frozen: datetime) -> None:
    target = registry.get("webhook").parse_address(receiver.url("/warroom"))
    secret = target.secret["signing_secret"]
    assert secret.startswith("whsec_") and target.reveal == {"signing_secret": secret}
    contact = Contact(kind="webhook", value="", secret=target.secret)
    send("webhook", contact, delivery_id="wrd_abc")
    clock.advance(__import__("datetime").timedelta(seconds=30))
    send("webhook", contact, delivery_id="wrd_abc")
    first, second = receiver.requests
    for request in (first, second):
        timestamp = request.headers["warroom-timestamp"]
        expected = hmac.new(
            secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
        ).hexdigest()
        assert request.headers["warroom-signature"] == f"v1={expected}"
        assert request.headers["warroom-delivery-id"] == "wrd_abc"
        assert request.headers["content-type"] == "application/json"
    assert first.body == second.body, "the body is the same bytes on every retry"
    assert int(second.headers["warroom-timestamp"]) - int(first.headers["warroom-timestamp"]) == 30
    document = first.json()
    assert document["type"] == "warroom.notification" and document["subject"] == PAGE.subject
    assert document["context"]["incident"] == "INC0000042"
    assert sign(secret, 1, b"x") != sign(secret, 2, b"x")


def test_webhook_status_codes(receiver: Receiver) -> None:
    contact = Contact(
        kind="webhook", value="", secret={"url": receiver.url("/w"), "signing_secret": "s" * 20}
    )
    receiver.script = [text(503, "busy")]
    assert failure("webhook", contact).transient
    receiver.script = [text(500, "oops")]
    error = failure("webhook", contact)
    assert error.transient and error.maybe_delivered
    receiver.script = [text(410, "gone")]
    gone = failure("webhook", contact)
    assert not gone.transient and gone.disable_contact
    receiver.script = [text(301, "", Location="https://elsewhere.example.com/")]
    moved = failure("webhook", contact)
    assert not moved.transient and "redirects are not followed" in moved.message
    assert len(receiver.requests) == 4


def test_http_channels_refuse_private_targets_without_the_admin_allowing_them(settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ()
    for kind in ("slack", "teams", "ntfy", "webhook"):
        with pytest.raises(InvalidAddress, match=r"private|loopback"):
            registry.get(kind).parse_address("http://10.0.0.5/hook/topic")
    contact = Contact(
        kind="webhook", value="", secret={"url": "http://127.0.0.1:9/w", "signing_secret": "s" * 20}
    )
    refused = failure("webhook", contact)
    assert not refused.transient and "loopback" in refused.message


# -- email -------------------------------------------------------------------------------------------------------


def test_email_through_a_real_smtp_server(smtp: Inbox) -> None:
    result = send("email", Contact(kind="email", value="bob@example.com"), delivery_id="wrd_mail1")
    assert result.provider_id == "<wrd_mail1@warroom.example.com>"
    ((envelope, mail),) = smtp.messages
    assert envelope.rcpt_tos == ["bob@example.com"]
    assert mail["Message-ID"] == "<wrd_mail1@warroom.example.com>"
    assert mail["X-Warroom-Delivery-Id"] == "wrd_mail1"
    assert mail["Subject"] == "[Warroom] INC0000042 Checkout returns 500"
    assert mail["Importance"] == "high" and mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_payload(decode=True).decode()
    assert PAGE.body in body and f"Open: {PAGE.url}" in body


def test_email_refused_recipient_is_permanent(settings: Any, smtp: Inbox) -> None:
    async def refuse(server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        return "550 5.1.1 No such user" if address.startswith("nobody") else "451 4.3.0 Try again later"

    smtp.handle_RCPT = refuse  # type: ignore[attr-defined]
    gone = failure("email", Contact(kind="email", value="nobody@example.com"))
    assert not gone.transient and "550" in gone.message
    later = failure("email", Contact(kind="email", value="busy@example.com"))
    assert later.transient


def test_email_without_a_server_is_not_configured(settings: Any) -> None:
    assert not registry.get("email").configured()
    error = failure("email", Contact(kind="email", value="bob@example.com"))
    assert not error.transient and "WARROOM_SMTP_HOST" in error.message
