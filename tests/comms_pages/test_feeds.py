"""RSS and Atom feeds, read by a real feed parser (feedparser): public updates and maintenance, never internal
updates."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from django.test import Client

from tests.comms_pages.conftest import Site, declare, post
from tests.conftest import World
from warroom.comms import page_services as pages
from warroom.lib import clock

pytestmark = pytest.mark.django_db

INTERNAL = "Internal only: blame the cron job"


@pytest.mark.parametrize(("path", "version"), [("feed.rss", "rss20"), ("feed.atom", "atom10")])
def test_feeds_parse_and_hold_public_items_only(world: World, site: Site, path: str, version: str) -> None:
    incident = declare(world, title="Payments failing")
    post(world, incident, "Investigating failed card payments.", components=[site.checkout])
    post(world, incident, INTERNAL, audience="internal")
    start = clock.now() + timedelta(days=2)
    pages.create_maintenance(
        page=site.page,
        title="Database upgrade",
        message="Read-only for 30 minutes.",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        components=[site.api],
        actor=world.alice,
        source="test",
    )
    response = Client().get(f"/status/acme/{path}")
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == version
    assert feed.feed.title == "Acme status"
    titles = [entry.title for entry in feed.entries]
    assert "Payments failing — Investigating" in titles
    assert "Maintenance (scheduled): Database upgrade" in titles
    assert all(INTERNAL not in (entry.get("summary") or "") for entry in feed.entries)
    assert INTERNAL not in response.content.decode()
    update = next(e for e in feed.entries if e.title.startswith("Payments"))
    assert update.summary == "Investigating failed card payments."
    assert update.link.endswith(f"/status/acme/incidents/{incident.number}/")
    assert update.get("published_parsed") or update.get("updated_parsed")


def test_the_page_advertises_its_feeds(world: World, site: Site) -> None:
    html = Client().get("/status/acme/").content.decode()
    assert 'type="application/rss+xml"' in html and 'type="application/atom+xml"' in html
