"""Fixtures of the paging smoke suite: the standard world, the clock frozen on Monday 2 March 2026 09:00 UTC, the
engine's modules registered, and a :class:`~tests.smoke_paging.harness.Harness` whose receivers the settings point
at (the notifications mailer at aiosmtpd, Twilio's base URL at the fake, outbound HTTP allowed to 127.0.0.0/8).
The fixture's teardown fails the test on any message nobody expected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import World
from tests.notify.receivers import (
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeTwilio,
    Receiver,
    running,
    smtp_server,
)
from tests.smoke_paging.harness import Harness
from warroom.config import Twilio
from warroom.engine import registry
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.oncall import services as oncall
from warroom.oncall.models import EscalationPolicy
from warroom.oncall.services import StepSpec

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def wired(settings: Any) -> Iterator[Harness]:
    """Receivers running and the settings pointing at them (no world, no clock: for transactional tests)."""
    registry.discover()
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)
    with smtp_server() as inbox, running(FakeTwilio()) as twilio, running(Receiver()) as http:
        assert isinstance(twilio, FakeTwilio)
        settings.MAILERS = {
            **settings.MAILERS,
            "notifications": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": inbox.port, "timeout": 5},
            },
        }
        settings.WARROOM_EMAIL_DOMAIN = "warroom.example.com"
        settings.WARROOM_TWILIO = Twilio(
            account_sid=TWILIO_SID,
            auth_token=TWILIO_TOKEN,
            from_=TWILIO_FROM,
            base_url=twilio.url("").rstrip("/"),
        )
        harness = Harness(inbox=inbox, twilio=twilio, http=http)
        yield harness
        harness.check()


@pytest.fixture
def h(wired: Harness, world: World) -> Iterator[Harness]:
    with clock.frozen(T0):
        yield wired


def policy(world: World, steps: list[StepSpec], *, repeat: int = 0) -> EscalationPolicy:
    made = oncall.create_policy(
        team=world.team_a, name="Primary", repeat=repeat, steps=steps, actor=None, source="system"
    )
    oncall.set_service_policy(service=world.service_a, policy=made, actor=None, source="system")
    return made


def declare(
    world: World, *, title: str = "Checkout returns 500", impact: int = 1, urgency: int = 1
) -> Incident:
    return incidents.declare_incident(
        actor=None,
        source="system",
        title=title,
        team=world.team_a,
        services=[world.service_a],
        impact=impact,
        urgency=urgency,
        reporter=None,
    )


def timeline(incident: Incident) -> list[str]:
    return list(
        incident.timeline.filter(field="paging").order_by("at", "id").values_list("message", flat=True)
    )
