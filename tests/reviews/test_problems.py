"""Problem records: the status transition table, tested exhaustively; known errors; links and rights."""

from __future__ import annotations

import itertools

import pytest

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.reviews.conftest import declare
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.reviews import services
from warroom.reviews.models import Problem
from warroom.reviews.states import PROBLEM_TRANSITIONS, ProblemStatus, problem_refusal, problem_targets

pytestmark = pytest.mark.django_db

#: The table as the documentation states it, written out independently of the code.
EXPECTED = {
    ("new", "assessed"),
    ("new", "closed"),
    ("assessed", "root_cause_analysis"),
    ("assessed", "fix_in_progress"),
    ("assessed", "closed"),
    ("root_cause_analysis", "fix_in_progress"),
    ("root_cause_analysis", "closed"),
    ("fix_in_progress", "resolved"),
    ("fix_in_progress", "root_cause_analysis"),
    ("resolved", "closed"),
    ("resolved", "root_cause_analysis"),
}
#: A shortest path from New to each status, through allowed moves.
PATHS = {
    "new": [],
    "assessed": ["assessed"],
    "root_cause_analysis": ["assessed", "root_cause_analysis"],
    "fix_in_progress": ["assessed", "fix_in_progress"],
    "resolved": ["assessed", "fix_in_progress", "resolved"],
    "closed": ["closed"],
}


def _problem_in(world: World, status: str) -> Problem:
    problem = services.create_problem(
        actor=world.bob,
        source="test",
        title=f"Problem in {status}",
        team=world.team_a,
        root_cause="Connection pool too small.",
    )
    for step in PATHS[status]:
        problem = services.transition_problem(problem=problem, actor=world.bob, source="test", to=step)
    assert problem.status == status
    return problem


def test_the_table_is_what_the_documentation_says() -> None:
    assert {(frm.value, to.value) for frm, to in PROBLEM_TRANSITIONS} == EXPECTED
    assert problem_targets("closed") == []


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(ProblemStatus.values, repeat=2)))
def test_every_pair(world: World, frm: str, to: str) -> None:
    problem = _problem_in(world, frm)
    if (frm, to) in EXPECTED:
        moved = services.transition_problem(problem=problem, actor=world.bob, source="test", to=to)
        assert moved.status == to
        fresh = Problem.objects.get(pk=problem.pk)
        assert fresh.status == to and fresh.version == problem.version + 1
        # Resolved keeps its time when the problem closes; reopening clears it.
        assert (fresh.resolved_at is not None) == (to == "resolved" or (frm, to) == ("resolved", "closed"))
        assert (fresh.closed_at is not None) == (to == "closed")
    else:
        with pytest.raises(Conflict) as refused:
            services.transition_problem(problem=problem, actor=world.bob, source="test", to=to)
        assert refused.value.message == f"{problem.ref}: {problem_refusal(frm, to)}"
        assert Problem.objects.get(pk=problem.pk).status == frm


def test_refusal_messages() -> None:
    assert problem_refusal("closed", "new") == "cannot move from Closed to New: Closed is final"
    assert problem_refusal("new", "new") == "the problem is already New"
    assert problem_refusal("new", "resolved") == (
        "cannot move from New to Resolved; from New the problem can go to Assessed, Closed"
    )


def test_a_fix_and_a_resolution_need_a_root_cause(world: World) -> None:
    problem = services.create_problem(
        actor=world.bob, source="test", title="Flaky checkout", team=world.team_a
    )
    problem = services.transition_problem(problem=problem, actor=world.bob, source="test", to="assessed")
    with pytest.raises(ValidationFailed) as refused:
        services.transition_problem(problem=problem, actor=world.bob, source="test", to="fix_in_progress")
    assert refused.value.field == "root_cause"
    problem = services.update_problem(
        problem=problem, actor=world.bob, source="test", root_cause="Pool size."
    )
    assert services.transition_problem(problem=problem, actor=world.bob, source="test", to="fix_in_progress")


