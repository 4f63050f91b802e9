"""The public page, its history archive, incident pages and JSON summary: what strangers see, what they never
see (internal updates, private pages), uptime percentages on a hand-computed history, and the cache."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.comms_pages.conftest import T0, Site, declare, make_site, post, resolve, status_cycle
from tests.conftest import World
from warroom.comms import page_selectors
from warroom.comms import page_services as pages
from warroom.comms.models import Component, ComponentStatusPeriod
from warroom.lib import clock, markdown

pytestmark = pytest.mark.django_db

SECRET_INTERNAL = "INTERNAL: the primary database ran out of disk because of the nightly export"


def test_a_calm_page(world: World, site: Site) -> None:
    response = Client().get("/status/acme/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "All systems operational" in html
    for name in ("Core", "Edge", "Checkout", "API", "CDN"):
        assert f">{name}<" in html or f"{name} <" in html
    assert html.count('class="sp-bar ') == 3 * 90
    assert "<main" in html and "<header" in html and "<footer" in html  # landmarks
    # Strict CSP: no inline script or style. One script of our own shows times in the visitor's zone; the page
    # works without it (tests/comms_pages/test_browser.py).
    assert re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S) == [
        (' src="/static/comms/local-times.js" defer', "")
    ]
    assert "style=" not in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("public")


def test_a_major_outage_shows_public_updates_only(world: World, site: Site) -> None:
    incident = declare(world, title="Checkout failing")
    post(world, incident, "We are investigating failed payments.", components=[site.checkout])
    post(world, incident, SECRET_INTERNAL, audience="internal")
    post(world, incident, "A fix is rolling out.", audience="both", status="identified")
    status_cycle()
    html = Client().get("/status/acme/").content.decode()
    assert "Major outage" in html
    assert "Checkout failing" in html
    assert "We are investigating failed payments." in html and "A fix is rolling out." in html
    assert SECRET_INTERNAL not in html
    detail = Client().get(f"/status/acme/incidents/{incident.number}/").content.decode()
    assert "A fix is rolling out." in detail and SECRET_INTERNAL not in detail
    summary = Client().get("/status/acme/summary.json").json()
    assert summary["status"] == {"indicator": "major_outage", "description": "Major outage"}
    messages = [u["message"] for i in summary["incidents"] for u in i["updates"]]
    assert messages == ["A fix is rolling out.", "We are investigating failed payments."]
    assert SECRET_INTERNAL not in json.dumps(summary)
    checkout = next(c for c in summary["components"] if c["name"] == "Checkout")
    assert checkout["status"] == "major_outage" and checkout["group"] == "Core"
    resolve(world, incident)
    status_cycle()
    history = Client().get("/status/acme/history/").content.decode()
    assert "Checkout failing" in history and SECRET_INTERNAL not in history
    assert "All systems operational" in Client().get("/status/acme/").content.decode()


def test_an_incident_with_only_internal_updates_stays_off_the_page(world: World, site: Site) -> None:
    incident = declare(world, title="Quiet internal thing")
    post(world, incident, SECRET_INTERNAL, audience="internal")
    html = Client().get("/status/acme/").content.decode()
    assert "Quiet internal thing" not in html
    assert Client().get(f"/status/acme/incidents/{incident.number}/").status_code == 404


def test_secret_link_page(world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    site = make_site(world, visibility="secret_link")
    secret = pages.rotate_secret_link(page=site.page, actor=world.alice, source="test")
    for path in ("", "history/", "summary.json", "feed.rss", "feed.atom", "brand.css", "subscribe/"):
        assert Client().get(f"/status/acme/{path}").status_code == 404, path
        assert Client().get(f"/status/acme/{path}?key=wr_sp_forged").status_code == 404, path
        assert Client().get(f"/status/acme/{path}?key={secret}").status_code == 200, path
    html = Client().get(f"/status/acme/?key={secret}").content.decode()
    assert f"history/?key={secret}" in html  # links carry the key
    assert client_for(world.alice).get("/status/acme/").status_code == 200  # its own team
    assert client_for(world.charlie).get("/status/acme/").status_code == 404  # another team, no key
    response = Client().get(f"/status/acme/?key={secret}")
    assert response["Cache-Control"] == "private, no-store"


def test_signed_in_page(world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    make_site(world, visibility="signed_in")
    assert Client().get("/status/acme/").status_code == 404
    assert Client().get("/status/acme/summary.json").status_code == 404
    assert client_for(world.charlie).get("/status/acme/").status_code == 200


def test_unknown_page_is_404() -> None:
    assert Client().get("/status/nope/").status_code == 404


def test_brand_colour_arrives_as_css(world: World) -> None:
    make_site(
        world,
        brand_color="#FFCC00",
        logo_url="https://cdn.example.com/logo.svg",
        footer_links=[{"label": "Support", "url": "https://acme.example.com/support"}],
    )
    response = Client().get("/status/acme/")
    html = response.content.decode()
    css_link = re.search(r'href="(/status/acme/brand\.css\?v=[0-9a-f]+)"', html)
    assert css_link
    css = Client().get(css_link.group(1))
    assert css["Content-Type"].startswith("text/css")
    assert "--brand: #ffcc00; --brand-text: #111827;" in css.content.decode()  # dark text on yellow
    assert "https://cdn.example.com" in response["Content-Security-Policy"]  # the logo may load
    assert 'href="https://acme.example.com/support"' in html


@pytest.mark.parametrize(
    ("color", "field"), [("red", "brand_color"), ("#12345", "brand_color"), ("#1234567", "brand_color")]
)
def test_brand_colour_is_validated(world: World, color: str, field: str) -> None:
    with pytest.raises(pages.ValidationFailed) as caught:
        pages.create_page(team=world.team_a, name="X", brand_color=color, actor=world.alice, source="test")
    assert caught.value.field == field


def test_uptime_on_a_hand_computed_history(world: World) -> None:
    """Ten days of history: a 1 h major outage and a 2 h partial outage. Downtime = 1 h + 30% × 2 h = 1.6 h of
    240 h → 99.333…% → shown 99.33%. The bar of each day shows that day's worst status."""
    start = T0 - timedelta(days=10)
    with clock.frozen(start):
        site = make_site(world)
    component = site.cdn
    ComponentStatusPeriod.objects.filter(component=component).delete()
    stretches = [
        ("operational", start, T0 - timedelta(days=3)),
        ("major_outage", T0 - timedelta(days=3), T0 - timedelta(days=3) + timedelta(hours=1)),
        ("operational", T0 - timedelta(days=3) + timedelta(hours=1), T0 - timedelta(days=1)),
        ("partial_outage", T0 - timedelta(days=1), T0 - timedelta(days=1) + timedelta(hours=2)),
        ("operational", T0 - timedelta(days=1) + timedelta(hours=2), None),
    ]
    for status, begin, end in stretches:
        ComponentStatusPeriod.objects.create(
            component=component, status=status, started_at=begin, ended_at=end
        )
    snap = page_selectors.snapshot(site.page, now=T0)
    view = next(c for c in snap.components if c.id == component.pk)
    assert view.uptime is not None and abs(view.uptime - (1 - 1.6 / 240)) < 1e-9
    assert view.uptime_text == "99.33%"
    by_day = {bar.day: bar for bar in view.bars}
    assert by_day[(T0 - timedelta(days=3)).date()].status == "major_outage"
    assert "Major outage for 1h" in by_day[(T0 - timedelta(days=3)).date()].label
    assert by_day[(T0 - timedelta(days=1)).date()].status == "partial_outage"
    assert by_day[(T0 - timedelta(days=2)).date()].status == "operational"
    assert by_day[(T0 - timedelta(days=11)).date()].status is None  # before the component existed: no data
    assert "1 day with major outage; 1 day with partial outage" in view.bars_summary
    summary = page_selectors.summary(snap, url="x")
    assert next(c for c in summary["components"] if c["id"] == component.pk)["uptime_percent"] == 99.3333


