"""Action items across the organisation: filters (owner, status, overdue, team, service), rights and tenancy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.reviews.conftest import declare, postmortem_of
from warroom.catalog import services as catalog
from warroom.lib import clock
from warroom.lib.errors import PermissionDenied, ValidationFailed
from warroom.reviews import selectors, services
from warroom.reviews.models import ActionItem

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def items(world: World) -> dict[str, ActionItem]:
    pm = postmortem_of(world)
    search = catalog.create_service(team=world.team_a, name="Search", tier=3, actor=None, source="system")
    search_incident = declare(world, title="Search is slow", services=[search])
    problem = services.create_problem(
        actor=world.alice, source="test", title="Pool exhaustion", team=world.team_a
    )
    b_incident = declare(
        world, actor=world.charlie, team=world.team_b, services=[world.service_b], title="Billing"
    )

    def item(title: str, **fields: object) -> ActionItem:
        actor = fields.pop("actor", world.alice)
        return services.create_action_item(actor=actor, source="test", title=title, **fields)  # type: ignore[arg-type]

    made = {
        "late": item(
            "Alert on crash loops", owner=world.bob, due_date=date(2026, 3, 6), postmortem=pm, priority=1
        ),
        "soon": item("Rename the setting back", owner=world.alice, due_date=date(2026, 3, 20), postmortem=pm),
        "search": item("Add a search index", owner=world.bob, incident=search_incident),
        "problem": item("Size the pool", problem=problem, due_date=date(2026, 3, 1), priority=3),
        "theirs": item("Billing retries", owner=world.charlie, incident=b_incident, actor=world.charlie),
    }
    services.update_action_item(item=made["search"], actor=world.bob, source="test", status="in_progress")
    return made


def _titles(page: dict[str, object]) -> list[str]:
    return [i["title"] for i in page["items"]]  # type: ignore[index, union-attr]


def test_filters(world: World, api: Clients, items: dict[str, ActionItem]) -> None:
    with clock.frozen(TODAY):
        alice = api.alice
        # Due soonest first, no due date last; charlie's team's item is not there.
        assert _titles(alice.get("/action-items").json()) == [
            "Size the pool",
            "Alert on crash loops",
            "Rename the setting back",
            "Add a search index",
        ]
        assert _titles(alice.get("/action-items", owner="me").json()) == ["Rename the setting back"]
        assert _titles(alice.get("/action-items", owner="bob@example.com").json()) == [
            "Alert on crash loops",
            "Add a search index",
        ]
        assert _titles(alice.get("/action-items", owner="none").json()) == ["Size the pool"]
        assert _titles(alice.get("/action-items", status="in_progress").json()) == ["Add a search index"]
        overdue = alice.get("/action-items", overdue="true").json()
        assert _titles(overdue) == ["Size the pool", "Alert on crash loops"]
        assert all(i["overdue"] for i in overdue["items"])
        assert _titles(alice.get("/action-items", service="search").json()) == ["Add a search index"]
        assert _titles(alice.get("/action-items", service="checkout").json()) == [
            "Alert on crash loops",
            "Rename the setting back",
        ]
        assert _titles(alice.get("/action-items", team="team-a", q="pool").json()) == ["Size the pool"]
        assert _titles(alice.get("/action-items", problem=items["problem"].problem.ref).json()) == [
            "Size the pool"
        ]  # type: ignore[union-attr]
        # Across the organisation: olivia sees every team's.
        assert len(api.olivia.get("/action-items").json()["items"]) == 5
        assert _titles(api.charlie.get("/action-items").json()) == ["Billing retries"]
        # The console list applies the same filters.
        assert items["late"].pk in [
            i.pk for i in selectors.filter_action_items(world.alice, selectors.ActionItemFilter(overdue=True))
        ]


def test_owner_marks_done_others_need_the_team(
    world: World, api: Clients, items: dict[str, ActionItem]
) -> None:
    late = items["late"]
    done = api.bob.patch(f"/action-items/{late.pk}", {"status": "done"})
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["completed_at"]
    reopened = api.bob.patch(f"/action-items/{late.pk}", {"status": "open"})
    assert reopened.json()["completed_at"] is None
    # dave (observer) may read but not change; charlie does not see it at all.
    assert api.dave.get(f"/action-items/{late.pk}").status_code == 200
    assert api.dave.patch(f"/action-items/{late.pk}", {"status": "done"}).status_code == 403
    assert api.charlie.get(f"/action-items/{late.pk}").status_code == 404
    assert api.charlie.patch(f"/action-items/{late.pk}", {"status": "done"}).status_code == 404
    # charlie owns an item of team B: he may tick it off but not retitle it... he is team B's admin, so he may.
    theirs = items["theirs"]
    assert api.charlie.patch(f"/action-items/{theirs.pk}", {"title": "Billing retries v2"}).status_code == 200
    # An owner from another team may move the status only.
    cross = services.create_action_item(
        actor=world.alice,
        source="test",
        title="Platform help",
        owner=world.charlie,
        incident=late.postmortem.incident,  # type: ignore[union-attr]
    )
    assert api.charlie.get(f"/action-items/{cross.pk}").status_code == 200
    assert api.charlie.patch(f"/action-items/{cross.pk}", {"title": "Mine"}).status_code == 403
    assert api.charlie.patch(f"/action-items/{cross.pk}", {"status": "wont_do"}).json()["status"] == "wont_do"
    with pytest.raises(PermissionDenied):
        services.create_action_item(
            actor=world.dave, source="test", title="x", incident=late.postmortem.incident
        )  # type: ignore[union-attr]


def test_items_of_a_private_incident_stay_private(world: World, api: Clients) -> None:
    secret = declare(world, is_private=True, title="Leaked key")
    item = services.create_action_item(
        actor=world.alice, source="test", title="Rotate the key", incident=secret
    )
    assert api.alice.get(f"/action-items/{item.pk}").status_code == 200
    assert api.dave.get(f"/action-items/{item.pk}").status_code == 404
    assert api.bob.get("/action-items").json()["count"] == 0


def test_bad_input_names_the_field(world: World, api: Clients, draft: object) -> None:
    pm_ref = draft.ref  # type: ignore[attr-defined]
    cases = [
        ({"title": "x"}, 400, "postmortem"),
        ({"title": "", "postmortem": pm_ref}, 400, "title"),
        ({"title": "x", "postmortem": pm_ref, "priority": 7}, 400, "priority"),
        ({"title": "x", "postmortem": pm_ref, "owner": "nobody@example.com"}, 400, "owner"),
        ({"title": "x", "postmortem": "INC0999999"}, 400, "postmortem"),
        ({"title": "x", "problem": "PRB0000999"}, 400, "problem"),
        ({"title": "x", "postmortem": pm_ref, "due_date": "next friday"}, 422, "due_date"),
        (
            {"title": "x", "postmortem": pm_ref, "due_date": "0001-01-01"},
            400,
            "due_date",
        ),  # a typo, not a date
        ({"title": "x", "postmortem": pm_ref, "due_date": "9999-12-31"}, 400, "due_date"),
        ({"title": "x", "postmortem": pm_ref, "priority": "high"}, 422, "priority"),
    ]
    for body, status, field in cases:
        response = api.bob.post("/action-items", body)
        assert response.status_code == status, (body, response.content)
        assert error(response)["errors"][0]["field"] == field, (body, response.json())
    item = api.bob.post("/action-items", {"title": "Fine", "postmortem": pm_ref, "due_date": "2026-03-20"})
    assert item.status_code == 201 and item.json()["due_date"] == "2026-03-20"
    item_id = item.json()["id"]
    for body, status, field in [
        ({"status": "finished"}, 400, "status"),
        ({"title": None}, 400, "title"),
        ({"version": 99, "title": "y"}, 409, "version"),
    ]:
        response = api.bob.patch(f"/action-items/{item_id}", body)
        assert response.status_code == status, (body, response.content)
        assert error(response)["errors"][0]["field"] == field
    with pytest.raises(ValidationFailed):
        services.create_action_item(
            actor=world.bob,
            source="test",
            title="x",
            postmortem=draft,
            due_date=datetime(2026, 3, 1, tzinfo=UTC),  # type: ignore[arg-type]
        )
