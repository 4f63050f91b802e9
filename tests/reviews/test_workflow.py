"""The review workflow (draft → in review → published) and who may do what: charlie (team B) sees nothing of
team A's postmortems, dave (observer) reads, bob (responder) writes, alice (admin) publishes, named reviewers
approve."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.reviews.conftest import declare
from warroom.incidents.models import TimelineEntry
from warroom.lib.errors import PermissionDenied, ValidationFailed
from warroom.reviews import selectors, services
from warroom.reviews.models import Postmortem

pytestmark = pytest.mark.django_db


def test_charlie_sees_nothing_of_team_a(
    world: World, api: Clients, client_for: object, draft: Postmortem
) -> None:
    ref = draft.ref
    charlie = api.charlie
    assert charlie.get("/postmortems").json()["count"] == 0
    for method, path, body in [
        ("GET", f"/postmortems/{ref}", None),
        ("PATCH", f"/postmortems/{ref}", {"title": "mine now"}),
        ("GET", f"/postmortems/{ref}/export", None),
        ("GET", f"/postmortems/{ref}/comments", None),
        ("POST", f"/postmortems/{ref}/comments", {"body": "hello"}),
        ("POST", f"/postmortems/{ref}/whys", {"answer": "because"}),
        ("POST", f"/postmortems/{ref}/submit", {"reviewers": ["charlie@example.com"]}),
        ("POST", f"/postmortems/{ref}/publish", None),
    ]:
        response = charlie.call(method, path, body) if body is not None else charlie.call(method, path)
        assert response.status_code == 404, (method, path, response.content)
        assert error(response)["code"] == "not_found"
    # Naming team A's incident in a body is a 400 on the field, not a way to learn it exists.
    response = charlie.post("/postmortems", {"incident": draft.incident.ref})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "incident"
    # The console: 404 on the page, nothing on the list.
    console: Client = client_for(world.charlie)  # type: ignore[operator]
    assert console.get(f"/postmortems/{ref}/").status_code == 404
    assert console.get(f"/postmortems/{ref}/export.md").status_code == 404
    assert console.get(f"/postmortems/{ref}/print/").status_code == 404
    assert draft.title not in console.get("/postmortems/").content.decode()
    with pytest.raises(PermissionDenied):
        services.create_postmortem(incident=declare(world, impact=3), actor=world.charlie, source="test")


def test_observer_reads_but_does_not_write(api: Clients, draft: Postmortem) -> None:
    ref = draft.ref
    dave = api.dave
    body = dave.get(f"/postmortems/{ref}").json()
    assert body["can_write"] is False and body["can_publish"] is False
    for method, path, payload in [
        ("PATCH", f"/postmortems/{ref}", {"title": "dave's take"}),
        ("POST", f"/postmortems/{ref}/whys", {"answer": "because"}),
        ("POST", f"/postmortems/{ref}/factors", {"category": "change", "description": "a deploy"}),
        ("POST", f"/postmortems/{ref}/key-events", {"at": "2026-03-01T08:00:00Z", "text": "deploy"}),
        ("POST", f"/postmortems/{ref}/comments", {"body": "hi"}),
        ("POST", f"/postmortems/{ref}/submit", {"reviewers": ["alice@example.com"]}),
    ]:
        response = dave.call(method, path, payload)
        assert response.status_code == 403, (path, response.content)
        assert error(response)["code"] == "forbidden"


def test_write_review_and_publish(world: World, api: Clients, draft: Postmortem) -> None:
    ref = draft.ref
    bob, alice, dave = api.bob, api.alice, api.dave
    version = bob.get(f"/postmortems/{ref}").json()["version"]
    edited = bob.patch(
        f"/postmortems/{ref}",
        {
            "sections": {"summary": "Checkout failed after **4.2.1**.", "root-cause": "A renamed setting."},
            "detection_notes": "Paged by the 5xx alert.",
            "version": version,
        },
    )
    assert edited.status_code == 200, edited.content
    sections = {s["key"]: s for s in edited.json()["sections"]}
    assert sections["summary"]["body_html"] == "<p>Checkout failed after <strong>4.2.1</strong>.</p>\n"
    assert bob.post(f"/postmortems/{ref}/whys", {"answer": "Pods crash-looped."}).status_code == 201
    assert (
        bob.post(f"/postmortems/{ref}/factors", {"category": "change", "description": "4.2.1"}).status_code
        == 201
    )

    # Publishing a draft is refused: it needs a review first.
    response = alice.post(f"/postmortems/{ref}/publish")
    assert response.status_code == 409 and error(response)["errors"][0]["field"] == "status"

    submitted = bob.post(
        f"/postmortems/{ref}/submit", {"reviewers": ["alice@example.com", "dave@example.com"]}
    )
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "in_review"
    assert [r["user"]["email"] for r in submitted.json()["reviewers"]] == [
        "alice@example.com",
        "dave@example.com",
    ]

    # Bob is not a reviewer and not a manager: he neither approves nor publishes.
    assert bob.post(f"/postmortems/{ref}/approve").status_code == 403
    assert bob.post(f"/postmortems/{ref}/publish").status_code == 403
    # dave (an observer, but a named reviewer) approves and comments.
    assert dave.post(f"/postmortems/{ref}/approve").json()["reviewers"][1]["approved"] is True
    assert dave.post(f"/postmortems/{ref}/comments", {"body": "Looks right to me."}).status_code == 201
    # alice has not approved yet: publishing waits for her.
    response = alice.post(f"/postmortems/{ref}/publish")
    assert response.status_code == 409
    assert error(response)["detail"] == "waiting for approval from Alice Admin"
    assert alice.post(f"/postmortems/{ref}/approve").status_code == 200
    published = alice.post(f"/postmortems/{ref}/publish")
    assert published.status_code == 200, published.content
    body = published.json()
    assert body["status"] == "published" and body["published_by"]["email"] == "alice@example.com"
    assert body["facts"]["frozen"] is True

    # The incident's timeline says so (a note by alice), and the published text is read-only.
    note = TimelineEntry.objects.filter(incident=draft.incident, kind="note").latest("id")
    assert note.message == f"Postmortem published: **{draft.title}**" and note.actor == world.alice
    response = bob.patch(f"/postmortems/{ref}", {"title": "Changed later"})
    assert response.status_code == 409 and "amendment" in error(response)["detail"]
    assert bob.post(f"/postmortems/{ref}/whys", {"answer": "late"}).status_code == 409


def test_request_changes_sends_it_back_and_withdraws_approvals(
    world: World, api: Clients, draft: Postmortem
) -> None:
    ref = draft.ref
    api.bob.post(f"/postmortems/{ref}/submit", {"reviewers": ["alice@example.com", "dave@example.com"]})
    api.alice.post(f"/postmortems/{ref}/approve")
    response = api.dave.post(f"/postmortems/{ref}/request-changes", {"comment": "Add the 5 whys, please."})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "draft"
    assert [r["approved"] for r in body["reviewers"]] == [False, False]
    assert body["comments"][-1]["body"] == "**Changes requested.** Add the 5 whys, please."
    # Empty comments are refused, naming the field.
    again = api.bob.post(f"/postmortems/{ref}/submit", {"reviewers": ["dave@example.com"]})
    assert [r["user"]["email"] for r in again.json()["reviewers"]] == ["dave@example.com"]
    response = api.dave.post(f"/postmortems/{ref}/request-changes", {"comment": "  "})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "comment"


def test_reviewers_belong_to_the_team(world: World, api: Clients, draft: Postmortem) -> None:
    response = api.bob.post(f"/postmortems/{draft.ref}/submit", {"reviewers": ["charlie@example.com"]})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "reviewers"
    response = api.bob.post(f"/postmortems/{draft.ref}/submit", {"reviewers": []})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "reviewers"
    with pytest.raises(ValidationFailed) as refused:
        services.submit_postmortem(
            postmortem=draft, reviewers=[world.charlie], actor=world.olivia, source="test"
        )
    assert refused.value.field == "reviewers" and "not a member of Team A" in refused.value.message
    # An organisation admin may review anything.
    services.submit_postmortem(postmortem=draft, reviewers=[world.olivia], actor=world.bob, source="test")
    assert selectors.is_reviewer(world.olivia, draft)


def test_a_stale_version_is_a_conflict(api: Clients, draft: Postmortem) -> None:
    version = api.bob.get(f"/postmortems/{draft.ref}").json()["version"]
    assert api.alice.patch(f"/postmortems/{draft.ref}", {"title": "First"}).status_code == 200
    response = api.bob.patch(f"/postmortems/{draft.ref}", {"title": "Second", "version": version})
    assert response.status_code == 409 and error(response)["errors"][0]["field"] == "version"


def test_a_private_incidents_postmortem_stays_with_its_audience(world: World, api: Clients) -> None:
    incident = declare(world, is_private=True, title="Leaked credentials", impact=2, urgency=2)
    pm = services.create_postmortem(incident=incident, actor=world.alice, source="test")
    assert api.alice.get(f"/postmortems/{pm.ref}").status_code == 200  # the team's admin
    assert api.olivia.get(f"/postmortems/{pm.ref}").status_code == 200  # an organisation admin
    # Members of the team who may not see the private incident do not see its postmortem either.
    assert api.bob.get(f"/postmortems/{pm.ref}").status_code == 404
    assert api.dave.get(f"/postmortems/{pm.ref}").status_code == 404
    assert api.bob.get("/postmortems").json()["count"] == 0


def test_one_postmortem_per_incident_and_none_for_covered_children(world: World, api: Clients) -> None:
    major = declare(world, is_major=True, impact=2, urgency=2, title="Everything is slow")
    child = declare(world, parent=major, impact=2, urgency=2, title="Search is slow")
    assert api.bob.post("/postmortems", {"incident": major.ref}).status_code == 201
    again = api.bob.post("/postmortems", {"incident": major.ref})
    assert again.status_code == 409 and error(again)["errors"][0]["field"] == "incident"
    covered = api.bob.post("/postmortems", {"incident": child.ref})
    assert covered.status_code == 409 and "covered by the postmortem" in error(covered)["detail"]
