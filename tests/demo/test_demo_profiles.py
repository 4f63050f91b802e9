"""The demo's people see the console in their team's zone, set on their profile like a person does it."""

from __future__ import annotations

import pytest

from warroom.accounts.models import Membership, User
from warroom.audit.models import AuditEvent
from warroom.demo.data import ADMIN_EMAIL
from warroom.oncall.models import Schedule

pytestmark = pytest.mark.django_db


def test_everyone_is_in_the_zone_of_their_teams_schedule(seeded: str) -> None:
    zones = dict(Schedule.objects.values_list("team_id", "time_zone"))
    assert set(zones.values()) == {"Europe/London", "America/Chicago", "Asia/Kolkata"}
    memberships = Membership.objects.select_related("user")
    assert memberships.exists()
    for membership in memberships:
        assert membership.user.time_zone == zones[membership.team_id], membership
    assert User.objects.get(email=ADMIN_EMAIL).time_zone == "UTC"
    changes = AuditEvent.objects.filter(action="user.profile.update")
    assert changes.count() == memberships.count()
    assert all(row.actor_id == int(row.object_id) and row.source == "web" for row in changes)
