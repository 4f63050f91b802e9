"""Impact × urgency → priority: the ITIL default and an edited matrix."""

from __future__ import annotations

import pytest

from tests.conftest import World
from warroom.incidents import selectors, services
from warroom.incidents.models import Incident
from warroom.lib.errors import PermissionDenied, ValidationFailed

ITIL = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 5,
}


@pytest.mark.django_db
@pytest.mark.parametrize("impact,urgency", sorted(ITIL))
def test_default_matrix_is_itil(world: World, impact: int, urgency: int) -> None:
    incident = services.declare_incident(
        actor=world.bob, source="api", title="x", team=world.team_a, impact=impact, urgency=urgency
    )
    assert incident.priority == ITIL[(impact, urgency)]


@pytest.mark.django_db
def test_edited_matrix_applies_to_new_and_changed_incidents_only(world: World) -> None:
    old = services.declare_incident(
        actor=world.bob, source="api", title="old", team=world.team_a, impact=2, urgency=2
    )
    assert old.priority == 3
    services.set_priority_rule(impact=2, urgency=2, priority=2, actor=world.olivia, source="api")
    assert selectors.priority_matrix()[(2, 2)] == 2
    new = services.declare_incident(
        actor=world.bob, source="api", title="new", team=world.team_a, impact=2, urgency=2
    )
    assert new.priority == 2
    assert Incident.objects.get(pk=old.pk).priority == 3
    # Changing urgency recomputes from the edited matrix and says so on the timeline.
    changed = services.update_incident(incident=old, actor=world.bob, source="api", urgency=1)
    assert changed.priority == 2
    texts = list(changed.timeline.values_list("message", flat=True))
    assert "Priority: 3 - Moderate → 2 - High" in texts


@pytest.mark.django_db
def test_only_org_admins_edit_the_matrix_and_values_are_checked(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.set_priority_rule(impact=1, urgency=1, priority=2, actor=world.alice, source="api")
    with pytest.raises(ValidationFailed) as bad:
        services.set_priority_rule(impact=1, urgency=1, priority=9, actor=world.olivia, source="api")
    assert bad.value.field == "priority"
    with pytest.raises(ValidationFailed) as bad_impact:
        services.declare_incident(actor=world.bob, source="api", title="x", team=world.team_a, impact=4)
    assert bad_impact.value.field == "impact"