def test_a_workaround_makes_a_known_error(world: World, api: Clients) -> None:
    created = api.bob.post(
        "/problems",
        {"title": "Checkout 502 after deploys", "services": ["checkout"], "description": "Pods crash-loop."},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["ref"], body["status"], body["known_error"]) == (f"PRB{body['id']:07d}", "new", False)
    ref = body["ref"]
    patched = api.bob.patch(f"/problems/{ref}", {"workaround": "Roll back to the previous release."})
    assert patched.json()["known_error"] is True and patched.json()["known_error_at"] is not None
    assert "<p>Roll back to the previous release.</p>" in patched.json()["workaround_html"]
    assert api.bob.get("/problems", known_error="true").json()["count"] == 1
    cleared = api.bob.patch(f"/problems/{ref}", {"workaround": ""})
    assert cleared.json()["known_error"] is False and cleared.json()["known_error_at"] is None


def test_rights_and_tenancy(world: World, api: Clients) -> None:
    incident = declare(world)
    problem = services.create_problem(
        actor=world.alice, source="test", title="Pool exhaustion", team=world.team_a, incidents=[incident]
    )
    ref = problem.ref
    # charlie: nothing.
    assert api.charlie.get(f"/problems/{ref}").status_code == 404
    assert api.charlie.get("/problems").json()["count"] == 0
    assert api.charlie.post(f"/problems/{ref}/transition", {"to": "assessed"}).status_code == 404
    # dave reads, may not change.
    assert api.dave.get(f"/problems/{ref}").json()["incidents"][0]["ref"] == incident.ref
    assert api.dave.patch(f"/problems/{ref}", {"title": "x"}).status_code == 403
    assert api.dave.post(f"/problems/{ref}/transition", {"to": "assessed"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.create_problem(actor=world.dave, source="test", title="x", team=world.team_a)
    # An API transition that is not allowed is a 409 naming the status.
    response = api.bob.post(f"/problems/{ref}/transition", {"to": "resolved"})
    assert response.status_code == 409 and error(response)["errors"][0]["field"] == "status"
    response = api.bob.post(f"/problems/{ref}/transition", {"to": "fixed"})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "to"
    # Linking: the incident appears on the problem and vice versa; charlie's incident cannot be named.
    other = declare(world, title="Another 502")
    linked = api.bob.put(f"/problems/{ref}/incidents/{other.ref}")
    assert {i["ref"] for i in linked.json()["incidents"]} == {incident.ref, other.ref}
    theirs = declare(
        world, actor=world.charlie, team=world.team_b, services=[world.service_b], title="Billing"
    )
    assert api.bob.put(f"/problems/{ref}/incidents/{theirs.ref}").status_code == 404
    unlinked = api.bob.delete(f"/problems/{ref}/incidents/{other.ref}")
    assert [i["ref"] for i in unlinked.json()["incidents"]] == [incident.ref]
    # Closed is final: no more edits.
    services.transition_problem(problem=problem, actor=world.bob, source="test", to="closed")
    response = api.bob.patch(f"/problems/{ref}", {"title": "Reopened?"})
    assert response.status_code == 409


def test_problem_bad_input_names_the_field(world: World, api: Clients) -> None:
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "services": ["billing"]}, "services"),  # team B's service: not visible to bob
        ({"title": "ok", "incidents": ["INC9999999"]}, "incidents"),
        ({"title": "ok", "owner": "charlie@example.com"}, "owner"),
        ({"title": "ok", "team": "team-b"}, "team"),
    ]
    for body, field in cases:
        response = api.bob.post("/problems", body)
        assert response.status_code == 400, (body, response.content)
        assert error(response)["errors"][0]["field"] == field, (body, response.json())
    response = api.bob.post("/problems", {"description": "no title"})
    assert response.status_code == 422 and error(response)["errors"][0]["field"] == "title"
    # A multi-team person must say which team.
    response = api.olivia.post("/problems", {"title": "Whose?"})
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "team"
