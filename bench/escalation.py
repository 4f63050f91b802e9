"""Benchmark: 10,000 incidents escalating at the same instant, on PostgreSQL, with 2 `warroom engine` processes.

    .venv/bin/python bench/escalation.py [--incidents 10000] [--people 100] [--engines 2] [--timeout 600]
    WARROOM_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/warroom_bench_escalation  (the default)

It creates a fresh PostgreSQL database (dropped at the end), migrates it and seeds one team with ``--people``
people, each with a verified webhook contact method (high urgency, at once) pointing at a local receiver, and one
service + one-step policy per person. Then it bulk-inserts ``--incidents`` open incidents spread over the services
and their escalations, all due at the same instant T: ``--lead`` seconds (2) after every engine is running its
cycles (the bench waits for that, so an engine's cold start is not counted as lateness). The receiver is a
separate process (asyncio, HTTP/1.1 keep-alive) that answers 200 and counts requests.

It prints:
- escalation lateness: for each outbox message, when it was enqueued (``Message.created_at``, read from the clock
  inside ``notify.enqueue`` in the escalation step's transaction) minus T, p50/p99/max;
- deliveries per second: requests the receiver counted between the first and the last one, and from the outbox
  (``Message.sent_at``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
import httpx
import psycopg

WARROOM = Path(sys.executable).with_name("warroom")
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/warroom_bench_escalation"


# ---------------------------------------------------------------------------------------------------------------
# the receiver (a separate process: `escalation.py --receiver PORT`)


async def _serve(port: int) -> None:
    count = 0
    first = last = 0.0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count, first, last
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /stats"):
                    body = f"{count} {first} {last}".encode()
                else:
                    now = time.time()
                    count += 1
                    first = first or now
                    last = now
                    body = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)
                )
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _database(url: str, *, drop_only: bool = False) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_admin_url(url), autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not drop_only:
            db.execute(f"CREATE DATABASE {name}")


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers at {url}")


def _wait_cycling(engines: int, timeout: float = 120) -> float:
    """Wait until every engine process runs cycles (a cold start imports Django, every app and the URL
    configuration: seconds on a busy machine); returns how long it took. With WARROOM_ENGINE_INTERVAL=0.5 one
    engine runs ``paging.escalate`` at most 5 times in 2 s, so more than 5 × (engines − 1) runs in 2 s means
    every engine does."""
    from django.db import connection  # noqa: PLC0415 (Django is set up first)

    from warroom.engine.models import ModuleState  # noqa: PLC0415

    began = time.monotonic()
    last: int | None = None
    while time.monotonic() - began < timeout:
        runs = ModuleState.objects.filter(name="paging.escalate").values_list("runs", flat=True).first() or 0
        connection.close()
        if last is not None and runs - last > 5 * (engines - 1):
            return time.monotonic() - began
        last = runs
        time.sleep(2)
    raise SystemExit(f"the engines did not all start within {timeout:g} s")


# ---------------------------------------------------------------------------------------------------------------
# seeding


def seed(incidents: int, people: int, hook_url: str, due: datetime) -> None:
    """People, webhooks, services and policies through plain bulk inserts and the oncall services; incidents and
    their escalations (all due at ``due``) in bulk."""
    from django.core.management import call_command  # noqa: PLC0415 (Django is set up first)

    from warroom.accounts import services as accounts  # noqa: PLC0415
    from warroom.accounts.models import User  # noqa: PLC0415
    from warroom.catalog import services as catalog  # noqa: PLC0415
    from warroom.incidents.models import Incident  # noqa: PLC0415
    from warroom.notify.models import ContactMethod, NotificationRule  # noqa: PLC0415
    from warroom.oncall import services as oncall  # noqa: PLC0415
    from warroom.oncall.services import StepSpec, TargetSpec  # noqa: PLC0415
    from warroom.paging.models import IncidentEscalation  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    now = datetime.now(UTC)
    team = accounts.create_team(name="Bench", actor=None, source="system")
    users = User.objects.bulk_create(
        [User(email=f"p{n}@bench.example.com", full_name=f"Person {n}", password="!") for n in range(people)]
    )
    for user in users:
        accounts.set_membership(team=team, user=user, role="responder", actor=None, source="system")
    methods = ContactMethod.objects.bulk_create(
        [
            ContactMethod(
                user=user,
                kind="webhook",
                name="hook",
                display=hook_url,
                secret={"url": f"{hook_url}/{user.pk}", "signing_secret": secrets.token_hex(16)},
                verified_at=now,
                created_at=now,
                updated_at=now,
            )
            for user in users
        ]
    )
    NotificationRule.objects.bulk_create(
        [
            NotificationRule(user=m.user, contact_method=m, urgency="high", delay_minutes=0, created_at=now)
            for m in methods
        ]
    )
    services = []
    policies = []
    for n, user in enumerate(users):
        service = catalog.create_service(team=team, name=f"svc-{n}", tier=1, actor=None, source="system")
        policy = oncall.create_policy(
            team=team,
            name=f"policy-{n}",
            repeat=0,
            steps=[StepSpec(60, [TargetSpec("user", user.pk)])],
            actor=None,
            source="system",
        )
        oncall.set_service_policy(service=service, policy=policy, actor=None, source="system")
        services.append(service)
        policies.append(policy)
    made = Incident.objects.bulk_create(
        [
            Incident(
                number=900_000 + n,
                title=f"Bench outage {n}",
                team=team,
                impact=1,
                urgency=1,
                priority=1,
                opened_at=now,
                updated_at=now,
            )
            for n in range(incidents)
        ],
        batch_size=2000,
    )
    through = Incident.services.through
    through.objects.bulk_create(
        [through(incident_id=i.pk, service_id=services[n % people].pk) for n, i in enumerate(made)],
        batch_size=5000,
    )
    IncidentEscalation.objects.bulk_create(
        [
            IncidentEscalation(
                incident=i, policy=policies[n % people], next_at=due, started_at=now, updated_at=now
            )
            for n, i in enumerate(made)
        ],
        batch_size=5000,
    )


# ---------------------------------------------------------------------------------------------------------------
# the run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--engines", type=int, default=2)
    parser.add_argument(
        "--lead", type=float, default=2.0, help="seconds from all engines cycling to the due instant"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        asyncio.run(_serve(args.receiver))
        return

    url = os.environ.get("WARROOM_BENCH_DATABASE_URL", DEFAULT_URL)
    work = Path(tempfile.mkdtemp(prefix="warroom-escalation-"))
    env = {
        **os.environ,
        "WARROOM_DATABASE_URL": url,
        "WARROOM_DATA_DIR": str(work / "data"),
        "WARROOM_SECRET_KEY": os.environ.get("WARROOM_SECRET_KEY") or secrets.token_urlsafe(64),
        "WARROOM_HTTP_ALLOW_PRIVATE": "127.0.0.0/8",
        "WARROOM_ENGINE_INTERVAL": "0.5",
        "WARROOM_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    port = _free_port()
    receiver = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)])
    engines: list[subprocess.Popen[bytes]] = []
    _database(url)
    try:
        _wait_http(f"http://127.0.0.1:{port}/stats")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
        django.setup()
        from django.db import connection  # noqa: PLC0415

        from warroom.notify.models import Message, Status  # noqa: PLC0415
        from warroom.paging.models import Page  # noqa: PLC0415

        began = time.monotonic()
        due = datetime.now(UTC) + timedelta(days=1)  # moved to the real instant below, after seeding
        seed(args.incidents, args.people, f"http://127.0.0.1:{port}/hook", due)
        print(
            f"seeded {args.incidents} incidents for {args.people} people in {time.monotonic() - began:.1f} s"
        )
        from warroom.paging.models import IncidentEscalation  # noqa: PLC0415

        connection.close()
        for n in range(args.engines):
            log = open(work / f"engine{n}.log", "wb")  # noqa: SIM115 (closed with the process)
            engines.append(
                subprocess.Popen([str(WARROOM), "engine"], env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        print(f"engines cycling after {_wait_cycling(args.engines):.1f} s")
        due = datetime.now(UTC) + timedelta(seconds=args.lead)
        IncidentEscalation.objects.update(next_at=due)
        connection.close()
        deadline = time.monotonic() + args.lead + args.timeout
        expected = args.incidents
        sent = 0
        while time.monotonic() < deadline:
            time.sleep(1)
            sent = Message.objects.filter(status=Status.SENT).count()
            connection.close()
            if sent >= expected:
                break
        count, first, last = httpx.get(f"http://127.0.0.1:{port}/stats").text.split()
        pages = list(Page.objects.values_list("at", flat=True))
        enqueued = Message.objects.values_list("created_at", flat=True)
        lateness = [(at - due).total_seconds() for at in enqueued]
        times = sorted(
            t for t in Message.objects.filter(status=Status.SENT).values_list("sent_at", flat=True) if t
        )
        failed = Message.objects.exclude(status=Status.SENT).count()
        connection.close()
    finally:
        for proc in engines:
            proc.terminate()
        for proc in engines:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        receiver.terminate()
        receiver.wait(timeout=10)
    _database(url, drop_only=True)
    received = int(count)
    span = float(last) - float(first)
    print(f"engines: {args.engines}; incidents due at once: {args.incidents}; people: {args.people}")
    print(f"pages written: {len(pages)}; messages sent: {sent}; not sent: {failed}; receiver got: {received}")
    if lateness:
        print(
            "escalation lateness (message enqueued - step due): "
            f"p50 {statistics.median(lateness):.2f} s, p99 {_pct(lateness, 99):.2f} s, max {max(lateness):.2f} s "
            f"(first {min(lateness):.2f} s)"
        )
    if received > 1 and span > 0:
        print(f"deliveries/s at the receiver: {received / span:.0f} ({received} in {span:.1f} s)")
    if len(times) > 1:
        outbox_span = (times[-1] - times[0]).total_seconds()
        print(f"deliveries/s from the outbox (sent_at): {len(times) / max(outbox_span, 1e-9):.0f}")
        print(
            f"first message sent {(times[0] - due).total_seconds():.2f} s after due, last "
            f"{(times[-1] - due).total_seconds():.2f} s after due"
        )
    print(f"engine logs: {work}")


if __name__ == "__main__":
    main()
