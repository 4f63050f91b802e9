"""Benchmark: what one PostgreSQL round trip costs this machine in CPU, on both ends.

    .venv/bin/python bench/roundtrip.py [--count 5000]
    WARROOM_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres   (the default; nothing is written
        to it but a temporary table)

The intake's targets leave a budget of CPU per event (docs/performance.md, "What limits it"), and every
statement that goes to the database and back takes a share of it in the client (Python, libpq and the kernel's
socket and scheduler work) and in the server backend. This prints that share for three kinds of round trip on
one connection in autocommit mode, so the floor of a design can be read before it is built:

  select 1 (psycopg)   the smallest statement, through psycopg's Python layer (what Warroom's code uses);
  select 1 (libpq)     the same through libpq alone (``PGconn.exec_``), the layer below;
  insert + commit      one durable row (``INSERT`` into a temporary table, committed: a WAL flush).

Client CPU is this process's (user and system, from ``getrusage``); server CPU is the backend's, from
``/proc/<pid>/stat`` (so the server must be on this machine). Figures vary with the machine's state: run it
beside the benchmark they explain.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/postgres"
WARMUP = 200


def backend_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the backend ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(name: str, count: int, once: Callable[[], Any], backend: int) -> None:
    for _ in range(WARMUP):
        once()
    before, server_before, wall_before = (
        resource.getrusage(resource.RUSAGE_SELF),
        backend_cpu(backend),
        time.perf_counter(),
    )
    for _ in range(count):
        once()
    after, server_after, wall_after = (
        resource.getrusage(resource.RUSAGE_SELF),
        backend_cpu(backend),
        time.perf_counter(),
    )
    user = (after.ru_utime - before.ru_utime) / count * 1e6
    system = (after.ru_stime - before.ru_stime) / count * 1e6
    server = (server_after - server_before) / count * 1e6
    wall = (wall_after - wall_before) / count * 1e6
    print(
        f"| {name} | {user + system:,.0f} ({user:,.0f} user, {system:,.0f} system) | {server:,.0f} | {wall:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="round trips per kind (at most 100,000)")
    args = parser.parse_args()
    count = max(100, min(args.count, 100_000))
    url = os.environ.get("WARROOM_BENCH_DATABASE_URL", DEFAULT_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        backend = row[0]
        conn.execute("CREATE TEMPORARY TABLE roundtrip (id bigint)")
        load = os.getloadavg()
        print(
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs, load average "
            f"{load[0]:.2f}; {count:,} round trips each, one connection, autocommit"
        )
        print()
        print("| round trip | client CPU µs | server CPU µs | wall µs |")
        print("|---|---|---|---|")
        measure("select 1 (psycopg)", count, lambda: conn.execute("SELECT 1"), backend)
        measure("select 1 (libpq)", count, lambda: conn.pgconn.exec_(b"SELECT 1"), backend)
        measure("insert + commit", count, lambda: conn.execute("INSERT INTO roundtrip VALUES (1)"), backend)


if __name__ == "__main__":
    main()
