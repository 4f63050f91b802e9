"""Acknowledge and resolve from where the page lands: an SMS reply through Twilio's inbound webhook (its
signature checked) and the Slack page's buttons (Slack's signing secret checked), against the fake Twilio API
and a real HTTP receiver standing in for Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import World
from tests.notify.conftest import verified
from tests.notify.receivers import TWILIO_SID, TWILIO_TOKEN, FakeTwilio, Receiver, as_json, running
from tests.paging.conftest import T0, declare, make_policy, user_steps
from warroom.config import Slack
from warroom.incidents.models import Incident, TimelineEntry
from warroom.incidents.states import State
from warroom.integrations import registry
from warroom.integrations.base import Message as ChannelMessage
from warroom.integrations.slack import inbound as slack_inbound
from warroom.integrations.twilio import inbound as twilio_inbound
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.notify import sender
from warroom.notify.models import Category, Message
from warroom.paging import replies
from warroom.paging import services as paging
from warroom.paging.models import EscalationStatus, IncidentEscalation

BOB_PHONE = "+14155550101"
CHARLIE_PHONE = "+14155550199"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SMS_HOOK = "/hooks/twilio/sms/"
SLACK_HOOK = "/hooks/slack/interactions/"


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with clock.frozen(T0):
        yield T0


def _deliver() -> None:
    paging.run(clock.now())
    sender.run(clock.now())


def _text_reply(
    client: Client, frm: str, body: str, *, token: str = TWILIO_TOKEN, sid: str = TWILIO_SID
) -> Any:
    params = {
        "AccountSid": sid,
        "From": frm,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": "SM" + "1" * 32,
    }
    url = str(django_settings.WARROOM_BASE_URL).rstrip("/") + SMS_HOOK
    signature = twilio_inbound.signature(token, url, params.items())
    return client.post(
        SMS_HOOK,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def _page_bob_by(world: World, kind: str) -> Incident:
    """bob, reachable only by ``kind`` at BOB_PHONE, paged for a high-urgency incident on Checkout."""
    verified(world.bob, kind, BOB_PHONE)
    Message.objects.filter(category=Category.VERIFICATION).delete()
    make_policy(world, user_steps([world.bob]))
    incident = declare(world)
    _deliver()
    return incident


@pytest.fixture
def sms_page(world: World, twilio: FakeTwilio, frozen_now: datetime) -> Incident:
    """bob, reachable by SMS only, paged for a high-urgency incident on Checkout."""
    verified(world.charlie, "sms", CHARLIE_PHONE)
    return _page_bob_by(world, "sms")


def test_the_sms_page_says_how_to_reply_and_the_reply_acknowledges(
    world: World, twilio: FakeTwilio, sms_page: Incident
) -> None:
    n = sms_page.number
    assert [m["To"] for m in twilio.sent] == [BOB_PHONE]
    assert f"Reply {n}a to acknowledge, {n}r to resolve." in twilio.sent[0]["Body"]

    answer = _text_reply(Client(), BOB_PHONE, f"{n}A")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/xml")
    assert f"<Message>Acknowledged {sms_page.ref} Checkout returns 500.</Message>" in answer.content.decode()
    sms_page.refresh_from_db()
    assert sms_page.state == State.IN_PROGRESS
    assert IncidentEscalation.objects.get(incident=sms_page).status == EscalationStatus.ACKNOWLEDGED

    again = _text_reply(Client(), BOB_PHONE, f"ack {n}")
    assert (
        f"{sms_page.ref} Checkout returns 500 was acknowledged already by Bob Responder at 2026-03-02 09:00 UTC."
        in again.content.decode()
    )


def test_a_bare_a_acknowledges_the_latest_page_and_r_resolves(world: World, sms_page: Incident) -> None:
    answer = _text_reply(Client(), BOB_PHONE, " a ")
    assert f"Acknowledged {sms_page.ref}" in answer.content.decode()

    answer = _text_reply(Client(), BOB_PHONE, f"resolve #{sms_page.number}")
    assert f"Resolved {sms_page.ref} Checkout returns 500." in answer.content.decode()
    sms_page.refresh_from_db()
    assert sms_page.state == State.RESOLVED
    assert TimelineEntry.objects.filter(
        incident=sms_page, message__contains="Resolved from an SMS reply"
    ).exists()


def test_nonsense_gets_the_usage_and_changes_nothing(world: World, sms_page: Incident) -> None:
    answer = _text_reply(Client(), BOB_PHONE, "on my way")
    assert "Reply &lt;number&gt;a to acknowledge" in answer.content.decode()
    sms_page.refresh_from_db()
    assert sms_page.state == State.NEW


def test_forged_and_foreign_replies_change_nothing(world: World, sms_page: Incident) -> None:
    client = Client()
    forged = _text_reply(client, BOB_PHONE, f"{sms_page.number}a", token="not-the-auth-token")
    assert forged.status_code == 403
    assert "X-Twilio-Signature does not match" in forged.json()["detail"]

    other_account = _text_reply(client, BOB_PHONE, f"{sms_page.number}a", sid="AC" + "f" * 32)
    assert other_account.status_code == 403

    stranger = _text_reply(client, "+14155550000", f"{sms_page.number}a")
    assert stranger.status_code == 200
    assert "<Message>" not in stranger.content.decode()

    # charlie (team B) was not paged for it and may not see it: it is unknown to him, not named
    charlie = _text_reply(client, CHARLIE_PHONE, f"{sms_page.number}a")
    assert f"<Message>no incident {sms_page.number}</Message>" in charlie.content.decode()
    assert sms_page.title not in charlie.content.decode()

    sms_page.refresh_from_db()
    assert sms_page.state == State.NEW


@pytest.fixture
def voice_page(world: World, twilio: FakeTwilio, frozen_now: datetime) -> Incident:
    """bob, reachable by voice call only, paged for a high-urgency incident on Checkout."""
    return _page_bob_by(world, "voice")


def _press(client: Client, action: str, digits: str, *, token: str = TWILIO_TOKEN) -> Any:
    """What Twilio posts to a ``<Gather>``'s action once the callee pressed ``digits``, signed as Twilio does."""
    params = {
        "AccountSid": TWILIO_SID,
        "CallSid": "CA" + "1" * 32,
        "From": "+15005550006",
        "To": BOB_PHONE,
        "Digits": digits,
    }
    path = urlsplit(action).path
    url = str(django_settings.WARROOM_BASE_URL).rstrip("/") + path
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_inbound.signature(token, url, params.items())},
    )


