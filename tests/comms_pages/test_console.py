"""The console pages of the status pages, as alice (admin of team A), bob (responder: reads), charlie (another
team: 404) would use them, without JavaScript."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.comms_pages.conftest import Site, declare, post
from tests.conftest import World
from tests.notify.receivers import Inbox
from warroom.comms import page_services as pages
from warroom.comms.models import Component, ComponentGroup, Maintenance, StatusPage
from warroom.lib import clock

pytestmark = pytest.mark.django_db


def test_create_and_run_a_page_from_the_console(world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    alice = client_for(world.alice)
    listing = alice.get("/status-pages/")
    assert listing.status_code == 200 and "New status page" in listing.content.decode()
    assert 'href="/status-pages/"' in listing.content.decode()  # the nav link
    created = alice.post(
        "/status-pages/",
        {
            "name": "Acme",
            "slug": "acme",
            "team": world.team_a.pk,
            "visibility": "public",
            "brand_color": "#1f6feb",
            "history_days": 90,
            "footer_links": "Support | https://acme.example.com/help",
        },
    )
    assert created.status_code == 302, created.content.decode()
    page = StatusPage.objects.get()
    assert page.footer_links == [{"label": "Support", "url": "https://acme.example.com/help"}]
    assert alice.post("/status-pages/acme/groups/", {"name": "Core"}).status_code == 302
    group = ComponentGroup.objects.get()
    response = alice.post(
        "/status-pages/acme/components/",
        {"name": "Checkout", "group": group.pk, "status_mode": "derived", "services": [world.service_a.pk]},
    )
    assert response.status_code == 302
    component = Component.objects.get()
    assert list(component.services.all()) == [world.service_a]
    assert (
        alice.post(
            f"/status-pages/acme/components/{component.pk}/status/", {"status": "major_outage"}
        ).status_code
        == 302
    )
    component.refresh_from_db()
    assert component.status == "major_outage" and component.status_mode == "manual"
    made_up = alice.post(f"/status-pages/acme/components/{component.pk}/status/", {"status": "on_fire"})
    assert made_up.status_code == 400
    assert (
        "set Checkout to one of: operational, under_maintenance, degraded_performance"
        in made_up.content.decode()
    )
    component.refresh_from_db()
    assert component.status == "major_outage", "a refused status changes nothing"
    start = (clock.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = alice.post(
        "/status-pages/acme/maintenance/",
        {
            "title": "Upgrade",
            "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
            "scheduled_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "components": [component.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    m = Maintenance.objects.get()
    detail = alice.get("/status-pages/acme/").content.decode()
    assert "Upgrade" in detail and "Checkout" in detail and "Major outage" in detail
    assert alice.post(f"/status-pages/acme/maintenance/{m.pk}/cancel/").status_code == 302
    m.refresh_from_db()
    assert m.state == "cancelled"


def test_bad_input_is_shown_next_to_the_field(world: World, site: Site, client_for) -> None:  # type: ignore[no-untyped-def]
    alice = client_for(world.alice)
    response = alice.post(
        "/status-pages/acme/edit/",
        {
            "name": "Acme",
            "slug": "acme",
            "visibility": "public",
            "brand_color": "#zzzzzz",
            "history_days": 90,
        },
    )
    assert response.status_code == 400
    assert "brand color must be #rrggbb" in response.content.decode()
    response = alice.post("/status-pages/acme/components/", {"name": "Checkout", "status_mode": "derived"})
    assert response.status_code == 409 and "already" in response.content.decode()


def test_secret_link_is_shown_once(world: World, site: Site, client_for) -> None:  # type: ignore[no-untyped-def]
    alice = client_for(world.alice)
    response = alice.post(
        "/status-pages/acme/edit/",
        {
            "name": "Acme",
            "slug": "acme",
            "visibility": "secret_link",
            "brand_color": "#1f6feb",
            "history_days": 90,
        },
    )
    assert response.status_code == 200
    assert "?key=wr_sp_" in response.content.decode()
    assert "?key=wr_sp_" not in alice.get("/status-pages/acme/").content.decode()


def test_scoping(world: World, site: Site, client_for) -> None:  # type: ignore[no-untyped-def]
    assert client_for(world.charlie).get("/status-pages/acme/").status_code == 404
    assert client_for(world.charlie).post("/status-pages/acme/groups/", {"name": "X"}).status_code == 404
    bob = client_for(world.bob)
    assert bob.get("/status-pages/acme/").status_code == 200
    assert bob.post("/status-pages/acme/groups/", {"name": "X"}).status_code == 403
    assert (
        bob.post(
            f"/status-pages/acme/components/{site.cdn.pk}/status/", {"status": "major_outage"}
        ).status_code
        == 403
    )
    assert ComponentGroup.objects.filter(name="X").count() == 0


def test_only_the_page_managers_see_who_subscribed(world: World, site: Site, smtp: Inbox, client_for) -> None:  # type: ignore[no-untyped-def]
    """Subscribers are the public's addresses: the page's managers see them; a responder of the team sees how
    many there are, and on an incident's update only a masked address."""
    sub = pages.subscribe(
        page=site.page, kind="email", address="pat.doe@example.org", source="test"
    ).subscriber
    pages.confirm_subscription(token=pages.confirm_token(sub), source="test")
    update = post(world, declare(world), "Checkout is failing for some customers.")

    assert "pat.doe@example.org" in client_for(world.alice).get("/status-pages/acme/").content.decode()
    seen_by_bob = client_for(world.bob).get("/status-pages/acme/").content.decode()
    assert "pat.doe@example.org" not in seen_by_bob
    assert "Subscribers (1)" in seen_by_bob and "Only the page's managers" in seen_by_bob

    detail = (
        client_for(world.alice).get(f"/incidents/{update.incident.ref}/updates/{update.pk}/").content.decode()
    )
    assert "p•••@example.org" in detail and "pat.doe@example.org" not in detail
