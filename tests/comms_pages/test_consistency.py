"""The public page never contradicts itself. Its bars show every status a component had — derived components
follow open incidents before anyone publishes one — and each disruption says what accounts for it: a published
incident that touched the component while it lasted, a maintenance, or nothing ("detected automatically; no
incident was published"). The incident list never claims a quiet fortnight the bars do not show."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

import pytest
from django.test import Client

from tests.comms_pages.conftest import T0, Site, declare, make_site, post, resolve, status_cycle
from tests.conftest import World
from warroom.comms import page_services as pages
from warroom.lib import clock

pytestmark = pytest.mark.django_db

LATER = T0 + timedelta(hours=3)


@pytest.fixture
def early(world: World) -> Site:
    """The page made a day before T0, so T0's bars have history."""
    with clock.frozen(T0 - timedelta(days=1)):
        return make_site(world)


def page_at(when: object) -> str:
    with clock.frozen(when):  # type: ignore[arg-type]
        return htmllib.unescape(" ".join(Client().get("/status/acme/").content.decode().split()))


def text_of(html: str) -> str:
    """What a reader sees: the page's text without tags."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" ,", ",").replace(" )", ")")


def bar_of(html: str, component_id: int, day: str) -> str:
    """The tooltip of one component's bar for ``day`` (``02 Mar 2026``)."""
    strip = html.split(f'id="component-{component_id}"', 1)[1].split("</li>", 1)[0]
    found = re.search(rf'title="({day}:[^"]*)"', strip)
    assert found, strip[:500]
    return found.group(1)


def outage(world: World, minutes: int, *, title: str = "Checkout errors", public: bool = False) -> None:
    """A P1 incident on Checkout for ``minutes`` from T0 (the engine derives the status each time)."""
    with clock.frozen(T0):
        incident = declare(world, title=title)
        if public:
            post(world, incident, "Card payments fail.")
        status_cycle()
    with clock.frozen(T0 + timedelta(minutes=minutes)):
        resolve(world, incident)
        status_cycle()


def test_an_outage_nobody_published_is_explained_not_denied(world: World, early: Site) -> None:
    outage(world, 35)
    html = page_at(LATER)
    assert (
        bar_of(html, early.checkout.pk, "02 Mar 2026")
        == "02 Mar 2026: Major outage for 35m — detected automatically; no incident was published"
    )
    assert "Checkout errors" not in html  # the incident itself stays unpublished
    assert "No incidents in the last 14 days" not in html
    assert "No incident was published in the last 14 days, but components were disrupted: see below." in html
    assert "Disruptions without a published incident" in html
    assert (
        "Major outage Checkout: 2 Mar 2026, 09:00 – 2 Mar 2026, 09:35 UTC (35m), detected automatically; "
        "no incident was published" in text_of(html)
    )
    assert "last 90 days: 1 day with major outage; 1 of them with no incident published" in html
    with clock.frozen(LATER):
        summary = Client().get("/status/acme/summary.json").json()
    assert summary["recent_incidents"] == []
    assert [(d["component"], d["status"], d["ended_at"]) for d in summary["unpublished_disruptions"]] == [
        ("Checkout", "major_outage", (T0 + timedelta(minutes=35)).isoformat())
    ]
    # two weeks later the list has moved on, and so has its wording; the bar still explains the day
    fortnight = page_at(T0 + timedelta(days=15))
    assert "No incidents in the last 14 days." in fortnight
    assert "Disruptions without a published incident" not in fortnight
    assert "detected automatically; no incident was published" in bar_of(
        fortnight, early.checkout.pk, "02 Mar 2026"
    )


def test_an_ongoing_outage_without_an_incident_says_so_at_the_top(world: World, early: Site) -> None:
    with clock.frozen(T0):
        declare(world, title="Checkout errors")
        status_cycle()
    html = page_at(T0 + timedelta(minutes=20))
    top = text_of(html.split('aria-labelledby="overall-status"', 1)[1].split("</section>", 1)[0])
    assert "Major outage" in top
    assert "Checkout: major outage since 2 Mar 2026, 09:00 UTC, detected automatically." in top
    assert "No incident has been published about it yet." in top
    assert "09:00 – ongoing" in text_of(html)


