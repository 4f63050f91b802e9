"""The service catalog: ownership, links, dependencies (no self-loops, no cycles), scoping."""

from __future__ import annotations

import pytest

from tests.conftest import World
from warroom.catalog import selectors, services
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


@pytest.mark.django_db
def test_dependencies_both_ways_and_cycle_refused(world: World) -> None:
    db = services.create_service(
        team=world.team_a,
        name="Orders DB",
        tier=1,
        actor=world.alice,
        source="web",
        runbook_url="https://runbooks.example.com/orders-db",
    )
    api = services.create_service(
        team=world.team_a, name="Orders API", actor=world.alice, source="web", dependencies=[db]
    )
    services.update_service(service=world.service_a, actor=world.alice, source="web", dependencies=[api])
    upstream, downstream = selectors.dependency_graph(api, world.alice)
    assert upstream == [db] and downstream == [world.service_a]
    with pytest.raises(ValidationFailed) as cycle:
        services.update_service(service=db, actor=world.alice, source="web", dependencies=[world.service_a])
    assert "cycle" in cycle.value.message
    with pytest.raises(ValidationFailed):
        services.update_service(service=db, actor=world.alice, source="web", dependencies=[db])


@pytest.mark.django_db
def test_validation_and_permissions(world: World) -> None:
    with pytest.raises(ValidationFailed) as bad_url:
        services.create_service(
            team=world.team_a, name="X", runbook_url="javascript:alert(1)", actor=world.alice, source="web"
        )
    assert bad_url.value.field == "runbook_url"
    with pytest.raises(ValidationFailed) as bad_tier:
        services.create_service(team=world.team_a, name="X", tier=7, actor=world.alice, source="web")
    assert bad_tier.value.field == "tier"
    with pytest.raises(Conflict):
        services.create_service(team=world.team_a, name="Checkout", actor=world.alice, source="web")
    with pytest.raises(PermissionDenied):
        services.create_service(team=world.team_a, name="Y", actor=world.bob, source="web")


@pytest.mark.django_db
def test_other_teams_services_are_not_found_and_hidden_from_graphs(world: World) -> None:
    services.update_service(
        service=world.service_a, actor=world.olivia, source="web", dependencies=[world.service_b]
    )
    with pytest.raises(NotFound):
        selectors.get_service_for_user_or_404(world.charlie, key="checkout")
    assert selectors.get_service_for_user_or_404(world.bob, key="checkout") == world.service_a
    upstream, _ = selectors.dependency_graph(world.service_a, world.bob)
    assert upstream == []  # Billing belongs to team B: bob does not see it
    upstream, _ = selectors.dependency_graph(world.service_a, world.olivia)
    assert upstream == [world.service_b]
