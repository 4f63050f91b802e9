"""Per-key rate limits are one budget for all of a server's worker processes: the buckets live in a file that
``warroom web`` / ``warroom serve`` share between their workers (``WARROOM_RATE_LIMIT_TABLE``)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.alerts.live import Database, Process, warroom
from tests.smoke.test_serve import WARROOM, _free_port, _wait_healthy
from warroom.alerts.ratelimit import Limiter, _Table


@pytest.mark.parametrize("shared", [False, True], ids=["in memory", "in a shared table"])
def test_token_bucket_refills_at_the_rate(shared: bool, tmp_path: Path) -> None:
    limiter = Limiter(path=str(tmp_path / "table") if shared else None)
    assert limiter.take(1, 60, now=0.0) == (0, False)
    for _ in range(59):
        assert limiter.take(1, 60, now=0.0) == (0, False)
    assert limiter.take(1, 60, now=0.0) == (1, True)
    assert limiter.take(1, 60, now=0.5) == (1, False)  # still refused, not the first refusal
    assert limiter.take(1, 60, now=1.6) == (0, False)  # one token back after a second
    assert limiter.take(2, 60, now=1.6) == (0, False)  # another key has its own bucket
    assert limiter.take(1, 120, now=1.6) == (0, False)  # a new rate starts a full bucket


def test_two_limiters_on_one_table_share_each_keys_budget(tmp_path: Path) -> None:
    path = str(tmp_path / "table")
    first, second = Limiter(path=path), Limiter(path=path)  # two open files, as two processes have
    allowed = [limiter.take(7, 10, now=100.0)[0] == 0 for _ in range(10) for limiter in (first, second)]
    assert allowed.count(True) == 10
    assert second.take(7, 10, now=100.0) == (6, False)  # refused: the first refusal was the other's
    first.reset()
    assert second.take(7, 10, now=100.0) == (0, False)


def test_a_bucket_left_by_a_previous_boot_starts_full(tmp_path: Path) -> None:
    path = str(tmp_path / "table")
    limiter = Limiter(path=path)
    for _ in range(5):
        limiter.take(3, 5, now=5_000.0)
    assert limiter.take(3, 5, now=5_000.0)[0] > 0
    # After a reboot the monotonic clock starts again near 0: the old bucket's time lies in the future.
    assert Limiter(path=path).take(3, 5, now=12.0) == (0, False)


def test_when_the_slots_of_a_key_are_all_taken_the_oldest_bucket_gives_way(tmp_path: Path) -> None:
    limiter = Limiter(path=str(tmp_path / "table"))
    colliding = [5 + n * _Table.SLOTS for n in range(_Table.PROBE + 1)]  # all start at the same slot
    for number, key in enumerate(colliding[:-1]):
        assert limiter.take(key, 1, now=10.0 + number) == (0, False)
        assert limiter.take(key, 1, now=10.0 + number)[0] > 0  # each bucket is empty now
    assert limiter.take(colliding[-1], 1, now=50.0) == (0, False)  # takes the oldest key's slot
    assert limiter.take(colliding[0], 1, now=50.0) == (0, False)  # forgotten: starts full again...
    assert limiter.take(colliding[2], 1, now=30.0)[0] > 0  # ...while the others are still counted


CHILD = """
import sys
from warroom.alerts.ratelimit import Limiter
limiter = Limiter(path=sys.argv[1])
print(sum(limiter.take(9, 500, now=1000.0)[0] == 0 for _ in range(400)))
"""


def test_processes_taking_tokens_at_once_never_exceed_the_budget(tmp_path: Path) -> None:
    path = str(tmp_path / "table")
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0]
    assert sum(int(output) for output in outputs) == 500  # 1,200 attempts at once, exactly the burst allowed


SETUP = (
    "from warroom.accounts import services as a; from warroom.catalog import services as c; "
    "from warroom.alerts import services as s; from warroom.alerts.models import Integration; "
    "t = a.create_team(name='Ops', actor=None, source='cli'); "
    "v = c.create_service(team=t, name='Payments', tier=1, actor=None, source='cli'); "
    "i = s.create_integration(service=v, kind='pagerduty', name='limited', actor=None, source='cli'); "
    "Integration.objects.filter(pk=i.pk).update(rate_limit_per_minute=12); "
    "print('KEY=' + s.create_integration_key(integration=i, actor=None, source='cli').secret)"
)


@pytest.mark.own_sqlite
def test_a_web_server_with_two_workers_holds_a_key_to_its_rate(
    migrated_data_dir: Path, tmp_path: Path
) -> None:
    """36 requests, each on a connection of its own (so both workers take some), against a rate of 12 a minute:
    12 are accepted (one more at most, refilled while they are sent), the rest answered 429."""
    db = Database(migrated_data_dir)
    key = re.findall(r"^KEY=(\S+)$", warroom(db, "manage", "shell", "-c", SETUP), re.MULTILINE)[0]
    port = _free_port()
    web = Process(
        [str(WARROOM), "web", "--port", str(port), "--workers", "2"], env=db.env, log=tmp_path / "web.log"
    )
    statuses: list[int] = []
    lock = threading.Lock()

    def send(sender: int) -> None:
        for number in range(9):
            body = {
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": f"limited/{sender}/{number}",
                "payload": {"summary": "Over the rate?", "source": "test", "severity": "error"},
            }
            status = httpx.post(f"http://127.0.0.1:{port}/v2/enqueue", json=body, timeout=30).status_code
            with lock:
                statuses.append(status)

    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", web.popen)
        began = time.monotonic()
        senders = [threading.Thread(target=send, args=(n,)) for n in range(4)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=120)
        took = time.monotonic() - began
    finally:
        web.stop()
    assert len(statuses) == 36, web.output()
    assert set(statuses) == {202, 429}, statuses
    refilled = int(took * 12 / 60) + 1
    assert 12 <= statuses.count(202) <= 12 + refilled, (statuses.count(202), took)
    assert (migrated_data_dir / "ratelimit.table").exists()
