"""Benchmark: alert intake in the production layout on PostgreSQL, side by side with Prometheus Alertmanager.

    .venv/bin/python bench/ingest.py [--seconds 10] [--connections 8] [--scenarios a,b,c] [--no-alertmanager]
    WARROOM_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/warroom_ingest_bench   (the default; this
        database is dropped and created afresh, so never point it at one you need)

It creates a fresh PostgreSQL database, migrates it and seeds one team with 20 services, a PagerDuty integration
per service (grouping: all alerts of the service within 10 minutes) and one Alertmanager integration (grouping:
the upstream ``groupKey``), all without a per-key rate limit. Then it starts the production layout, ``warroom
web --workers 2`` (granian, WSGI) and ``warroom engine``, and drives it from ``wrk`` (one thread, N keep-alive
connections, a closed loop, Lua scripts written next to the run) for each scenario:

  a. single PagerDuty events (``POST /v2/enqueue``) with unique dedup keys, spread over the 20 services;
  b. single PagerDuty events where 9 of 10 repeat one of 90 dedup keys (duplicates of open alerts);
  c. Alertmanager webhooks (``POST /integrations/alertmanager``) of 100 firing alerts each, one group per request.

For each it prints events accepted per second (answered 202, so committed), wrk's p50/p99 latency, and how long
until every accepted event was an alert grouped into an incident: the engine's lag per event (sampled every
50 ms from the event log: the newest committed event, and the oldest still pending) and the time from the end of
the load until nothing was pending. CPU is accounted from /proc for the web processes, the engine, PostgreSQL and
wrk. Then it starts a fresh, empty Alertmanager (Debian's ``prometheus-alertmanager``, clustering off, grouping
by alertname and service, a webhook receiver on a local sink, as in ../shared/peer-bench/) per scenario, drives
its ``/api/v2/alerts`` with the same alerts (same labels and annotations, one alert or 100 per request) and
prints the ratio Warroom/Alertmanager.

Everything listens on and sends to 127.0.0.1; every load run is bounded by its duration; every process started
is stopped by its PID. The load generator shares the machine's cores with the servers and PostgreSQL, as in the
peer figures. The engine runs with ``WARROOM_ENGINE_INTERVAL=0.5`` (``--engine-interval``): its idle interval is
part of every event's lag. Diagnostics: ``--django-only`` serves the plain Django application instead of the
intake fast path (the "before" figure), ``--no-engine`` measures intake alone. Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import django
import httpx
import psycopg

WARROOM = Path(sys.executable).with_name("warroom")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/warroom_ingest_bench"
SERVICES = 20
TCK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------------------------------------------------------
# wrk scripts (Lua). Every request builds its own body; ids mix a run id, so warm-up and runs never collide.

COMMON_LUA = r"""
local M = {}
M.batch = tonumber(os.getenv("BATCH") or "1")
M.mode = os.getenv("MODE") or "unique"
M.maxreq = tonumber(os.getenv("MAXREQ") or "3000000")
M.runid = os.getenv("RUNID") or tostring(os.time())
M.starts = os.date("!%Y-%m-%dT%H:%M:%SZ")
local responses = 0
function M.response(status, headers, body)
  responses = responses + 1
  if responses >= M.maxreq then wrk.thread:stop() end
end
function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
-- the alert of number n: (identity, service number); MODE=dup: 9 of 10 repeat one of 90 identities
function M.identity(n)
  if M.mode == "dup" and n % 10 ~= 0 then
    local p = n % 100
    return "dup-" .. p, p % 20
  end
  return M.runid .. "-" .. n, n % 20
end
function M.labels(id, svc)
  return string.format(
    '{"alertname":"HighLatency%d","service":"svc-%d","instance":"%s","job":"node","severity":"critical",' ..
    '"env":"prod"}', svc % 10, svc, id)
end
function M.annotations(id)
  return string.format(
    '{"summary":"p99 latency above SLO on %s","description":"Request latency p99 has been above 500ms ' ..
    'for 5 minutes."}', id)
