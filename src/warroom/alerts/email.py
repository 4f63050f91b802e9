"""Email intake: ``warroom smtpd`` receives mail for ``<address>@<WARROOM_EMAIL_DOMAIN>`` and turns each message
into an :class:`IntakeEvent` of the email integration with that address, which the ``alerts.process`` engine
module deduplicates and groups like any other event (``docs/integrations/email.md``).

The address's local part is the integration's ``email_address``, compared case-insensitively; ``local+tag@``
reaches the same integration as ``local@`` (the tag is kept in the event's details). From a message:

* summary: the decoded ``Subject`` with whitespace collapsed and a leading severity tag removed, at most
  ``SUMMARY_MAX`` characters (``(no subject)`` when there is none);
* severity: the ``X-Warroom-Severity`` header, else a leading subject tag ``[critical]``, ``[error]``,
  ``[warning]`` or ``[info]`` (any case), else ``warning``;
* action: ``resolve`` when the integration's ``email_resolve_pattern`` matches the summary, else ``trigger``;
* dedup key, the first that applies: the first group (or the whole match) of ``email_dedup_pattern``; for a
  resolving mail, the first group of ``email_resolve_pattern`` if it has one that matched, else the summary with
  the resolve match cut out; the summary. A summary used as a key is lower-cased; a key longer than
  ``DEDUP_KEY_MAX`` is kept as its SHA-256;
* details: the text body (``text/plain``, else the HTML part as text; at most ``BODY_MAX`` characters), From,
  Message-ID, Date, the envelope sender and the recipient; payload: the raw header fields and the first
  ``BODY_MAX`` characters of the raw body.

SMTP answers:

* RCPT: ``550 5.1.1`` for any address that is not an email integration's at the configured domain: one answer
  for a wrong domain and an unknown address, so nothing is revealed about which addresses exist; ``452 4.5.3``
  past ``MAX_RECIPIENTS`` recipients.
* Size: ``552`` over ``MAX_MESSAGE`` (aiosmtpd's ``data_size_limit``; at MAIL FROM when the client declares
  ``SIZE``, else after DATA). Nothing is written: the integration's event log never sees it.
* DATA: ``554 5.6.0`` with the reason for a message that cannot be read (kept as ``rejected`` in each recipient
  integration's event log, like HTTP intake does for a known key); ``451 4.3.0`` when the database fails (the
  sender retries); ``250`` only after the events have committed (durable acceptance).

Database work runs in a small thread pool of the handler (Django's ORM is synchronous), with stale connections
closed before and after each unit of work as Django does around a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import re
import signal
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from warroom.alerts.intake import PROCESS, wakes_engine
from warroom.alerts.models import (
    DEDUP_KEY_MAX,
    SUMMARY_MAX,
    Action,
    EventStatus,
    IntakeEvent,
    Integration,
    Kind,
    Severity,
)
from warroom.engine import wake
from warroom.lib import clock

log = logging.getLogger("warroom.alerts.email")

MAX_MESSAGE = 512 * 1024  # the same cap as HTTP intake
BODY_MAX = 16 * 1024
SOURCE_MAX = 255
HEADER_VALUE_MAX = 2000
HEADERS_MAX = 100
RAW_KEEP = 4096
MAX_RECIPIENTS = 20
DB_THREADS = 4
SHUTDOWN_GRACE = 10.0
NO_SUBJECT = "(no subject)"
SEVERITY_HEADER = "X-Warroom-Severity"

REFUSED = "550 5.1.1 Recipient address rejected: no such alert address"
TOO_MANY = "452 4.5.3 Too many recipients"
ACCEPTED = "250 2.0.0 OK: accepted"
TRY_LATER = "451 4.3.0 Temporary failure: please try again later"

_SEVERITY_TAG = re.compile(r"^\[(critical|error|warning|info)\]\s*", re.IGNORECASE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


class MalformedMessage(Exception):
    """The message cannot be read; ``reason`` is what the sender is told after ``554 5.6.0``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Mail:
    """What intake takes from one message, before it meets an integration's patterns."""

    summary: str
    severity: str
    body: str
    body_truncated: bool
    sender: str
    from_header: str
    message_id: str
    date: str
    headers: list[list[str]] = field(default_factory=list)
    raw_body: str = ""


