"""Benchmark: a public status page and its JSON summary under load, served by ``warroom web`` (2 workers).

    .venv/bin/python bench/statuspage.py [--seconds 10] [--connections 16]
    WARROOM_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/warroom_bench .venv/bin/python bench/statuspage.py

The page: 50 components in 5 groups, each linked to its own service, 90 days of status history (a change every
few days per component: ~1,300 history rows), 1,000 past incidents with two public updates each (and an internal
one), 2 open incidents, one maintenance in progress and one scheduled. Seeded with bulk inserts (the page, groups
and components through the services), on PostgreSQL (default; the database is wiped first) or SQLite
(``--sqlite``).

It starts ``warroom web`` (granian, WSGI, 2 workers) on a free port of 127.0.0.1, measures one cold render (the
first request after start, per worker cache) and then drives ``wrk`` (one thread, N keep-alive connections: a
closed loop, so the load is bounded by N) against ``/status/bench/`` and ``/status/bench/summary.json`` for a
few seconds each, after a short warm-up. It prints requests/s, p50/p99 latency and non-2xx counts. wrk shares
the machine's cores with the server and the database; ``apt-get install -y wrk`` if it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django
import httpx

WARROOM = Path(sys.executable).with_name("warroom")
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/warroom_bench"
SLUG = "bench"

LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"bytes":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), summary.bytes))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(now: datetime) -> None:
    """The page of the module docstring."""
    from django.core.management import call_command  # noqa: PLC0415  (Django must be configured first)

    from warroom.accounts import services as accounts  # noqa: PLC0415
    from warroom.catalog.models import Service  # noqa: PLC0415
    from warroom.comms import page_services as pages  # noqa: PLC0415
    from warroom.comms.models import (  # noqa: PLC0415
        Component,
        ComponentStatusPeriod,
        Maintenance,
        StatusUpdate,
    )
    from warroom.incidents.models import Counter, Incident  # noqa: PLC0415
    from warroom.lib import clock  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(7)
    team = accounts.create_team(name="Platform", actor=None, source="system")
    admin = accounts.create_user(
        email="bench@example.com", password=None, is_org_admin=True, actor=None, source="system"
    )
    services = Service.objects.bulk_create(
        [Service(team=team, name=f"Service {i:02d}", slug=f"service-{i:02d}", tier=2) for i in range(50)]
    )
    start = now - timedelta(days=100)
    with clock.frozen(start):
        page = pages.create_page(team=team, name="Bench Cloud", slug=SLUG, actor=admin, source="system").page
        groups = [
            pages.create_group(page=page, name=f"Region {g + 1}", actor=admin, source="system")
            for g in range(5)
        ]
        components = [
            pages.create_component(
                page=page,
                name=f"Component {i:02d}",
                group=groups[i // 10],
                services=[services[i]],
                actor=admin,
                source="system",
            )
            for i in range(50)
        ]
    ComponentStatusPeriod.objects.filter(component__page=page).delete()
    periods = []
    bad = ["degraded_performance", "partial_outage", "major_outage", "under_maintenance"]
    for component in components:
        cursor = start
        while True:
            healthy = timedelta(hours=rng.randint(24, 24 * 7))
            if cursor + healthy >= now:
                periods.append(
                    ComponentStatusPeriod(component=component, status="operational", started_at=cursor)
                )
                break
            periods.append(
                ComponentStatusPeriod(
                    component=component, status="operational", started_at=cursor, ended_at=cursor + healthy
                )
            )
            cursor += healthy
            outage = timedelta(minutes=rng.randint(5, 240))
            periods.append(
                ComponentStatusPeriod(
                    component=component, status=rng.choice(bad), started_at=cursor, ended_at=cursor + outage
                )
            )
            cursor += outage
    ComponentStatusPeriod.objects.bulk_create(periods, batch_size=2000)
    incidents = []
    for number in range(1, 1003):
        opened = now - timedelta(minutes=rng.randint(60, 60 * 24 * 365))
        is_open = number > 1000
        incidents.append(
            Incident(
                number=number,
                title=f"Elevated errors on component {number % 50:02d}",
                team=team,
                state="in_progress" if is_open else "closed",
                priority=rng.randint(1, 4),
                resolution_code="" if is_open else "permanent_fix",
                opened_at=now - timedelta(minutes=30) if is_open else opened,
                resolved_at=None if is_open else opened + timedelta(hours=1),
                updated_at=opened,
            )
        )
    incidents = Incident.objects.bulk_create(incidents, batch_size=2000)
    Counter.objects.update_or_create(name="incident", defaults={"value": len(incidents)})
    Incident.services.through.objects.bulk_create(
        [
            Incident.services.through(incident_id=i.pk, service_id=services[i.number % 50].pk)
            for i in incidents
        ],
        batch_size=2000,
    )
    updates = []
    for incident in incidents:
        for step, (status, audience) in enumerate(
            [("investigating", "public"), ("identified", "internal"), ("resolved", "both")]
        ):
            updates.append(
                StatusUpdate(
                    incident=incident,
                    status=status,
                    audience=audience,
                    message=f"{status.title()}: we are looking at {incident.title.lower()}; next update in 30 min.",
                    created_at=incident.opened_at + timedelta(minutes=20 * step),
                    author=admin,
                )
            )
    updates = StatusUpdate.objects.bulk_create(updates, batch_size=2000)
    by_number = {c.name[-2:]: c for c in components}
    StatusUpdate.components.through.objects.bulk_create(
        [
            StatusUpdate.components.through(
                statusupdate_id=u.pk, component_id=by_number[f"{u.incident.number % 50:02d}"].pk
            )
            for u in updates
        ],
        batch_size=2000,
    )
    with clock.frozen(now):
        pages.create_maintenance(
            page=page,
            title="Storage firmware",
            scheduled_start=now - timedelta(minutes=10),
            scheduled_end=now + timedelta(hours=2),
            components=components[40:43],
            actor=admin,
            source="system",
        )
        pages.create_maintenance(
            page=page,
            title="Network upgrade",
            scheduled_start=now + timedelta(days=2),
            scheduled_end=now + timedelta(days=2, hours=1),
            components=components[:5],
            actor=admin,
            source="system",
        )
        pages.refresh_components(now=now)
    print(
        f"seeded: {len(components)} components, {len(periods):,} history rows, {len(incidents):,} incidents, "
        f"{len(updates):,} updates, {Maintenance.objects.count()} maintenances; "
        f"{Component.objects.exclude(status='operational').count()} components not operational now"
    )


def wrk(url: str, seconds: float, connections: int, script: Path, gzip: bool) -> dict[str, float]:
    if not url.startswith("http://127.0.0.1:"):
        sys.exit("refusing: the load goes to 127.0.0.1 only")
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        *(["-H", "Accept-Encoding: gzip"] if gzip else []),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    found = re.search(r"WRKJSON (\{.*\})", out)
    if not found:
        sys.exit(f"wrk failed:\n{out}")
    result: dict[str, float] = json.loads(found.group(1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sqlite", action="store_true", help="SQLite in a temporary data dir instead")
    parser.add_argument("--reuse", action="store_true", help="PostgreSQL: keep the data of the last run")
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="a bounded load of about this many requests/s (each connection waits connections/rate s between "
        "requests; wrk's delay()) instead of a closed loop as fast as the server answers",
    )
    args = parser.parse_args()
    if not subprocess.run(["which", "wrk"], capture_output=True, check=False).stdout:
        sys.exit("wrk is not installed: apt-get install -y wrk")

    data_dir = Path(tempfile.mkdtemp(prefix="warroom-bench-status-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = str(data_dir)
    env["WARROOM_SECRET_KEY"] = "bench-only-secret-key-that-is-long-enough-for-django-checks-0123456789"
    env["WARROOM_LOG_LEVEL"] = "WARNING"
    if not args.sqlite:
        env["WARROOM_DATABASE_URL"] = os.environ.get("WARROOM_BENCH_DATABASE_URL", DEFAULT_PG)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "warroom.settings"
    if not args.sqlite:
        import psycopg  # noqa: PLC0415

        name = env["WARROOM_DATABASE_URL"].rsplit("/", 1)[1]
        with psycopg.connect(
            env["WARROOM_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", autocommit=True
        ) as pg:
            if not pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                pg.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.db import connection  # noqa: PLC0415

    if not (args.reuse and connection.vendor == "postgresql"):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        began = time.monotonic()
        seed(datetime.now(UTC))
        print(f"seeding on {connection.vendor} took {time.monotonic() - began:.1f}s")
    connection.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(WARROOM), "web", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    script = data_dir / "report.lua"
    pause_ms = round(1000 * args.connections / args.rate) if args.rate > 0 else 0
    script.write_text(LUA + (f"delay = function() return {pause_ms} end\n" if pause_ms else ""))
    try:
        for _ in range(150):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        for path in (f"/status/{SLUG}/", f"/status/{SLUG}/summary.json"):
            began = time.perf_counter()
            response = httpx.get(base + path, timeout=30)
            took = (time.perf_counter() - began) * 1000
            assert response.status_code == 200, (path, response.status_code)
            print(f"cold render {path}: {took:.0f} ms, {len(response.content):,} bytes")
        load = (
            f", each waiting {pause_ms} ms between requests (about {args.rate:,.0f}/s offered)"
            if pause_ms
            else ""
        )
        print(
            f"\nwrk: 1 thread, {args.connections} connections{load}, {args.seconds:.0f} s per run "
            "(after 2 s warm-up)\n"
        )
        print("| endpoint | Accept-Encoding | req/s | p50 ms | p99 ms | non-2xx | errors |")
        print("|---|---|---|---|---|---|---|")
        for path in (f"/status/{SLUG}/", f"/status/{SLUG}/summary.json"):
            for packed in (True, False):
                wrk(base + path, 2, args.connections, script, packed)
                res = wrk(base + path, args.seconds, args.connections, script, packed)
                rate = res["requests"] / (res["duration_us"] / 1e6)
                size = res["bytes"] / max(res["requests"], 1) / 1024
                print(
                    f"| `{path}` ({size:,.0f} KB) | {'gzip' if packed else '—'} | {rate:,.0f} | "
                    f"{res['p50_us'] / 1000:.1f} | {res['p99_us'] / 1000:.1f} | {res['non2xx']:.0f} | "
                    f"{res['errors']:.0f} |"
                )
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
