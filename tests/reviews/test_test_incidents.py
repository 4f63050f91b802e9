"""A test incident (opened by a test alert sent from Warroom) never requires a postmortem, whatever its priority
and however it is resolved; a real incident of the same priority still gets its required draft."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import cycle, make_integration, pd_trigger, post
from tests.conftest import World
from tests.reviews.conftest import resolve
from warroom.alerts import actions
from warroom.alerts.models import Alert
from warroom.incidents.models import Incident
from warroom.reviews.models import Postmortem
from warroom.reviews.selectors import policy

pytestmark = pytest.mark.django_db


def test_a_resolved_test_incident_needs_no_postmortem(world: World) -> None:
    assert 1 in policy().required_priorities  # P1 needs a postmortem by default
    hooked = make_integration(world, "pagerduty")
    by_person = actions.send_test_alert(integration=hooked.integration, actor=world.bob, source="test")
    by_alert = actions.send_test_alert(integration=hooked.integration, actor=world.bob, source="test")
    assert post("/v2/enqueue", pd_trigger(hooked.key, "disk-1")).status_code == 202
    cycle()
    tests = [Alert.objects.get(events=event) for event in (by_person, by_alert)]
    real = Alert.objects.get(dedup_key="disk-1").incident
    assert real is not None and all(a.incident is not None and a.incident.priority == 1 for a in tests)

    # a person resolves one test incident; the other resolves with its alert (resolved by hand)
    resolve(Incident.objects.get(pk=tests[0].incident_id), world.bob)
    actions.resolve_alert(alert=tests[1], actor=world.bob, source="test")
    assert Incident.objects.get(pk=tests[1].incident_id).state == "resolved"
    resolve(real, world.bob)

    assert not Postmortem.objects.filter(incident_id__in=[a.incident_id for a in tests]).exists()
    required = Postmortem.objects.get(incident=real)
    assert required.required and required.status == "draft"
