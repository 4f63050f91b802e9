"""RSS and Atom feeds, read by a real feed parser (feedparser): public updates and maintenance, never internal
updates."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from xml.etree import ElementTree

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
    assert update.summary == "<p>Investigating failed card payments.</p>"  # HTML, as the page renders it
    assert update.link.endswith(f"/status/acme/incidents/{incident.number}/")
    assert update.get("published_parsed") or update.get("updated_parsed")


def test_the_page_advertises_its_feeds(world: World, site: Site) -> None:
    html = Client().get("/status/acme/").content.decode()
    assert 'type="application/rss+xml"' in html and 'type="application/atom+xml"' in html


HOSTILE = '<script>alert("feed")</script> <img src=x onerror=alert(1)> **Card payments** fail.'
ATOM = "{http://www.w3.org/2005/Atom}"


class _Tags(HTMLParser):
    """The elements and attributes a feed reader would build from an item's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.text += data


def _descriptions(xml: bytes, path: str) -> list[str]:
    root = ElementTree.fromstring(xml)
    if path == "feed.rss":
        return [item.findtext("description") or "" for item in root.iter("item")]
    return [entry.findtext(f"{ATOM}summary") or "" for entry in root.iter(f"{ATOM}entry")]


@pytest.mark.parametrize("path", ["feed.rss", "feed.atom"])
def test_markup_in_an_update_reaches_feed_readers_as_inert_text(world: World, site: Site, path: str) -> None:
    """The item description is HTML to a feed reader: an update's message arrives as the page's sanitised
    markdown rendering, a maintenance's text escaped — a <script> or <img onerror> someone typed is text."""
    incident = declare(world, title="Payments failing")
    post(world, incident, HOSTILE, components=[site.checkout])
    start = clock.now() + timedelta(days=1)
    pages.create_maintenance(
        page=site.page,
        title="Database upgrade",
        message='<img src=x onerror=alert("maintenance")>\nRead-only for 30 minutes.',
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        components=[site.api],
        actor=world.alice,
        source="test",
    )
    descriptions = _descriptions(Client().get(f"/status/acme/{path}").content, path)
    assert len(descriptions) == 2
    update, maintenance = sorted(descriptions, key=lambda d: "maintenance" in d)
    for html in descriptions:
        parsed = _Tags()
        parsed.feed(html)
        assert not {"script", "img"} & set(parsed.tags), html
        assert not [a for a in parsed.attributes if a.startswith("on")], html
    shown = _Tags()
    shown.feed(update)
    assert '<script>alert("feed")</script> <img src=x onerror=alert(1)>' in shown.text  # readable, inert
    assert "<strong>Card payments</strong>" in update  # the markdown, as on the page
    shown = _Tags()
    shown.feed(maintenance)
    assert (
        '<img src=x onerror=alert("maintenance")>' in shown.text and "Read-only for 30 minutes." in shown.text
    )


def test_the_atom_feed_names_the_page_as_its_author(world: World, site: Site) -> None:
    """RFC 4287 §4.1.1: a feed without an author must have one on every entry; the page speaks for its owner."""
    incident = declare(world, title="Payments failing")
    post(world, incident, "Investigating.", components=[site.checkout])
    xml = Client().get("/status/acme/feed.atom").content
    root = ElementTree.fromstring(xml)
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Acme"
    assert feedparser.parse(xml).feed.author == "Acme"
