"""A postmortem written and published in Chromium: the draft the policy made when a P1 resolved, written by
alice, reviewed by Marcus in his own browser, published; then read on a phone. With WARROOM_SCREENSHOTS=1 the
published page lands in docs/screenshots/postmortem.png."""

from __future__ import annotations

import os
import re
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    WAIT_MS,
    Console,
    browser,
    console,
    page,
    phone,
    playwright,
    sign_in,
)
from tests.browser.seed import seed_realistic_desk
from tests.conftest import PASSWORD, World
from warroom.incidents import services as incidents
from warroom.reviews.models import Postmortem

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _no_csp_errors(console: Console) -> None:  # noqa: F811
    assert not [e for e in console.errors if "Content Security Policy" in e], console.errors


def test_write_review_and_publish_a_postmortem(
    page: Page,  # noqa: F811
    phone: Page,  # noqa: F811
    browser: Browser,  # noqa: F811
    live_server: LiveServer,
    world: World,
    console: Console,  # noqa: F811
    tmp_path: Path,
) -> None:
    featured = seed_realistic_desk(world)
    incidents.transition_incident(
        incident=featured,
        actor=world.alice,
        source="web",
        to="resolved",
        resolution_code="workaround",
        resolution_notes="Rolled checkout-api back to 4.2.0 on all pods.",
    )
    pm = Postmortem.objects.get(incident=featured)  # the policy's draft (P1)
    base = live_server.url
    sign_in(page, base, "alice@example.com", PASSWORD)

    # From the incident page to its draft.
    page.goto(f"{base}/incidents/{featured.ref}/")
    page.locator("#postmortem-link").click()
    expect(page.locator("#pm-status")).to_have_text("Draft")
    expect(page.locator("#ttr")).not_to_have_text("—")

    # Write it.
    page.get_by_label("Summary").fill(
        "For 27 minutes about a third of checkout requests failed with 502 after release **4.2.1** renamed "
        "`DATABASE_POOL_SIZE`. Rolling back to 4.2.0 restored service."
    )
    page.get_by_label("Root cause").fill(
        "Release 4.2.1 read a renamed setting; new pods crash-looped on start."
    )
    page.get_by_label("What went well").fill(
        "- The 5xx alert paged within a minute\n- The rollback took 6 minutes"
    )
    page.get_by_label("What went badly").fill(
        "- Nothing in CI started the new image with production settings"
    )
    page.get_by_label("Lessons learned").fill("Settings are an API: rename them in two releases.")
    page.get_by_label("Contributing factors").first.fill(
        "The rollout went to half of the pods at once, and the readiness probe did not check the database pool."
    )
    page.get_by_label("Detection notes").fill("The 5xx rate alert paged Priya one minute after the rollout.")
    page.get_by_label("Response notes").fill(
        "Command was clear; the status page update came 15 minutes late."
    )
    mitigated = (featured.opened_at + timedelta(minutes=21)).astimezone(UTC)
    page.get_by_label("Impact mitigated at").fill(mitigated.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#saved")).to_have_text("Saved.")
    expect(page.locator("#ttm")).to_have_text(re.compile(r"^2[01]m"))
    expect(page.locator("#write textarea[name='section-root-cause']")).to_have_value(
        "Release 4.2.1 read a renamed setting; new pods crash-looped on start."
    )

    # A backdated key event: the rollout began before anyone was paged.
    rollout = (featured.opened_at - timedelta(minutes=6)).astimezone(UTC)
    page.get_by_label("When").fill(rollout.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("What happened").fill("4.2.1 rollout reaches 50% of pods")
    page.get_by_role("button", name="Add event").click()
    expect(page.locator("#key-events .pm-events").first).to_contain_text("4.2.1 rollout reaches 50% of pods")

    # The 5 whys and a contributing factor.
    for answer in (
        "New pods crash-looped on start.",
        "They read DATABASE_POOL_SIZE, which 4.2.1 renamed.",
        "Nothing starts the image with production settings before release.",
    ):
        page.get_by_label("Because").fill(answer)
        page.get_by_role("button", name="Add why").click()
        expect(page.locator("#whys .chain")).to_contain_text(answer)
    page.get_by_label("Category").select_option(label="Change")
    page.locator("#factors").get_by_label("Description").fill(
        "The 4.2.1 rollout went to 50% of pods at once."
    )
    page.get_by_role("button", name="Add factor").click()
    expect(page.locator("#factors")).to_contain_text("The 4.2.1 rollout went to 50% of pods at once.")

    # An action item for the follow-up.
    page.locator("#action-items summary", has_text="Add action item").click()
    page.locator("#action-items").get_by_label("Title").fill("Start the image with production settings in CI")
    page.locator("#action-items").get_by_label("Owner").select_option(label="Priya Natarajan")
    page.locator("#action-items").get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#action-items")).to_contain_text("Start the image with production settings in CI")

    # Submit for review, naming Marcus and alice herself.
    page.locator("summary", has_text="Submit for review…").click()
    page.get_by_label("Marcus Chen", exact=True).check()
    page.get_by_label("Alice Admin", exact=True).check()
    page.get_by_role("button", name="Submit for review", exact=True).click()
    expect(page.locator("#pm-status")).to_have_text("In review")
    expect(page.get_by_role("button", name="Publish")).to_be_disabled()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#review")).to_contain_text("approved")

    # Marcus approves in his own browser.
    other = browser.new_context()
    other.set_default_timeout(WAIT_MS)
    marcus = other.new_page()
    sign_in(marcus, base, "marcus@example.com", PASSWORD)
    marcus.goto(f"{base}/postmortems/{pm.ref}/")
    marcus.get_by_role("button", name="Approve").click()
    expect(marcus.locator("#review")).not_to_contain_text("waiting")
    other.close()

    # alice publishes; the page is read-only now and the incident's timeline says so.
    page.reload()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#pm-status")).to_have_text("Published")
    expect(page.locator("#write textarea")).to_have_count(0)
    expect(page.locator("#section-root-cause")).to_contain_text("renamed setting")
    target = SCREENSHOTS if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / "postmortem.png"), full_page=True)
    assert (target / "postmortem.png").stat().st_size > 10_000
    page.goto(f"{base}/incidents/{featured.ref}/")
    expect(page.locator("#timeline")).to_contain_text("Postmortem published")
    _no_csp_errors(console)

    # On a phone: nothing wider than the screen.
    sign_in(phone, base, "alice@example.com", PASSWORD)
    phone.goto(f"{base}/postmortems/{pm.ref}/")
    expect(phone.locator("#pm-status")).to_have_text("Published")
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    _no_csp_errors(console)
