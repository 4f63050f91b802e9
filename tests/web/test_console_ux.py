"""Console rough edges a walk-through found: actions offered to people who may not take them, pages that say
"nothing here" where something exists, destructive buttons without a confirmation, and messages in the API's
words next to fields labelled otherwise."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.notify.conftest import smtp  # noqa: F401 (fixture: a server that sends email)
from tests.notify.receivers import Inbox
from tests.web.conftest import ClientFor
from warroom.comms import page_services as pages
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.reviews import services as reviews

pytestmark = pytest.mark.django_db

DECLARE = 'href="/incidents/declare/"'


def _html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# --------------------------------------------------------------------------------------------------- declare


def test_an_observer_is_not_offered_declare_and_is_told_why(client_for: ClientFor, world: World) -> None:
    dave = client_for(world.dave)  # observer in Team A, nothing else
    for url in ("/incidents/", f"/services/{world.service_a.slug}/"):
        assert DECLARE not in _html(dave, url), url
    shown = dave.get("/incidents/declare/")
    page = shown.content.decode()
    assert shown.status_code == 403, "a refusal, not a page that looks like it worked"
    assert "You cannot declare incidents" in page and "You are an observer in Team A." in page
    assert 'name="title"' not in page  # no form whose assignment group list is empty
    # a hand-made POST gets the same refusal, not the form's 400 about an empty or unknown team
    for team in ("", str(world.team_a.pk)):
        refused = dave.post(
            "/incidents/declare/", {"title": "Disk full", "impact": "2", "urgency": "2", "team": team}
        )
        text = refused.content.decode()
        assert refused.status_code == 403 and "You cannot declare incidents" in text, team
        assert "You are an observer in Team A." in text and 'name="title"' not in text
    assert not Incident.objects.exists()

    bob = client_for(world.bob)  # responder: the buttons and the form
    assert DECLARE in _html(bob, "/incidents/")
    assert 'name="title"' in _html(bob, "/incidents/declare/")


def test_done_shows_only_on_action_items_the_user_may_change(
    client_for: ClientFor, world: World, incident: Incident
) -> None:
    item = reviews.create_action_item(
        actor=world.alice, source="test", title="Add a canary", incident=incident
    )
    done = f"Mark done: {item.title}"
    assert done in _html(client_for(world.bob), "/action-items/")
    observer = _html(client_for(world.dave), "/action-items/")
    assert "Add a canary" in observer and done not in observer


# --------------------------------------------------------------------------------------------------- status pages


def test_the_status_page_list_says_whose_pages_are_missing(client_for: ClientFor, world: World) -> None:
    pages.create_page(
        team=world.team_b, name="Billing status", slug="billing", actor=world.charlie, source="t"
    )
    bob = _html(client_for(world.bob), "/status-pages/")
    assert "No status pages yet" not in bob
    assert "None of your teams owns a status page" in bob and "A manager or admin of your team" in bob
    alice = _html(client_for(world.alice), "/status-pages/")  # admin of Team A: may create one
    assert "None of your teams owns a status page yet: create one below" in alice


def test_deleting_a_group_or_removing_a_subscriber_asks_first(
    client_for: ClientFor,
    world: World,
    smtp: Inbox,  # noqa: F811 (a server that sends email: public email subscriptions need one)
) -> None:
    page = pages.create_page(team=world.team_a, name="Acme", slug="acme", actor=world.alice, source="t").page
    group = pages.create_group(page=page, name="Core", actor=world.alice, source="t")
    pages.create_component(page=page, name="Checkout", group=group, actor=world.alice, source="t")
    sub = pages.subscribe(page=page, kind="email", address="pat.doe@example.org", source="t").subscriber
    html = _html(client_for(world.alice), "/status-pages/acme/")

    confirm = re.search(
        rf'<details class="action-pop" id="delete-group-{group.pk}">(.*?)</details>', html, re.S
    )
    assert confirm is not None
    assert "Its component Checkout stays on the page without a group" in confirm.group(1)
    assert 'name="action" value="delete"' in confirm.group(1)
    assert html.count('value="delete"') == 1  # the Rename form no longer carries a one-click Delete

    remove = re.search(
        rf'<details class="action-pop align-right" id="remove-subscriber-{sub.pk}">(.*?)</details>',
        html,
        re.S,
    )
    assert remove is not None and "pat.doe@example.org" in remove.group(1)
    assert f"/subscribers/{sub.pk}/remove/" in remove.group(1)


def test_closing_a_problem_asks_first(client_for: ClientFor, world: World) -> None:
    problem = reviews.create_problem(
        actor=world.alice, source="t", title="Certificates expire", team=world.team_a
    )
    alice = client_for(world.alice)
    html = _html(alice, f"/problems/{problem.ref}/")
    confirm = re.search(
        r'<details class="action-pop align-right push-right" id="close-problem">(.*?)</details>', html, re.S
    )
    assert confirm is not None and "Closed is final" in confirm.group(1)
    assert 'name="to" value="closed"' in confirm.group(1)
    assert html.count('name="to" value="closed"') == 1


def test_the_problems_page_has_no_duplicate_ids(client_for: ClientFor, world: World) -> None:
    html = _html(client_for(world.alice), "/problems/")
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert [i for i in set(ids) if ids.count(i) > 1] == []


# --------------------------------------------------------------------------------------------------- wording


def test_required_fields_do_not_say_optional_and_errors_use_their_words(
    client_for: ClientFor, world: World, incident: Incident
) -> None:
    alice = client_for(world.alice)
    page = _html(alice, f"/incidents/{incident.ref}/")
    assert re.search(r">Add a note\s*</label>", page) and re.search(r">New task\s*</label>", page)
    empty = alice.post(reverse("web:incident-note", args=[incident.ref]), {"text": " "})
    assert empty.status_code == 400
    text = empty.content.decode()
    assert "Write the note first" in text and "text must not be empty" in text
    task = alice.post(reverse("web:incident-task-add", args=[incident.ref]), {"title": ""})
    assert task.status_code == 400 and "Name the task first" in task.content.decode()


def test_a_future_mitigation_is_named_as_the_field_is_labelled(client_for: ClientFor, world: World) -> None:
    incident = incidents.declare_incident(
        actor=world.alice, source="t", title="Disk full", team=world.team_a, services=[], impact=2, urgency=2
    )
    pm = reviews.create_postmortem(incident=incident, actor=world.bob, source="t")
    bob = client_for(world.bob)
    fields = {
        "title": pm.title,
        "version": str(pm.version),
        **{f"section-{s.key}": s.body for s in pm.sections.all()},
        "detection_notes": "",
        "response_notes": "",
        "mitigated_at": (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = bob.post(f"/postmortems/{pm.ref}/edit/", fields)
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(
        r'<div class="field has-error[^"]*">\s*<label [^>]*>Impact mitigated at.*?<p class="error" role="alert">([^<]*)</p>',
        html,
        re.S,
    )
    assert field is not None and field.group(1) == "The time the impact was mitigated is in the future"
    assert "mitigated_at is" not in html
    page = _html(bob, f"/postmortems/{pm.ref}/")
    assert "(optional wording)" not in page and re.search(r'>Question <span class="muted">\(optional\)', page)
