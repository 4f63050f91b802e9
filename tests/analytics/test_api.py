"""The reports from /api/v1/: the same figures as the page, typed, and bad filters as 4xx JSON naming the
field."""

from __future__ import annotations

import csv
import io

import pytest

from tests.analytics.conftest import PERIOD, Data
from tests.api.conftest import ApiClient, Clients, error

pytestmark = pytest.mark.django_db


def test_every_report_answers_the_hand_computed_figures(data: Data, api: Clients) -> None:
    alice = api.alice
    response = alice.get("/reports/response", **PERIOD).json()
    assert response["filters"] == {
        "start": "2026-03-02",
        "end": "2026-03-29",
        "team": None,
        "service": None,
        "priority": None,
        "bucket": "week",
    }
    assert response["total"]["mtta"] == {"count": 4, "seconds": 1425.0}  # (300 + 600 + 1800 + 3000) / 4
    assert response["total"]["mttr"] == {"count": 3, "seconds": 4600.0}  # (3600 + 7200 + 3000) / 3
    assert response["total"]["ttd"] == {"count": 3, "seconds": 1340.0}  # (120 + 300 + 3600) / 3
    assert response["cancelled"] == 1
    assert [row["incidents"] for row in response["trend"]] == [2, 2, 1, 0]

    volume = alice.get("/reports/volume", **PERIOD).json()
    assert volume["buckets"] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    services = {s["label"]: s["counts"] for s in volume["breakdowns"][3]["series"]}
    assert services == {"Checkout": [2, 1, 1, 0], "Search": [0, 2, 0, 0]}

    reliability = alice.get("/reports/reliability", **PERIOD).json()
    assert {s["key"]: s["mtbf_seconds"] for s in reliability["services"]} == {
        "search": 133200.0,
        "checkout": 516000.0,
    }

    compliance = alice.get("/reports/compliance", **PERIOD).json()
    assert compliance["total"]["response"] == {"met": 1, "breached": 2, "in_progress": 0, "compliance": 33.3}

    noise = alice.get("/reports/noise", **PERIOD).json()
    assert (
        noise["totals"]["alerts"],
        noise["totals"]["alerts_per_incident"],
        noise["totals"]["unacted"],
    ) == (13, 1.25, 8)
    assert noise["flapping"][0]["dedup_key"] == "flap"

    oncall = alice.get("/reports/oncall", **PERIOD).json()
    assert (oncall["pages"], oncall["outside_hours"], oncall["night"]) == (8, 4, 4)
    assert oncall["people"][2]["outside_hours"] is None  # dave set no working hours

    reviews = alice.get("/reports/reviews", **PERIOD).json()
    assert reviews["postmortems_total"]["completion_percent"] == 33.3
    assert reviews["actions_total"]["completion_percent"] == 50.0


def test_filters_in_the_api(data: Data, api: Clients) -> None:
    got = api.alice.get("/reports/response", service="search", priority=3, bucket="month", **PERIOD).json()
    assert got["total"]["incidents"] == 2  # I3 and I4
    assert got["filters"]["service"] == "search"
    assert [row["key"] for row in got["trend"]] == ["2026-03-01"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, 400, "start"),
        ({"start": "2020-01-01", "end": "2026-03-01"}, 400, "start"),
        ({"start": "yesterday"}, 422, "start"),
        ({"end": "2026-02-30"}, 422, "end"),
        ({"priority": "7"}, 400, "priority"),
        ({"priority": "high"}, 400, "priority"),
        ({"bucket": "day"}, 400, "bucket"),
        ({"team": "no-such-team"}, 400, "team"),
        ({"service": "billing"}, 400, "service"),  # team B's
    ],
)
def test_bad_filters_are_4xx_naming_the_field(
    data: Data, api: Clients, query: dict[str, str], status: int, field: str
) -> None:
    answer = api.alice.get("/reports/noise", **query)
    assert answer.status_code == status, answer.content
    body = error(answer)
    assert [e["field"] for e in body["errors"]] == [field]


@pytest.mark.parametrize(
    "report", ["response", "volume", "reliability", "compliance", "noise", "oncall", "reviews"]
)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),  # its week and month end after year 9999
        ({"end": "9999-12-31"}, "end"),
        ({"end": "0001-01-01"}, "end"),  # the default start, 89 days before, is before year 1
        ({"start": "0001-01-01", "end": "0001-01-02"}, "start"),
    ],
)
def test_days_at_the_ends_of_the_calendar_are_a_400_not_a_500(
    data: Data, api: Clients, report: str, query: dict[str, str], field: str
) -> None:
    answer = api.alice.get(f"/reports/{report}", **query)
    assert answer.status_code == 400, answer.content
    assert error(answer)["errors"] == [
        {"field": field, "message": f"{field}: give a day from 1970-01-01 to 9998-12-31"}
    ]


def test_the_default_start_stops_at_the_earliest_day(data: Data, api: Clients) -> None:
    answer = api.alice.get("/reports/response", end="1970-01-10")
    assert answer.status_code == 200
    assert answer.json()["filters"]["start"] == "1970-01-01"
    assert api.alice.get("/reports/response", start="9998-12-01", end="9998-12-31").status_code == 200


def test_csv_from_the_api(data: Data, api: Clients) -> None:
    answer = api.alice.get("/reports/response/priority.csv", **PERIOD)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [(r["priority"], r["incidents"], r["mtta_seconds"]) for r in rows] == [
        ("1 - Critical", "1", "300.0"),
        ("2 - High", "2", "1800.0"),
        ("3 - Moderate", "2", "1800.0"),
        ("All", "5", "1425.0"),
    ]
    assert error(api.alice.get("/reports/response/nothing.csv"))["errors"][0]["field"] == "table"
    assert api.alice.get("/reports/nothing/priority.csv").status_code == 404


def test_the_reports_need_a_token(data: Data) -> None:
    assert ApiClient(None).get("/reports/response").status_code == 401
