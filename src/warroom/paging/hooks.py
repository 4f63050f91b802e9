"""Inbound webhooks that let a responder act on a page where it landed (no sign-in: the provider's signature
is the credential and the verified contact method names the person; commands in :mod:`warroom.paging.replies`).

* ``POST /hooks/twilio/sms/``: Twilio's "a message comes in" webhook. Answered with TwiML naming what was done.
* ``POST /hooks/slack/interactions/``: Slack's interactivity request URL (the Acknowledge and Resolve buttons
  of a Slack page). The result is posted back to the message's ``response_url``, visible only to the clicker.
* ``POST /ack/<token>/voice/``: where Twilio posts the key pressed during a voice page (``<Gather>``). The
  signed acknowledge link's token names the person and incident, as the link in an email does; Twilio's
  signature proves the call is ours. Answered with TwiML that is said to the person.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from warroom.integrations.slack import inbound as slack
from warroom.integrations.twilio import inbound as twilio
from warroom.integrations.twilio.channel import ACK_DIGIT, normalise_phone
from warroom.lib import clock, http
from warroom.lib.errors import Conflict, ServiceError
from warroom.paging import replies
from warroom.paging import services as paging

log = logging.getLogger(__name__)

#: Slack button action ids → reply verbs
SLACK_ACTIONS = {"warroom_ack": "ack", "warroom_resolve": "resolve"}


def _problem(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _twiml(text: str) -> HttpResponse:
    return HttpResponse(twilio.twiml_message(text), content_type="text/xml; charset=utf-8")


def _twilio_refusal(request: HttpRequest, what: str) -> JsonResponse | None:
    """Why a request claiming to come from Twilio is refused (not configured, a bad signature, another
    account), or None when it is Twilio's, for this server's account."""
    cfg = settings.WARROOM_TWILIO
    if not cfg.account_sid:
        return _problem(404, f"{what} are not configured on this server (WARROOM_TWILIO_*)")
    url = str(settings.WARROOM_BASE_URL).rstrip("/") + request.get_full_path()
    params = [(name, value) for name in request.POST for value in request.POST.getlist(name)]
    if not twilio.valid_signature(cfg.auth_token, url, params, request.headers.get("X-Twilio-Signature", "")):
        return _problem(403, f"X-Twilio-Signature does not match a request to {url}")
    if request.POST.get("AccountSid") != cfg.account_sid:
        return _problem(403, "AccountSid is not this server's Twilio account")
    return None


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    refused = _twilio_refusal(request, "SMS replies")
    if refused is not None:
        return refused
    try:
        sender = normalise_phone(request.POST.get("From", ""))
        user = replies.person_for_contact("sms", sender)
    except ServiceError as exc:
        # a stranger's text gets no answer: an SMS back would cost money and tell them the number is live
        log.info("SMS reply ignored: %s", getattr(exc, "message", exc))
        return _twiml("")
    return _twiml(replies.answer(user=user, text=request.POST.get("Body", ""), source="sms"))


def _slack_payload(request: HttpRequest) -> dict[str, Any] | None:
    try:
        payload = json.loads(request.POST.get("payload", ""))
    except json.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _post_back(response_url: str, text: str) -> None:
    """Tell the clicker what happened (ephemeral, the page message stays). Best effort: the action is done."""
    try:
        http.post(response_url, json={"response_type": "ephemeral", "replace_original": False, "text": text})
    except http.OutboundError as exc:
        log.warning("could not answer a Slack action at its response_url: %s", exc)


@csrf_exempt
@require_POST
def slack_interactions(request: HttpRequest) -> HttpResponse:
    body = request.body
    why = slack.check(
        settings.WARROOM_SLACK.signing_secret,
        request.headers.get("X-Slack-Request-Timestamp", ""),
        body,
        request.headers.get("X-Slack-Signature", ""),
        clock.now(),
    )
    if why:
        return _problem(404 if "not configured" in why else 401, why)
    payload = _slack_payload(request)
    if payload is None:
        return _problem(400, "the form field payload must be a JSON object")
    actions = [
        a for a in payload.get("actions") or [] if isinstance(a, dict) and a.get("action_id") in SLACK_ACTIONS
    ]
    if payload.get("type") != "block_actions" or not actions:
        return HttpResponse(status=200)  # other interactions are not Warroom's; Slack only needs the 200
    action = actions[0]
    slack_user = str((payload.get("user") or {}).get("id") or "")
    try:
        user = replies.person_for_contact("slack", slack_user)
        number = int(str(action.get("value") or ""))
        text = replies.run_command(
            user=user,
            command=replies.Command(SLACK_ACTIONS[str(action["action_id"])], number),
            source="slack",
        )
    except ValueError:
        text = "this button does not name an incident"
    except ServiceError as exc:
        text = exc.message
    response_url = str(payload.get("response_url") or "")
    if response_url:  # the action committed above (each service runs in its own transaction)
        _post_back(response_url, text)
    return HttpResponse(status=200)


def _say(text: str) -> HttpResponse:
    return HttpResponse(twilio.twiml_say(text), content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def twilio_voice_ack(request: HttpRequest, token: str) -> HttpResponse:
    refused = _twilio_refusal(request, "Voice acknowledgements")
    if refused is not None:
        return refused
    if request.POST.get("Digits", "") != ACK_DIGIT:
        return _say("Nothing was done. Goodbye.")
    try:
        incident = paging.acknowledge_by_link(token=token, source="voice")
    except Conflict:
        return _say("This page was acknowledged already. Goodbye.")
    except ServiceError as exc:
        log.info("voice acknowledgement refused: %s", getattr(exc, "message", exc))
        return _say("Warroom could not acknowledge this page. Please use the console. Goodbye.")
    spoken = " ".join(incident.title.split())
    return _say(f"Acknowledged incident {incident.number}, {spoken}. Paging stopped. Goodbye.")
