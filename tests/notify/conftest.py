"""Fixtures of the notification tests: outbound HTTP allowed to loopback (as an administrator would allow an
on-premises range), real receivers on 127.0.0.1, Twilio and SMTP configured to point at them, and helpers to
give people verified contact methods through the real services."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
from tests.notify.receivers import (
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeTwilio,
    Inbox,
    Receiver,
    running,
    smtp_server,
)
from warroom.accounts.models import User
from warroom.config import Slack, Twilio
from warroom.engine import registry
from warroom.engine.loop import CycleReport, run_cycle
from warroom.lib import clock
from warroom.notify import services
from warroom.notify.models import Category, ContactMethod, Message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def loopback_allowed(settings: Any) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)


@pytest.fixture
def receiver(loopback_allowed: None) -> Iterator[Receiver]:
    with running(Receiver()) as server:
        yield server


@pytest.fixture
def twilio(settings: Any, loopback_allowed: None) -> Iterator[FakeTwilio]:
    with running(FakeTwilio()) as server:
        settings.WARROOM_TWILIO = Twilio(
            account_sid=TWILIO_SID,
            auth_token=TWILIO_TOKEN,
            from_=TWILIO_FROM,
            base_url=server.url("").rstrip("/"),
        )
        yield server


@pytest.fixture
def slack_api(settings: Any, loopback_allowed: None) -> Iterator[Receiver]:
    with running(Receiver()) as server:
        settings.WARROOM_SLACK = Slack(bot_token="xoxb-test-token", api_url=server.url("/api"))
        yield server


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    with smtp_server() as inbox:
        settings.MAILERS = {
            **settings.MAILERS,
            "notifications": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": inbox.port, "timeout": 5},
            },
        }
        settings.WARROOM_EMAIL_DOMAIN = "warroom.example.com"
        yield inbox


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen(T0):
        yield T0


@pytest.fixture
def engine() -> None:
    registry.discover()


def cycle() -> CycleReport:
    report = run_cycle()
    assert not report.failed, report.failed
    return report


def pending_code(method: ContactMethod) -> str:
    """The code of the verification message waiting in the outbox for ``method``."""
    message = Message.objects.filter(contact_method=method, category=Category.VERIFICATION).latest("id")
    return str(message.context["code"])


def verified(
    user: User, kind: str, address: str, *, name: str | None = None, token: str = ""
) -> ContactMethod:
    """A contact method made and verified through the services (its code read from the outbox row). Its
    verification message is cancelled by the sender, since the method is verified by then."""
    method = services.create_contact_method(
        user=user,
        kind=kind,
        name=name or f"{kind} {address[-12:]}",
        address=address,
        token=token,
        actor=user,
        source="api",
    ).method
    return services.verify_contact_method(method=method, code=pending_code(method), actor=user, source="api")