# ---------------------------------------------------------------------------------------------------------------
# reading a message


def clean(text: str) -> str:
    """``text`` safe to store as JSON on SQLite and PostgreSQL: undecodable bytes (kept by the parser as
    surrogate escapes) become U+FFFD, NUL characters are dropped."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "")


def collapse(text: str) -> str:
    return " ".join(clean(text).split())


class _TextExtractor(HTMLParser):
    """HTML to readable text: the text of the document without head, script and style, a line break at each
    block element. (nh3 sanitises HTML but keeps it HTML; mail bodies want plain text with their lines.)"""

    BLOCKS = frozenset(
        (
            *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form"),
            *("h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre"),
            *("section", "table", "tr", "ul"),
        )
    )
    SKIP = frozenset(("head", "script", "style", "title", "template"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body, lines kept, runs of spaces and blank lines squeezed."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return tidy("".join(extractor.parts))


def tidy(text: str) -> str:
    lines = (
        _SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _text_body(message: EmailMessage) -> str:
    """The ``text/plain`` body, else the ``text/html`` body as text, else "" (also when the body is broken: a
    readable subject is worth an alert)."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        try:
            content = part.get_content()
        except LookupError:  # an unknown charset: read it as UTF-8
            raw = part.get_payload(decode=True)
            content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
        if not isinstance(content, str):
            return ""
        content = clean(content)
        return html_to_text(content) if part.get_content_type() == "text/html" else tidy(content)
    except Exception:
        log.warning("a mail body could not be read", exc_info=True)
        return ""


def _header(message: EmailMessage, name: str) -> str:
    """A header's decoded value, "" when it is missing or broken."""
    try:
        value = message.get(name)
        return "" if value is None else collapse(str(value))[:HEADER_VALUE_MAX]
    except Exception:
        return ""


def _sender(message: EmailMessage) -> str:
    """The first address of ``From:``, "" when there is none or it is broken."""
    try:
        for address in getattr(message.get("from"), "addresses", ()):
            if address.addr_spec and address.addr_spec != "<>":
                return clean(address.addr_spec)[:SOURCE_MAX]
    except Exception:
        return ""
    return ""


def _severity(message: EmailMessage, subject: str) -> tuple[str, str]:
    """(severity, subject without its severity tag)."""
    tag = _SEVERITY_TAG.match(subject)
    if tag is not None:
        subject = subject[tag.end() :]
    declared = _header(message, SEVERITY_HEADER).lower()
    if declared in Severity.values:
        return declared, subject
    if tag is not None:
        return tag.group(1).lower(), subject
    return Severity.WARNING, subject


def _raw_body(content: bytes) -> str:
    end = _HEADER_END.search(content)
    return clean(content[end.end() :].decode("utf-8", "replace"))[:BODY_MAX] if end else ""


