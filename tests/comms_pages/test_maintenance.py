"""Scheduled maintenance: announced (subscribers told at once), started and completed by the engine at its times
(components under maintenance in between), rescheduled, cancelled or completed early — and alert intake treats
the window as a maintenance window of the linked services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.alerts.conftest import Hooked, make_integration, pd_trigger
from tests.alerts.conftest import cycle as engine_cycle
from tests.alerts.conftest import post as intake_post
from tests.comms_pages.conftest import T0, Site, make_site, status_cycle
from tests.conftest import World
from tests.notify.receivers import Receiver
from warroom.alerts.models import Alert, MaintenanceWindow
from warroom.comms import page_services as pages
from warroom.comms.models import Component, Delivery, Maintenance, PageSubscriber
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

START = T0 + timedelta(days=1)
END = START + timedelta(hours=2)


@pytest.fixture
def early_site(world: World) -> Site:
    with clock.frozen(T0 - timedelta(hours=1)):
        return make_site(world)


@pytest.fixture
def hook_sub(early_site: Site, hooks: Receiver) -> PageSubscriber:
    return pages.subscribe(
        page=early_site.page, kind="webhook", address=hooks.url("/m"), source="test"
    ).subscriber


def events(sub: PageSubscriber) -> list[str]:
    return [d.context["event"] for d in Delivery.objects.filter(address=sub.address).order_by("id")]


def status_of(component: Component) -> str:
    return Component.objects.get(pk=component.pk).status


def announce(world: World, site: Site, **kw: object) -> Maintenance:
    return pages.create_maintenance(
        page=site.page,
        title="Database upgrade",
        message="Writes pause for a few minutes.",
        scheduled_start=kw.pop("start", START),
        scheduled_end=kw.pop("end", END),
        components=kw.pop("components", [site.checkout, site.cdn]),
        actor=world.alice,
        source="test",
    )


def test_the_whole_life_of_a_maintenance(world: World, early_site: Site, hook_sub: PageSubscriber) -> None:
    site = early_site
    with clock.frozen(T0):
        m = announce(world, site)
        assert events(hook_sub) == ["maintenance.scheduled"]
        windows = list(m.alert_windows.all())
        assert [(w.service_id, w.starts_at, w.ends_at) for w in windows] == [(world.service_a.pk, START, END)]
        assert status_cycle() == 0  # nothing due yet
        html = Client().get("/status/acme/").content.decode()
        assert "Database upgrade" in html and "Scheduled" in html
    with clock.frozen(START + timedelta(seconds=5)):
        assert status_cycle() >= 1
        assert status_cycle() == 0  # exactly once
        m.refresh_from_db()
        assert m.state == "in_progress"
        assert status_of(site.checkout) == "under_maintenance"  # derived
        assert status_of(site.cdn) == "under_maintenance"  # manual, was operational
        assert status_of(site.api) == "operational"  # not in the maintenance
        assert events(hook_sub) == ["maintenance.scheduled", "maintenance.started"]
        html = Client().get("/status/acme/").content.decode()
        assert "Maintenance in progress" in html and "Under maintenance" in html
    with clock.frozen(END + timedelta(seconds=5)):
        status_cycle()
        status_cycle()
        m.refresh_from_db()
        assert m.state == "completed" and m.completed_at == END + timedelta(seconds=5)
        assert status_of(site.checkout) == "operational" and status_of(site.cdn) == "operational"
        assert events(hook_sub) == ["maintenance.scheduled", "maintenance.started", "maintenance.completed"]
        assert list(m.alert_windows.all()) == windows  # ended at its time: the window stays as it was


def test_a_maintenance_whose_window_passed_while_no_engine_ran(world: World, early_site: Site) -> None:
    with clock.frozen(T0):
        m = announce(world, early_site)
    with clock.frozen(END + timedelta(hours=3)):
        status_cycle()
    m.refresh_from_db()
    assert m.state == "completed"
    assert status_of(early_site.cdn) == "operational"


def test_a_maintenance_starting_now_starts_at_once(world: World, early_site: Site) -> None:
    with clock.frozen(T0):
        m = announce(world, early_site, start=T0 - timedelta(minutes=1), end=T0 + timedelta(hours=1))
        assert m.state == "in_progress"
        assert status_of(early_site.checkout) == "under_maintenance"


def test_reschedule_cancel_and_complete_early_move_the_intake_windows(
    world: World, early_site: Site, hook_sub: PageSubscriber
) -> None:
    site = early_site
    with clock.frozen(T0):
        m = announce(world, site, components=[site.checkout])
        later = START + timedelta(days=1)
        pages.update_maintenance(
            maintenance=m,
            scheduled_start=later,
            scheduled_end=later + timedelta(hours=1),
            components=[site.checkout, site.api],
            actor=world.alice,
            source="test",
        )
        windows = {w.service_id: (w.starts_at, w.ends_at) for w in m.alert_windows.all()}
        assert windows == {
            world.service_a.pk: (later, later + timedelta(hours=1)),
            site.api_service.pk: (later, later + timedelta(hours=1)),
        }
        assert events(hook_sub) == ["maintenance.scheduled", "maintenance.rescheduled"]
        pages.update_maintenance(maintenance=m, components=[site.api], actor=world.alice, source="test")
        assert {w.service_id for w in m.alert_windows.all()} == {site.api_service.pk}
        assert MaintenanceWindow.objects.count() == 1
        pages.cancel_maintenance(maintenance=m, actor=world.alice, source="test")
        assert MaintenanceWindow.objects.count() == 0
        assert events(hook_sub)[-1] == "maintenance.cancelled"
        with pytest.raises(Conflict):
            pages.cancel_maintenance(maintenance=m, actor=world.alice, source="test")
        other = announce(world, site, components=[site.checkout])
    with clock.frozen(START + timedelta(minutes=30)):
        status_cycle()
        pages.complete_maintenance(maintenance=other, actor=world.alice, source="test")
        window = other.alert_windows.get()
        assert window.ends_at == START + timedelta(minutes=30)  # ended early
        assert status_of(site.checkout) == "operational"
        status_cycle()
        assert events(hook_sub)[-2:] == ["maintenance.started", "maintenance.completed"]


def test_maintenance_suppresses_intake_alerts_of_the_linked_service(world: World, early_site: Site) -> None:
    pd: Hooked = make_integration(world, "pagerduty")
    with clock.frozen(T0):
        announce(world, early_site, start=T0 - timedelta(minutes=5), end=T0 + timedelta(hours=1))
        assert intake_post("/v2/enqueue", pd_trigger(pd.key, "during")).status_code == 202
        engine_cycle()
    alert = Alert.objects.get()
    assert alert.suppressed and alert.incident is None
    assert "Database upgrade" in alert.group_reason
    assert not Incident.objects.exists()
    with clock.frozen(T0 + timedelta(hours=2)):
        assert intake_post("/v2/enqueue", pd_trigger(pd.key, "after")).status_code == 202
        engine_cycle()
    assert Incident.objects.count() == 1


def test_bad_maintenance_input(world: World, early_site: Site, client_for) -> None:  # type: ignore[no-untyped-def]
    site = early_site
    other_page = pages.create_page(team=world.team_a, name="Other", actor=world.alice, source="test").page
    foreign = pages.create_component(page=other_page, name="Elsewhere", actor=world.alice, source="test")
    with clock.frozen(T0):
        cases = [
            ({"end": START}, "scheduled_end"),
            ({"end": START - timedelta(hours=1)}, "scheduled_end"),
            ({"start": T0 - timedelta(days=2), "end": T0 - timedelta(days=1)}, "scheduled_end"),
            ({"components": [foreign]}, "components"),
            ({"end": START + timedelta(days=40)}, "scheduled_end"),
        ]
        for kwargs, field in cases:
            with pytest.raises(ValidationFailed) as caught:
                announce(world, site, **kwargs)
            assert caught.value.field == field, kwargs
        with pytest.raises(PermissionDenied):
            pages.create_maintenance(
                page=site.page,
                title="x",
                scheduled_start=START,
                scheduled_end=END,
                actor=world.bob,
                source="test",
            )
    assert not Maintenance.objects.exists() and not MaintenanceWindow.objects.exists()


def test_silencing_another_team_service_needs_its_admin(world: World, early_site: Site) -> None:
    site = early_site
    billing = pages.create_component(
        page=site.page, name="Billing", services=[world.service_b], actor=world.olivia, source="test"
    )
    with clock.frozen(T0):
        with pytest.raises(PermissionDenied) as caught:
            announce(world, site, components=[billing])
        assert "Billing" in caught.value.message
        m = pages.create_maintenance(
            page=site.page,
            title="Billing move",
            scheduled_start=START,
            scheduled_end=END,
            components=[billing],
            actor=world.olivia,
            source="test",
        )
    assert m.alert_windows.get().service == world.service_b
