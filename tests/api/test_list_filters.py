"""One rule for the filters of every list (docs/api.md#filters): a value the API cannot match is a 400 naming the
parameter, never a 404 and never a silent empty list.

A schemathesis fuzz of /api/v1/ found the same mistake answered three ways: ``/incidents?service=nope`` was an
empty 200, ``/services?team=nope`` a 404, ``/alerts?incident=nope`` a 400. Now a filter with fixed choices names
its choices, and a filter naming an object answers the same for one that does not exist and for another team's,
so that a typo never passes for "nothing there" and nothing leaks.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.alerts import services as alerts
from warroom.alerts.models import Integration
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.reviews import services as reviews

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_b(world: World) -> dict[str, str]:
    """Team B's objects as a filter names them: alice, bob and dave cannot see any of them."""
    incident = declare(
        world, actor=world.charlie, title="Invoices late", team=world.team_b, services=[world.service_b]
    )
    integration = alerts.create_integration(
        service=world.service_b, kind="webhook", name="B hook", actor=world.charlie, source="test"
    )
    problem = reviews.create_problem(
        actor=world.charlie, source="test", title="Slow exports", team=world.team_b
    )
    reviews.create_postmortem(incident=incident, actor=world.charlie, source="test")
    return {
        "team": "team-b",
        "service": "billing",
        "person": "charlie@example.com",
        "integration": str(integration.pk),
        "incident": incident.ref,
        "postmortem": str(incident.number),
        "problem": problem.ref,
    }


# (list, parameter, which of team B's objects, a value naming nothing at all)
REFERENCES = [
    ("/services", "team", "team", "nope"),
    ("/incidents", "team", "team", "nope"),
    ("/incidents", "service", "service", "nope"),
    ("/incidents", "assignee", "person", "nobody@example.com"),
    ("/integrations", "service", "service", "nope"),
    ("/alerts", "service", "service", "nope"),
    ("/alerts", "integration", "integration", "999999"),
    ("/alerts", "incident", "incident", "INC9999999"),
    ("/schedules", "team", "team", "nope"),
    ("/oncall/now", "team", "team", "nope"),
    ("/escalation-policies", "team", "team", "nope"),
    ("/update-templates", "team", "team", "nope"),
    ("/postmortems", "team", "team", "nope"),
    ("/postmortems", "reviewer", "person", "nobody@example.com"),
    ("/action-items", "team", "team", "nope"),
    ("/action-items", "service", "service", "nope"),
    ("/action-items", "owner", "person", "nobody@example.com"),
    ("/action-items", "postmortem", "postmortem", "9999999"),
    ("/action-items", "incident", "incident", "INC9999999"),
    ("/action-items", "problem", "problem", "PRB9999999"),
    ("/problems", "team", "team", "nope"),
    ("/problems", "service", "service", "nope"),
    ("/known-errors", "service", "service", "nope"),
    ("/reports/response", "team", "team", "nope"),
    ("/reports/noise", "service", "service", "nope"),
]


@pytest.mark.parametrize(("path", "parameter", "kind", "unknown"), REFERENCES)
def test_a_filter_naming_what_you_cannot_see_is_a_400_like_one_naming_nothing(
    api: Clients, world: World, team_b: dict[str, str], path: str, parameter: str, kind: str, unknown: str
) -> None:
    hidden, missing = team_b[kind], unknown
    answers = {value: api.bob.get(path, **{parameter: value}) for value in (hidden, missing)}
    for value, response in answers.items():
        assert response.status_code == 400, (value, response.content)
        (only,) = error(response)["errors"]
        assert only["field"] == parameter
        assert value in only["message"]
    # word for word the same answer, but for the value echoed back: nothing tells the two apart
    words = [error(answers[v])["errors"][0]["message"].replace(v, "…") for v in (hidden, missing)]
    assert words[0] == words[1], words
    seen_by_all = api.olivia.get(path, **{parameter: hidden})  # an organisation admin sees team B's
    assert seen_by_all.status_code == 200, seen_by_all.content


def test_a_filter_naming_another_teams_object_on_an_incident_you_take_part_in_filters(
    api: Clients, world: World
) -> None:
    """bob sees team B's incident he watches: its team, service and assignee are known to him through it."""
    b = declare(
        world, actor=world.charlie, title="Invoices late", team=world.team_b, services=[world.service_b]
    )
    incidents.update_incident(incident=b, assignee=world.charlie, actor=world.charlie, source="test")
    hidden = declare(
        world, actor=world.charlie, title="Not bob's", team=world.team_b, services=[world.service_b]
    )
    incidents.set_watching(incident=b, user=world.bob, watching=True, actor=world.bob, source="test")
    for parameter, value in (("team", "team-b"), ("service", "billing"), ("assignee", "charlie@example.com")):
        response = api.bob.get("/incidents", **{parameter: value})
        assert response.status_code == 200, (parameter, response.content)
        assert [i["ref"] for i in response.json()["items"]] == [b.ref], parameter
    assert hidden.ref not in str(api.bob.get("/incidents", team="team-b").content)
    assert api.alice.get("/incidents", team="team-b").status_code == 400  # alice takes no part in it


