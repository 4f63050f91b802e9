"""Secret iCal feeds: per schedule and per person, text/calendar that a calendar library reads back, secrets
stored only as an HMAC, and a plain 404 for anything unknown, revoked or no longer allowed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from tests.api.conftest import Clients
from tests.conftest import World
from warroom.accounts import services as accounts
from warroom.oncall import services
from warroom.oncall.models import CalendarFeed, Layer


def fetch(url: str) -> Any:
    path = url.split("://", 1)[1].split("/", 1)[1]
    return Client().get("/" + path)


def events(response: Any) -> list[Any]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def test_a_schedule_feed_publishes_the_final_schedule(api: Clients, world: World, layer: Layer) -> None:
    created = api.bob.post(f"/schedules/{layer.schedule_id}/feeds")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["url"].startswith("http://127.0.0.1:8000/oncall/calendar/wr_cal_") and body["url"].endswith(
        ".ics"
    )
    secret = body["url"].rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get()
    assert secret not in (feed.digest, feed.prefix) and secret.startswith(feed.prefix)
    found = events(fetch(body["url"]))
    # 7 days back from 1 March (nothing: the layer starts on 1 March 09:00 Chicago) to 60 days ahead, daily shifts.
    assert 58 <= len(found) <= 60
    first = min(found, key=lambda e: e.decoded("dtstart"))
    assert first.decoded("dtstart") == datetime(2026, 3, 1, 15, tzinfo=UTC)
    assert first.decoded("dtend") == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert str(first["summary"]) == "On call: Alice Admin (Checkout primary)"
    by_start = {e.decoded("dtstart"): e for e in found}
    assert by_start[datetime(2026, 3, 8, 14, tzinfo=UTC)].decoded("dtend") == datetime(
        2026, 3, 9, 14, tzinfo=UTC
    )
    assert len({str(e["uid"]) for e in found}) == len(found)
    assert [str(e["uid"]) for e in events(fetch(body["url"]))] == [str(e["uid"]) for e in found]  # stable
    assert CalendarFeed.objects.get().last_used_at is not None
    listed = api.bob.get(f"/schedules/{layer.schedule_id}/feeds").json()
    assert [f["id"] for f in listed] == [body["id"]] and "url" not in listed[0]


def test_a_personal_feed_has_only_that_persons_shifts_on_every_schedule(
    api: Clients, world: World, layer: Layer
) -> None:
    other = services.create_schedule(
        team=world.team_a, name="Payments", time_zone="Europe/London", actor=None, source="system"
    )
    services.create_layer(
        schedule=other,
        name="Weekly",
        rotation_kind="weekly",
        start=datetime(2026, 2, 23, 10),
        participants=[world.bob, world.alice],
        actor=None,
        source="system",
    )
    url = api.bob.post("/oncall/feeds").json()["url"]
    found = events(fetch(url))
    summaries = {str(e["summary"]) for e in found}
    assert summaries == {"On call: Bob Responder (Checkout primary)", "On call: Bob Responder (Payments)"}
    assert any(e.decoded("dtstart") == datetime(2026, 3, 2, 15, tzinfo=UTC) for e in found)


def test_revoked_unknown_and_no_longer_allowed_feeds_are_a_plain_404(
    api: Clients, world: World, layer: Layer, caplog: pytest.LogCaptureFixture
) -> None:
    url = api.bob.post(f"/schedules/{layer.schedule_id}/feeds").json()["url"]
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert fetch(url).status_code == 200
    with caplog.at_level(logging.INFO):
        assert fetch(url.replace(secret, secret[:-2] + "xx")).status_code == 404
        assert fetch(url.replace(secret, "x" * 300)).status_code == 404
    assert secret[:-2] not in caplog.text  # the secret never reaches the logs
    accounts.remove_membership(team=world.team_a, user=world.bob, actor=None, source="system")
    assert fetch(url).status_code == 404  # bob can no longer see the schedule
    accounts.set_membership(team=world.team_a, user=world.bob, role="responder", actor=None, source="system")
    assert fetch(url).status_code == 200
    world.bob.is_active = False
    world.bob.save()
    assert fetch(url).status_code == 404
    world.bob.is_active = True
    world.bob.save()
    feed = CalendarFeed.objects.get()
    services.revoke_calendar_feed(feed=feed, actor=world.bob, source="system")
    response = fetch(url)
    assert response.status_code == 404 and response.content == b"no such calendar\n"


def test_feeds_answer_only_get_and_keep_the_secret_out_of_the_logs(
    api: Clients, layer: Layer, caplog: pytest.LogCaptureFixture
) -> None:
    url = api.bob.post(f"/schedules/{layer.schedule_id}/feeds").json()["url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    with caplog.at_level(logging.DEBUG):
        assert Client().post(path).status_code == 405
        assert Client().head(path).status_code == 200
    assert "wr_cal_" not in caplog.text
