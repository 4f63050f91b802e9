"""Heartbeats: pings keep a monitor up; a missed ping raises one alert (engine module ``alerts.heartbeats``) and
the next ping resolves it; ``/fail`` raises at once; a monitor that never pinged stays quiet."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, make_integration
from tests.conftest import World
from warroom.alerts import heartbeat, services
from warroom.alerts.models import Alert, HeartbeatMonitor, IntakeEvent
from warroom.engine import registry
from warroom.incidents.models import Incident
from warroom.lib import clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INTERVAL, GRACE = 300, 60
MISSED = timedelta(seconds=INTERVAL + GRACE)


@pytest.fixture
def hb(world: World) -> Hooked:
    return make_integration(
        world,
        "heartbeat",
        name="Nightly backup",
        heartbeat_interval_seconds=INTERVAL,
        heartbeat_grace_seconds=GRACE,
    )


def monitor(hooked: Hooked) -> HeartbeatMonitor:
    return HeartbeatMonitor.objects.get(integration=hooked.integration)


def ping(key: str, *, method: str = "get", suffix: str = "") -> tuple[int, bytes]:
    response = getattr(Client(), method)(f"/integrations/heartbeat/{key}{suffix}")
    return response.status_code, response.content


@pytest.mark.django_db
class TestPings:
    def test_a_ping_moves_a_new_monitor_up(self, hb: Hooked) -> None:
        assert monitor(hb).state == "new"
        with clock.frozen(T0):
            assert ping(hb.key) == (200, b"OK")
        watched = monitor(hb)
        assert (watched.state, watched.last_ping_at, watched.due_at) == ("up", T0, T0 + MISSED)
        assert not IntakeEvent.objects.exists(), "a ping of a monitor that is not down writes no event"

    @pytest.mark.parametrize("method", ["get", "post", "head"])
    def test_get_post_and_head_all_ping(self, hb: Hooked, method: str) -> None:
        with clock.frozen(T0):
            status, body = ping(hb.key, method=method)
        assert status == 200
        assert body == (b"" if method == "head" else b"OK")
        assert monitor(hb).last_ping_at == T0

    def test_the_key_in_the_authorization_header(self, hb: Hooked) -> None:
        headers = {"Authorization": f"Bearer {hb.key}"}
        with clock.frozen(T0):
            response = Client().post("/integrations/heartbeat", headers=headers)
        assert (response.status_code, response.content) == (200, b"OK")
        assert response["Content-Type"].startswith("text/plain")
        assert monitor(hb).state == "up"
        assert Client().get("/integrations/heartbeat").status_code == 401

    def test_every_ping_moves_due_at(self, hb: Hooked) -> None:
        with clock.frozen(T0):
            ping(hb.key)
            later = clock.advance(timedelta(seconds=290))
            ping(hb.key)
        assert monitor(hb).due_at == later + MISSED

    def test_unknown_or_revoked_key_is_404_and_writes_nothing(self, hb: Hooked, world: World) -> None:
        assert ping("wr_ik_" + "x" * 43)[0] == 404
        assert ping("not-a-key")[0] == 404
        key = hb.integration.keys.get()
        services.revoke_integration_key(key=key, actor=world.alice, source="test")
        assert ping(hb.key) == (404, b"unknown or revoked key\n")
        assert ping(hb.key, suffix="/fail")[0] == 404
        assert monitor(hb).state == "new"
        assert not IntakeEvent.objects.exists()

    def test_a_key_of_another_kind_is_400_and_logged(self, hb: Hooked, world: World) -> None:
        other = make_integration(world, "webhook")
        status, body = ping(other.key)
        assert status == 400 and b"Generic JSON webhook" in body
        rejected = IntakeEvent.objects.get()
        assert rejected.status == "rejected" and rejected.integration == other.integration
        assert rejected.reason.startswith("HTTP 400: this key belongs to a Generic JSON webhook")
        assert monitor(hb).state == "new"

    def test_other_methods_are_405(self, hb: Hooked) -> None:
        response = Client().put(f"/integrations/heartbeat/{hb.key}")
        assert response.status_code == 405
        assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
        assert monitor(hb).state == "new"

    def test_no_csrf_token_is_needed(self, hb: Hooked) -> None:
        response = Client(enforce_csrf_checks=True).post(f"/integrations/heartbeat/{hb.key}")
        assert response.status_code == 200

    def test_the_key_in_the_path_never_reaches_the_logs(
        self, hb: Hooked, world: World, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        ping(hb.key)
        ping(hb.key, suffix="/fail")
        Client().put(f"/integrations/heartbeat/{hb.key}/fail")
        ping(hb.key + "x")
        ping(make_integration(world, "webhook").key)
        key = hb.integration.keys.get()
        services.revoke_integration_key(key=key, actor=world.alice, source="test")
        ping(hb.key)
        assert caplog.records, "refusals and state changes are logged"
        assert hb.key not in caplog.text
        assert hb.key[6:20] not in caplog.text
        assert "heartbeat PUT /integrations/heartbeat/…/fail -> 405" in caplog.text
        assert "heartbeat GET /integrations/heartbeat/… -> 404" in caplog.text
        assert "heartbeat GET /integrations/heartbeat/… -> 400" in caplog.text

    def test_the_engine_module_runs_before_alert_processing(self) -> None:
        registry.discover()
        names = [m.name for m in registry.modules()]
        assert names.index("alerts.heartbeats") < names.index("alerts.process")


@pytest.mark.django_db
class TestMissedAndResolved:
    def test_a_missed_heartbeat_raises_one_alert_and_the_next_ping_resolves_it(self, hb: Hooked) -> None:
        with clock.frozen(T0):
            ping(hb.key)
            clock.advance(MISSED - timedelta(seconds=1))
            cycle()
            assert not Alert.objects.exists() and monitor(hb).state == "up"

            clock.advance(timedelta(seconds=1))
            report = cycle()
            assert report.items["alerts.heartbeats"] == 1
            alert = Alert.objects.get()
            assert alert.status == "triggered" and alert.severity == "error"
            assert alert.dedup_key == "heartbeat" and alert.source == "heartbeat"
            assert alert.summary == (
                "Heartbeat Nightly backup missed: no ping since 2026-03-02 09:00:00 UTC "
                "(expected every 300 s + grace 60 s)"
            )
            assert alert.details["last_ping_at"] == T0.isoformat()
            assert alert.first_seen == T0 + MISSED
            incident = Incident.objects.get()
            assert incident.state == "new" and incident.title.startswith("Heartbeat Nightly backup missed")
            assert (incident.impact, incident.urgency) == (2, 1)
            assert monitor(hb).state == "down"

            for _ in range(3):
                clock.advance(timedelta(minutes=10))
                assert cycle().items["alerts.heartbeats"] == 0
            assert Alert.objects.get().count == 1
            assert IntakeEvent.objects.filter(action="trigger").count() == 1

            back = clock.advance(timedelta(minutes=1))
            assert ping(hb.key) == (200, b"OK")
            resolve = IntakeEvent.objects.get(action="resolve")
            assert resolve.status == "pending" and resolve.key is not None
            assert monitor(hb).state == "up" and monitor(hb).due_at == back + MISSED
            cycle()
        alert.refresh_from_db()
        assert alert.status == "resolved" and alert.resolved_at == back
        assert Incident.objects.get().state == "resolved"
        assert IntakeEvent.objects.get(action="resolve").status == "processed"

    def test_further_pings_while_up_write_no_events(self, hb: Hooked) -> None:
        with clock.frozen(T0):
            ping(hb.key)
            clock.advance(MISSED)
            cycle()
            ping(hb.key)
            for _ in range(5):
                clock.advance(timedelta(minutes=4))
                ping(hb.key)
                cycle()
        assert IntakeEvent.objects.count() == 2
        assert Alert.objects.get().status == "resolved"

    def test_missing_again_opens_a_new_alert(self, hb: Hooked) -> None:
        with clock.frozen(T0):
            ping(hb.key)
            clock.advance(MISSED)
            cycle()
            ping(hb.key)
            cycle()
            clock.advance(MISSED)
            cycle()
        assert Alert.objects.filter(status="resolved").count() == 1
        assert Alert.objects.filter(status="triggered").count() == 1
        assert Incident.objects.count() == 2

    def test_the_incident_stays_open_without_auto_resolve(self, world: World) -> None:
        quiet = make_integration(
            world, "heartbeat", heartbeat_interval_seconds=INTERVAL, auto_resolve_incident=False
        )
        with clock.frozen(T0):
            ping(quiet.key)
            clock.advance(timedelta(seconds=INTERVAL + 60))
            cycle()
            ping(quiet.key)
            cycle()
        assert Alert.objects.get().status == "resolved"
        assert Incident.objects.get().state == "new"

    def test_a_new_monitor_that_never_pinged_never_alerts(self, hb: Hooked) -> None:
        with clock.frozen(T0):
            cycle()
            clock.advance(timedelta(days=365))
            cycle()
        assert monitor(hb).state == "new"
        assert not Alert.objects.exists() and not IntakeEvent.objects.exists()

    def test_only_the_monitor_that_missed_alerts(self, hb: Hooked, world: World) -> None:
        other = make_integration(world, "heartbeat", name="Hourly sync", heartbeat_interval_seconds=3600)
        with clock.frozen(T0):
            ping(hb.key)
            ping(other.key)
            clock.advance(MISSED)
            cycle()
        assert list(Alert.objects.values_list("integration", flat=True)) == [hb.integration.pk]

    def test_a_crash_before_commit_is_redone_once(self, hb: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
        real = heartbeat._missed_event

        def crash(*args: object) -> object:
            raise RuntimeError("power cut")

        with clock.frozen(T0):
            ping(hb.key)
            clock.advance(MISSED)
            monkeypatch.setattr(heartbeat, "_missed_event", crash)
            with pytest.raises(RuntimeError):
                heartbeat.heartbeats(clock.now())
            assert monitor(hb).state == "up" and not IntakeEvent.objects.exists()
            monkeypatch.setattr(heartbeat, "_missed_event", real)
            cycle()
            cycle()
        assert monitor(hb).state == "down"
        assert IntakeEvent.objects.filter(action="trigger").count() == 1
        assert Alert.objects.get().count == 1


@pytest.mark.django_db
class TestFail:
    def test_fail_raises_at_once_and_a_ping_resolves(self, hb: Hooked) -> None:
        with clock.frozen(T0):
            assert ping(hb.key, suffix="/fail") == (200, b"OK")
            assert monitor(hb).state == "down"
            cycle()
            alert = Alert.objects.get()
            assert alert.summary == "Heartbeat Nightly backup failed: the job reported failure"
            assert alert.severity == "error" and alert.status == "triggered"
            assert Incident.objects.count() == 1
            clock.advance(timedelta(minutes=1))
            ping(hb.key)
            cycle()
        alert.refresh_from_db()
        assert alert.status == "resolved"
        assert Incident.objects.get().state == "resolved"

    def test_a_posted_body_is_kept_on_the_alert(self, hb: Hooked) -> None:
        output = "pg_dump: error: connection to server failed\nexit 1\n" + "x" * 10_000
        with clock.frozen(T0):
            response = Client().post(
                f"/integrations/heartbeat/{hb.key}/fail",
                data=output,
                content_type="application/x-www-form-urlencoded",  # what curl --data-binary sends
            )
            assert response.status_code == 200
            cycle()
        alert = Alert.objects.get()
        assert alert.summary.endswith("reported failure: pg_dump: error: connection to server failed")
        assert alert.details["output"] == output[: heartbeat.OUTPUT_KEEP]

    def test_fail_with_the_key_in_the_header(self, hb: Hooked) -> None:
        headers = {"Authorization": f"Bearer {hb.key}"}
        assert Client().post("/integrations/heartbeat/fail", headers=headers).status_code == 200
        assert monitor(hb).state == "down"
        assert Client().post("/integrations/heartbeat/fail").status_code == 401

    def test_repeated_failures_add_to_the_open_alert(self, hb: Hooked) -> None:
        with clock.frozen(T0):
            ping(hb.key)
            for _ in range(3):
                clock.advance(timedelta(minutes=1))
                ping(hb.key, suffix="/fail")
            clock.advance(MISSED * 3)
            cycle()
        alert = Alert.objects.get()
        assert alert.count == 3
        assert IntakeEvent.objects.filter(action="trigger").count() == 3, "no extra 'missed' while down"

    def test_fail_of_a_new_monitor_alerts(self, hb: Hooked) -> None:
        ping(hb.key, suffix="/fail")
        cycle()
        assert Alert.objects.get().status == "triggered"


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: several engines, and pings racing the engine


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestConcurrency:
    MONITORS = 30

    @pytest.fixture(autouse=True)
    def _postgres_only(self) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL row locks (set WARROOM_DATABASE_URL to a PostgreSQL URL)")

    def _monitors(self, world: World) -> list[Hooked]:
        made = [
            make_integration(world, "heartbeat", name=f"job {n}", heartbeat_interval_seconds=INTERVAL)
            for n in range(self.MONITORS)
        ]
        for hooked in made:
            ping(hooked.key)
        return made

    @staticmethod
    def _together(*work: Callable[[], None]) -> None:
        barrier = threading.Barrier(len(work))
        failures: list[BaseException] = []

        def run(job: Callable[[], None]) -> None:
            try:
                barrier.wait(timeout=20)
                job()
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=(job,)) for job in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures, failures

    def test_two_engines_at_once_raise_each_missed_heartbeat_once(self, world: World) -> None:
        with clock.frozen(T0):
            self._monitors(world)
            clock.advance(MISSED)

            def engine() -> None:
                while heartbeat.raise_missed(clock.now(), limit=3):
                    pass

            self._together(engine, engine, engine)
            cycle()
        assert IntakeEvent.objects.filter(action="trigger").count() == self.MONITORS
        assert Alert.objects.count() == self.MONITORS
        assert set(HeartbeatMonitor.objects.values_list("state", flat=True)) == {"down"}

    def test_pings_racing_the_engine_leave_every_monitor_consistent(self, world: World) -> None:
        with clock.frozen(T0):
            made = self._monitors(world)
            clock.advance(MISSED)

            def engine() -> None:  # one monitor per transaction, so pings and batches interleave
                while heartbeat.raise_missed(clock.now(), limit=1):
                    pass

            def pinger() -> None:  # from the other end: the two meet in the middle
                for hooked in reversed(made):
                    assert ping(hooked.key)[0] == 200

            self._together(engine, pinger)
            cycle()
        assert set(HeartbeatMonitor.objects.values_list("state", flat=True)) == {"up"}
        for hooked in made:
            actions = list(
                IntakeEvent.objects.filter(integration=hooked.integration)
                .order_by("id")
                .values_list("action", flat=True)
            )
            assert actions in ([], ["trigger", "resolve"]), (hooked.integration.name, actions)
        assert not Alert.objects.exclude(status="resolved").exists()
