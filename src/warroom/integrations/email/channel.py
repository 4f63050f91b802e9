"""Email through Django's SMTP backend: the ``notifications`` mailer of ``MAILERS``, which settings define from
``WARROOM_SMTP_*`` (and only when ``WARROOM_SMTP_HOST`` is set). At least once.

The ``Message-ID`` is derived from the delivery id, so a message sent twice after a lease expired carries the
same id both times and mail clients show it once. ``X-Warroom-Delivery-Id`` carries the id too.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from email.message import EmailMessage as StdlibEmailMessage
from email.policy import Policy

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.urls import reverse

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
    permanent,
    short,
    transient,
)

MAILER = "notifications"
#: the category of messages to subscribers (``warroom.comms.outbox``): people who follow something, not users
SUBSCRIPTION = "stakeholder_update"


def _settings_url() -> str:
    """Where a person manages their contact methods and rules (the console's Notifications page)."""
    return str(settings.WARROOM_BASE_URL).rstrip("/") + reverse("notify-settings")


def message_id(delivery_id: str) -> str:
    return f"<{delivery_id}@{settings.WARROOM_EMAIL_DOMAIN}>"


def _smtp_error(exc: Exception) -> ChannelError:
    """4xx replies are transient, 5xx permanent; a broken connection may or may not have delivered."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        text = "; ".join(f"{rcpt}: {code} {msg!r}" for rcpt, (code, msg) in exc.recipients.items())
        if codes and all(400 <= code < 500 for code in codes):
            return transient(f"the mail server refused the recipient for now: {text}")
        return permanent(f"the mail server refused the recipient: {text}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return permanent(
            f"the mail server refused Warroom's credentials (WARROOM_SMTP_USER): {exc.smtp_code}"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"the mail server answered {exc.smtp_code} {exc.smtp_error!r}"
        return transient(text) if 400 <= exc.smtp_code < 500 else permanent(text)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return transient(f"the mail server hung up: {exc}", maybe_delivered=True)
    if isinstance(exc, ConnectionRefusedError | smtplib.SMTPConnectError):
        return transient(f"cannot connect to the mail server: {exc}")
    return transient(f"mail could not be sent: {type(exc).__name__}: {exc}", maybe_delivered=True)


class _Email(EmailMessage):
    """Header lines up to RFC 5322's 998 characters instead of 78: a long ``List-Unsubscribe`` URL must stay one
    plain line (folded at 78 it becomes an RFC 2047 encoded word, which mail clients do not read as a URL)."""

    def message(self, *, policy: Policy | None = None) -> StdlibEmailMessage:
        return super().message(policy=(policy or email.policy.default).clone(max_line_length=998))


class EmailChannel(Channel):
    kind = "email"
    label = "Email"
    delivery = Delivery.AT_LEAST_ONCE
    address_help = "An email address."

    def configured(self) -> bool:
        return MAILER in getattr(settings, "MAILERS", {})

    def not_configured_reason(self) -> str:
        return "email is not configured on this server (an administrator sets WARROOM_SMTP_HOST)"

    def parse_address(self, address: str, *, token: str = "") -> Target:
        value = (address or "").strip()
        local, _, domain = value.rpartition("@")
        value = f"{local}@{domain.lower()}" if local else value
        try:
            validate_email(value)
        except ValidationError:
            raise InvalidAddress(f"{short(value, 80)!r} is not an email address") from None
        return Target(value=value, display=value)

    def render(self, message: Message) -> Rendered:
        lines = [message.body.strip()] if message.body.strip() else []
        if message.url:
            lines.append(f"Open: {message.url}")
        ack_url = str(message.context.get("ack_url") or "")
        if ack_url:
            lines.append(f"Acknowledge: {ack_url}")
        if message.category == SUBSCRIPTION:
            lines.append("-- \nSent by Warroom because this address follows it.")
        else:
            lines.append(f"-- \nSent by Warroom. Manage your notifications: {_settings_url()}")
        headers = {"Auto-Submitted": "auto-generated"}
        # RFC 2369 / RFC 8058: a mail client's own "unsubscribe" button (status page subscribers)
        if message.context.get("list_unsubscribe"):
            headers["List-Unsubscribe"] = str(message.context["list_unsubscribe"])
            if message.context.get("list_unsubscribe_post"):
                headers["List-Unsubscribe-Post"] = str(message.context["list_unsubscribe_post"])
        if message.category == "notification" and message.urgency == "high":
            headers.update({"Importance": "high", "X-Priority": "1"})
        if message.bundle_count > 1:
            lines.insert(-1, f"(This message stands for {message.bundle_count} notifications.)")
        subject = short(" ".join(f"[Warroom] {message.subject}".split()), 200)
        return Rendered({"subject": subject, "text": "\n\n".join(lines) + "\n", "headers": headers})

    def send(self, contact: Contact, rendered: Rendered, delivery_id: str) -> SendResult:
        if not self.configured():
            raise permanent(self.not_configured_reason())
        payload = rendered.payload
        mid = message_id(delivery_id)
        email = _Email(
            subject=payload["subject"],
            body=payload["text"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[contact.value],
            headers={**payload.get("headers", {}), "Message-ID": mid, "X-Warroom-Delivery-Id": delivery_id},
        )
        try:
            email.send(using=MAILER)
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise _smtp_error(exc) from None
        return SendResult(provider_id=mid)