def test_a_published_incident_accounts_for_its_outage(world: World, early: Site) -> None:
    outage(world, 35, public=True)
    html = page_at(LATER)
    assert (
        bar_of(html, early.checkout.pk, "02 Mar 2026")
        == "02 Mar 2026: Major outage for 35m — incident: Checkout errors"
    )
    assert "Disruptions without a published incident" not in html
    recent = html.split('id="recent-h"', 1)[1]
    assert "Checkout errors" in recent and "No incident" not in recent and "No incidents" not in recent
    with clock.frozen(LATER):
        assert Client().get("/status/acme/summary.json").json()["unpublished_disruptions"] == []


def test_a_day_with_both_says_how_much_was_not_published(world: World, early: Site) -> None:
    outage(world, 20, title="Quiet blip")
    with clock.frozen(T0 + timedelta(hours=1)):
        loud = declare(world, title="Payments down")
        post(world, loud, "Card payments fail.")
        status_cycle()
    with clock.frozen(T0 + timedelta(hours=1, minutes=30)):
        resolve(world, loud)
        status_cycle()
    html = page_at(LATER)
    assert bar_of(html, early.checkout.pk, "02 Mar 2026") == (
        "02 Mar 2026: Major outage for 50m — incident: Payments down; 20m detected automatically with no "
        "incident published"
    )
    recent = html.split('id="recent-h"', 1)[1]
    assert "Payments down" in recent and "Quiet blip" not in recent
    assert "Major outage Checkout: 2 Mar 2026, 09:00 – 2 Mar 2026, 09:20 UTC (20m)" in text_of(recent)


def test_a_status_set_by_hand_and_a_maintenance(world: World, early: Site) -> None:
    with clock.frozen(T0):
        pages.set_component_status(
            component=early.cdn, status="partial_outage", actor=world.alice, source="t"
        )
    with clock.frozen(T0 + timedelta(minutes=10)):
        pages.set_component_status(component=early.cdn, status="operational", actor=world.alice, source="t")
        pages.create_maintenance(
            page=early.page,
            title="Gateway upgrade",
            scheduled_start=T0 + timedelta(minutes=30),
            scheduled_end=T0 + timedelta(minutes=90),
            components=[early.api],
            actor=world.alice,
            source="t",
        )
    with clock.frozen(T0 + timedelta(minutes=30)):
        status_cycle()
    with clock.frozen(T0 + timedelta(minutes=90)):
        status_cycle()
    html = page_at(LATER)
    assert (
        bar_of(html, early.cdn.pk, "02 Mar 2026")
        == "02 Mar 2026: Partial outage for 10m — set by hand; no incident was published"
    )
    assert (
        bar_of(html, early.api.pk, "02 Mar 2026")
        == "02 Mar 2026: Under maintenance for 1h — maintenance: Gateway upgrade"
    )
    disruptions = html.split("Disruptions without a published incident", 1)[1]
    assert "CDN" in disruptions and "set by hand" in disruptions
    assert "API:" not in disruptions  # planned work is not a disruption
    assert bar_of(html, early.checkout.pk, "02 Mar 2026") == "02 Mar 2026: operational"


def test_an_active_published_incident_is_not_contradicted_below(world: World, early: Site) -> None:
    with clock.frozen(T0):
        incident = declare(world, title="Payments down")
        post(world, incident, "Card payments fail.")
        status_cycle()
    html = page_at(T0 + timedelta(minutes=5))
    assert "Active incidents" in html and "Payments down" in html
    assert "No incidents in the last 14 days" not in html
    assert "No other incidents in the last 14 days." in html
    assert "No incident has been published" not in html
