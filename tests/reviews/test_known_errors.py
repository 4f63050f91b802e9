"""Known-error suggestions: same service or similar text, on whichever database the suite runs (SQLite with
FTS5, PostgreSQL with tsvector), and with the token-overlap fallback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.reviews.conftest import declare
from warroom.accounts.models import Team, User
from warroom.catalog.models import Service
from warroom.incidents.models import Incident
from warroom.reviews import search, services
from warroom.reviews.models import Problem

pytestmark = pytest.mark.django_db


def _problem(
    world: World,
    title: str,
    *,
    team: Team | None = None,
    actor: User | None = None,
    services_: list[Service] | None = None,
    workaround: str = "",
    **fields: str,
) -> Problem:
    return services.create_problem(
        actor=actor or world.alice,
        source="test",
        title=title,
        team=team or world.team_a,
        services=services_ or [],
        workaround=workaround,
        **fields,
    )


@pytest.fixture
def known(world: World) -> dict[str, Problem]:
    crash = _problem(
        world,
        "Checkout pods crash-loop after a deploy",
        services_=[world.service_a],
        workaround="Roll back to the previous release with `deploy rollback checkout`.",
    )
    gateway = _problem(
        world,
        "Payment gateway timeouts from the acquirer",
        description="The acquirer's API answers slowly at the top of the hour.",
        workaround="Switch payments to the secondary acquirer.",
    )
    unknown = _problem(world, "Checkout latency spikes", services_=[world.service_a])  # no workaround
    closed = _problem(world, "Old checkout cache bug", services_=[world.service_a], workaround="Flush it.")
    closed = services.transition_problem(problem=closed, actor=world.alice, source="test", to="closed")
    theirs = _problem(
        world,
        "Gateway timeouts in billing",
        team=world.team_b,
        actor=world.charlie,
        services_=[world.service_b],
        workaround="Team B's secret trick.",
    )
    unrelated = _problem(world, "Disk fills on the log host", workaround="Rotate logs hourly.")
    return {
        "crash": crash,
        "gateway": gateway,
        "unknown": unknown,
        "closed": closed,
        "theirs": theirs,
        "unrelated": unrelated,
    }


@pytest.fixture(params=["database", "overlap"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The database's own full-text search, then the token-overlap fallback."""
    if request.param == "overlap":
        monkeypatch.setattr(search, "backend", lambda: "overlap")
    yield search.backend()


def _incident(world: World) -> Incident:
    return declare(world, title="Checkout returns 502 after deploy; gateway timeouts seen")


def test_the_database_search_is_real_full_text() -> None:
    expected = {"sqlite": "fts5", "postgresql": "postgres"}[connection.vendor]
    assert search.backend() == expected


def test_suggestions_for_an_incident(world: World, known: dict[str, Problem], backend: str) -> None:
    incident = _incident(world)
    matches = search.known_errors_for_incident(world.alice, incident)
    assert [m.problem.ref for m in matches] == [known["crash"].ref, known["gateway"].ref]
    first, second = matches
    assert first.same_service and first.text_score > 0 and first.score > 1
    assert not second.same_service and 0 < second.score <= 1
    # Same service alone is enough; text alone is enough.
    quiet = declare(world, title="Something odd", description="")
    assert [m.problem.ref for m in search.known_errors_for_incident(world.alice, quiet)] == [
        known["crash"].ref
    ]
    elsewhere = declare(world, title="Acquirer gateway timeouts", services=[])
    assert [m.problem.ref for m in search.known_errors_for_incident(world.alice, elsewhere)] == [
        known["gateway"].ref
    ]
    # charlie sees only his own team's known errors, even for text that matches team A's.
    theirs = declare(
        world,
        actor=world.charlie,
        team=world.team_b,
        services=[world.service_b],
        title="Checkout gateway timeouts",
    )
    assert [m.problem.ref for m in search.known_errors_for_incident(world.charlie, theirs)] == [
        known["theirs"].ref
    ]


