"""The incident page's Escalation card when the policy changed under a running or finished escalation: it says
what was paged and what the policy has now, never "step 3 of 0"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client

from tests.conftest import World
from tests.paging.conftest import declare, escalation, make_policy, run, user_steps
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging.models import EscalationStatus

pytestmark = pytest.mark.django_db


def _paged_line(incident: Incident, viewer: Client) -> str:
    page = viewer.get(f"/incidents/{incident.ref}/").content.decode()
    found = re.search(r'id="escalation-paged">([^<]*)<', page)
    assert found, page
    return " ".join(found.group(1).split())


def test_the_card_counts_steps_against_the_policy_as_it_is_now(world: World, now: datetime) -> None:
    policy = make_policy(world, user_steps([world.bob], [world.alice], [world.bob], delay=5))
    incident = declare(world)
    alice = Client()
    alice.force_login(world.alice)
    run()
    assert _paged_line(incident, alice) == "step 1 of 3 · round 1 of 1"
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        run()
    assert escalation(incident).status == EscalationStatus.EXHAUSTED
    assert _paged_line(incident, alice) == "step 3 of 3 · round 1 of 1"
    oncall.update_policy(
        policy=policy, actor=None, source="test", steps=[StepSpec(5, [TargetSpec("user", world.bob.pk)])]
    )
    assert _paged_line(incident, alice) == "step 3 (the policy has 1 step now) · round 1 of 1"
    oncall.set_service_policy(service=world.service_a, policy=None, actor=None, source="test")
    oncall.update_policy(policy=policy, actor=None, source="test", steps=[])
    line = _paged_line(incident, alice)
    assert line == "nobody: the policy has no steps (step 3 was paged before)"
    assert "of 0" not in line