def parse_message(content: bytes) -> Mail:
    """Read an RFC 5322 message; :class:`MalformedMessage` when it has no header section or cannot be read."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(content)
        if not isinstance(message, EmailMessage) or not message.keys():
            raise MalformedMessage("the message has no header fields: it is not an RFC 5322 message")
        severity, summary = _severity(message, collapse(str(message.get("subject") or "")))
        body = _text_body(message)
        headers = [
            [clean(name)[:200], clean(str(value))[:HEADER_VALUE_MAX]]
            for name, value in itertools.islice(message.raw_items(), HEADERS_MAX)
        ]
        return Mail(
            summary=summary[:SUMMARY_MAX] or NO_SUBJECT,
            severity=severity,
            body=body[:BODY_MAX],
            body_truncated=len(body) > BODY_MAX,
            sender=_sender(message),
            from_header=_header(message, "from"),
            message_id=_header(message, "message-id"),
            date=_header(message, "date"),
            headers=headers,
            raw_body=_raw_body(content),
        )
    except MalformedMessage:
        raise
    except Exception as exc:  # the stdlib parser raises assorted errors on broken syntax
        raise MalformedMessage(f"the message cannot be read: {type(exc).__name__}") from exc


# ---------------------------------------------------------------------------------------------------------------
# recipients and the integration's patterns


def local_part(address: str, domain: str) -> str | None:
    """The lower-cased local part of ``address`` without a ``+tag``, or None when the domain is not ``domain``."""
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or not local or host.rstrip(".").lower() != domain.lower():
        return None
    return local.partition("+")[0].lower() or None


def find_integration(address: str) -> Integration | None:
    """The email integration ``address`` reaches, or None."""
    local = local_part(address, settings.WARROOM_EMAIL_DOMAIN)
    if local is None:
        return None
    return (
        Integration.objects.select_related("service")
        .filter(kind=Kind.EMAIL, email_address__iexact=local)
        .order_by("id")
        .first()
    )


def _search(pattern: str, text: str) -> re.Match[str] | None:
    if not pattern:
        return None
    try:
        return re.search(pattern, text)
    except (re.error, OverflowError, ValueError, RecursionError):  # an old bad pattern must not stop intake
        log.warning("invalid email pattern %r ignored", pattern)
        return None


def _first_group(match: re.Match[str]) -> str:
    if match.re.groups and match.group(1) is not None:
        return match.group(1).strip()
    return match.group(0).strip()


def fit_key(value: str) -> str:
    if len(value) <= DEDUP_KEY_MAX:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def classify(summary: str, integration: Integration) -> tuple[str, str]:
    """(action, dedup key) of a mail with ``summary`` for ``integration`` (rules in the module docstring)."""
    resolving = _search(integration.email_resolve_pattern, summary)
    action = Action.RESOLVE if resolving is not None else Action.TRIGGER
    dedup = _search(integration.email_dedup_pattern, summary)
    if dedup is not None and _first_group(dedup):
        return action, fit_key(_first_group(dedup))
    if resolving is not None:
        if resolving.re.groups and resolving.group(1):
            return action, fit_key(resolving.group(1).strip())
        rest = " ".join((summary[: resolving.start()] + " " + summary[resolving.end() :]).split())
        return action, fit_key((rest or summary).lower())
    return action, fit_key(summary.lower())


def hide_local(local: str) -> str:
    """A local part with its end hidden: the address is the integration's only credential, so it is never
    written to the log or stored in full (``checkout-1a2b3c4d5e6f7a8b`` → ``checkout-1a2b…``). A ``+tag`` is
    not part of the credential and stays (``checkout-1a2b…+db1``); the end is hidden from the address itself."""
    address, plus, tag = local.partition("+")
    return f"{address[: max(0, len(address) - 12)]}…{plus}{tag}"


def redacted(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{hide_local(local)}@{domain}"


def hider(integration: Integration) -> Callable[[str], str]:
    """A function that hides ``integration``'s address wherever it occurs in a text (To:, Delivered-To:, ...)."""
    secret = integration.email_address or ""
    if not secret:
        return str
    pattern = re.compile(re.escape(secret), re.IGNORECASE)
    hidden = hide_local(secret)
    return lambda text: pattern.sub(hidden, text)


