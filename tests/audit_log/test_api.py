"""``GET /api/v1/audit`` and ``/audit.csv``: organisation admins read and filter the log (team admins: see
test_team_admins.py); anyone else is a 403;
bad filters are a 400 naming the field."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.api.conftest import Clients, error
from tests.audit_log.conftest import T3, Log
from tests.conftest import PASSWORD
from warroom.accounts import services as accounts
from warroom.audit import services as audit
from warroom.lib import clock


def actions(body: dict) -> list[str]:
    return [item["action"] for item in body["items"]]


def test_an_org_admin_reads_the_log_newest_first_with_who_and_what(api: Clients, log: Log) -> None:
    response = api.olivia.get("/audit", limit=3)

    assert response.status_code == 200
    body = response.json()
    assert body["limit"] == 3 and body["offset"] == 0 and body["count"] > 3
    newest = body["items"][0]
    assert newest["action"] == "team.member.set"
    assert newest["actor"] == {"id": log.world.alice.pk, "email": "alice@example.com", "name": "Alice Admin"}
    assert newest["source"] == "cli"
    assert newest["after"] == {"user": "bob@example.com", "team": "team-a", "role": "manager"}
    assert newest["before"] == {"role": "responder"}
    assert newest["at"].startswith("2036-03-03T09:00:00")
    assert actions(body)[1:] == ["team.create", "service.create"]
    second_page = api.olivia.get("/audit", limit=3, offset=1).json()
    assert actions(second_page)[:2] == ["team.create", "service.create"]


def test_filters_by_actor_action_prefix_source_object_and_time(api: Clients, log: Log) -> None:
    world = log.world
    assert actions(api.olivia.get("/audit", actor="ALICE@example.com").json()) == [
        "team.member.set",
        "service.create",
    ]
    assert actions(api.olivia.get("/audit", actor=str(world.olivia.pk)).json())[0] == "team.create"
    assert set(actions(api.olivia.get("/audit", action="team.").json())) == {"team.create", "team.member.set"}
    assert actions(api.olivia.get("/audit", source="api").json()) == ["team.create"]
    by_object = api.olivia.get("/audit", object_type="catalog.service", object_id=str(log.search.pk)).json()
    assert actions(by_object) == ["service.create"]
    between = api.olivia.get(
        "/audit", since="2036-03-02T09:00:00Z", before="2036-03-03T09:00:00+00:00"
    ).json()
    assert actions(between) == ["team.create"]
    assert actions(api.olivia.get("/audit", since="2036-03-02T10:00:00+01:00").json()) == [
        "team.member.set",
        "team.create",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"before": "2036-03-02T09:00:00"}, "before"),  # no offset: which zone?
        ({"since": "2036-03-03T00:00:00Z", "before": "2036-03-02T00:00:00Z"}, "since"),
        ({"source": "email"}, "source"),
        ({"actor": "x" * 300}, "actor"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(api: Clients, log: Log, params: dict, field: str) -> None:
    response = api.olivia.get("/audit", **params)

    assert response.status_code == 400
    body = error(response)
    assert body["errors"][0]["field"] == field and body["detail"].startswith(field)
    assert api.olivia.get("/audit.csv", **params).status_code == 400


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_people_who_are_no_admin_may_not_read_the_log(api: Clients, log: Log, who: str) -> None:
    for path in ("/audit", "/audit.csv"):
        response = api.of(who).get(path)
        assert response.status_code == 403
        assert error(response)["detail"] == "only organisation admins and team admins read the audit log"


def test_without_a_token_it_is_a_401(api: Clients, log: Log) -> None:
    api.olivia.token = None
    assert api.olivia.get("/audit").status_code == 401


def test_the_csv_export_has_the_filtered_rows_and_defuses_formulas(api: Clients, log: Log) -> None:
    mallory = accounts.create_user(
        email="mallory@example.com", password=PASSWORD, full_name="=HYPERLINK(1)", actor=None, source="system"
    )
    with clock.frozen(T3 + timedelta(hours=1)):
        audit.record(
            actor=mallory, source="web", action="team.probe", obj=log.world.team_b, after={"a": "=1"}
        )

    response = api.olivia.get("/audit.csv", action="team.")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="warroom-audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == [
        "team.probe",
        "team.member.set",
        "team.create",
        "team.member.set",
        "team.member.set",
        "team.member.set",
        "team.member.set",
        "team.create",
        "team.create",
    ]
    probe = rows[0]
    assert probe["actor_name"] == "'=HYPERLINK(1)" and probe["actor_email"] == "mallory@example.com"
    assert probe["after"] == '{"a":"=1"}' and probe["before"] == ""
    created = rows[2]
    assert created["actor_id"] == str(log.world.olivia.pk) and created["source"] == "api"
    assert created["after"] == '{"name":"Team C"}'
    assert (
        rows[-1]["actor_email"] == "" and rows[-1]["actor_id"] == ""
    )  # the world's teams: the system made them