def test_the_index_follows_edits(world: World, known: dict[str, Problem], backend: str) -> None:
    incident = declare(world, title="Log host disk is full", services=[])
    assert [m.problem.ref for m in search.known_errors_for_incident(world.alice, incident)] == [
        known["unrelated"].ref
    ]
    services.update_problem(
        problem=known["unrelated"], actor=world.alice, source="test", title="Inode exhaustion"
    )
    services.update_problem(
        problem=known["gateway"],
        actor=world.alice,
        source="test",
        description="Also fills the log host disk.",
    )
    matches = search.known_errors_for_incident(world.alice, incident)
    assert matches[0].problem.ref == known["gateway"].ref


def test_stemming_on_the_database_search(world: World, known: dict[str, Problem]) -> None:
    incident = declare(world, title="Acquirer timeout", services=[])
    assert [m.problem.ref for m in search.known_errors_for_incident(world.alice, incident)] == [
        known["gateway"].ref
    ]


def test_the_api(world: World, known: dict[str, Problem], api: Clients) -> None:
    incident = _incident(world)
    response = api.bob.get(f"/incidents/{incident.ref}/known-errors")
    assert response.status_code == 200
    body = response.json()
    assert [k["ref"] for k in body] == [known["crash"].ref, known["gateway"].ref]
    assert body[0]["same_service"] is True and "deploy rollback checkout" in body[0]["workaround_html"]
    assert api.charlie.get(f"/incidents/{incident.ref}/known-errors").status_code == 404
    # While declaring: search by text and services.
    found = api.bob.get("/known-errors", q="acquirer is slow", service="checkout").json()
    assert {(k["ref"], k["same_service"]) for k in found} == {
        (known["crash"].ref, True),
        (known["gateway"].ref, False),
    }
    response = api.bob.get("/known-errors", q="x", service="billing")
    assert response.status_code == 400 and error(response)["errors"][0]["field"] == "service"
    response = api.bob.get("/known-errors", q="x", limit=0)
    assert response.status_code == 422 and error(response)["errors"][0]["field"] == "limit"


def test_words_are_safe_in_queries(world: World, known: dict[str, Problem]) -> None:
    """Quotes, operators and SQL in a title are words, never query syntax."""
    nasty = declare(
        world, title='"gateway" OR NEAR(x) AND -- \'; DROP TABLE x; * timeouts:* & | !', services=[]
    )
    assert [m.problem.ref for m in search.known_errors_for_incident(world.alice, nasty)] == [
        known["gateway"].ref
    ]
    assert search.tokens("The the a an of 502 ÄÖÜ Überlast") == ["502", "äöü", "überlast"]


# --------------------------------------------------------------------------------------------------- declaring

SUGGEST = "/known-errors/suggestions/"


def test_the_declare_form_finds_known_errors_while_typing(
    world: World, known: dict[str, Problem], client_for: Any
) -> None:
    alice = client_for(world.alice)
    declare_page = alice.get("/incidents/declare/").content.decode()
    assert 'id="declare-known-errors"' in declare_page and f'hx-get="{SUGGEST}"' in declare_page

    found = alice.get(SUGGEST, {"title": "Payment gateway timeouts", "description": ""}).content.decode()
    assert known["gateway"].ref in found and "Switch payments to the secondary acquirer." in found
    assert "Known errors that may match" in found
    assert "Team B" not in found and "secret trick" not in found  # another team's problem stays theirs
    assert known["unknown"].ref not in found  # no workaround: not a known error
    # a service picked, nothing typed yet: the service's known errors
    by_service = alice.get(SUGGEST, {"services": [str(world.service_a.pk)]}).content.decode()
    assert known["crash"].ref in by_service and known["closed"].ref not in by_service
    # an empty form, or one still being filled in with values that are no ids: nothing, never an error
    assert alice.get(SUGGEST).content.decode().strip() == ""
    odd = alice.get(SUGGEST, {"title": "", "services": ["x", "-1", str(10**30), str(world.service_b.pk)]})
    assert odd.status_code == 200 and odd.content.decode().strip() == ""  # Billing's known error is team B's


def test_the_finder_answers_only_signed_in_people(world: World) -> None:
    response = Client().get(SUGGEST, {"title": "gateway"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
