"""The compliance report's period at the edges of the calendar: a date far in the past or the future, or one
whose time zone puts it before year 1 in UTC, is a 400 naming the field on the API and on the console page —
never a 500 (it used to overflow Python's dates while working out the default start or the end day)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.api.conftest import Clients, error
from tests.conftest import World
from warroom.accounts.models import User

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]

OUT_OF_RANGE = [
    ({"end": "0001-01-05"}, "end"),  # the default start, 30 days earlier, is before year 1
    ({"start": "0001-01-01T00:00:00+05:00", "end": "0001-01-02"}, "start"),  # before year 1 in UTC
    ({"start": "2026-01-01", "end": "9999-12-31T23:59:59-05:00"}, "end"),  # after year 9999 in UTC
]


@pytest.mark.parametrize(("query", "field"), OUT_OF_RANGE)
def test_the_api_refuses_a_period_outside_the_calendar(
    api: Clients, query: dict[str, str], field: str
) -> None:
    for path in ("/sla/report", "/sla/report.csv"):
        response = api.alice.get(path, **query)
        assert response.status_code == 400, (path, response.content)
        body = error(response)
        assert body["errors"][0]["field"] == field
        assert "1900-01-01" in body["detail"]


def test_the_api_still_takes_a_long_ago_period(api: Clients) -> None:
    response = api.alice.get("/sla/report", start="1990-01-01", end="1990-02-01")
    assert response.status_code == 200
    assert response.json()["total"]["response"]["met"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [({"end": "9999-12-31"}, "end"), ({"end": "0001-01-05"}, "end"), ({"start": "0001-01-01"}, "start")],
)
def test_the_console_refuses_days_outside_the_calendar(
    world: World, client_for: ClientFor, query: dict[str, str], field: str
) -> None:
    alice = client_for(world.alice)
    page = alice.get("/reports/sla/", query)
    assert page.status_code == 400
    assert "1900-01-01" in page.content.decode()
    csv = alice.get("/reports/sla.csv", query)  # the download falls back to the default period, as before
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
