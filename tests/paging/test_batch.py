"""The batched escalation step (``paging.advance_due``): many escalations sharing a schedule in one batch page
each person once per step, resolve the schedule once, and write the same pages, outbox rows and timeline lines
as one at a time; a batch redone (a crash before commit, a second engine) pages nobody twice."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tests.paging.conftest import declare, escalation, make_policy, run, timeline
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.notify.models import Category, Message
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging import services as paging
from warroom.paging.models import IncidentEscalation, Page

pytestmark = pytest.mark.django_db


def test_a_batch_sharing_a_schedule_pages_each_person_once_per_step(world: World, now: datetime) -> None:
    schedule = oncall.create_schedule(
        team=world.team_a, name="Primary rota", time_zone="Europe/London", actor=None, source="system"
    )
    oncall.create_override(
        schedule=schedule,
        user=world.bob,
        start=now - timedelta(hours=1),
        end=now + timedelta(days=1),
        actor=None,
        source="system",
    )
    make_policy(
        world,
        [
            StepSpec(5, [TargetSpec("schedule", schedule.pk), TargetSpec("user", world.bob.pk)]),
            StepSpec(5, [TargetSpec("user", world.alice.pk), TargetSpec("schedule", schedule.pk)]),
        ],
    )
    created = [declare(world, title=f"Outage {n}") for n in range(12)]
    paging.start_escalations(clock.now())
    with CaptureQueriesContext(connection) as queries:
        moved = paging.advance_due(clock.now())
    assert moved == len(created)
    assert len(queries) < 40, f"{len(queries)} queries for a batch of {len(created)}"
    # bob is on call on the schedule *and* named: one page per incident for step 1, not two
    pages = Counter((p.incident_id, p.step_index, p.user_id) for p in Page.objects.all())
    assert set(pages.values()) == {1} and len(pages) == len(created)
    keys = Counter(Message.objects.filter(category=Category.NOTIFICATION).values_list("dedup_key", flat=True))
    assert len(keys) == len(created) and max(keys.values()) == 1
    for incident in created:
        assert timeline(incident)[-1] == "Paged Bob Responder (on call on Primary rota) (step 1 of Primary)"
        assert escalation(incident).step_index == 1
        assert escalation(incident).next_at == now + timedelta(minutes=5)
        assert escalation(incident).version == 2
    # a redo of the same step (as after a crash before commit) inserts nothing new
    IncidentEscalation.objects.update(step_index=0, next_at=now)
    paging.advance_due(clock.now())
    assert Page.objects.count() == len(created)
    assert Message.objects.filter(category=Category.NOTIFICATION).count() == len(created)
    clock.advance(timedelta(minutes=5))
    run()
    step2 = Counter((p.incident_id, p.user_id) for p in Page.objects.filter(step_index=1))
    assert len(step2) == 2 * len(created) and set(step2.values()) == {1}
    assert Message.objects.filter(user=world.bob, category=Category.NOTIFICATION).count() == 2 * len(created)
    assert Message.objects.filter(user=world.alice, category=Category.NOTIFICATION).count() == len(created)


def test_an_acknowledged_incident_in_the_batch_is_not_paged(world: World, now: datetime) -> None:
    make_policy(world, [StepSpec(5, [TargetSpec("user", world.bob.pk)])])
    first, second = declare(world, title="One"), declare(world, title="Two")
    paging.start_escalations(clock.now())
    from tests.paging.conftest import acknowledge  # noqa: PLC0415

    acknowledge(second, world.alice)
    paging.advance_due(clock.now())
    assert Page.objects.filter(incident=first).count() == 1
    assert not Page.objects.filter(incident=second).exists()
    assert escalation(second).status != "active"


def test_ack_links_are_djangos_signed_tokens_and_survive_a_key_rotation(world: World, settings: Any) -> None:
    """The batch signs with a cached key, but the tokens are Django's ``Signer`` tokens: Django's own signer
    reads them, the link reader reads Django's, and a link signed before a key rotation still works while the old
    key is in ``SECRET_KEY_FALLBACKS``."""
    token = paging.make_ack_token(incident_id=7, user_id=world.bob.pk)
    data = signing.Signer(salt=paging.ACK_SALT).unsign_object(token)
    assert (data["i"], data["u"]) == (7, world.bob.pk)
    stock = signing.Signer(salt=paging.ACK_SALT).sign_object(dict(data, n="from-django"))
    assert paging.read_ack_token(stock) == paging.AckClaim(7, world.bob.pk, "from-django")
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "x" * 50, [old]
    assert paging.read_ack_token(token).user_id == world.bob.pk
    assert paging.make_ack_token(incident_id=7, user_id=world.bob.pk) != token
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(ValidationFailed, match="not valid"):
        paging.read_ack_token(token)


def test_a_batch_gives_a_person_one_link_per_incident(world: World, now: datetime) -> None:
    step = paging._Step(clock.now())
    first = step.ack_url(1, world.bob.pk)
    assert step.ack_url(1, world.bob.pk) == first
    assert len({first, step.ack_url(2, world.bob.pk), step.ack_url(1, world.alice.pk)}) == 3
    assert first.startswith("http") and "/ack/" in first
    claim = paging.read_ack_token(first.rstrip("/").rsplit("/", 1)[1])
    assert (claim.incident_id, claim.user_id) == (1, world.bob.pk)
