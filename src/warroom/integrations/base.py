"""The contract every outbound notification channel implements.

A channel turns a :class:`Message` into a provider payload (:meth:`Channel.render`, pure, deterministic: the
same message renders the same payload on every retry) and sends it to one :class:`Contact` with a stable
``delivery_id`` (:meth:`Channel.send`). The sender (``warroom.notify.sender``) calls ``send`` outside any
database transaction, after leasing the message.

Each channel declares its :class:`Delivery` policy, which decides what an expired lease (the sender died
between taking the message and recording the result) means:

* :attr:`Delivery.AT_MOST_ONCE` (SMS, voice): the message is marked failed with an unknown outcome and never
  sent again: nobody gets two phone calls. Escalation repeating until someone acknowledges is the guarantee.
* :attr:`Delivery.AT_LEAST_ONCE` (email, Slack, Teams, ntfy, webhook): it is sent again with the same
  delivery id, which receivers can use to drop the duplicate.

``send`` raises :class:`ChannelError` when it did not succeed. ``transient`` says whether trying again later may
work (a 429, a 5xx, a connection failure); ``maybe_delivered`` whether the provider may have acted on the
request anyway (a timeout after the request went out). At-most-once channels only retry errors where
``maybe_delivered`` is false.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from warroom.lib import http


class Delivery(enum.StrEnum):
    AT_MOST_ONCE = "at_most_once"
    AT_LEAST_ONCE = "at_least_once"


@dataclass(frozen=True)
class Message:
    """What to say. ``category`` is ``notification``, ``verification`` or ``test``; ``url`` opens the thing the
    message is about; ``context`` carries what the caller passed (documented in docs/notifications.md)."""

    subject: str
    body: str
    urgency: str = "high"
    category: str = "notification"
    url: str = ""
    created_at: datetime | None = None
    bundle_count: int = 1
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Contact:
    """Where to send. ``value`` is the plain address (email, phone number, Slack channel id); ``config`` holds
    non-secret options; ``secret`` holds credentials and secret URLs, never shown after they are saved."""

    kind: str
    value: str
    config: dict[str, Any] = field(default_factory=dict)
    secret: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A parsed, normalised address as a contact method stores it. ``display`` is safe to show (secret parts
    elided)."""

    value: str
    display: str
    config: dict[str, Any] = field(default_factory=dict)
    secret: dict[str, Any] = field(default_factory=dict)
    #: shown once to the owner after creation (e.g. a webhook's generated signing secret)
    reveal: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """The provider payload, ready to send."""

    payload: dict[str, Any]


@dataclass(frozen=True)
class SendResult:
    provider_id: str = ""
    detail: str = ""


class ChannelError(Exception):
    """A send that did not succeed. See the module docstring for the flags."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        maybe_delivered: bool = False,
        retry_after: float | None = None,
        disable_contact: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.maybe_delivered = maybe_delivered
        self.retry_after = retry_after
        #: the address itself is dead (unsubscribed, archived channel, 410 Gone): stop using it
        self.disable_contact = disable_contact


def transient(message: str, **kwargs: Any) -> ChannelError:
    return ChannelError(message, transient=True, **kwargs)


def permanent(message: str, **kwargs: Any) -> ChannelError:
    return ChannelError(message, transient=False, **kwargs)


class InvalidAddress(ValueError):
    """An address a channel cannot use; the message says why (shown to the person typing it)."""


class Channel(ABC):
    """One kind of contact method. Subclasses set the class attributes and implement the three methods."""

    kind: str
    label: str
    delivery: Delivery
    #: what the address field holds, for forms and docs
    address_help: str = ""

    def configured(self) -> bool:
        """Whether the server has what this channel needs (provider credentials)."""
        return True

    def not_configured_reason(self) -> str:
        return f"{self.label} is not configured on this server"

    @abstractmethod
    def parse_address(self, address: str, *, token: str = "") -> Target:
        """Validate and normalise what a person typed; raise :class:`InvalidAddress`."""

    @abstractmethod
    def render(self, message: Message) -> Rendered:
        """The provider payload for ``message``. Pure and deterministic."""

    @abstractmethod
    def send(self, contact: Contact, rendered: Rendered, delivery_id: str) -> SendResult:
        """Deliver ``rendered`` to ``contact``; raise :class:`ChannelError` unless it was accepted."""


# ---------------------------------------------------------------------------------------------------------------
# helpers shared by the HTTP channels


def check_http_url(address: str, *, what: str) -> str:
    """A URL a person typed for an HTTP channel: http(s), no credentials, not a refused literal address."""
    value = (address or "").strip()
    if not value:
        raise InvalidAddress(f"give the {what} URL")
    try:
        http.check_url(value)
    except http.TargetRefused as exc:
        raise InvalidAddress(f"{what} URL refused: {exc}") from None
    return value


def elide_url(url: str) -> str:
    """``https://hooks.slack.com/…`` : scheme and host only, for display of secret URLs."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "…"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}/…"


def retry_after(response: http.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta form only), capped at an hour."""
    raw = response.headers.get("retry-after", "").strip()
    try:
        return min(max(float(raw), 0.0), 3600.0) if raw else None
    except ValueError:
        return None


def http_error(exc: http.OutboundError, *, what: str) -> ChannelError:
    """A transport failure of :mod:`warroom.lib.http` as a channel error."""
    if isinstance(exc, http.TargetRefused):
        return permanent(f"{what}: {exc}")
    return transient(f"{what}: {exc}", maybe_delivered=exc.maybe_delivered)


def status_error(response: http.Response, *, what: str, detail: str = "") -> ChannelError:
    """A non-2xx answer classified the usual way: 408, 425, 429 and 5xx are transient (the provider did not act
    on the request, except a 5xx that may have); 3xx (redirects are not followed) and other 4xx are permanent;
    410 Gone disables the contact method."""
    text = f"{what} answered {response.status}" + (f": {detail}" if detail else "")
    status = response.status
    if status in (408, 425, 429, 503):
        return transient(text, retry_after=retry_after(response))
    if status >= 500:
        return transient(text, maybe_delivered=True, retry_after=retry_after(response))
    if 300 <= status < 400:
        return permanent(text + " (redirects are not followed)")
    return permanent(text, disable_contact=status == 410)


def short(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    text = text or ""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
