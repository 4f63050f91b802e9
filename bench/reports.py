"""Benchmark: the reports page and its API over a year of a large organisation, on PostgreSQL.

    .venv/bin/python bench/reports.py                      # seed (drops and creates the database), then time
    .venv/bin/python bench/reports.py --reuse              # time again on the seeded database
    .venv/bin/python bench/reports.py --incidents 100000 --alerts 1000000   # a smaller run
    WARROOM_BENCH_REPORTS_URL=postgres://postgres@127.0.0.1:5432/other .venv/bin/python bench/reports.py

Seeding is bulk SQL (``INSERT ... SELECT ... FROM generate_series``), no ORM objects: by default 1,000,000
incidents and 10,000,000 alerts spread over the two years up to now, across 10 teams, 50 services and 100
integrations, with their service links, SLA clocks (P1-P3), one escalation and one page per incident, postmortems
and action items for resolved P1/P2 incidents, and 2,000,000 alerts without an incident (noise, some of it
flapping). Values come from arithmetic on the row number, so every run seeds the same data.

Then it builds the report summaries from scratch (``warroom summarize_reports``; ADR 0007) and times one
steady-state run of the ``analytics.summarize`` engine module.

Timing: each report's page (``/reports/<tab>/``) and API route (``/api/v1/reports/<report>``) for the last 365 days
across all teams, as an organisation admin, through Django's test client in this process (the full middleware,
view, template and chart rendering; no HTTP server, so no socket or worker overhead). One warm-up request, then
``--repeat`` timed requests each, one at a time; it prints p50, p95 and max per report.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import django
import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/warroom_bench_reports"
TEAMS = 10
SERVICES_PER_TEAM = 5
INTEGRATIONS_PER_SERVICE = 2
CATEGORIES = 8
PEOPLE_PER_TEAM = 2
SPAN = timedelta(days=730)
REPORTS = ["response", "volume", "reliability", "compliance", "noise", "oncall", "reviews"]


def recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(sql: str, params: dict[str, object] | None = None, label: str = "") -> None:
    from django.db import connection  # noqa: PLC0415 (Django is configured in main)

    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        rows = cursor.rowcount
    if label:
        print(f"  {label}: {rows:,} rows in {time.monotonic() - began:.1f}s", flush=True)


def seed_world() -> dict[str, list[int]]:
    """Teams, people (half with working hours), services, integrations, categories, SLA definitions and an
    organisation admin, through the services where they exist."""
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415

    from warroom.accounts import services as accounts  # noqa: PLC0415
    from warroom.accounts.models import User  # noqa: PLC0415
    from warroom.alerts.models import Integration  # noqa: PLC0415
    from warroom.catalog import services as catalog  # noqa: PLC0415
    from warroom.incidents import sla_services  # noqa: PLC0415
    from warroom.incidents.models import Category  # noqa: PLC0415
    from warroom.notify.models import WorkingHours  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    now = datetime.now(UTC)
    zones = ["Europe/London", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
    ids: dict[str, list[int]] = {
        "teams": [],
        "services": [],
        "integrations": [],
        "categories": [],
        "people": [],
    }
    with transaction.atomic():
        accounts.create_user(
            email="bench@example.com",
            password="bench-password",
            is_org_admin=True,
            actor=None,
            source="system",
        )
        for t in range(TEAMS):
            team = accounts.create_team(name=f"Team {t:02d}", actor=None, source="system")
            ids["teams"].append(team.pk)
            for p in range(PEOPLE_PER_TEAM):
                person = accounts.create_user(
                    email=f"oncall{t}-{p}@example.com",
                    password=None,
                    full_name=f"On-call {t}-{p}",
                    actor=None,
                    source="system",
                )
                User.objects.filter(pk=person.pk).update(time_zone=zones[(t + p) % len(zones)])
                accounts.set_membership(team=team, user=person, role="responder", actor=None, source="system")
                ids["people"].append(person.pk)
                if p == 0:
                    WorkingHours.objects.create(
                        user=person,
                        time_zone=zones[t % len(zones)],
                        days=0b0011111,
                        start="09:00",
                        end="17:00",
                        updated_at=now,
                    )
            for s in range(SERVICES_PER_TEAM):
                service = catalog.create_service(
                    team=team, name=f"Service {t:02d}-{s}", actor=None, source="system"
                )
                ids["services"].append(service.pk)
                for k in range(INTEGRATIONS_PER_SERVICE):
                    integration = Integration.objects.create(
                        service=service, kind="alertmanager", name=f"Prometheus {k}", created_at=now
                    )
                    ids["integrations"].append(integration.pk)
        for c in range(CATEGORIES):
            category, _ = Category.objects.get_or_create(name=f"Bench category {c}")
            ids["categories"].append(category.pk)
        for priority, response, resolution in ((1, 15, 240), (2, 30, 480), (3, 60, 1440)):
            sla_services.create_definition(
                actor=None,
                source="system",
                name=f"P{priority}",
                priority=priority,
                response_minutes=response,
                resolution_minutes=resolution,
            )
    return ids


def seed_bulk(ids: dict[str, list[int]], incidents: int, alerts: int) -> None:
    """The rows, in bulk. ``opened(i)`` is a pure function of the incident number, so alerts, clocks and pages
    are placed relative to their incident without a join."""
    t0 = datetime.now(UTC) - SPAN
    p = {
        "n": incidents,
        "t0": t0,
        "span": SPAN.total_seconds(),
        "teams": ids["teams"],
        "services": ids["services"],
        "integrations": ids["integrations"],
        "categories": ids["categories"],
        "people": ids["people"],
        "now": datetime.now(UTC),
    }
    opened = "(%(t0)s::timestamptz + ((i - 1) * %(span)s / %(n)s + (i * 7919) %% 1800) * interval '1 second')"
    prio = (
        "(CASE WHEN (i * 2654435761) %% 100 < 5 THEN 1 WHEN (i * 2654435761) %% 100 < 20 THEN 2 "
        "WHEN (i * 2654435761) %% 100 < 60 THEN 3 WHEN (i * 2654435761) %% 100 < 90 THEN 4 ELSE 5 END)"
    )
    state = (
        "(CASE WHEN (i * 40503) %% 1000 < 20 THEN 'canceled' WHEN (i * 40503) %% 1000 < 50 THEN 'in_progress' "
        f"WHEN {opened} < %(now)s - interval '7 days' THEN 'closed' ELSE 'resolved' END)"
    )
    print("seeding", flush=True)
    run(
        f"""
        INSERT INTO incidents_incident (id, number, title, description, impact, urgency, priority, state,
            hold_reason, resolution_code, resolution_notes, is_major, is_private, opened_at, acknowledged_at,
            resolved_at, closed_at, canceled_at, updated_at, reopen_count, version, category_id, team_id)
        SELECT i, i, 'Bench incident ' || i, '', LEAST(3, (pr + 1) / 2), LEAST(3, pr / 2 + 1), pr, st,
            '', CASE WHEN st IN ('resolved', 'closed') THEN 'permanent_fix' ELSE '' END, '',
            false, i %% 100 = 0, op,
            CASE WHEN st = 'canceled' THEN NULL
                 WHEN st = 'in_progress' AND i %% 3 = 0 THEN NULL
                 ELSE op + (30 + (i * 31) %% 1800) * interval '1 second' END,
            CASE WHEN st IN ('resolved', 'closed') THEN op + (1800 + (i * 97) %% 86400) * interval '1 second' END,
            CASE WHEN st = 'closed' THEN op + interval '4 days' END,
            CASE WHEN st = 'canceled' THEN op + interval '10 minutes' END,
            op, 0, 1,
            CASE WHEN i %% 10 = 0 THEN NULL ELSE (%(categories)s::bigint[])[1 + (i * 13) %% {CATEGORIES}] END,
            (%(teams)s::bigint[])[1 + i %% {TEAMS}]
        FROM (SELECT i, {opened} AS op, {prio} AS pr, {state} AS st FROM generate_series(1::bigint, %(n)s) AS i) AS g
    """,
        p,
        "incidents",
    )
    run("SELECT setval(pg_get_serial_sequence('incidents_incident', 'id'), %(n)s)", p)
    run(
        "INSERT INTO incidents_counter (name, value) VALUES ('incident', %(n)s) "
        "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        p,
    )
    service_of = (
        f"(%(services)s::bigint[])[1 + (i %% {TEAMS}) * {SERVICES_PER_TEAM} + (i * 7) %% {SERVICES_PER_TEAM}]"
    )
    run(
        f"""
        INSERT INTO incidents_incident_services (incident_id, service_id)
        SELECT i, {service_of} FROM generate_series(1::bigint, %(n)s) AS i
        UNION ALL
        SELECT i, (%(services)s::bigint[])[1 + (i %% {TEAMS}) * {SERVICES_PER_TEAM} + (i * 7 + 1) %% {SERVICES_PER_TEAM}]
        FROM generate_series(10::bigint, %(n)s, 10) AS i
    """,
        p,
        "incident services",
    )
    run(
        """
        INSERT INTO incidents_slaclock (incident_id, kind, state, name, priority, target, pause_on, thresholds,
            started_at, elapsed, running_since, paused_since, due_at, next_check_at, warnings_sent, breached_at,
            stopped_at, stop_reason, version)
        SELECT c.id, k.kind,
            CASE WHEN c.state = 'canceled' THEN 'cancelled'
                 WHEN k.stop IS NULL THEN 'running'
                 WHEN k.stop - c.opened_at <= k.target THEN 'met' ELSE 'breached' END,
            'P' || c.priority, c.priority, k.target, '[]', '[50, 75, 90]', c.opened_at,
            COALESCE(k.stop - c.opened_at, interval '0'),
            CASE WHEN c.state <> 'canceled' AND k.stop IS NULL THEN c.opened_at END, NULL,
            c.opened_at + k.target, NULL, '[]',
            CASE WHEN k.stop - c.opened_at > k.target THEN c.opened_at + k.target END,
            CASE WHEN c.state = 'canceled' THEN c.canceled_at ELSE k.stop END, '', 1
        FROM incidents_incident AS c
        CROSS JOIN LATERAL (VALUES
            ('response', make_interval(mins => (ARRAY[15, 30, 60])[c.priority]), c.acknowledged_at),
            ('resolution', make_interval(mins => (ARRAY[240, 480, 1440])[c.priority]), c.resolved_at)
        ) AS k(kind, target, stop)
        WHERE c.priority <= 3
    """,
        p,
        "SLA clocks",
    )
    run(
        """
        INSERT INTO paging_incidentescalation (incident_id, status, epoch, step_index, loop, next_at, started_at,
            updated_at, version)
        SELECT id, 'acknowledged', 0, 1, 0, NULL, opened_at, opened_at, 1 FROM incidents_incident
    """,
        p,
        "escalations",
    )
    run(
        f"""
        INSERT INTO paging_page (escalation_id, incident_id, user_id, epoch, loop, step_index, via, reachable, note, at)
        SELECT e.id, e.incident_id,
            (%(people)s::bigint[])[1 + (e.incident_id %% {TEAMS}) * {PEOPLE_PER_TEAM} + (e.incident_id / 7) %% {PEOPLE_PER_TEAM}],
            0, 0, 0, 'sms', e.incident_id %% 200 <> 0, '', e.started_at + interval '30 seconds'
        FROM paging_incidentescalation AS e
    """,
        p,
        "pages",
    )
    run(
        """
        INSERT INTO reviews_postmortem (incident_id, team_id, title, status, covers_children, required, detection_notes,
            response_notes, timeline_customized, created_at, updated_at, published_at, version)
        SELECT id, team_id, 'Postmortem of ' || id,
            CASE WHEN id %% 10 < 6 THEN 'published' WHEN id %% 10 < 8 THEN 'draft' ELSE 'in_review' END,
            false, true, '', '', false, resolved_at, resolved_at,
            CASE WHEN id %% 10 < 6 THEN resolved_at + interval '3 days' END, 1
        FROM incidents_incident
        WHERE priority <= 2 AND resolved_at IS NOT NULL AND id %% 11 <> 0
    """,
        p,
        "postmortems",
    )
    run(
        """
        INSERT INTO reviews_actionitem (title, description, due_date, priority, status, created_at, updated_at,
            completed_at, version, team_id, postmortem_id)
        SELECT 'Follow-up ' || k || ' of ' || pm.id, '', (pm.created_at + interval '14 days')::date, 2,
            CASE WHEN (pm.id + k) %% 10 < 6 THEN 'done' WHEN (pm.id + k) %% 10 < 7 THEN 'wont_do'
                 WHEN (pm.id + k) %% 10 < 8 THEN 'in_progress' ELSE 'open' END,
            pm.created_at, pm.created_at,
            CASE WHEN (pm.id + k) %% 10 < 7 THEN pm.created_at + interval '10 days' END, 1, pm.team_id, pm.id
        FROM reviews_postmortem AS pm CROSS JOIN generate_series(1, 2) AS k
    """,
        p,
        "action items",
    )

    per_incident = max(1, int(alerts * 0.8) // incidents)
    noise = alerts - per_incident * incidents
    integ = (
        f"(%(integrations)s::bigint[])[1 + ((i %% {TEAMS}) * {SERVICES_PER_TEAM} + (i * 7) %% {SERVICES_PER_TEAM})"
        f" * {INTEGRATIONS_PER_SERVICE} + j %% {INTEGRATIONS_PER_SERVICE}]"
    )
    chunk = 1_000_000 // per_incident
    for lo in range(1, incidents + 1, chunk):
        hi = min(incidents, lo + chunk - 1)
        run(
            f"""
            INSERT INTO alerts_alert (integration_id, service_id, dedup_key, status, severity, summary, source,
                details, links, first_seen, last_seen, count, group_key, opened_incident, group_reason,
                acknowledged_at, resolved_at, incident_id, suppressed)
            SELECT {integ}, {service_of}, 'inc-' || i || '-' || j, 'resolved', 'error', 'Bench alert', 'bench',
                '{{}}', '[]', fs, fs + interval '5 minutes', 1 + (i + j) %% 3, '', j = 0, '',
                NULL, fs + interval '40 minutes', i, false
            FROM (SELECT i, j, {opened} - (60 + (i * 13) %% 600) * interval '1 second' + j * interval '5 minutes' AS fs
                  FROM generate_series({lo}::bigint, {hi}) AS i CROSS JOIN generate_series(0, {per_incident - 1}) AS j) AS g
        """,
            p,
            f"alerts on incidents {lo:,}-{hi:,}",
        )
    p["noise"] = noise
    for lo in range(1, noise + 1, 1_000_000):
        hi = min(noise, lo + 999_999)
        # every 100th group of three alerts shares a dedup key 30 s apart: it flaps
        run(
            f"""
            INSERT INTO alerts_alert (integration_id, service_id, dedup_key, status, severity, summary, source,
                details, links, first_seen, last_seen, count, group_key, opened_incident, group_reason,
                acknowledged_at, resolved_at, incident_id, suppressed)
            SELECT ig.id, ig.service_id,
                CASE WHEN m %% 100 < 3 THEN 'flap-' || (m / 100) ELSE 'noise-' || (m %% 50000) END,
                'resolved', 'warning', 'Noise', 'bench', '{{}}', '[]', fs, fs, 1, '', false, '',
                CASE WHEN m %% 4 = 0 THEN fs + interval '1 minute' END, fs + interval '3 minutes', NULL, m %% 50 = 0
            FROM (SELECT m, %(t0)s::timestamptz + (m - 1) * (%(span)s / %(noise)s) * interval '1 second' AS fs,
                         (%(integrations)s::bigint[])[1 + (m * 7) %% {len(ids["integrations"])}] AS integration
                  FROM generate_series({lo}::bigint, {hi}) AS m) AS g
            JOIN alerts_integration AS ig ON ig.id = g.integration
        """,
            p,
            f"noise alerts {lo:,}-{hi:,}",
        )
    run("VACUUM ANALYZE", None, "vacuum analyze")


def timed(client: object, url: str, repeat: int, headers: dict[str, str] | None = None) -> list[float]:
    get = client.get  # type: ignore[attr-defined]
    answer = get(url, headers=headers or {})
    if answer.status_code != 200:
        raise SystemExit(f"{url}: {answer.status_code} {answer.content[:300]!r}")
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        answer = get(url, headers=headers or {})
        out.append(time.perf_counter() - began)
        assert answer.status_code == 200, (url, answer.status_code)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summarize(*, skip: bool) -> None:
    """Build the report summaries from scratch (what ``warroom summarize_reports`` does), then time one engine
    run in steady state (today and yesterday are redone every minute)."""
    from warroom.analytics import rollup  # noqa: PLC0415

    now = datetime.now(UTC)
    if not skip:
        began = time.monotonic()
        days = rollup.rebuild_all(now)
        print(f"summaries of {days} days rebuilt in {time.monotonic() - began:.0f}s", flush=True)
    began = time.monotonic()
    rebuilt = rollup.run(now + timedelta(minutes=2))
    print(
        f"one engine run (analytics.summarize): {rebuilt} days in {time.monotonic() - began:.1f}s", flush=True
    )


def measure(repeat: int) -> None:
    from django.test import Client  # noqa: PLC0415

    from warroom.accounts.models import User  # noqa: PLC0415
    from warroom.accounts.services import create_api_token  # noqa: PLC0415
    from warroom.alerts.models import Alert  # noqa: PLC0415
    from warroom.incidents.models import Incident  # noqa: PLC0415

    admin = User.objects.get(email="bench@example.com")
    _token, secret = create_api_token(user=admin, name=f"bench {time.time()}", actor=None, source="system")
    page = Client()
    page.force_login(admin)
    api = Client()
    today = datetime.now(UTC).date()
    query = f"start={today - timedelta(days=364)}&end={today}"
    print(
        f"\n{Incident.objects.count():,} incidents, {Alert.objects.count():,} alerts; "
        f"one year ({query}), all teams, {repeat} timed requests each\n"
    )
    print("| report | page p50 ms | page p95 ms | page max ms | API p50 ms | API p95 ms | API max ms |")
    print("|---|---|---|---|---|---|---|")
    for key in REPORTS:
        pages = timed(page, f"/reports/{key}/?{query}", repeat)
        apis = timed(api, f"/api/v1/reports/{key}?{query}", repeat, {"Authorization": f"Bearer {secret}"})
        cells = [
            statistics.median(pages),
            p95(pages),
            max(pages),
            statistics.median(apis),
            p95(apis),
            max(apis),
        ]
        print(f"| {key} | " + " | ".join(f"{v * 1000:.0f}" for v in cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="time the database seeded by an earlier run")
    parser.add_argument("--no-summarize", action="store_true", help="keep the summaries an earlier run built")
    args = parser.parse_args()
    url = os.environ.get("WARROOM_BENCH_REPORTS_URL", DEFAULT_URL)
    if not args.reuse:
        recreate(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = tempfile.mkdtemp(prefix="warroom-bench-reports-")
    env["WARROOM_DATABASE_URL"] = url
    env.setdefault(
        "WARROOM_SECRET_KEY", "bench-only-secret-key-that-is-long-enough-for-django-checks-0123456789"
    )
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "warroom.settings"
    os.environ["WARROOM_ALLOWED_HOSTS"] = "testserver"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    django.setup()
    if not args.reuse:
        began = time.monotonic()
        ids = seed_world()
        seed_bulk(ids, args.incidents, args.alerts)
        print(f"seeded in {time.monotonic() - began:.0f}s", flush=True)
    else:
        from django.core.management import call_command  # noqa: PLC0415

        began = time.monotonic()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"migrated in {time.monotonic() - began:.0f}s", flush=True)
    summarize(skip=args.no_summarize)
    measure(args.repeat)


if __name__ == "__main__":
    main()