def test_a_voice_page_asks_for_a_key_and_4_acknowledges(
    world: World, twilio: FakeTwilio, voice_page: Incident
) -> None:
    [call] = twilio.sent
    assert call["To"] == BOB_PHONE
    gather = ElementTree.fromstring(call["Twiml"]).find("Gather")
    assert gather is not None and gather.get("numDigits") == "1" and gather.get("method") == "POST"
    assert "You are paged by step 1 of Primary, which names you. Press 4 to acknowledge." in "".join(
        gather.itertext()
    )
    action = gather.get("action") or ""
    assert action.startswith(str(django_settings.WARROOM_BASE_URL).rstrip("/") + "/ack/")

    wrong_key = _press(Client(), action, "1")
    assert "Nothing was done." in wrong_key.content.decode()
    forged = _press(Client(), action, "4", token="not-the-auth-token")
    assert forged.status_code == 403
    voice_page.refresh_from_db()
    assert voice_page.state == State.NEW

    answer = _press(Client(), action, "4")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    said = "".join(ElementTree.fromstring(answer.content).itertext())
    assert (
        said == f"Acknowledged incident {voice_page.number}, Checkout returns 500. Paging stopped. Goodbye."
    )
    voice_page.refresh_from_db()
    assert voice_page.state == State.IN_PROGRESS
    assert IncidentEscalation.objects.get(incident=voice_page).status == EscalationStatus.ACKNOWLEDGED
    assert TimelineEntry.objects.filter(incident=voice_page, source="voice").exists()

    again = _press(Client(), action, "4")
    assert "This page was acknowledged already." in again.content.decode()


def test_a_voice_call_without_an_acknowledge_link_asks_for_nothing() -> None:
    voice = registry.get("voice")
    code = voice.render(ChannelMessage("Verify", "", category="verification", context={"code": "123456"}))
    test = voice.render(ChannelMessage("Test", "This is a test call", category="test"))
    for rendered in (code, test):
        assert "<Gather" not in rendered.payload["Twiml"]
    assert "1, 2, 3, 4, 5, 6" in code.payload["Twiml"]


def test_without_twilio_configured_the_hook_is_not_there(world: World, client: Client) -> None:
    answer = client.post(SMS_HOOK, data={"From": BOB_PHONE, "Body": "1a"})
    assert answer.status_code == 404
    assert "not configured" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("text", "action", "number"),
    [
        ("42a", "ack", 42),
        ("42 A", "ack", 42),
        ("ack 42", "ack", 42),
        ("INC0000042a", "ack", 42),
        ("a", "ack", None),
        ("Acknowledge", "ack", None),
        ("42r", "resolve", 42),
        ("resolve #42", "resolve", 42),
    ],
)
def test_reply_forms(text: str, action: str, number: int | None) -> None:
    assert replies.parse_command(text) == replies.Command(action, number)


