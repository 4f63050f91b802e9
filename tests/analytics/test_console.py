"""The reports page and its CSV downloads through Django's test client."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.test import Client

from tests.analytics.conftest import PERIOD, Data
from tests.conftest import World
from warroom.accounts.models import User

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
TABS = ["response", "volume", "reliability", "compliance", "noise", "oncall", "reviews"]


def test_every_tab_shows_its_figures_and_charts(data: Data, client_for: ClientFor) -> None:
    client = client_for(data.world.alice)
    page = client.get("/reports/", PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "MTTA" in html and "23m" in html  # 1425 s
    assert "1h 16m" in html  # MTTR 4600 s
    assert html.count('src="data:image/svg+xml;base64,') == 1
    for tab in TABS:
        answer = client.get(f"/reports/{tab}/", PERIOD)
        assert answer.status_code == 200, tab
        body = answer.content.decode()
        assert "data:image/svg+xml;base64," in body, tab
        assert "<script" not in body.split("<main", 1)[1], tab  # nothing inline in the page itself
    noise = client.get("/reports/noise/", PERIOD).content.decode()
    assert "61.5%" in noise and "Prometheus" in noise and "flap" in noise


def test_the_nav_links_to_reports(world: World, client_for: ClientFor) -> None:
    html = client_for(world.bob).get("/incidents/").content.decode()
    assert 'href="/reports/"' in html and ">Reports</a>" in html
    assert ">SLA reports</a>" in html


def test_names_are_escaped(data: Data, client_for: ClientFor) -> None:
    data.search.name = "<b>Search</b>"
    data.search.save(update_fields=["name"])
    html = client_for(data.world.alice).get("/reports/reliability/", PERIOD).content.decode()
    assert "<b>Search</b>" not in html and "&lt;b&gt;Search&lt;/b&gt;" in html


def test_bad_filters_are_a_400_next_to_the_field(data: Data, client_for: ClientFor) -> None:
    client = client_for(data.world.alice)
    backwards = client.get("/reports/", {"start": "2026-03-10", "end": "2026-03-01"})
    assert backwards.status_code == 400
    assert "the first day must not be after the last" in backwards.content.decode()
    assert client.get("/reports/", {"start": "not a date"}).status_code == 400
    assert client.get("/reports/", {"priority": "9"}).status_code == 400
    assert client.get("/reports/volume/", {"bucket": "year"}).status_code == 400
    far = client.get("/reports/", {"end": "9999-12-31"})
    assert far.status_code == 400
    assert "give a day from 1970-01-01 to 9998-12-31" in far.content.decode()
    assert client.get("/reports/response/trend.csv", {"end": "0001-01-01"}).status_code == 400
    assert client.get("/reports/volume.csv").status_code == 404
    assert client.get("/reports/nothing/").status_code == 404


def test_another_teams_filter_is_a_404(data: Data, client_for: ClientFor) -> None:
    charlie = client_for(data.world.charlie)
    assert charlie.get("/reports/", {"team": "team-a"}).status_code == 404
    assert charlie.get("/reports/noise/", {"service": "checkout"}).status_code == 404
    assert charlie.get("/reports/noise/integrations.csv", {"service": "checkout"}).status_code == 404
    html = charlie.get("/reports/", PERIOD).content.decode()
    assert "Checkout" not in html and "Team A" not in html


def test_csv_per_table(data: Data, client_for: ClientFor) -> None:
    client = client_for(data.world.alice)
    answer = client.get("/reports/oncall/people.csv", PERIOD)
    assert answer.status_code == 200
    assert 'filename="warroom-oncall-people-20260302-20260329.csv"' in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [(r["person"], r["pages"], r["outside_hours"], r["night"], r["time_zone"]) for r in rows] == [
        ("Bob Responder", "5", "3", "2", "Europe/Paris"),
        ("Alice Admin", "2", "1", "1", "America/New_York"),
        ("Dave Observer", "1", "", "1", "UTC"),  # no working hours: empty, not 0
    ]
    volume = client.get("/reports/volume/category.csv", PERIOD).content.decode().splitlines()
    assert volume[0] == "key,category,incidents,2026-03-02,2026-03-09,2026-03-16,2026-03-23"
    assert ",Network,2,2,0,0,0" in volume[1]
    assert client.get("/reports/oncall/nothing.csv", PERIOD).status_code == 404
    assert (
        client.get("/reports/oncall/people.csv", {"start": "2026-03-10", "end": "2026-03-01"}).status_code
        == 400
    )


def test_csv_cells_cannot_run_as_formulas(data: Data, client_for: ClientFor) -> None:
    data.search.name = "=HYPERLINK(1)"
    data.search.save(update_fields=["name"])
    text = client_for(data.world.alice).get("/reports/reliability/service.csv", PERIOD).content.decode()
    assert "'=HYPERLINK(1)" in text