end
return M
"""

PD_LUA = r"""
package.path = os.getenv("LUA_DIR") .. "/?.lua;" .. package.path
local C = require("common")
local keys = {__KEYS__}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
function request()
  n = n + 1
  local id, svc = C.identity(n)
  local body = string.format(
    '{"routing_key":"%s","event_action":"trigger","dedup_key":"%s","payload":{"summary":' ..
    '"p99 latency above SLO on %s","source":"%s","severity":"critical","component":"api",' ..
    '"group":"svc-%d","class":"latency","custom_details":{"p99_ms":812,"region":"eu-1"}},' ..
    '"client":"wrk-bench","client_url":"http://monitoring.local/"}', keys[svc + 1], id, id, id, svc)
  return wrk.format(nil, "/v2/enqueue", nil, body)
end
response = C.response
done = C.done
"""

AM_WEBHOOK_LUA = r"""
package.path = os.getenv("LUA_DIR") .. "/?.lua;" .. package.path
local C = require("common")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer __KEY__"
local n, r = 0, 0
function request()
  r = r + 1
  local g = r % 20
  local parts = {}
  for j = 1, C.batch do
    n = n + 1
    local id = C.runid .. "-" .. n
    parts[j] = string.format(
      '{"status":"firing","labels":%s,"annotations":%s,"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z",' ..
      '"generatorURL":"http://prometheus.local/graph?g0.expr=latency","fingerprint":"%s"}',
      C.labels(id, g), C.annotations(id), C.starts, id)
  end
  local group = string.format('{"alertname":"HighLatency%d","service":"svc-%d"}', g % 10, g)
  local body = string.format(
    '{"version":"4","groupKey":"{}:{alertname=\\"HighLatency%d\\", service=\\"svc-%d\\"}","status":"firing",' ..
    '"receiver":"warroom","groupLabels":%s,"commonLabels":%s,"commonAnnotations":{},' ..
    '"externalURL":"http://alertmanager.local:9093","truncatedAlerts":0,"alerts":[%s]}',
    g % 10, g, group, group, table.concat(parts, ","))
  return wrk.format(nil, "/integrations/alertmanager", nil, body)
end
response = C.response
done = C.done
"""

AM_API_LUA = r"""
package.path = os.getenv("LUA_DIR") .. "/?.lua;" .. package.path
local C = require("common")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n, r = 0, 0
function request()
  r = r + 1
  local parts = {}
  for j = 1, C.batch do
    n = n + 1
    local id, svc = C.identity(n)
    if C.batch > 1 then svc = r % 20 end
    parts[j] = string.format(
      '{"labels":%s,"annotations":%s,"startsAt":"%s","generatorURL":"http://prometheus.local/graph?g0.expr=latency"}',
      C.labels(id, svc), C.annotations(id), C.starts)
  end
  return wrk.format(nil, "/api/v2/alerts", nil, "[" .. table.concat(parts, ",") .. "]")
end
response = C.response
done = C.done
"""

AM_CONFIG = """global:
  resolve_timeout: 5m
route:
  receiver: sink
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:{port}/am
        send_resolved: false
        max_alerts: 50
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    batch: int
    mode: str


SCENARIOS = {
    "a": Scenario("a", "single events, unique keys", 1, "unique"),
    "b": Scenario("b", "single events, 90% duplicate keys", 1, "dup"),
    "c": Scenario("c", "Alertmanager batches of 100", 100, "unique"),
}


