"""SMS and voice calls through Twilio's REST API (``WARROOM_TWILIO_*``), both at most once.

Requests: ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` (form fields ``To``, ``From`` or
``MessagingServiceSid``, ``Body``) and ``.../Calls.json`` (``To``, ``From``, ``Twiml``), HTTP basic auth with
the account SID and auth token. Twilio answers 201 with the resource as JSON (``sid``, ``status``), or an error
``{"code": 21211, "message": "...", "more_info": "...", "status": 400}``.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

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
    http_error,
    permanent,
    short,
    status_error,
    transient,
)
from warroom.lib import http

API_VERSION = "2010-04-01"
SMS_MAX = 320  # two segments
#: the key a paged person presses during a voice call to acknowledge (PagerDuty uses 4 too)
ACK_DIGIT = "4"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
#: errors about the number itself: no point trying it again
_BAD_NUMBER = {21211, 21214, 21217, 21401, 21407, 21408, 21612, 21614, 13223, 13224, 13225, 13226}
#: the person opted out (replied STOP): stop using the number
_OPTED_OUT = {21610}


def normalise_phone(address: str) -> str:
    """``+1 (415) 555-0100`` → ``+14155550100``; raises :class:`InvalidAddress`."""
    value = re.sub(r"[\s().-]", "", address or "")
    if value.startswith("00"):
        value = "+" + value[2:]
    if not _E164.match(value):
        raise InvalidAddress(
            f"{short(address, 40)!r} is not a phone number in international form such as +14155550100"
        )
    return value


def _elide(number: str) -> str:
    return number[:-4] + "••••" if len(number) > 6 else number


def _twilio_error(response: http.Response, *, what: str) -> ChannelError:
    body = response.json()
    if not isinstance(body, dict):
        return status_error(response, what=what, detail=short(response.text, 200))
    code = body.get("code")
    detail = f"error {code}: {short(str(body.get('message') or ''), 300)}"
    if code in _OPTED_OUT:
        return permanent(f"{what}: {detail}", disable_contact=True)
    if code in _BAD_NUMBER:
        return permanent(f"{what}: {detail}")
    return status_error(response, what=what, detail=detail)


class _TwilioChannel(Channel):
    delivery = Delivery.AT_MOST_ONCE
    resource = ""
    address_help = "A phone number in international form, such as +14155550100."

    def configured(self) -> bool:
        return bool(settings.WARROOM_TWILIO.account_sid)

    def not_configured_reason(self) -> str:
        return f"{self.label} is not configured on this server (an administrator sets WARROOM_TWILIO_*)"

    def parse_address(self, address: str, *, token: str = "") -> Target:
        number = normalise_phone(address)
        return Target(value=number, display=_elide(number))

    def _sender(self) -> dict[str, str]:
        sender = settings.WARROOM_TWILIO.from_
        return {"MessagingServiceSid": sender} if sender.startswith("MG") else {"From": sender}

    def send(self, contact: Contact, rendered: Rendered, delivery_id: str) -> SendResult:
        if not self.configured():
            raise permanent(self.not_configured_reason())
        cfg = settings.WARROOM_TWILIO
        url = f"{cfg.base_url}/{API_VERSION}/Accounts/{cfg.account_sid}/{self.resource}.json"
        form: dict[str, Any] = {"To": contact.value, **self._sender(), **rendered.payload}
        what = f"Twilio ({self.resource})"
        try:
            response = http.post(url, data=form, auth=(cfg.account_sid, cfg.auth_token))
        except http.OutboundError as exc:
            raise http_error(exc, what=what) from None
        if not response.ok:
            raise _twilio_error(response, what=what)
        body = response.json()
        sid = str(body.get("sid") or "") if isinstance(body, dict) else ""
        if not sid:
            raise transient(f"{what} answered {response.status} without a sid", maybe_delivered=True)
        return SendResult(provider_id=sid, detail=str(body.get("status") or ""))


class SmsChannel(_TwilioChannel):
    kind = "sms"
    label = "SMS"
    resource = "Messages"

    def render(self, message: Message) -> Rendered:
        parts = [f"Warroom: {message.subject}"]
        if message.category != "notification" and message.body:
            parts = [message.body]
        if message.url:
            parts.append(message.url)
        hint = str(message.context.get("reply_hint") or "")
        if hint:
            parts.append(hint)
        return Rendered({"Body": short(" ".join(" ".join(parts).split()), SMS_MAX)})


def _spoken(code: str) -> str:
    return ", ".join(code)


class VoiceChannel(_TwilioChannel):
    kind = "voice"
    label = "Voice call"
    resource = "Calls"

    def configured(self) -> bool:
        return super().configured() and not settings.WARROOM_TWILIO.from_.startswith("MG")

    def not_configured_reason(self) -> str:
        return "voice calls are not configured on this server (WARROOM_TWILIO_FROM must be a phone number)"

    def render(self, message: Message) -> Rendered:
        """The message said twice. A page (its context has the acknowledge link) asks for a key: pressing
        :data:`ACK_DIGIT` has Twilio post it to the link's ``voice/`` address, which acknowledges the page."""
        code = str(message.context.get("code") or "")
        if code:
            said = f"Your Warroom verification code is {_spoken(code)}. Again: {_spoken(code)}."
        else:
            said = f"This is Warroom. {message.subject}. {short(message.body, 500)}"
        said = escape(short(" ".join(said.split()), 1500))
        ack_url = "" if code else str(message.context.get("ack_url") or "")
        if ack_url:
            said += f" Press {ACK_DIGIT} to acknowledge."
        twice = f'<Say>{said}</Say><Pause length="1"/><Say>{said}</Say>'
        if ack_url:
            action = escape(ack_url.rstrip("/") + "/voice/", {'"': "&quot;"})
            twice = (
                f'<Gather input="dtmf" numDigits="1" timeout="10" action="{action}" method="POST">{twice}</Gather>'
                "<Say>No key was pressed. Goodbye.</Say>"
            )
        return Rendered({"Twiml": f"<Response>{twice}</Response>"})
