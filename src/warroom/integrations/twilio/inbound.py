"""Twilio's inbound webhooks: the request signature and the TwiML answer.

Twilio signs each request it makes with ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the account's
auth token, over the full URL it called followed by every POST parameter name and value, sorted by name. The
URL is the one configured at Twilio, so Warroom rebuilds it from ``WARROOM_BASE_URL`` and the request path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from xml.sax.saxutils import escape


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a POST of ``params`` to ``url``."""
    data = url + "".join(name + value for name, value in sorted(params, key=lambda pair: pair[0]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    """Constant-time check of the header ``given`` against the expected signature."""
    if not auth_token or not given:
        return False
    return hmac.compare_digest(signature(auth_token, url, params), given)


def twiml_message(text: str) -> str:
    """A TwiML document that answers an inbound SMS with ``text`` (nothing when empty)."""
    inner = f"<Message>{escape(text)}</Message>" if text else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'


def twiml_say(text: str) -> str:
    """A TwiML document that says ``text`` on a call and hangs up."""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{escape(text)}</Say><Hangup/></Response>'
