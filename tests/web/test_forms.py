"""Each console form: the happy path, and bad input shown as a message next to the form (4xx, never a 500)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.web.conftest import ClientFor
from warroom.accounts.models import ApiToken, Membership
from warroom.accounts.views import NEW_TOKEN_SESSION
from warroom.incidents import services
from warroom.incidents.models import (
    Category,
    Incident,
    IncidentRole,
    PriorityRule,
    Task,
    TimelineEntry,
    Watcher,
)
from warroom.incidents.selectors import priority_for


def _url(name: str, incident: Incident, *extra: Any) -> str:
    return reverse(f"web:incident-{name}", args=[incident.ref, *extra])


def _fresh(incident: Incident) -> Incident:
    incident.refresh_from_db()
    return incident


def _edit_data(incident: Incident, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": incident.title,
        "description": incident.description,
        "team": incident.team_id,
        "services": [s.pk for s in incident.services.all()],
        "impact": incident.impact,
        "urgency": incident.urgency,
        "category": incident.category_id or "",
        "subcategory": incident.subcategory_id or "",
        "assignee": incident.assignee_id or "",
        "parent": "",
        "version": incident.version,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _messages(incident: Incident) -> list[str]:
    return list(TimelineEntry.objects.filter(incident=incident).values_list("message", flat=True))


# --------------------------------------------------------------------------------------------------- declare


@pytest.mark.django_db
def test_declare_happy_path(alice: Client, world: World) -> None:
    response = alice.post(
        reverse("web:incident-declare"),
        {
            "title": "Payments timing out",
            "description": "Card payments *time out* after 30 s.",
            "team": world.team_a.pk,
            "services": [world.service_a.pk],
            "impact": 1,
            "urgency": 1,
            "assignee": world.bob.pk,
            "is_major": "on",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get(title="Payments timing out")
    assert response["Location"] == reverse("web:incident-detail", args=[incident.ref])
    assert (incident.priority, incident.assignee, incident.is_major) == (1, world.bob, True)
    assert list(incident.services.all()) == [world.service_a]
    assert TimelineEntry.objects.get(incident=incident).source == "web"
    page = alice.get(response["Location"]).content.decode()
    assert f"{incident.ref} declared" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "This field is required"),
        ({"title": "x" * 201}, "at most 200 characters"),
        ({"impact": 7}, "Select a valid choice"),
        ({"team": "999999"}, "Select a valid choice"),
        ({"subcategory": "__other__"}, "does not belong to category"),
    ],
)
def test_declare_bad_input_shows_the_message(
    alice: Client, world: World, changes: dict[str, Any], message: str
) -> None:
    data: dict[str, Any] = {"title": "Disk full", "team": world.team_a.pk, "impact": 2, "urgency": 2}
    if changes.get("subcategory") == "__other__":
        # A subcategory of another category than the one chosen: the service refuses it.
        categories = list(Category.objects.all()[:2])
        changes = {"category": categories[0].pk, "subcategory": categories[1].subcategories.first().pk}  # type: ignore[union-attr]
    data.update(changes)
    response = alice.post(reverse("web:incident-declare"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_declare_for_a_team_you_cannot_act_for(client_for: ClientFor, world: World) -> None:
    # bob may declare, for Team A: Team B is not among his choices, a mistake on the form
    bob = client_for(world.bob)
    response = bob.post(
        reverse("web:incident-declare"), {"title": "x", "team": world.team_b.pk, "impact": 2, "urgency": 2}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    # dave, an observer, may declare for no team: a refusal that says why, not the form's 400
    dave = client_for(world.dave)
    response = dave.post(
        reverse("web:incident-declare"), {"title": "x", "team": world.team_a.pk, "impact": 2, "urgency": 2}
    )
    assert response.status_code == 403 and "You cannot declare incidents" in response.content.decode()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_priority_preview_follows_the_edited_matrix(alice: Client, world: World) -> None:
    PriorityRule.objects.filter(impact=3, urgency=3).update(priority=4)
    html = alice.get(reverse("web:incident-priority-preview") + "?impact=3&urgency=3").content.decode()
    assert "P4" in html
    assert priority_for(3, 3) == 4


# --------------------------------------------------------------------------------------------------- edit


@pytest.mark.django_db
def test_edit_assigns_and_reprioritises(alice: Client, world: World, incident: Incident) -> None:
    response = alice.post(_url("edit", incident), _edit_data(incident, assignee=world.bob.pk, urgency=1))
    assert response.status_code == 302
    incident = _fresh(incident)
    assert incident.assignee == world.bob and incident.priority == 1 and incident.version == 2
    assert "Assignee: — → Bob Responder" in _messages(incident)


@pytest.mark.django_db
def test_edit_with_a_stale_version_is_a_conflict(alice: Client, world: World, incident: Incident) -> None:
    stale = _edit_data(incident, title="Checkout is down")
    alice.post(_url("edit", incident), _edit_data(incident, assignee=world.bob.pk))
    response = alice.post(_url("edit", incident), stale)
    assert response.status_code == 409
    assert "was changed by someone else meanwhile" in response.content.decode()
    assert _fresh(incident).title.startswith("Checkout returns 502")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"title": "   "}, 400, "This field is required"),
        ({"parent": "INC0424242"}, 400, "incident INC0424242 not found"),
        ({"version": None}, 400, "This field is required"),
        ({"assignee": "__dave__"}, 400, "Select a valid choice"),
    ],
)
def test_edit_bad_input(
    alice: Client, world: World, incident: Incident, changes: dict[str, Any], status: int, message: str
) -> None:
    if changes.get("assignee") == "__dave__":
        changes = {"assignee": world.dave.pk}  # an observer cannot be the assignee
    response = alice.post(_url("edit", incident), _edit_data(incident, **changes))
    assert response.status_code == status
    assert message in response.content.decode()
    assert _fresh(incident).version == 1


@pytest.mark.django_db
def test_edit_own_parent_is_refused(alice: Client, incident: Incident) -> None:
    response = alice.post(_url("edit", incident), _edit_data(incident, parent=incident.ref))
    assert response.status_code == 400
    assert "cannot be its own parent" in response.content.decode()


# --------------------------------------------------------------------------------------------------- state


@pytest.mark.django_db
def test_the_whole_lifecycle_through_the_console(alice: Client, incident: Incident) -> None:
    def move(to: str, **extra: str) -> int:
        data = {"to": to, "version": _fresh(incident).version, **extra}
        return alice.post(_url("transition", incident), data).status_code

    assert move("in_progress") == 302
    assert move("on_hold", hold_reason="awaiting_vendor") == 302
    assert _fresh(incident).hold_reason == "awaiting_vendor"
    assert move("in_progress") == 302
    assert move("resolved", resolution_code="workaround", resolution_notes="Rolled back 4.2.1") == 302
    assert move("closed") == 302
    assert _fresh(incident).state == "closed"
    messages = _messages(incident)
    for line in [
        "State: New → In Progress",
        "State: In Progress → On Hold (Awaiting vendor)",
        "State: On Hold → In Progress",
        "State: In Progress → Resolved (Solved (workaround)): Rolled back 4.2.1",
        "State: Resolved → Closed",
    ]:
        assert line in messages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"to": "on_hold"}, 400, "needs a hold_reason"),
        ({"to": "resolved", "resolution_code": "workaround"}, 400, "resolution notes must not be empty"),
        ({"to": "resolved", "resolution_notes": "fixed"}, 400, "needs a resolution_code"),
        ({"to": "closed"}, 409, "cannot move from New to Closed"),
        ({"to": "exploded"}, 400, "Select a valid choice"),
    ],
)
def test_transition_bad_input(
    alice: Client, incident: Incident, data: dict[str, str], status: int, message: str
) -> None:
    response = alice.post(_url("transition", incident), {**data, "version": incident.version})
    assert response.status_code == status
    assert message in response.content.decode()
    assert _fresh(incident).state == "new"


@pytest.mark.django_db
def test_transition_with_a_stale_version(alice: Client, incident: Incident) -> None:
    alice.post(_url("transition", incident), {"to": "in_progress", "version": 1})
    response = alice.post(_url("transition", incident), {"to": "canceled", "version": 1})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert _fresh(incident).state == "in_progress"


@pytest.mark.django_db
def test_the_detail_page_offers_only_allowed_transitions(alice: Client, incident: Incident) -> None:
    html = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    offered = set(re.findall(r'name="to" value="(\w+)"', html))
    assert offered == {"in_progress", "on_hold", "resolved", "canceled"}


@pytest.mark.django_db
def test_htmx_actions_answer_with_the_page_and_errors_in_place(alice: Client, incident: Incident) -> None:
    htmx = {"HX-Request": "true"}
    ok = alice.post(_url("transition", incident), {"to": "in_progress", "version": 1}, headers=htmx)
    assert ok.status_code == 200 and 'id="incident-main"' in ok.content.decode()
    bad = alice.post(_url("transition", incident), {"to": "on_hold", "version": 2}, headers=htmx)
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="incident-main"' in html and "needs a hold_reason" in html


# --------------------------------------------------------------------------------------------------- notes


@pytest.mark.django_db
def test_note(alice: Client, incident: Incident) -> None:
    assert alice.post(_url("note", incident), {"text": "Rolling back **now**"}).status_code == 302
    html = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "Rolling back <strong>now</strong>" in html
    empty = alice.post(_url("note", incident), {"text": "  "})
    assert empty.status_code == 400 and "text must not be empty" in empty.content.decode()
    huge = alice.post(_url("note", incident), {"text": "x" * 20_001})
    assert huge.status_code == 400 and "at most 20000 characters" in huge.content.decode()


@pytest.mark.django_db
def test_note_markdown_is_sanitised(alice: Client, incident: Incident) -> None:
    alice.post(_url("note", incident), {"text": "<script>alert(1)</script> [x](javascript:alert(1))"})
    html = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'href="javascript' not in html


# --------------------------------------------------------------------------------------------------- roles


@pytest.mark.django_db
def test_roles_claim_assign_release(client_for: ClientFor, world: World, incident: Incident) -> None:
    alice, bob = client_for(world.alice), client_for(world.bob)
    url = _url("role", incident)
    assert alice.post(url, {"role": "incident-commander", "action": "claim"}).status_code == 302
    taken = bob.post(url, {"role": "incident-commander", "action": "claim"})
    assert taken.status_code == 409
    assert "already held by Alice Admin" in taken.content.decode()
    no_one = alice.post(url, {"role": "scribe", "action": "assign"})
    assert no_one.status_code == 400 and "choose who takes Scribe" in no_one.content.decode()
    unknown = alice.post(url, {"role": "astronaut", "action": "claim"})
    assert unknown.status_code == 400 and "does not exist" in unknown.content.decode()
    assert alice.post(url, {"role": "scribe", "action": "assign", "user": world.bob.pk}).status_code == 302
    assert IncidentRole.objects.get(incident=incident, role_type__slug="scribe").user == world.bob
    assert alice.post(url, {"role": "incident-commander", "action": "release"}).status_code == 302
    nobody = alice.post(url, {"role": "incident-commander", "action": "release"})
    assert nobody.status_code == 409 and "nobody holds Incident Commander" in nobody.content.decode()


# --------------------------------------------------------------------------------------------------- tasks


@pytest.mark.django_db
def test_tasks_add_tick_and_reassign(alice: Client, world: World, incident: Incident) -> None:
    assert (
        alice.post(_url("task-add", incident), {"title": "Roll back", "owner": world.bob.pk}).status_code
        == 302
    )
    task = Task.objects.get(incident=incident)
    assert task.owner == world.bob
    assert alice.post(_url("task-update", incident, task.pk), {"done": "1"}).status_code == 302
    assert Task.objects.get(pk=task.pk).is_done
    assert alice.post(_url("task-update", incident, task.pk), {"owner": world.alice.pk}).status_code == 302
    assert Task.objects.get(pk=task.pk).owner == world.alice
    empty = alice.post(_url("task-add", incident), {"title": ""})
    assert empty.status_code == 400 and "title must not be empty" in empty.content.decode()
    assert alice.post(_url("task-update", incident, 999999), {"done": "1"}).status_code == 404
    assert "Task done: Roll back" in _messages(incident)


# --------------------------------------------------------------------------------------------------- watch, relate


@pytest.mark.django_db
def test_watch_and_unwatch(alice: Client, world: World, incident: Incident) -> None:
    assert alice.post(_url("watch", incident), {"watching": "1"}).status_code == 302
    assert Watcher.objects.filter(incident=incident, user=world.alice).exists()
    assert "Unwatch" in alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert alice.post(_url("watch", incident), {"watching": "0"}).status_code == 302
    assert not Watcher.objects.filter(incident=incident, user=world.alice).exists()
    assert alice.post(_url("watch", incident), {"watching": "maybe"}).status_code == 400


@pytest.mark.django_db
def test_relate(alice: Client, world: World, incident: Incident) -> None:
    other = services_declare(world, "Payment provider slow")
    assert alice.post(_url("relate", incident), {"ref": other.ref, "action": "link"}).status_code == 302
    assert list(incident.related.all()) == [other]
    html = alice.get(reverse("web:incident-detail", args=[other.ref])).content.decode()
    assert incident.ref in html
    missing = alice.post(_url("relate", incident), {"ref": "INC0424242", "action": "link"})
    assert missing.status_code == 400 and "incident INC0424242 not found" in missing.content.decode()
    itself = alice.post(_url("relate", incident), {"ref": incident.ref, "action": "link"})
    assert itself.status_code == 400 and "cannot be related to itself" in itself.content.decode()
    assert alice.post(_url("relate", incident), {"ref": other.ref, "action": "unlink"}).status_code == 302
    assert not incident.related.exists()


def services_declare(world: World, title: str) -> Incident:
    return services.declare_incident(actor=world.alice, source="test", title=title, team=world.team_a)


# --------------------------------------------------------------------------------------------------- tokens


@pytest.mark.django_db
def test_tokens_create_show_once_and_revoke(alice: Client, world: World) -> None:
    created = alice.post(reverse("web:token-list"), {"name": "laptop CLI"})
    assert created.status_code == 302 and created["Location"] == reverse(
        "web:token-list"
    )  # POST/redirect/GET
    shown = alice.get(created["Location"])
    assert shown["Cache-Control"] == "no-store"
    html = shown.content.decode()
    token = ApiToken.objects.get(user=world.alice)
    found = re.search(r'id="token-secret"[^>]*value="([^"]+)"', html)
    assert found is not None
    secret = found.group(1)
    assert secret.startswith(token.prefix) and "never show it again" in html
    assert secret not in alice.session.get(NEW_TOKEN_SESSION, {}).get("sealed", "")  # sealed, and taken out
    reloaded = alice.get(
        reverse("web:token-list")
    ).content.decode()  # a reload: the secret is gone, no new token
    assert "laptop CLI" in reloaded and secret not in reloaded
    assert ApiToken.objects.filter(user=world.alice).count() == 1
    assert alice.post(reverse("web:token-revoke", args=[token.pk])).status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    again = alice.post(reverse("web:token-revoke", args=[token.pk]))
    assert again.status_code == 409 and "already revoked" in again.content.decode()
    empty = alice.post(reverse("web:token-list"), {"name": " "})
    assert empty.status_code == 400 and "a token needs a name" in empty.content.decode()


@pytest.mark.django_db
def test_someone_elses_token_is_a_404(client_for: ClientFor, world: World) -> None:
    client_for(world.alice).post(reverse("web:token-list"), {"name": "mine"})
    token = ApiToken.objects.get(user=world.alice)
    assert client_for(world.bob).post(reverse("web:token-revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# --------------------------------------------------------------------------------------------------- teams


@pytest.mark.django_db
def test_team_admin_manages_members(alice: Client, world: World) -> None:
    slug = world.team_a.slug
    added = alice.post(
        reverse("web:team-member-add", args=[slug]), {"email": "charlie@example.com", "role": "responder"}
    )
    assert added.status_code == 302
    assert Membership.objects.get(team=world.team_a, user=world.charlie).role == "responder"
    again = alice.post(
        reverse("web:team-member-add", args=[slug]), {"email": "charlie@example.com", "role": "responder"}
    )
    assert again.status_code == 409 and "already in Team A" in again.content.decode()
    unknown = alice.post(
        reverse("web:team-member-add", args=[slug]), {"email": "nobody@example.com", "role": "admin"}
    )
    assert (
        unknown.status_code == 400
        and "no active user with email nobody@example.com" in unknown.content.decode()
    )
    bad = alice.post(reverse("web:team-member-add", args=[slug]), {"email": "not-an-email", "role": "admin"})
    assert bad.status_code == 400 and "Enter a valid email address" in bad.content.decode()
    role = alice.post(reverse("web:team-member-role", args=[slug, world.charlie.pk]), {"role": "manager"})
    assert role.status_code == 302
    assert Membership.objects.get(team=world.team_a, user=world.charlie).role == "manager"
    bad_role = alice.post(reverse("web:team-member-role", args=[slug, world.charlie.pk]), {"role": "king"})
    assert bad_role.status_code == 400 and "choose a valid role" in bad_role.content.decode()
    removed = alice.post(reverse("web:team-member-remove", args=[slug, world.charlie.pk]))
    assert removed.status_code == 302
    assert not Membership.objects.filter(team=world.team_a, user=world.charlie).exists()


@pytest.mark.django_db
def test_responders_cannot_manage_members(client_for: ClientFor, world: World) -> None:
    bob = client_for(world.bob)
    page = bob.get(reverse("web:team-detail", args=[world.team_a.slug])).content.decode()
    assert "Add member" not in page and "Remove" not in page
    response = bob.post(reverse("web:team-member-remove", args=[world.team_a.slug, world.dave.pk]))
    assert response.status_code == 403
    assert "only the team&#x27;s admins and managers" in response.content.decode()
    assert Membership.objects.filter(team=world.team_a, user=world.dave).exists()


# --------------------------------------------------------------------------------------------------- matrix


def _matrix(**cells: int) -> dict[str, int]:
    data = {f"cell_{i}_{u}": priority_for(i, u) for i in (1, 2, 3) for u in (1, 2, 3)}
    data.update(cells)
    return data


@pytest.mark.django_db
def test_org_admin_edits_the_matrix(client_for: ClientFor, world: World) -> None:
    olivia = client_for(world.olivia)
    assert "<select" in olivia.get(reverse("web:priority-matrix")).content.decode()
    assert olivia.post(reverse("web:priority-matrix"), _matrix(cell_3_3=4)).status_code == 302
    assert priority_for(3, 3) == 4
    bad = olivia.post(reverse("web:priority-matrix"), _matrix(cell_1_1=9))
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    assert priority_for(1, 1) == 1


@pytest.mark.django_db
def test_others_only_read_the_matrix(alice: Client) -> None:
    page = alice.get(reverse("web:priority-matrix")).content.decode()
    assert "<select" not in page and "Organisation admins can change it" in page
    response = alice.post(reverse("web:priority-matrix"), _matrix(cell_3_3=4))
    assert response.status_code == 403
    assert priority_for(3, 3) == 5