def test_a_page_is_rendered_with_a_few_queries_then_served_from_cache(world: World, site: Site) -> None:
    incident = declare(world)
    post(world, incident, "Looking into it.", components=[site.checkout])
    status_cycle()
    client = Client()
    with CaptureQueriesContext(connection) as cold:
        assert client.get("/status/acme/").status_code == 200
    assert len(cold) <= 15, [q["sql"] for q in cold]
    with CaptureQueriesContext(connection) as warm:
        for _ in range(5):
            assert client.get("/status/acme/").status_code == 200
            assert client.get("/status/acme/summary.json").status_code == 200
    assert len(warm) <= 10 + 15  # one query (the page row) per request, plus one cold render of the JSON
    etag = client.get("/status/acme/")["ETag"]
    assert client.get("/status/acme/", headers={"If-None-Match": etag}).status_code == 304
    # ...and a change shows at once: the services bump the page's version
    pages.set_component_status(component=site.cdn, status="partial_outage", actor=world.alice, source="test")
    changed = client.get("/status/acme/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Partial outage" in changed.content.decode()


def test_history_is_paginated(world: World, site: Site) -> None:
    for number in range(25):
        incident = declare(world, title=f"Old incident {number}", impact=3, urgency=3)
        post(world, incident, f"update {number}")
        resolve(world, incident)
    first = Client().get("/status/acme/history/").content.decode()
    second = Client().get("/status/acme/history/?page=2").content.decode()
    assert first.count("Old incident") == 20 and second.count("Old incident") == 5
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert Client().get("/status/acme/history/?page=abc").status_code == 200


def test_components_are_listed_in_order(world: World, site: Site) -> None:
    html = Client().get("/status/acme/").content.decode()
    assert html.index("Checkout") < html.index(">API<") < html.index("CDN")
    assert Component.objects.filter(page=site.page).count() == 3


@pytest.mark.parametrize(
    "path",
    [
        "",
        "history/",
        "incidents/{number}/",
        "summary.json",
        "feed.rss",
        "feed.atom",
        "brand.css",
        "subscribe/",
    ],
)
def test_head_answers_like_get_without_a_body(world: World, site: Site, path: str) -> None:
    """Uptime and link checkers ask with HEAD: the same status and headers as GET, no body."""
    incident = declare(world, title="Checkout failing")
    post(world, incident, "Investigating.", components=[site.checkout])
    url = "/status/acme/" + path.format(number=incident.number)
    got = Client().get(url)
    head = Client().head(url)
    assert got.status_code == head.status_code == 200, (url, head.status_code)
    assert head.content == b""
    assert head["Content-Type"] == got["Content-Type"]
    for header in ("ETag", "Cache-Control"):
        assert head.get(header) == got.get(header), header
    assert Client().head("/status/nope/").status_code == 404
    assert Client().put(url).status_code == 405  # still read-only


def test_update_markdown_reads_on_the_page_as_in_the_console(
    world: World, site: Site, client_for: Any
) -> None:
    """An update's message is markdown: the public page, the incident page and the archive show the same
    sanitised rendering as the console (lib.markdown), never the raw asterisks, and markup in it stays text."""
    message = (
        "**Card payments** fail for *some* customers.\n\n- retry in a minute\n- or pay by invoice\n\n"
        '<script>alert("x")</script> <img src=x onerror=alert(1)>'
    )
    rendered = markdown.render(message)
    assert "<strong>Card payments</strong>" in rendered and "&lt;script&gt;" in rendered
    incident = declare(world, title="Checkout failing")
    post(world, incident, message, components=[site.checkout])
    console = client_for(world.alice).get(f"/incidents/{incident.ref}/").content.decode()
    assert rendered in console
    pages_ = [
        Client().get("/status/acme/").content.decode(),
        Client().get(f"/status/acme/incidents/{incident.number}/").content.decode(),
    ]
    resolve(world, incident)
    pages_.append(Client().get("/status/acme/history/").content.decode())
    for html in pages_:
        assert rendered in html
        assert "**Card payments**" not in html
        assert "<script>alert" not in html and "<img src=x" not in html