def build_event(
    mail: Mail, integration: Integration, *, recipient: str, mail_from: str, peer: str
) -> IntakeEvent:
    action, dedup_key = classify(mail.summary, integration)
    hide = hider(integration)
    tag = recipient.rpartition("@")[0].partition("+")[2]
    details: dict[str, Any] = {
        "body": hide(mail.body),
        "from": mail.from_header,
        "message_id": mail.message_id,
        "date": mail.date,
        "mail_from": mail_from,
    }
    if mail.body_truncated:
        details["body_truncated"] = True
    if tag:
        details["tag"] = tag
    return IntakeEvent(
        integration=integration,
        action=action,
        dedup_key=dedup_key,
        fields={
            "summary": mail.summary,
            "severity": mail.severity,
            "source": mail.sender or mail_from[:SOURCE_MAX] or "email",
            "details": details,
            "links": [],
        },
        payload={
            "envelope": {"mail_from": mail_from, "rcpt_to": hide(recipient), "peer": peer},
            "headers": [[name, hide(value)] for name, value in mail.headers],
            "body": hide(mail.raw_body),
        },
        status=EventStatus.PENDING,
    )


def rejected_event(
    integration: Integration, *, recipient: str, content: bytes, reason: str, mail_from: str, peer: str
) -> IntakeEvent:
    """The event-log row of a message refused with 554 (the first ``RAW_KEEP`` bytes kept)."""
    hide = hider(integration)
    return IntakeEvent(
        integration=integration,
        payload={
            "envelope": {"mail_from": mail_from, "rcpt_to": hide(recipient), "peer": peer},
            "raw": hide(clean(content[:RAW_KEEP].decode("utf-8", "replace"))),
        },
        status=EventStatus.REJECTED,
        reason=f"SMTP 554 5.6.0: {reason}",
    )


# ---------------------------------------------------------------------------------------------------------------
# delivery (synchronous: runs in the handler's threads)


def deliver(content: bytes, recipients: list[str], mail_from: str, peer: str) -> str:
    """Store one message for each integration it reaches, in one transaction; returns the SMTP answer (250
    only once the events have committed)."""
    mail_from = clean(mail_from)[:SOURCE_MAX]
    answer = ACCEPTED
    with transaction.atomic():
        found: dict[int, tuple[Integration, str]] = {}
        for recipient in recipients:
            integration = find_integration(recipient)
            if integration is not None:
                found.setdefault(integration.pk, (integration, clean(recipient)))
        if not found:  # every integration was deleted since RCPT
            return REFUSED
        try:
            mail = parse_message(content)
            events = [
                build_event(mail, integration, recipient=recipient, mail_from=mail_from, peer=peer)
                for integration, recipient in found.values()
            ]
        except MalformedMessage as exc:
            answer = f"554 5.6.0 {exc.reason}"
            events = [
                rejected_event(
                    integration,
                    recipient=recipient,
                    content=content,
                    reason=exc.reason,
                    mail_from=mail_from,
                    peer=peer,
                )
                for integration, recipient in found.values()
            ]
        now = clock.now()
        for event in events:
            event.received_at = now
        IntakeEvent.objects.bulk_create(events)
        if wakes_engine(IntakeEvent, events):
            wake.soon(PROCESS)
    log.info(
        "mail from %s to %s: %s",
        mail_from or "<>",
        ", ".join(redacted(recipient) for _, recipient in found.values()),
        answer if answer != ACCEPTED else ", ".join(f"{e.action} {e.dedup_key!r}" for e in events),
    )
    return answer


def _known(address: str) -> bool:
    return find_integration(address) is not None


# ---------------------------------------------------------------------------------------------------------------
# the aiosmtpd handler


