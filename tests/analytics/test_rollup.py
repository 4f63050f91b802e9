"""The report summaries follow changes: the ``analytics.summarize`` engine module marks the days whose rows
changed (by watermark) and rebuilds them, at most once a minute."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.analytics.conftest import FIRST, LAST, NOW, Data, alert, at
from warroom.analytics import filters, rollup, selectors
from warroom.analytics.models import DirtyDay, IncidentCell
from warroom.engine import registry
from warroom.incidents import services as incidents
from warroom.lib import clock
from warroom.reviews.models import Postmortem

pytestmark = pytest.mark.django_db


def mttr(data: Data) -> tuple[int, float | None]:
    alice = data.world.alice
    flt = filters.resolve(alice, today=NOW.date(), start=FIRST, end=LAST)
    total = selectors.response_report(alice, flt).total
    return total.mttr.count, total.mttr.seconds


def test_a_change_reaches_the_figures_on_the_next_run(data: Data) -> None:
    assert mttr(data) == (3, 4600.0)
    with clock.frozen(NOW + timedelta(minutes=2)):
        incidents.transition_incident(
            incident=data.incidents["I3"],
            actor=None,
            source="test",
            to="resolved",
            resolution_code="permanent_fix",
            resolution_notes="Fixed late.",
        )
    assert mttr(data) == (3, 4600.0)  # not yet summarized
    assert rollup.run(NOW + timedelta(seconds=30)) == 0  # the last run was 30 s ago: nothing is due yet
    assert rollup.run(NOW + timedelta(minutes=3)) >= 1
    # I3: 03-10 09:00 → 04-01 12:02 = 22 d 3 h 2 min = 1,911,720 s; (13,800 + 1,911,720) / 4 = 481,380 s
    assert mttr(data) == (4, 481380.0)
    assert not DirtyDay.objects.exists()


def test_a_new_alert_on_an_old_day_is_counted(data: Data) -> None:
    alice = data.world.alice
    flt = filters.resolve(alice, today=NOW.date(), start=FIRST, end=LAST)
    assert selectors.noise_report(alice, flt).totals.alerts == 13
    alert(data.prometheus, "late", at("03-13", "08:00"))  # a monitoring tool's own, older timestamp
    rollup.run(NOW + timedelta(minutes=5))
    assert selectors.noise_report(alice, flt).totals.alerts == 14


def test_rebuilding_is_idempotent(data: Data) -> None:
    before = sorted(
        IncidentCell.objects.values_list("day", "team_id", "priority", "service_id", "primary", "incidents")
    )
    rollup.rebuild_all(NOW)
    rollup.rebuild_day(at("03-02", "00:00").date())
    after = sorted(
        IncidentCell.objects.values_list("day", "team_id", "priority", "service_id", "primary", "incidents")
    )
    assert before == after
    # I4 is on two services: two rows, one primary
    rows = IncidentCell.objects.filter(day=at("03-11", "00:00").date()).values_list("service_id", "primary")
    assert sorted(p for _s, p in rows) == [False, True]


def test_the_engine_runs_the_module() -> None:
    registry.discover()
    assert "analytics.summarize" in {m.name for m in registry.modules()}


def test_a_published_postmortem_reaches_the_completion(data: Data) -> None:
    alice = data.world.alice
    flt = filters.resolve(alice, today=NOW.date(), start=FIRST, end=LAST)
    assert selectors.reviews_report(alice, flt, today=NOW.date()).postmortems_total.published == 1
    later = NOW + timedelta(minutes=2)
    Postmortem.objects.filter(incident=data.incidents["I2"]).update(
        status="published", published_at=later, updated_at=later
    )
    rollup.run(NOW + timedelta(minutes=3))
    report = selectors.reviews_report(alice, flt, today=NOW.date())
    assert (report.postmortems_total.published, report.postmortems_total.draft) == (2, 0)  # I1 and I2 of 3
    assert report.postmortems_total.completion_percent == 66.7