# ---------------------------------------------------------------------------------------------------------------
# processes and CPU


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid → (ppid, own CPU ticks, reaped children's CPU ticks)."""
    table: dict[int, tuple[int, int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = text[text.rfind(")") + 2 :].split()
        table[int(entry)] = (int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14]))
    return table


def _tree_ticks(root: int | None, table: dict[int, tuple[int, int, int]]) -> int:
    if root is None or root not in table:
        return 0
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = table[root][2], [root]
    while stack:
        pid = stack.pop()
        total += table[pid][1]
        stack.extend(children.get(pid, []))
    return total


def _machine_ticks() -> tuple[int, int]:
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


class Cpu:
    """CPU seconds used by named process trees between start() and stop()."""

    def __init__(self, roots: dict[str, int | None]) -> None:
        self.roots = roots
        self.used: dict[str, float] = {}
        self.busy_cores = 0.0

    def start(self) -> None:
        self._t0, self._m0 = _proc_table(), _machine_ticks()

    def stop(self) -> None:
        t1, m1 = _proc_table(), _machine_ticks()
        for name, root in self.roots.items():
            self.used[name] = (_tree_ticks(root, t1) - _tree_ticks(root, self._t0)) / TCK
        self.busy_cores = (m1[0] - self._m0[0]) / max(1, m1[1] - self._m0[1]) * (os.cpu_count() or 1)


class Process:
    """A child process in a session of its own, stopped (with its children) by PID."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            args, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._out.close()


def _wait_http(url: str, proc: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            sys.exit(f"{proc.log.name}: exited with {proc.popen.returncode}:\n{proc.log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer within {timeout} s")


# ---------------------------------------------------------------------------------------------------------------
# the database


def _server_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def fresh_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"refusing database name {name!r}")
    with psycopg.connect(_server_url(url, "postgres"), autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {name}")


def postmaster_pid(url: str) -> int | None:
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SHOW data_directory").fetchone()
    try:
        return int((Path(row[0]) / "postmaster.pid").read_text().split()[0]) if row else None
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Seeded:
    pd_keys: list[str]
    am_key: str


def seed() -> Seeded:
    """Migrate and seed (in this process, configured for the bench database)."""
    from django.core.management import call_command  # noqa: PLC0415  (Django must be configured first)

    from warroom.accounts import services as accounts  # noqa: PLC0415
    from warroom.alerts import services as alerts  # noqa: PLC0415
    from warroom.catalog import services as catalog  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    team = accounts.create_team(name="Bench", actor=None, source="system")
    pd_keys = []
    am_key = ""
    for number in range(SERVICES):
        service = catalog.create_service(team=team, name=f"svc-{number}", actor=None, source="system")
        pd = alerts.create_integration(
            service=service,
            kind="pagerduty",
            name=f"pd-{number}",
            actor=None,
            source="system",
            grouping="window",
            rate_limit_per_minute=0,
        )
        pd_keys.append(alerts.create_integration_key(integration=pd, actor=None, source="system").secret)
        if number == 0:
            am = alerts.create_integration(
                service=service,
                kind="alertmanager",
                name="prometheus",
                actor=None,
                source="system",
                grouping="group_key",
                rate_limit_per_minute=0,
            )
            am_key = alerts.create_integration_key(integration=am, actor=None, source="system").secret
    return Seeded(pd_keys, am_key)


class Watcher:
    """Samples the event log every 50 ms: the newest committed event id and the oldest pending one."""

    def __init__(self, url: str) -> None:
        self.db = psycopg.connect(url, autocommit=True)
        self.samples: list[tuple[float, int, int]] = []  # (t, max id, every id <= this is processed)

    def sample(self) -> tuple[int, int]:
        row = self.db.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM alerts_intakeevent), "
            "(SELECT min(id) FROM alerts_intakeevent WHERE status = 'pending')"
        ).fetchone()
        assert row is not None
        newest, pending = int(row[0]), row[1]
        frontier = newest if pending is None else int(pending) - 1
        self.samples.append((time.monotonic(), newest, frontier))
        return newest, frontier

    @contextmanager
    def running(self) -> Iterator[None]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(0.05):
                self.sample()

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def lags(self, first: int, last: int) -> list[float]:
        """Seconds from when event id k was committed to when it was processed, for k in (first, last]."""
        lags = []
        arrived = done = 0
        for k in range(first + 1, last + 1, max(1, (last - first) // 20000)):
            while arrived < len(self.samples) and self.samples[arrived][1] < k:
                arrived += 1
            while done < len(self.samples) and self.samples[done][2] < k:
                done += 1
            if arrived < len(self.samples) and done < len(self.samples):
                lags.append(max(0.0, self.samples[done][0] - self.samples[arrived][0]))
        return lags


# ---------------------------------------------------------------------------------------------------------------
# load


@dataclass
class Run:
    requests: int = 0
    events: int = 0
    seconds: float = 0.0
    non2xx: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    busy_cores: float = 0.0
    wrk_cpu: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def wrk(url: str, lua: Path, seconds: float, connections: int, batch: int, mode: str) -> Run:
    if urlsplit(url).hostname != "127.0.0.1":
        sys.exit("refusing: the load goes to 127.0.0.1 only")
    env = dict(
        os.environ,
        LUA_DIR=str(lua.parent),
        BATCH=str(batch),
        MODE=mode,
        RUNID=f"r{time.time_ns()}",
        MAXREQ="3000000",
    )
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        url,
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    found = re.search(r"WRKJSON (\{.*\})", out)
    if not found:
        sys.exit(f"wrk failed ({proc.returncode}):\n{out}")
    res = json.loads(found.group(1))
    run = Run(
        requests=res["requests"],
        seconds=res["duration_us"] / 1e6,
        non2xx=res["err_status"],
        errors=sum(res[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")),
        p50_ms=res["p50_us"] / 1000,
        p99_ms=res["p99_us"] / 1000,
        wrk_cpu=usage.ru_utime + usage.ru_stime,
    )
    run.events = (run.requests - run.non2xx) * batch
    return run


class Sink(BaseHTTPRequestHandler):
    """Alertmanager's webhook receiver: answers 200 and counts."""

    protocol_version = "HTTP/1.1"
    alerts = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with suppress(ValueError, AttributeError):
            Sink.alerts += len(json.loads(body).get("alerts", []))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


# ---------------------------------------------------------------------------------------------------------------
# the two systems


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    env: dict[str, str]
    url: str
    seeded: Seeded
    pg_pid: int | None
    results: dict[str, dict[str, Run]] = field(default_factory=dict)

    def lua(self, name: str, text: str) -> Path:
        path = self.work / name
        path.write_text(text)
        return path

    def warroom(self, scenarios: list[Scenario]) -> None:
        port = _free_port()
        if self.args.django_only:
            web_args = [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--workers",
                "2",
                "--blocking-threads",
                str(min(8, (os.cpu_count() or 1) * 2 + 1)),
                "--no-ws",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "warroom.wsgi:django_application",
            ]
        else:
            web_args = [str(WARROOM), "web", "--port", str(port), "--workers", "2"]
        web = Process(web_args, self.env, self.work / "web.log")
        engine = (
            None
            if self.args.no_engine
            else Process([str(WARROOM), "engine"], self.env, self.work / "engine.log")
        )
        base = f"http://127.0.0.1:{port}"
        keys = ", ".join(f'"{key}"' for key in self.seeded.pd_keys)
        self.lua("common.lua", COMMON_LUA)
        scripts = {
            "a": self.lua("pd.lua", PD_LUA.replace("__KEYS__", keys)),
            "b": self.lua("pd.lua", PD_LUA.replace("__KEYS__", keys)),
            "c": self.lua("am_webhook.lua", AM_WEBHOOK_LUA.replace("__KEY__", self.seeded.am_key)),
        }
        watcher = Watcher(self.url)
        try:
            _wait_http(f"{base}/healthz", web)
            for scenario in scenarios:
                script = scripts[scenario.name]
                wrk(base, script, self.args.warmup, self.args.connections, scenario.batch, scenario.mode)
                if engine is not None:
                    self._drain(watcher, timeout=120)
                first, _ = watcher.sample()
                cpu = Cpu({"web": web.pid, "engine": engine.pid if engine else None, "postgres": self.pg_pid})
                watcher.samples.clear()
                with watcher.running():
                    cpu.start()
                    run = wrk(
                        base, script, self.args.seconds, self.args.connections, scenario.batch, scenario.mode
                    )
                    cpu.stop()
                    ended = time.monotonic()
                    drained = self._drain(watcher, timeout=120) if engine is not None else None
                run.cpu, run.busy_cores = cpu.used, cpu.busy_cores
                last = max(sample[1] for sample in watcher.samples)
                lags = sorted(watcher.lags(first, last))
                run.extra = {
                    "drain_s": (drained - ended) if drained else float("nan"),
                    "lag_p50_s": _pct(lags, 50),
                    "lag_p99_s": _pct(lags, 99),
                    "lag_max_s": lags[-1] if lags else 0,
                    "stored": last - first,
                    **self._check(first, last),
                }
                self.results.setdefault(scenario.name, {})["warroom"] = run
                print(f"  warroom {scenario.name}: {_line(run, scenario)}", flush=True)
        finally:
            watcher.db.close()
            web.stop()
            if engine is not None:
                engine.stop()

    def _drain(self, watcher: Watcher, *, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            newest, frontier = watcher.sample()
            if frontier >= newest:
                return time.monotonic()
            time.sleep(0.05)
        return None

    def _check(self, first: int, last: int) -> dict[str, Any]:
        """What the engine made of the run's events: all processed, each with an alert that has an incident."""
        with psycopg.connect(self.url, autocommit=True) as db:
            row = db.execute(
                "SELECT count(*), count(*) FILTER (WHERE e.status = 'processed'), "
                "count(*) FILTER (WHERE a.incident_id IS NOT NULL), count(DISTINCT e.alert_id), "
                "count(DISTINCT a.incident_id) FROM alerts_intakeevent e "
                "LEFT JOIN alerts_alert a ON a.id = e.alert_id WHERE e.id > %s AND e.id <= %s",
                [first, last],
            ).fetchone()
        assert row is not None
        events, processed, grouped, alerts, incidents = row
        return {
            "events": events,
            "processed": processed,
            "grouped": grouped,
            "alerts": alerts,
            "incidents": incidents,
        }

    def alertmanager(self, scenarios: list[Scenario]) -> None:
        binary = shutil.which("prometheus-alertmanager")
        if binary is None:
            print(
                "  prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager): skipped"
            )
            return
        Sink.alerts = 0
        sink_port = _free_port()
        sink = ThreadingHTTPServer(("127.0.0.1", sink_port), Sink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        config = self.work / "alertmanager.yml"
        config.write_text(AM_CONFIG.format(port=sink_port))
        script = self.lua("am_api.lua", AM_API_LUA)
        try:
            for scenario in scenarios:
                port = _free_port()
                storage = self.work / f"am-{scenario.name}"
                storage.mkdir(exist_ok=True)
                am = Process(
                    [
                        binary,
                        f"--config.file={config}",
                        f"--storage.path={storage}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--cluster.listen-address=",
                        "--log.level=warn",
                    ],
                    self.env,
                    self.work / f"am-{scenario.name}.log",
                )
                try:
                    base = f"http://127.0.0.1:{port}"
                    _wait_http(f"{base}/-/ready", am)
                    wrk(base, script, self.args.warmup, self.args.connections, scenario.batch, scenario.mode)
                    cpu = Cpu({"alertmanager": am.pid})
                    cpu.start()
                    run = wrk(
                        base, script, self.args.seconds, self.args.connections, scenario.batch, scenario.mode
                    )
                    cpu.stop()
                    run.cpu, run.busy_cores = cpu.used, cpu.busy_cores
                    self.results.setdefault(scenario.name, {})["alertmanager"] = run
                    print(f"  alertmanager {scenario.name}: {_line(run, scenario)}", flush=True)
                finally:
                    am.stop()
        finally:
            sink.shutdown()


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, round(len(values) * pct / 100) - 1))]


