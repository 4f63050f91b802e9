"""Component status: derived from the open incidents of the linked services, overridden by an update's component
status for the incident's duration, set by hand, and written down as history (one period per stretch)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.comms_pages.conftest import T0, Site, declare, make_site, post, resolve, status_cycle
from tests.conftest import World
from warroom.comms import page_services as pages
from warroom.comms.models import Component, ComponentStatusPeriod
from warroom.incidents import services as incidents
from warroom.lib import clock
from warroom.lib.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def status_of(component: Component) -> str:
    return Component.objects.get(pk=component.pk).status


def history_of(component: Component) -> list[tuple[str, bool]]:
    return [(p.status, p.ended_at is None) for p in ComponentStatusPeriod.objects.filter(component=component)]


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (1, 1, "major_outage"),
        (1, 2, "partial_outage"),
        (2, 2, "degraded_performance"),
        (3, 3, "degraded_performance"),
    ],
)
def test_priority_maps_to_status(world: World, site: Site, impact: int, urgency: int, expected: str) -> None:
    declare(world, impact=impact, urgency=urgency)
    status_cycle()
    assert status_of(site.checkout) == expected
    assert status_of(site.api) == "operational"  # another service


def test_the_worst_open_incident_wins_and_resolution_brings_it_back(world: World) -> None:
    with clock.frozen(T0 - timedelta(hours=1)):
        site = make_site(world)
    with clock.frozen(T0):
        p3 = declare(world, title="Slow checkout", impact=2, urgency=2)
        p1 = declare(world, title="Checkout down", impact=1, urgency=1)
        assert status_cycle() == 1
        assert status_of(site.checkout) == "major_outage"
    with clock.frozen(T0 + timedelta(minutes=30)):
        resolve(world, p1)
        status_cycle()
        assert status_of(site.checkout) == "degraded_performance"
    with clock.frozen(T0 + timedelta(hours=1)):
        resolve(world, p3)
        status_cycle()
        assert status_of(site.checkout) == "operational"
    assert history_of(site.checkout) == [
        ("operational", False),
        ("major_outage", False),
        ("degraded_performance", False),
        ("operational", True),
    ]


def test_the_engine_writes_each_change_once(world: World, site: Site) -> None:
    declare(world)
    assert status_cycle() == 1
    assert status_cycle() == 0
    assert status_cycle() == 0
    assert ComponentStatusPeriod.objects.filter(component=site.checkout).count() == 2
    assert ComponentStatusPeriod.objects.filter(component=site.checkout, ended_at__isnull=True).count() == 1


def test_an_update_overrides_the_priority_while_the_incident_is_open(world: World, site: Site) -> None:
    """The people on the incident know better than the priority: a P1 whose update says "degraded" shows
    degraded; when it resolves the component follows the remaining open incidents again."""
    incident = declare(world)  # P1 on Checkout
    status_cycle()
    assert status_of(site.checkout) == "major_outage"
    post(
        world,
        incident,
        "Most requests go through again.",
        status="monitoring",
        components=[site.checkout],
        component_status="degraded_performance",
    )
    assert status_of(site.checkout) == "degraded_performance"  # at once, in the posting transaction
    status_cycle()
    assert status_of(site.checkout) == "degraded_performance"  # and the engine agrees
    resolve(world, incident)
    status_cycle()
    assert status_of(site.checkout) == "operational"


def test_an_update_can_name_a_component_outside_the_incident_services(world: World, site: Site) -> None:
    incident = declare(world)
    post(world, incident, "The API is slow too.", components=[site.api], component_status="partial_outage")
    assert status_of(site.api) == "partial_outage"
    status_cycle()
    assert status_of(site.api) == "partial_outage"
    resolve(world, incident)
    status_cycle()
    assert status_of(site.api) == "operational"


def test_an_update_sets_a_manual_component_which_keeps_it(world: World, site: Site) -> None:
    incident = declare(world)
    post(world, incident, "CDN edge nodes failing", components=[site.cdn], component_status="major_outage")
    assert status_of(site.cdn) == "major_outage"
    resolve(world, incident)
    status_cycle()
    assert status_of(site.cdn) == "major_outage"  # manual: until someone changes it
    post(
        world, incident, "All clear", status="resolved", components=[site.cdn], component_status="operational"
    )
    assert status_of(site.cdn) == "operational"


def test_setting_a_status_by_hand_makes_the_component_manual(world: World, site: Site) -> None:
    declare(world)
    status_cycle()
    updated = pages.set_component_status(
        component=site.checkout, status="partial_outage", actor=world.alice, source="test"
    )
    assert updated.status_mode == "manual" and updated.status == "partial_outage"
    status_cycle()
    assert status_of(site.checkout) == "partial_outage"  # the engine leaves manual components alone
    pages.update_component(component=site.checkout, status_mode="derived", actor=world.alice, source="test")
    assert status_of(site.checkout) == "major_outage"  # back to following the open P1


def test_only_the_owning_team_admins_change_status(world: World, site: Site) -> None:
    with pytest.raises(PermissionDenied):
        pages.set_component_status(component=site.cdn, status="major_outage", actor=world.bob, source="test")
    with pytest.raises(PermissionDenied):
        pages.set_component_status(
            component=site.cdn, status="major_outage", actor=world.charlie, source="test"
        )
    pages.set_component_status(component=site.cdn, status="major_outage", actor=world.olivia, source="test")
    with pytest.raises(ValidationFailed) as caught:
        pages.set_component_status(component=site.cdn, status="on_fire", actor=world.alice, source="test")
    assert caught.value.field == "status"


def test_a_changed_service_link_re_derives_at_once(world: World, site: Site) -> None:
    incidents.declare_incident(
        actor=world.alice,
        source="test",
        title="API down",
        team=world.team_a,
        services=[site.api_service],
        impact=1,
        urgency=1,
    )
    pages.update_component(
        component=site.checkout, services=[site.api_service], actor=world.alice, source="test"
    )
    assert status_of(site.checkout) == "major_outage"


def test_a_private_incident_leaves_the_public_page_alone(world: World, site: Site) -> None:
    """A private (say, security) P1 on a linked service does not turn the page red nor show that it exists:
    its priority counts for nothing. A component moves for it only when someone posts an update naming the
    component and a status — a deliberate choice, still internal, so the incident stays unnamed."""
    incident = declare(world, title="Credential leak in the payment gateway", is_private=True)
    status_cycle()
    assert status_of(site.checkout) == "operational"
    html = Client().get("/status/acme/").content.decode()
    assert "All systems operational" in html and "Credential leak" not in html
    summary = Client().get("/status/acme/summary.json").json()
    assert summary["status"]["indicator"] == "operational" and summary["incidents"] == []

    post(
        world,
        incident,
        "We are rotating keys; card payments pause.",
        audience="internal",
        components=[site.checkout],
        component_status="partial_outage",
    )
    assert status_of(site.checkout) == "partial_outage"
    status_cycle()
    assert status_of(site.checkout) == "partial_outage"  # the engine keeps the deliberate status
    html = Client().get("/status/acme/").content.decode()
    assert "Partial outage" in html and "Credential leak" not in html and "rotating keys" not in html
    resolve(world, incident)
    status_cycle()
    assert status_of(site.checkout) == "operational"


def test_a_private_incident_made_public_counts_again(world: World, site: Site) -> None:
    incident = declare(world, is_private=True)  # P1 on Checkout
    status_cycle()
    assert status_of(site.checkout) == "operational"
    incidents.update_incident(incident=incident, actor=world.alice, source="test", is_private=False)
    status_cycle()
    assert status_of(site.checkout) == "major_outage"
