"""The paging smoke harness: the real engine (``run_cycle``) under a frozen clock, delivering through the real
channels to real receivers on 127.0.0.1 (aiosmtpd for mail; one HTTP server for webhooks, Slack, Teams and ntfy;
a fake of Twilio's REST API in its wire format), and a ledger of every message each receiver got.

Every message a receiver gets lands in that receiver's *unexpected* list until a test claims it with
:meth:`Harness.expect`; :meth:`Harness.expect_nothing` and the fixture's teardown (:meth:`Harness.check`) fail the
test if anything is left there. So "advance 5 minutes, expect exactly one SMS to bob" is::

    h.advance(minutes=5)
    h.expect("sms", bob)
    h.expect_nothing()
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message as EmailMessage

from tests.notify.conftest import verified
from tests.notify.receivers import FakeTwilio, Inbox, Receiver
from warroom.accounts.models import User
from warroom.engine.loop import CycleReport, run_cycle
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Category, ContactMethod, Message, NotificationRule

#: which HTTP path prefix on the shared receiver stands for which channel
HTTP_CHANNELS = {"hook": "webhook", "slack": "slack", "teams": "teams", "ntfy": "ntfy"}


@dataclass(frozen=True)
class Got:
    """One message as a receiver got it."""

    receiver: str  # smtp | twilio | http
    channel: str  # email | sms | voice | webhook | slack | teams | ntfy | (twilio-error, http-unknown)
    to: str  # the address: email recipient, phone number, or the name in the receiver path
    text: str
    delivery_id: str = ""

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}: {self.text[:160]!r}"


def _email_text(message: EmailMessage) -> str:
    parts = [str(message.get("Subject", ""))]
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(parts)


@dataclass
class Harness:
    inbox: Inbox
    twilio: FakeTwilio
    http: Receiver
    received: list[Got] = field(default_factory=list)
    unexpected: dict[str, list[Got]] = field(default_factory=lambda: {"smtp": [], "twilio": [], "http": []})
    _seen: dict[str, int] = field(default_factory=lambda: {"smtp": 0, "twilio": 0, "http": 0})
    _phones: dict[int, str] = field(default_factory=dict)

    # -- the ledger ---------------------------------------------------------------------------------------------

    def _new(self) -> Iterable[Got]:
        mails = self.inbox.messages[self._seen["smtp"] :]
        self._seen["smtp"] += len(mails)
        for envelope, mail in mails:
            yield Got("smtp", "email", ",".join(envelope.rcpt_tos), _email_text(mail))
        calls = self.twilio.requests[self._seen["twilio"] :]
        self._seen["twilio"] += len(calls)
        for request in calls:
            form = request.form()
            if request.headers.get("x-accepted") != "1":
                yield Got("twilio", "twilio-error", form.get("To", ""), request.path)
            elif request.path.endswith("/Messages.json"):
                yield Got("twilio", "sms", form["To"], form.get("Body", ""))
            else:
                yield Got("twilio", "voice", form["To"], form.get("Twiml", "") or form.get("Url", ""))
        hits = self.http.requests[self._seen["http"] :]
        self._seen["http"] += len(hits)
        for request in hits:
            _, prefix, name = [*request.path.split("/", 2), "", ""][:3]
            yield Got(
                "http",
                HTTP_CHANNELS.get(prefix, "http-unknown"),
                name,
                request.body.decode("utf-8", "replace"),
                request.headers.get("warroom-delivery-id", ""),
            )

    def poll(self) -> None:
        """Move what the receivers got since the last poll into the ledger (and the unexpected lists)."""
        for got in self._new():
            self.received.append(got)
            self.unexpected[got.receiver].append(got)

    def address(self, channel: str, user: User) -> str:
        """How ``user`` shows at a receiver for ``channel`` (the ``to`` of a :class:`Got`)."""
        if channel == "email":
            return user.email
        if channel in ("sms", "voice"):
            return self.phone(user)
        return f"{user.pk}"

    def expect(self, channel: str, who: User | str, *, count: int = 1, containing: str = "") -> list[Got]:
        """Claim exactly ``count`` messages of ``channel`` to ``who`` (containing ``containing``) from the
        unexpected lists; fail if there are more or fewer."""
        self.poll()
        to = who if isinstance(who, str) else self.address(channel, who)
        claimed: list[Got] = []
        for pending in self.unexpected.values():
            for got in list(pending):
                if got.channel == channel and got.to == to and containing in got.text:
                    claimed.append(got)
                    pending.remove(got)
        assert len(claimed) == count, (
            f"expected {count} {channel} message(s) to {to}"
            + (f" containing {containing!r}" if containing else "")
            + f", got {len(claimed)}: {[str(g) for g in claimed]}; still unexpected: {self.describe()}"
        )
        return claimed

    def describe(self) -> list[str]:
        return [str(g) for pending in self.unexpected.values() for g in pending]

    def expect_nothing(self) -> None:
        """Fail on any message nobody expected."""
        self.poll()
        assert not self.describe(), f"messages nobody expected: {self.describe()}"

    def check(self) -> None:
        """The teardown check: every receiver's unexpected list is empty."""
        self.poll()
        left = {name: [str(g) for g in pending] for name, pending in self.unexpected.items() if pending}
        assert not left, f"messages nobody expected, by receiver: {left}"

    # -- driving the engine -------------------------------------------------------------------------------------

    def cycle(self, times: int = 1) -> list[CycleReport]:
        reports = []
        for _ in range(times):
            report = run_cycle()
            assert not report.failed, report.failed
            reports.append(report)
        self.poll()
        return reports

    def advance(self, **delta: float) -> None:
        """Move the frozen clock forward and run one engine cycle."""
        clock.advance(timedelta(**delta))
        self.cycle()

    # -- people -------------------------------------------------------------------------------------------------

    def phone(self, user: User) -> str:
        return self._phones.setdefault(user.pk, f"+1415555{user.pk:04d}")

    def contact(self, user: User, kind: str) -> ContactMethod:
        """A verified contact method of ``kind`` pointing at this harness's receivers (its default rules are
        removed: give rules with :meth:`ladder`)."""
        if kind == "email":
            address = user.email
        elif kind in ("sms", "voice"):
            address = self.phone(user)
        else:
            prefix = {v: k for k, v in HTTP_CHANNELS.items()}[kind]
            address = self.http.url(f"/{prefix}/{user.pk}")
        method = verified(user, kind, address, name=f"{kind} of {user.pk}")
        NotificationRule.objects.filter(contact_method=method).delete()
        Message.objects.filter(category=Category.VERIFICATION).delete()
        return method

    def ladder(self, user: User, urgency: str, *rungs: tuple[str, int]) -> None:
        """``user``'s ladder for ``urgency``: (kind, delay minutes) rungs, each through a contact method of that
        kind (made when missing)."""
        for kind, delay in rungs:
            method = user.contact_methods.filter(kind=kind).first() or self.contact(user, kind)
            notify.create_rule(
                user=user,
                contact_method=method,
                urgency=urgency,
                delay_minutes=delay,
                actor=user,
                source="test",
            )
