"""Benchmark: the incident API under a closed-loop load, on SQLite (default) or PostgreSQL.

    .venv/bin/python bench/incidents_api.py [--incidents 20000] [--seconds 10] [--concurrency 8]
    WARROOM_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/warroom_bench .venv/bin/python bench/...

It seeds a throw-away database (bulk inserts for the incidents; the people, teams and services through the
services), starts `warroom web` (granian, WSGI, 2 workers) on a free port, and drives three workloads with
httpx threads: list (GET /api/v1/incidents?limit=50 with a filter), read (GET /api/v1/incidents/{ref}) and
declare (POST /api/v1/incidents). It prints requests/s, p50 and p99 latency and the error count.

The load generator is Python and shares the machine's 2 cores with the server, so the figures are lower
bounds; compare runs on the same machine, not with the peers' wrk numbers in ../shared/peer-bench/.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django
import httpx

WARROOM = Path(sys.executable).with_name("warroom")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(count: int) -> tuple[str, list[str]]:
    """Seed the database; return an API token and some incident refs."""
    from django.core.management import call_command  # noqa: PLC0415  (Django must be configured first)

    from warroom.accounts import services as accounts  # noqa: PLC0415
    from warroom.catalog import services as catalog  # noqa: PLC0415
    from warroom.incidents.models import Counter, Incident, TimelineEntry  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    admin = accounts.create_user(
        email="bench@example.com", password=None, is_org_admin=True, actor=None, source="system"
    )
    teams = [accounts.create_team(name=f"Team {i}", actor=None, source="system") for i in range(5)]
    for team in teams:
        accounts.set_membership(team=team, user=admin, role="admin", actor=None, source="system")
        catalog.create_service(team=team, name=f"Service {team.pk}", actor=None, source="system")
    _token, secret = accounts.create_api_token(user=admin, name="bench", actor=None, source="system")
    rng = random.Random(7)
    now = datetime.now(UTC)
    states = ["new", "in_progress", "on_hold", "resolved", "closed", "canceled"]
    batch: list[Incident] = []
    for number in range(1, count + 1):
        state = rng.choice(states)
        opened = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        batch.append(
            Incident(
                number=number,
                title=f"Synthetic incident {number} on service {rng.randint(1, 5)}",
                description="Seeded by bench/incidents_api.py",
                team=rng.choice(teams),
                state=state,
                impact=rng.randint(1, 3),
                urgency=rng.randint(1, 3),
                priority=rng.randint(1, 5),
                hold_reason="awaiting_vendor" if state == "on_hold" else "",
                resolution_code="permanent_fix" if state in ("resolved", "closed") else "",
                opened_at=opened,
                updated_at=opened,
                reporter=admin,
            )
        )
        if len(batch) == 5000:
            Incident.objects.bulk_create(batch)
            batch = []
    Incident.objects.bulk_create(batch)
    Counter.objects.update_or_create(name="incident", defaults={"value": count})
    entries = [
        TimelineEntry(incident_id=pk, at=now, source="system", kind="created", message="seeded")
        for pk in Incident.objects.values_list("pk", flat=True)[:2000]
    ]
    TimelineEntry.objects.bulk_create(entries)
    refs = [f"INC{n:07d}" for n in rng.sample(range(1, count + 1), 200)]
    return secret, refs


def drive(
    name: str,
    base: str,
    token: str,
    seconds: float,
    concurrency: int,
    request: Callable[[httpx.Client, random.Random], httpx.Response],
) -> None:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(seed_value: int) -> None:
        nonlocal errors
        rng = random.Random(seed_value)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while time.monotonic() < stop_at:
                began = time.perf_counter()
                response = request(client, rng)
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    if response.status_code >= 300:
                        errors += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    print(
        f"| {name} | {len(latencies) / elapsed:,.0f} | {statistics.median(latencies) * 1000:.1f} | "
        f"{p99 * 1000:.1f} | {errors} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    data_dir = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = str(data_dir)
    if os.environ.get("WARROOM_BENCH_DATABASE_URL"):
        env["WARROOM_DATABASE_URL"] = os.environ["WARROOM_BENCH_DATABASE_URL"]
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "warroom.settings"
    django.setup()
    from django.db import connection  # noqa: PLC0415

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    began = time.monotonic()
    token, refs = seed(args.incidents)
    print(f"seeded {args.incidents:,} incidents on {connection.vendor} in {time.monotonic() - began:.1f}s")
    connection.close()

    port = _free_port()
    server = subprocess.Popen(
        [str(WARROOM), "web", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        print(f"\n{args.concurrency} connections, {args.seconds:.0f} s each, {args.incidents:,} incidents\n")
        print("| workload | req/s | p50 ms | p99 ms | non-2xx |")
        print("|---|---|---|---|---|")
        drive(
            "list open P1/P2 (limit 50)",
            base,
            token,
            args.seconds,
            args.concurrency,
            lambda c, r: c.get("/api/v1/incidents", params={"open": "true", "priority": [1, 2], "limit": 50}),
        )
        drive(
            "read one incident",
            base,
            token,
            args.seconds,
            args.concurrency,
            lambda c, r: c.get(f"/api/v1/incidents/{r.choice(refs)}"),
        )
        drive(
            "declare",
            base,
            token,
            args.seconds,
            args.concurrency,
            lambda c, r: c.post(
                "/api/v1/incidents",
                json={"title": f"bench {r.random()}", "team": "team-1", "impact": 2, "urgency": 2},
            ),
        )
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
