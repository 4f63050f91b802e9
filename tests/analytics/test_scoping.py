"""Team scoping: a user's figures cover their teams' incidents only; organisation admins see every team;
another team's team or service in a filter is a 400 (as an unknown one), never its figures."""

from __future__ import annotations

from typing import Any

import pytest

from tests.analytics.conftest import FIRST, LAST, NOW, PERIOD, Data, at, summarize
from tests.api.conftest import Clients
from warroom.accounts.models import User
from warroom.analytics import filters, selectors
from warroom.incidents import selectors as incident_selectors
from warroom.incidents import services as incidents
from warroom.lib import clock
from warroom.lib.errors import NotFound

pytestmark = pytest.mark.django_db


def scope(user: User, **kw: Any) -> filters.Filters:
    return filters.resolve(user, today=NOW.date(), start=FIRST, end=LAST, **kw)


def test_charlie_sees_only_team_b(data: Data) -> None:
    charlie = data.world.charlie
    response = selectors.response_report(charlie, scope(charlie))
    # only I7: acknowledged after 1 min, resolved after 31
    assert (response.total.incidents, response.total.mtta.seconds, response.total.mttr.seconds) == (
        1,
        60.0,
        1860.0,
    )
    assert [r.label for r in response.by_team] == ["Team B"]
    assert selectors.volume_report(charlie, scope(charlie)).breakdown("service").series[0].label == "Billing"
    assert selectors.noise_report(charlie, scope(charlie)).totals.alerts == 1  # the billing webhook's x
    assert [p.name for p in selectors.oncall_report(charlie, scope(charlie)).people] == ["Charlie Other"]
    assert selectors.sla_report(charlie, scope(charlie), at=NOW).total.response.met == 1
    assert [s.label for s in selectors.reliability_report(charlie, scope(charlie)).services] == ["Billing"]
    # I7 is resolved (P1) without a postmortem
    assert selectors.reviews_report(charlie, scope(charlie), today=NOW.date()).postmortems_total.missing == 1


def test_an_org_admin_sees_every_team(data: Data) -> None:
    olivia = data.world.olivia
    report = selectors.response_report(olivia, scope(olivia))
    # I1..I5 and I7: MTTA (5700 + 60) / 5 = 1152 s; MTTR (13800 + 1860) / 4 = 3915 s
    assert (report.total.incidents, report.total.mtta.seconds, report.total.mttr.seconds) == (
        6,
        1152.0,
        3915.0,
    )
    assert [r.label for r in report.by_team] == ["Team A", "Team B"]
    assert selectors.noise_report(olivia, scope(olivia)).totals.alerts == 14  # 13 + 1


@pytest.mark.parametrize(
    ("who", "field", "key"),
    [
        ("charlie", "team", "team-a"),
        ("charlie", "service", "checkout"),
        ("alice", "team", "team-b"),
        ("alice", "service", "no-such"),
    ],
)
def test_another_teams_filter_is_not_found(data: Data, who: str, field: str, key: str) -> None:
    user = getattr(data.world, who)
    with pytest.raises(NotFound) as caught:
        scope(user, **{field: key})
    assert caught.value.field == field


def test_private_incidents_count_for_team_admins_only(data: Data) -> None:
    with clock.frozen(at("03-04", "10:00")):
        incidents.declare_incident(
            actor=data.world.alice, source="test", title="Private", team=data.world.team_a, is_private=True
        )
    summarize()
    alice, bob = data.world.alice, data.world.bob
    assert selectors.response_report(alice, scope(alice)).total.incidents == 6  # admin of team A
    assert selectors.response_report(bob, scope(bob)).total.incidents == 5  # responder


def test_being_a_participant_does_not_bring_another_teams_figures(data: Data) -> None:
    """Charlie reported a team A incident, so he may read it; it is still not in his figures."""
    with clock.frozen(at("03-04", "10:00")):
        incidents.declare_incident(
            actor=data.world.alice,
            source="test",
            title="Reported by charlie",
            team=data.world.team_a,
            reporter=data.world.charlie,
        )
    summarize()
    charlie = data.world.charlie
    assert incident_selectors.visible_incidents(charlie).filter(title="Reported by charlie").exists()
    assert selectors.response_report(charlie, scope(charlie)).total.incidents == 1  # still only I7


def test_api_scoping(data: Data, api: Clients) -> None:
    charlie = api.charlie.get("/reports/response", **PERIOD)
    assert charlie.status_code == 200
    assert charlie.json()["total"]["incidents"] == 1
    hidden = api.charlie.get("/reports/response", team="team-a", **PERIOD)
    assert hidden.status_code == 400
    assert hidden.json()["errors"] == [{"field": "team", "message": "team: team 'team-a' not found"}]
    assert api.charlie.get("/reports/noise", service="checkout", **PERIOD).status_code == 400
    assert api.olivia.get("/reports/response", team="team-a", **PERIOD).json()["total"]["incidents"] == 5