class EmailHandler:
    """aiosmtpd handler: checks recipients at RCPT and stores messages at DATA. Call :meth:`close` when done."""

    def __init__(self, *, threads: int = DB_THREADS) -> None:
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smtpd-db")
        self._lock = threading.Lock()
        self._connections: set[BaseDatabaseWrapper] = set()

    def _in_thread[T](self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function`` in a pool thread, closing stale connections around it as Django does around a
        request; the thread's connections are remembered so that :meth:`close` can close them."""
        close_old_connections()
        try:
            return function(*args)
        finally:
            close_old_connections()
            with self._lock:
                self._connections.update(connections.all(initialized_only=True))

    async def _run[T](self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._in_thread, function, *args)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY
        try:
            known = await self._run(_known, address)
        except Exception:
            log.exception("recipient check failed")
            return TRY_LATER
        if not known:
            log.info("refused recipient %s from %r", redacted(clean(address)), session.peer)
            return REFUSED
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        peer = (
            session.peer[0] if isinstance(session.peer, tuple) and session.peer else str(session.peer or "")
        )
        try:
            return await self._run(deliver, content, list(envelope.rcpt_tos), envelope.mail_from or "", peer)
        except Exception:
            # Never a permanent failure for our own trouble: the sender keeps the mail and retries.
            log.exception("storing a mail failed")
            return TRY_LATER

    def close(self) -> None:
        """Wait for database work in progress, stop the threads and close their database connections (a
        connection belongs to the thread that opened it, so they would otherwise stay open)."""
        self.executor.shutdown(wait=True)
        with self._lock:
            used, self._connections = self._connections, set()
        for connection in used:
            connection.inc_thread_sharing()
            connection.close()


def smtp_options() -> dict[str, Any]:
    """The aiosmtpd ``SMTP`` options of Warroom's server, for ``SMTP(...)`` or an aiosmtpd ``Controller``
    (the greeting's host name is passed separately: ``hostname=`` to ``SMTP``, ``server_hostname=`` to a
    ``Controller``)."""
    return {"data_size_limit": MAX_MESSAGE, "enable_SMTPUTF8": True, "timeout": 300}


@dataclass
class Tls:
    """STARTTLS for ``warroom smtpd``: the certificate chain and key (PEM files; ``key`` may be the ``cert``
    file itself), and whether mail is refused until the client has switched to TLS."""

    cert: str
    key: str
    required: bool = False
    context: ssl.SSLContext = field(init=False)

    def __post_init__(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the certificate and key again (a renewed certificate) into a new context, which sessions opened
        from now on use. Raises ``OSError`` or ``ssl.SSLError`` when they cannot be read; the context in use
        stays as it was."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert, self.key)
        self.context = context

    def reload_or_keep(self) -> None:
        try:
            self.reload()
        except (OSError, ssl.SSLError) as exc:
            log.error("smtpd: the certificate was not reloaded, the previous one stays in use: %s", exc)
        else:
            log.warning("smtpd: certificate reloaded from %s", self.cert)


async def serve(
    host: str, port: int, *, ready: Callable[[str], None] | None = None, tls: Tls | None = None
) -> None:
    """Receive mail on ``host:port`` until SIGINT or SIGTERM; then stop listening, give open sessions
    ``SHUTDOWN_GRACE`` seconds and wait for database work in progress (a message answered 250 is committed;
    one cut off before its answer is retried by the sender). With ``tls``, STARTTLS is offered (required, if
    ``tls.required``: ``530`` to anything but EHLO, HELO, NOOP, RSET, QUIT and STARTTLS until then), and
    SIGHUP reloads the certificate."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command, addresses included
    loop = asyncio.get_running_loop()
    handler = EmailHandler()
    options = {**smtp_options(), "hostname": settings.WARROOM_EMAIL_DOMAIN}
    if tls is not None:
        loop.add_signal_handler(signal.SIGHUP, tls.reload_or_keep)

    def session() -> SMTP:
        if tls is None:
            return SMTP(handler, loop=loop, **options)
        return SMTP(handler, loop=loop, **options, tls_context=tls.context, require_starttls=tls.required)

    server = await loop.create_server(session, host=host, port=port)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if ready is not None:
        ready(f"{host}:{port}")
    try:
        await stop.wait()
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), SHUTDOWN_GRACE)
        await asyncio.to_thread(handler.close)
