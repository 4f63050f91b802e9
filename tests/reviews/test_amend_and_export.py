"""Amending a published postmortem, and exporting one as Markdown and as a printable page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.reviews.conftest import T0, declare, resolve
from warroom.audit.models import AuditEvent
from warroom.incidents import services as incidents
from warroom.incidents.models import TimelineEntry
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.reviews import selectors, services
from warroom.reviews.models import Amendment, Postmortem

pytestmark = pytest.mark.django_db


def _published(world: World) -> Postmortem:
    """A P2 incident declared 09:00, started 09:05, resolved 09:45; its postmortem written and published."""
    with clock.frozen(T0):
        incident = declare(world, impact=1, urgency=2, title="Checkout returns 502")
        clock.advance(timedelta(minutes=5))
        incidents.transition_incident(incident=incident, actor=world.bob, source="test", to="in_progress")
        clock.advance(timedelta(minutes=40))
        resolve(incident, world.bob)
        pm = Postmortem.objects.get(incident=incident)
        clock.advance(timedelta(hours=2))
        pm = services.update_postmortem(
            postmortem=pm,
            actor=world.bob,
            source="test",
            sections={
                "summary": "Checkout failed | badly.",
                "root-cause": "The pool size setting was renamed.",
            },
            detection_notes="The 5xx alert paged bob.",
        )
        services.add_key_event(
            postmortem=pm,
            at=T0 - timedelta(minutes=20),
            text="4.2.1 rolled out to 50% of pods",
            actor=world.bob,
            source="test",
        )
        services.add_why(postmortem=pm, answer="New pods crash-looped.", actor=world.bob, source="test")
        services.add_why(
            postmortem=pm,
            question="Why did they crash?",
            answer="A setting was renamed.",
            actor=world.bob,
            source="test",
        )
        services.add_factor(
            postmortem=pm,
            category=selectors.get_category_or_404("change"),
            description="4.2.1 rollout",
            actor=world.bob,
            source="test",
        )
        services.create_action_item(
            actor=world.bob,
            source="test",
            title="Alert on crash loops",
            owner=world.bob,
            due_date=date(2026, 3, 9),
            priority=1,
            postmortem=pm,
        )
        services.submit_postmortem(postmortem=pm, reviewers=[world.alice], actor=world.bob, source="test")
        services.approve_postmortem(postmortem=pm, actor=world.alice, source="test")
        return services.publish_postmortem(postmortem=pm, actor=world.alice, source="test")


def test_amend_after_publish(world: World, api: Clients) -> None:
    pm = _published(world)
    ref = pm.ref
    # Only by amendment, only by the team's admins and managers, and with a reason.
    with pytest.raises(Conflict):
        services.update_postmortem(postmortem=pm, actor=world.alice, source="test", title="Quietly changed")
    with pytest.raises(PermissionDenied):
        services.amend_postmortem(postmortem=pm, actor=world.bob, source="test", reason="typo", title="New")
    response = api.alice.post(f"/postmortems/{ref}/amendments", {"reason": " ", "title": "New"})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "reason"
    with pytest.raises(ValidationFailed):
        services.amend_postmortem(
            postmortem=pm, actor=world.alice, source="test", reason="nothing", title=pm.title
        )

    response = api.alice.post(
        f"/postmortems/{ref}/amendments",
        {
            "reason": "The root cause was the connection pool, not the setting.",
            "sections": {"root-cause": "The connection pool was exhausted."},
        },
    )
    assert response.status_code == 201, response.content
    amendment = Amendment.objects.get()
    assert amendment.changes == {
        "sections.root-cause": {
            "before": "The pool size setting was renamed.",
            "after": "The connection pool was exhausted.",
        }
    }
    assert amendment.author == world.alice
    detail = api.alice.get(f"/postmortems/{ref}").json()
    assert {s["key"]: s["body"] for s in detail["sections"]}[
        "root-cause"
    ] == "The connection pool was exhausted."
    assert detail["status"] == "published" and detail["amendments"][0]["reason"].startswith("The root cause")
    # The incident's timeline records it, and so does the audit log.
    note = TimelineEntry.objects.filter(incident=pm.incident, kind="note").latest("id")
    assert note.message == "Postmortem amended: The root cause was the connection pool, not the setting."
    assert AuditEvent.objects.filter(action="postmortem.amend", object_id=str(pm.pk)).count() == 1
    # Unknown sections are refused naming them.
    response = api.alice.post(f"/postmortems/{ref}/amendments", {"reason": "x", "sections": {"nope": "y"}})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "sections.nope"


def test_markdown_export(world: World, api: Clients, client_for: object) -> None:
    pm = _published(world)
    response = api.dave.get(f"/postmortems/{pm.ref}/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="postmortem-{pm.ref}.md"'
    text = response.content.decode()
    assert text.startswith("# Postmortem: Checkout returns 502\n")
    assert f"- **Incident:** {pm.ref} — Checkout returns 502" in text
    assert "- **Status:** Published on 2026-03-02 11:45 UTC by Alice Admin" in text
    assert "- **Reviewers:** Alice Admin (approved)" in text
    assert "| Declared | 2026-03-02 09:00 UTC |" in text
    assert "| Time to acknowledge | 5m |" in text
    assert "| Time to resolve | 45m |" in text
    assert "| Time to detect | — |" in text
    assert "| SLA | not tracked |" in text
    assert "## Summary\n\nCheckout failed | badly." in text
    assert "## Root cause\n\nThe pool size setting was renamed." in text
    # Key events: the backdated deploy comes first; a pipe inside a cell is escaped.
    events = text.split("## Key events")[1].split("## 5 whys")[0]
    rows = [line for line in events.splitlines() if line.startswith("| 2026")]
    assert rows[0] == "| 2026-03-02 08:40 UTC | 4.2.1 rolled out to 50% of pods |"
    assert rows[-1].startswith("| 2026-03-02 09:45 UTC |") and "Resolved" in rows[-1]
    assert "1. **Why?** New pods crash-looped.\n2. **Why did they crash?** A setting was renamed." in text
    assert "- **Change** — 4.2.1 rollout" in text
    assert "## Detection\n\nThe 5xx alert paged bob." in text
    assert "- [ ] Alert on crash loops — Bob Responder, due 2026-03-09, High priority (Open)" in text
    # The console serves the same file.
    console: Client = client_for(world.dave)  # type: ignore[operator]
    page = console.get(f"/postmortems/{pm.ref}/export.md")
    assert page.status_code == 200 and page.content.decode() == text


def test_printable_page(world: World, client_for: object) -> None:
    pm = _published(world)
    console: Client = client_for(world.dave)  # type: ignore[operator]
    response = console.get(f"/postmortems/{pm.ref}/print/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Postmortem: Checkout returns 502</h1>" in html
    assert "print.css" in html and "<h2>Key events</h2>" in html and "4.2.1 rolled out to 50% of pods" in html
    # CSP: every script is a file with the request's nonce; no inline code, no inline styles.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all(
        'src="' in attrs and "nonce=" in attrs and not body.strip() for attrs, body in scripts
    )
    assert "style=" not in html and "<style" not in html
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_published_facts_are_frozen(world: World) -> None:
    pm = _published(world)
    with clock.frozen(datetime(2026, 3, 5, tzinfo=UTC)):
        incidents.add_note(incident=pm.incident, actor=world.bob, source="test", text="Later note")
    fresh = Postmortem.objects.get(pk=pm.pk)
    assert fresh.facts is not None
    facts = selectors.facts_of(fresh)
    assert facts.durations.resolve == 45 * 60
    assert all("Later note" not in e.text for e in selectors.key_events(fresh))