@pytest.mark.parametrize("text", ["", "42", "stop", "42x", "a 42 now"])
def test_replies_that_are_not_commands(text: str) -> None:
    with pytest.raises(ValidationFailed, match="Reply <number>a to acknowledge"):
        replies.parse_command(text)


# -- Slack ------------------------------------------------------------------------------------------------------


@pytest.fixture
def slack(settings: Any, loopback_allowed: None) -> Iterator[Receiver]:
    """Slack's Web API (chat.postMessage answering ok) and the response_url, on one local receiver."""
    with running(
        Receiver(lambda request: as_json(200, {"ok": True, "channel": "D1", "ts": "1.2"}))
    ) as server:
        settings.WARROOM_SLACK = Slack(
            bot_token="xoxb-test-token", api_url=server.url("/api"), signing_secret=SLACK_SECRET
        )
        yield server


def _click(
    client: Client,
    *,
    user: str,
    action: str,
    value: str,
    response_url: str,
    secret: str = SLACK_SECRET,
    age: int = 0,
) -> Any:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "bob"},
        "actions": [{"action_id": action, "value": value, "type": "button"}],
        "response_url": response_url,
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(T0.timestamp()) - age)
    return client.post(
        SLACK_HOOK,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_inbound.signature(secret, timestamp, body),
        },
    )


@pytest.fixture
def slack_page(world: World, slack: Receiver, frozen_now: datetime) -> Incident:
    verified(world.bob, "slack", "U0BOB12345")
    Message.objects.filter(category=Category.VERIFICATION).delete()
    make_policy(world, user_steps([world.bob]))
    incident = declare(world)
    _deliver()
    return incident


def test_the_slack_page_has_buttons_and_acknowledge_works(
    world: World, slack: Receiver, slack_page: Incident
) -> None:
    posted = [r.json() for r in slack.requests if r.path == "/api/chat.postMessage"]
    assert len(posted) == 1
    buttons = [e for b in posted[0]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b.get("action_id"), b.get("value")) for b in buttons[:2]] == [
        ("warroom_ack", str(slack_page.number)),
        ("warroom_resolve", str(slack_page.number)),
    ]

    answer = _click(
        Client(),
        user="U0BOB12345",
        action="warroom_ack",
        value=str(slack_page.number),
        response_url=slack.url("/r"),
    )
    assert answer.status_code == 200
    slack_page.refresh_from_db()
    assert slack_page.state == State.IN_PROGRESS
    told = [r.json() for r in slack.requests if r.path == "/r"]
    assert told == [
        {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": f"Acknowledged {slack_page.ref} Checkout returns 500.",
        }
    ]


def test_slack_resolve_button(world: World, slack: Receiver, slack_page: Incident) -> None:
    _click(
        Client(), user="U0BOB12345", action="warroom_resolve", value=str(slack_page.number), response_url=""
    )
    slack_page.refresh_from_db()
    assert slack_page.state == State.RESOLVED


def test_forged_replayed_and_unknown_slack_clicks_change_nothing(
    world: World, slack: Receiver, slack_page: Incident
) -> None:
    client = Client()
    value = str(slack_page.number)
    forged = _click(
        client, user="U0BOB12345", action="warroom_ack", value=value, response_url="", secret="x" * 32
    )
    assert forged.status_code == 401
    assert forged.json()["detail"] == "X-Slack-Signature does not match"

    replayed = _click(client, user="U0BOB12345", action="warroom_ack", value=value, response_url="", age=600)
    assert replayed.status_code == 401
    assert "more than five minutes" in replayed.json()["detail"]

    stranger = _click(
        client, user="U0NOBODY99", action="warroom_ack", value=value, response_url=slack.url("/r")
    )
    assert stranger.status_code == 200
    assert [r.json()["text"] for r in slack.requests if r.path == "/r"] == [
        "this slack address belongs to nobody in Warroom"
    ]
    slack_page.refresh_from_db()
    assert slack_page.state == State.NEW


def test_without_a_signing_secret_slack_clicks_are_refused(world: World, client: Client) -> None:
    stamp = str(int(time.time()))
    answer = client.post(SLACK_HOOK, data={"payload": "{}"}, headers={"X-Slack-Request-Timestamp": stamp})
    assert answer.status_code == 404
    assert "WARROOM_SLACK_SIGNING_SECRET" in answer.json()["detail"]