def test_me_and_none_are_always_known(api: Clients, world: World) -> None:
    for path, query in (
        ("/incidents", {"assignee": "me"}),
        ("/incidents", {"assignee": "none"}),
        ("/action-items", {"owner": "me"}),
        ("/action-items", {"owner": "none"}),
        ("/postmortems", {"reviewer": "me"}),
    ):
        assert api.olivia.get(path, **query).status_code == 200, (path, query)
        response = api.dave.get(path, **query)
        assert response.status_code == 200, (path, query, response.content)
        assert response.json()["count"] == 0


def test_text_filters_match_nothing_without_complaint(api: Clients, world: World) -> None:
    declare(world)
    assert api.bob.get("/incidents", q="no such words").json()["count"] == 0
    for query in ({"actor": "nobody@example.com"}, {"action": "nothing."}, {"object_type": "x.y"}):
        response = api.olivia.get("/audit", **query)
        assert response.status_code == 200 and response.json()["count"] == 0, query


def _integration(world: World) -> Integration:
    return alerts.create_integration(
        service=world.service_a, kind="webhook", name="A hook", actor=world.alice, source="test"
    )


CHOICES = [
    ("/incidents", "state"),
    ("/incidents", "priority"),
    ("/alerts", "status"),
    ("/alerts", "severity"),
    ("/integrations/{integration_id}/events", "status"),
    ("/postmortems", "status"),
    ("/action-items", "status"),
    ("/problems", "status"),
    ("/sla/definitions", "priority"),
    ("/reports/response", "priority"),
    ("/reports/response", "bucket"),
]


def _documented_choices(api: Clients, path: str, parameter: str) -> list[Any]:
    operation = api.bob.get("/openapi.json").json()["paths"]["/api/v1" + path]["get"]
    (described,) = [p["schema"] for p in operation["parameters"] if p["name"] == parameter]
    for option in described.get("anyOf", [described]):
        found = option.get("items", option).get("enum")
        if found:
            return list(found)
    raise AssertionError(f"{path} documents no choices for {parameter}: {described}")


@pytest.mark.parametrize("value", ["bogus", "9", "NEW"])
@pytest.mark.parametrize(("path", "parameter"), CHOICES)
def test_a_filter_value_that_is_not_a_choice_is_a_400_naming_the_documented_choices(
    api: Clients, world: World, path: str, parameter: str, value: str
) -> None:
    response = api.alice.get(
        path.replace("{integration_id}", str(_integration(world).pk)), **{parameter: value}
    )
    assert response.status_code == 400, response.content
    (only,) = error(response)["errors"]
    assert only["field"] == parameter
    assert only["message"].startswith(f"{value!r} is not one of ")
    for choice in _documented_choices(api, path, parameter):  # the choices the document gives, all of them
        assert repr(choice) in only["message"], (choice, only["message"])


def test_one_unknown_value_among_repeated_ones_is_refused(api: Clients, world: World) -> None:
    declare(world)
    response = api.bob.get("/incidents", state=["new", "bogus"], priority=["1", "2"])
    assert response.status_code == 400
    assert [e["field"] for e in error(response)["errors"]] == ["state"]
    assert "'bogus'" in error(response)["detail"]
    assert api.bob.get("/incidents", state=["new", "in_progress"], priority=["1", "3"]).status_code == 200


def test_a_filter_of_the_wrong_type_stays_a_422(api: Clients, world: World) -> None:
    assert api.bob.get("/incidents", is_major="maybe").status_code == 422
    assert api.bob.get("/alerts", integration="abc").status_code == 422
    both = api.bob.get("/incidents", state="bogus", limit="lots")  # one refused value, one wrong type: 422
    assert both.status_code == 422
    assert {e["field"] for e in error(both)["errors"]} == {"state", "limit"}


def test_an_incident_filter_keeps_working_for_what_you_can_see(api: Clients, world: World) -> None:
    incident: Incident = declare(world, assignee=world.bob)
    for query in (
        {"team": "team-a"},
        {"service": "checkout"},
        {"assignee": "bob@example.com"},
        {"priority": "3"},
    ):
        response = api.dave.get("/incidents", **query)
        assert [i["ref"] for i in response.json()["items"]] == [incident.ref], query