def _line(run: Run, scenario: Scenario) -> str:
    cpu = ", ".join(f"{name} {100 * used / run.seconds:.0f}%" for name, used in run.cpu.items())
    text = (
        f"{run.rate:,.0f} events/s ({run.requests:,} requests × {scenario.batch}), p50 {run.p50_ms:.2f} ms, "
        f"p99 {run.p99_ms:.2f} ms, non-2xx {run.non2xx}, socket errors {run.errors}; CPU {cpu}, "
        f"wrk {100 * run.wrk_cpu / run.seconds:.0f}%, machine {run.busy_cores:.2f} cores"
    )
    if run.extra:
        x = run.extra
        text += (
            f"; engine lag p50 {x['lag_p50_s']:.2f} s, p99 {x['lag_p99_s']:.2f} s, max {x['lag_max_s']:.2f} s, "
            f"drained {x['drain_s']:.2f} s after the load; {x['events']:,} events stored, "
            f"{x['processed']:,} processed, {x['grouped']:,} in an incident, {x['alerts']:,} alerts, "
            f"{x['incidents']} incidents"
        )
    return text


def _per_event(run: Run, name: str) -> float:
    """CPU microseconds of ``name`` per accepted event (over the measured window; the engine works on)."""
    events = run.rate * run.seconds
    return 1e6 * run.cpu.get(name, 0.0) / events if events else 0.0


