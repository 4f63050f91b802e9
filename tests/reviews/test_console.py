"""The console pages of postmortems, action items and problems, and the incident page's panel."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.test import Client

from tests.conftest import World
from tests.reviews.conftest import declare
from warroom.incidents import services as incident_services
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock
from warroom.reviews import selectors, services
from warroom.reviews.models import ActionItem, Postmortem, PostmortemPolicy, Problem

pytestmark = pytest.mark.django_db

ClientFor = Callable[[object], Client]


def _no_inline_script(html: str) -> None:
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        assert 'src="' in attrs and not body.strip(), attrs
    assert " style=" not in html and "<style" not in html


@pytest.fixture
def setup(world: World) -> tuple[Incident, Problem]:
    incident = declare(world, title="Checkout returns 502 after deploy", impact=2, urgency=2)
    problem = services.create_problem(
        actor=world.alice,
        source="test",
        title="Checkout pods crash-loop after a deploy",
        team=world.team_a,
        services=[world.service_a],
        workaround="Run `deploy rollback checkout`.",
    )
    return incident, problem


def test_incident_page_offers_a_postmortem_and_the_workaround(
    world: World, client_for: ClientFor, setup: tuple[Incident, Problem]
) -> None:
    incident, problem = setup
    bob = client_for(world.bob)
    page = bob.get(f"/incidents/{incident.ref}/").content.decode()
    assert "Start postmortem" in page
    assert problem.ref in page and "<code>deploy rollback checkout</code>" in page  # the workaround, inline
    _no_inline_script(page)
    # One click starts the postmortem from the record (the panel's form carries the CSRF token).
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.bob)
    panel = strict.get(f"/incidents/{incident.ref}/").content.decode()
    form = panel[panel.index('action="/postmortems/start/"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    response = strict.post("/postmortems/start/", {"incident": incident.ref, "csrfmiddlewaretoken": token[1]})
    pm = Postmortem.objects.get(incident=incident)
    assert response.status_code == 302 and response["Location"] == f"/postmortems/{pm.ref}/"
    page = bob.get(f"/incidents/{incident.ref}/").content.decode()
    assert 'id="postmortem-link"' in page and "Start postmortem" not in page
    # An observer sees the link but is not offered to start one on another incident.
    other = declare(world, title="Another one", impact=3)
    assert "Start postmortem" not in client_for(world.dave).get(f"/incidents/{other.ref}/").content.decode()


def test_postmortem_page_edit_and_errors(
    world: World, client_for: ClientFor, setup: tuple[Incident, Problem]
) -> None:
    incident, _problem = setup
    pm = services.create_postmortem(incident=incident, actor=world.bob, source="test")
    bob = client_for(world.bob)
    page = bob.get(f"/postmortems/{pm.ref}/").content.decode()
    _no_inline_script(page)
    assert "Submit for review" in page and 'name="section-summary"' in page
    fields = {
        "title": "Checkout 502s",
        "version": str(pm.version),
        "section-summary": "It broke.",
        "section-impact": "",
        "section-timeline": "",
        "section-root-cause": "A renamed setting.",
        "section-contributing-factors": "",
        "section-went-well": "",
        "section-went-badly": "",
        "section-lessons": "",
        "detection_notes": "",
        "response_notes": "",
        "mitigated_at": "",
    }
    response = bob.post(f"/postmortems/{pm.ref}/edit/", fields)
    assert response.status_code == 302
    fresh = Postmortem.objects.get(pk=pm.pk)
    assert fresh.title == "Checkout 502s"
    assert fresh.sections.get(key="root-cause").body == "A renamed setting."
    # A stale version: 409, the message on the page, nothing written.
    response = bob.post(
        f"/postmortems/{pm.ref}/edit/", {**fields, "title": "Late"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "changed by someone else meanwhile" in response.content.decode()
    assert Postmortem.objects.get(pk=pm.pk).title == "Checkout 502s"
    # htmx actions answer with the page in place.
    response = bob.post(
        f"/postmortems/{pm.ref}/whys/", {"answer": "Pods crash-looped."}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and 'id="pm-main"' in response.content.decode()
    assert "Pods crash-looped." in response.content.decode()
    response = bob.post(f"/postmortems/{pm.ref}/factors/", {"category": "", "description": "x"})
    assert response.status_code == 400
    response = bob.post(f"/postmortems/{pm.ref}/events/", {"at": "2026-03-01T08:00", "text": "Deploy 4.2.1"})
    assert response.status_code == 302
    # The observer reads it, without forms.
    dave = client_for(world.dave).get(f"/postmortems/{pm.ref}/").content.decode()
    assert "A renamed setting." in dave and 'name="section-summary"' not in dave
    assert client_for(world.dave).post(f"/postmortems/{pm.ref}/whys/", {"answer": "x"}).status_code == 403


def test_charlie_gets_404_everywhere(
    world: World, client_for: ClientFor, setup: tuple[Incident, Problem]
) -> None:
    incident, problem = setup
    pm = services.create_postmortem(incident=incident, actor=world.bob, source="test")
    item = services.create_action_item(actor=world.bob, source="test", title="Do it", postmortem=pm)
    charlie = client_for(world.charlie)
    for path in [
        f"/postmortems/{pm.ref}/",
        f"/problems/{problem.ref}/",
        f"/action-items/{item.pk}/",
    ]:
        assert charlie.get(path).status_code == 404, path
    for path in [
        f"/postmortems/{pm.ref}/edit/",
        f"/problems/{problem.ref}/transition/",
        f"/action-items/{item.pk}/status/",
    ]:
        assert charlie.post(path, {}).status_code == 404, path
    for path in ["/postmortems/", "/problems/", "/action-items/"]:
        page = charlie.get(path).content.decode()
        assert pm.title not in page and problem.title not in page and "Do it" not in page


def test_action_item_pages(world: World, client_for: ClientFor, setup: tuple[Incident, Problem]) -> None:
    _incident, problem = setup
    item = services.create_action_item(
        actor=world.alice,
        source="test",
        title="Alert on crash loops",
        owner=world.bob,
        due_date=date(2020, 1, 1),
        problem=problem,
    )
    bob = client_for(world.bob)
    page = bob.get("/action-items/?owner=me&overdue=on").content.decode()
    _no_inline_script(page)
    assert "Alert on crash loops" in page and "overdue-date" in page
    assert "Alert on crash loops" not in bob.get("/action-items/?status=done").content.decode()
    response = bob.post(
        f"/action-items/{item.pk}/status/", {"status": "done", "next": "/action-items/?owner=me"}
    )
    assert response.status_code == 302 and response["Location"] == "/action-items/?owner=me"
    assert ActionItem.objects.get(pk=item.pk).status == "done"
    response = bob.post(
        f"/action-items/{item.pk}/status/", {"status": "open", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/action-items/{item.pk}/"
    detail = bob.get(f"/action-items/{item.pk}/").content.decode()
    assert problem.ref in detail and 'name="version"' in detail


def test_problem_pages(world: World, client_for: ClientFor, setup: tuple[Incident, Problem]) -> None:
    incident, problem = setup
    bob = client_for(world.bob)
    page = bob.get("/problems/?known=on").content.decode()
    _no_inline_script(page)
    assert problem.ref in page and "Known error" in page
    response = bob.post("/problems/", {"title": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = bob.post("/problems/", {"title": "Pool exhaustion", "team": world.team_a.pk})
    created = Problem.objects.get(title="Pool exhaustion")
    assert response.status_code == 302 and response["Location"] == f"/problems/{created.ref}/"
    response = bob.post(
        f"/problems/{created.ref}/transition/", {"to": "resolved", "version": created.version}
    )
    assert response.status_code == 409 and "cannot move from New to Resolved" in response.content.decode()
    response = bob.post(f"/problems/{created.ref}/incidents/", {"ref": incident.ref, "action": "link"})
    assert response.status_code == 302
    assert bob.get(f"/problems/{created.ref}/").content.decode().count(incident.ref) >= 1
    response = bob.post(f"/problems/{created.ref}/incidents/", {"ref": "INC0999999", "action": "link"})
    assert response.status_code == 400 and "not found" in response.content.decode()


def test_settings(world: World, client_for: ClientFor) -> None:
    alice = client_for(world.alice)
    assert alice.get("/postmortems/settings/").status_code == 200
    assert (
        alice.post(
            "/postmortems/settings/", {"form": "policy", "required_priorities": ["1"], "due_days": "3"}
        ).status_code
        == 403
    )
    olivia = client_for(world.olivia)
    response = olivia.post(
        "/postmortems/settings/", {"form": "policy", "required_priorities": ["1", "3"], "due_days": "3"}
    )
    assert response.status_code == 302
    policy = PostmortemPolicy.objects.get()
    assert (policy.required_priorities, policy.due_days) == ([1, 3], 3)
    response = olivia.post("/postmortems/settings/", {"form": "category", "name": "Hardware"})
    assert response.status_code == 302


def test_a_storm_postmortem_tells_the_story_not_the_alert_log(world: World, client_for: ClientFor) -> None:
    """An incident 600 alerts joined: its postmortem's default key events hold the alert that opened it and the
    first that joined, not 600 lines; the picker offers the first and last alert lines and what was picked."""
    incident = declare(world, title="Checkout pods crash-loop", impact=2, urgency=2)
    start = incident.opened_at
    incident_services.record_alert(
        incident=incident,
        source="engine",
        at=start,
        message="Alert 1 (critical) from am opened this incident: x",
    )
    for n in range(2, 602):
        incident_services.record_alert(
            incident=incident,
            source="engine",
            at=start + timedelta(seconds=n),
            message=f"Alert {n} (critical) from am joined this incident: pod-{n} crash-looping",
        )
    pm = services.create_postmortem(incident=incident, actor=world.bob, source="test")

    texts = [e.text for e in selectors.key_events(pm)]
    alert_texts = [t for t in texts if t.startswith("Alert ")]
    assert [t.split(" (")[0] for t in alert_texts] == ["Alert 1", "Alert 2"]

    middle = TimelineEntry.objects.get(incident=incident, message__startswith="Alert 300 (")
    services.set_key_event(postmortem=pm, entry=middle, key=True, actor=world.bob, source="test")
    picker = selectors.picker_entries(pm)
    offered = [e.message.split(" (")[0] for e in picker.entries if e.message.startswith("Alert ")]
    assert offered == [f"Alert {n}" for n in [*range(1, 11), 300, *range(592, 602)]]
    assert picker.left_out == 601 - 21

    html = client_for(world.bob).get(f"/postmortems/{pm.ref}/").content.decode()
    assert "580 more alert lines of a storm are left out here" in html
    # the picker's 20 "joined" lines (9 + 1 + 10), and the key events' two (alert 2 and the picked alert 300)
    assert html.count("crash-looping") == 22


def test_a_mitigation_before_the_incident_began_is_a_form_error(
    world: World, client_for: ClientFor, setup: tuple[Incident, Problem]
) -> None:
    incident, _problem = setup
    pm = services.create_postmortem(incident=incident, actor=world.bob, source="test")
    bob = client_for(world.bob)
    fields = {
        "title": pm.title,
        "version": str(pm.version),
        **{f"section-{s.key}": s.body for s in pm.sections.all()},
        "detection_notes": "",
        "response_notes": "",
        "mitigated_at": (incident.opened_at - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = bob.post(f"/postmortems/{pm.ref}/edit/", fields)
    assert response.status_code == 400
    # the message sits on the field itself
    field = re.search(
        r'<div class="field has-error[^"]*">\s*<label [^>]*>Impact mitigated at.*?<p class="error" role="alert">([^<]*)</p>',
        response.content.decode(),
        re.S,
    )
    assert field is not None and "is before the impact began" in field.group(1), response.content.decode()
    assert Postmortem.objects.get(pk=pm.pk).mitigated_at is None


def test_the_key_event_picker_never_shows_an_incident_its_author_may_not_see(
    world: World, client_for: ClientFor
) -> None:
    """The incident is related to another team's private incident: its timeline line names it. Bob, who writes
    the postmortem but may not see that incident, neither reads its number in the picker nor stores it by
    picking the line."""
    incident = declare(world, title="Checkout pods crash-loop", impact=2, urgency=2)
    secret = declare(
        world,
        actor=world.charlie,
        title="Credential stuffing",
        team=world.team_b,
        services=[world.service_b],
        is_private=True,
    )
    incident_services.link_related(incident=incident, other=secret, actor=world.olivia, source="test")
    pm = services.create_postmortem(incident=incident, actor=world.bob, source="test")
    html = client_for(world.bob).get(f"/postmortems/{pm.ref}/").content.decode()
    assert "Related to" in html and secret.ref not in html and "Credential stuffing" not in html
    line = TimelineEntry.objects.get(incident=incident, field="related")
    services.set_key_event(postmortem=pm, entry=line, key=True, actor=world.bob, source="test")
    pm.refresh_from_db()
    texts = [e.text for e in selectors.key_events(pm)]
    assert any("an incident you cannot see" in text for text in texts), texts
    assert not any(secret.ref in text for text in texts)
    assert secret.ref in client_for(world.olivia).get(f"/incidents/{incident.ref}/").content.decode()


def test_the_list_marks_a_required_postmortem_past_its_due_date(world: World, client_for: ClientFor) -> None:
    late_incident = declare(world, title="Checkout returns 502 after deploy", impact=2, urgency=2)
    soon_incident = declare(world, title="Search is slow", impact=2, urgency=2)
    late = services.create_postmortem(incident=late_incident, actor=world.alice, source="test")
    soon = services.create_postmortem(incident=soon_incident, actor=world.alice, source="test")
    now = clock.now()
    Postmortem.objects.filter(pk=late.pk).update(required=True, due_at=now - timedelta(days=52))
    Postmortem.objects.filter(pk=soon.pk).update(required=True, due_at=now + timedelta(days=5))
    page = client_for(world.alice).get("/postmortems/").content.decode()
    late_row = re.search(rf"{late.ref}.*?</tr>", page, re.S)
    soon_row = re.search(rf"{soon.ref}.*?</tr>", page, re.S)
    assert late_row and soon_row
    assert 'class="small overdue-date nowrap">overdue since' in late_row.group(0)
    assert "overdue" not in soon_row.group(0) and ">due " in soon_row.group(0)


def test_key_event_times_and_the_forms_name_the_readers_zone(
    world: World, client_for: ClientFor, setup: tuple[Incident, Problem]
) -> None:
    """Bob reads the console in New York: the key events he picks or types are in his zone, and the page says
    which, next to the times and on the fields that take one."""
    incident, _problem = setup
    world.bob.time_zone = "America/New_York"
    world.bob.save(update_fields=["time_zone"])
    pm = services.create_postmortem(incident=incident, actor=world.bob, source="test")
    bob = client_for(world.bob)
    added = bob.post(f"/postmortems/{pm.ref}/events/", {"at": "2026-03-01T08:00", "text": "Deploy 4.2.1"})
    assert added.status_code == 302
    assert pm.key_events.get(text="Deploy 4.2.1").at.isoformat() == "2026-03-01T13:00:00+00:00"  # 08:00 EST
    page = bob.get(f"/postmortems/{pm.ref}/").content.decode()
    card = page[page.index('id="key-events"') : page.index("</section>", page.index('id="key-events"'))]
    head = re.sub(r"<[^>]+>", "", card[: card.index("</div>")])
    assert "times in America/New_York" in head, head
    assert ">Mar 1, 08:00</time>" in card
    assert "In your time zone (America/New_York)." in card  # the "When" of a new key event
    assert "In your time zone (America/New_York); leave empty when the impact stopped" in page  # mitigated at
    # the zone is the reader's: alice, in UTC, reads the same event at 13:00 and is told so
    alice = client_for(world.alice).get(f"/postmortems/{pm.ref}/").content.decode()
    assert 'times in <span class="zone">UTC</span>' in alice and ">Mar 1, 13:00</time>" in alice