def report(bench: Bench, scenarios: list[Scenario]) -> None:
    args = bench.args
    print(
        f"\n{args.connections} connections, {args.seconds:.0f} s per run after {args.warmup:.0f} s of warm-up, "
        f"engine interval {args.engine_interval} s, {'plain Django' if args.django_only else 'intake fast path'}\n"
    )
    print(
        "| scenario | Warroom events/s | p50 ms | p99 ms | engine lag p99 / max s | drained after s "
        "| CPU µs/event web / engine / PG | Alertmanager alerts/s | AM p50 / p99 ms | Warroom/AM |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        runs = bench.results.get(scenario.name, {})
        wr, am = runs.get("warroom"), runs.get("alertmanager")
        cells = [scenario.title]
        if wr is not None:
            cells += [
                f"{wr.rate:,.0f}",
                f"{wr.p50_ms:.2f}",
                f"{wr.p99_ms:.1f}",
                f"{wr.extra['lag_p99_s']:.2f} / {wr.extra['lag_max_s']:.2f}",
                f"{wr.extra['drain_s']:.2f}",
                " / ".join(f"{_per_event(wr, name):,.0f}" for name in ("web", "engine", "postgres")),
            ]
        else:
            cells += ["-"] * 6
        if am is not None:
            cells += [f"{am.rate:,.0f}", f"{am.p50_ms:.2f} / {am.p99_ms:.1f}"]
            cells.append(f"{wr.rate / am.rate:.2f}×" if wr is not None and am.rate else "-")
        else:
            cells += ["-", "-", "-"]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        with Path(args.json).open("a") as out:
            for scenario in scenarios:
                for system, run in bench.results.get(scenario.name, {}).items():
                    record = {
                        "scenario": scenario.name,
                        "system": system,
                        "rate": round(run.rate, 1),
                        "requests": run.requests,
                        "seconds": run.seconds,
                        "p50_ms": run.p50_ms,
                        "p99_ms": run.p99_ms,
                        "non2xx": run.non2xx,
                        "errors": run.errors,
                        "cpu_s": run.cpu,
                        "busy_cores": run.busy_cores,
                        "wrk_cpu_s": run.wrk_cpu,
                        "django_only": args.django_only,
                        "connections": args.connections,
                        **run.extra,
                        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    }
                    out.write(json.dumps(record) + "\n")


def _machine(url: str) -> str:
    """The facts a reader needs to weigh the figures: CPUs, load, versions."""
    with psycopg.connect(url, autocommit=True) as pg:
        row = pg.execute("SHOW server_version").fetchone()
    binary = shutil.which("prometheus-alertmanager")
    am = ""
    if binary:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
        am = (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else ""
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs, load average {load} "
        f"before the run; PostgreSQL {row[0] if row else '?'}; Python {sys.version.split()[0]}; {am}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per run (at most 120)")
    parser.add_argument("--warmup", type=float, default=2, help="unrecorded warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--scenarios", default="a,b,c", help="any of a, b, c")
    parser.add_argument("--engine-interval", default="0.5", help="WARROOM_ENGINE_INTERVAL for the engine")
    parser.add_argument("--no-alertmanager", action="store_true", help="skip the Alertmanager runs")
    parser.add_argument("--no-engine", action="store_true", help="diagnosis: intake alone, nothing processed")
    parser.add_argument("--django-only", action="store_true", help="serve plain Django (no intake fast path)")
    parser.add_argument("--json", help="append one JSON line per run to this file")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 120 or not 0 <= args.warmup <= 30:
        sys.exit("--seconds is 1 to 120, --warmup 0 to 30")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    scenarios = [SCENARIOS[name.strip()] for name in args.scenarios.split(",") if name.strip()]

    url = os.environ.get("WARROOM_BENCH_DATABASE_URL", DEFAULT_DB)
    work = Path(tempfile.mkdtemp(prefix="warroom-ingest-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(
        WARROOM_DATA_DIR=str(work / "data"),
        WARROOM_DATABASE_URL=url,
        WARROOM_ENGINE_INTERVAL=args.engine_interval,
        WARROOM_LOG_LEVEL="WARNING",
    )
    fresh_database(url)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "warroom.settings"
    django.setup()
    from django.db import connection  # noqa: PLC0415

    began = time.monotonic()
    seeded = seed()
    connection.close()
    print(_machine(url))
    print(
        f"fresh database {urlsplit(url).path.lstrip('/')}: migrated and seeded in {time.monotonic() - began:.1f} s; "
        f"work dir {work}; {os.cpu_count()} CPUs"
    )
    bench = Bench(args, work, env, url, seeded, postmaster_pid(url))
    print("Warroom (warroom web --workers 2 + warroom engine, PostgreSQL):")
    bench.warroom(scenarios)
    if not args.no_alertmanager:
        print("Prometheus Alertmanager (in memory, fresh per scenario):")
        bench.alertmanager(scenarios)
    report(bench, scenarios)
    print(f"\nlogs and Lua scripts: {work}")


if __name__ == "__main__":
    main()
