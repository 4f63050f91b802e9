"""The reports as people see them: headline figures, tables (the same rows on the page and in the CSV files)
and charts. One :class:`Report` per report key; :data:`REPORTS` lists them in the order of the page's tabs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, partial
from typing import Any

from warroom.accounts.models import User
from warroom.analytics import charts, selectors
from warroom.analytics.filters import Filters
from warroom.analytics.selectors import Mean, ResponseRow, SlaRow
from warroom.incidents import sla

# ---------------------------------------------------------------------------------------------------------------
# building blocks


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    #: text, int, duration (seconds), percent, number, datetime
    kind: str = "int"
    #: False for keys and ids: in the CSV files, not on the page
    show: bool = True


@dataclass(frozen=True)
class Cell:
    text: str
    column: Column
    header: bool


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    empty: str = "Nothing in this period."
    #: the chart this table is the text alternative of
    chart: str = ""

    @property
    def shown_columns(self) -> list[Column]:
        return [c for c in self.columns if c.show]

    def display_rows(self) -> list[list[Cell]]:
        """The rows as the page shows them: the first shown column is the row header."""
        out = []
        for row in self.rows:
            cells = [(v, c) for v, c in zip(row, self.columns, strict=True) if c.show]
            out.append([Cell(cell(v, c.kind), c, i == 0) for i, (v, c) in enumerate(cells)])
        return out


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    note: str = ""


@dataclass
class Report:
    key: str
    title: str
    intro: str
    filters: Filters
    figures: list[Figure] = field(default_factory=list)
    #: the charts, drawn only when shown (the API and the CSV files do without)
    draw: list[Callable[[], charts.Chart]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    #: the selector's dataclass (what the API serialises)
    data: Any = None

    @cached_property
    def charts(self) -> list[charts.Chart]:
        return [make() for make in self.draw]

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def duration(value: float | None) -> str:
    """``45s``, ``12m``, ``2h 05m``, ``3d 4h``; ``–`` for no value."""
    if value is None:
        return "–"
    if value < 60:
        return f"{max(value, 0):.0f}s"
    return sla.format_duration(timedelta(seconds=value))


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def cell(value: Any, kind: str) -> str:
    """A value as the page shows it."""
    if value is None:
        return "–"
    if kind == "duration":
        return duration(float(value))
    if kind == "percent":
        return pct(float(value))
    if kind == "datetime" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if kind == "number" and isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _csv_safe(text: str) -> str:
    """Cells that a spreadsheet would run as a formula get a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_value(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if kind == "text":
        return _csv_safe(str(value))
    return str(value)


def table_csv(table: Table) -> str:
    """The table as CSV: a header of column keys (durations in seconds, percentages as numbers), then the rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    return out.getvalue()


def csv_filename(report: Report, table: Table) -> str:
    return f"warroom-{report.key}-{table.key}-{report.filters.first:%Y%m%d}-{report.filters.last:%Y%m%d}.csv"


def _bucket_label(day: date, bucket: str) -> str:
    return day.strftime("%Y-%m") if bucket == "month" else day.isoformat()


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 1)


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value / 3600, 1)


# ---------------------------------------------------------------------------------------------------------------
# response


RESPONSE_COLUMNS = [
    Column("incidents", "Incidents"),
    Column("mtta_seconds", "MTTA", "duration"),
    Column("acknowledged", "Acknowledged"),
    Column("unacknowledged", "Never acknowledged"),
    Column("mttr_seconds", "MTTR", "duration"),
    Column("resolved", "Resolved"),
    Column("unresolved", "Unresolved"),
    Column("ttd_seconds", "Time to detect", "duration"),
    Column("alert_detected", "Detected by an alert"),
]


def _response_cells(row: ResponseRow) -> list[Any]:
    return [
        row.incidents,
        row.mtta.seconds,
        row.mtta.count,
        row.unacknowledged,
        row.mttr.seconds,
        row.mttr.count,
        row.unresolved,
        row.ttd.seconds,
        row.ttd.count,
    ]


def _response_table(
    key: str, title: str, first: Column, rows: list[ResponseRow], total: ResponseRow
) -> Table:
    body = [[r.key, r.label, *_response_cells(r)] for r in rows]
    if rows:
        body.append(["all", "All", *_response_cells(total)])
    return Table(key, title, [Column("key", "Key", "text", show=False), first, *RESPONSE_COLUMNS], body)


def _mean_figure(label: str, mean: Mean, note: str) -> Figure:
    return Figure(label, duration(mean.seconds), f"over {mean.count} incidents; {note}")


def response(user: User, flt: Filters, now: datetime) -> Report:
    data = selectors.response_report(user, flt)
    total = data.total
    labels = [_bucket_label(date.fromisoformat(r.key), flt.bucket) for r in data.trend]
    trend_chart = partial(
        charts.line,
        "trend",
        f"MTTA, MTTR and time to detect per {flt.bucket} (minutes)",
        f"Mean time to acknowledge, to resolve and to detect, in minutes, of the incidents opened each {flt.bucket} "
        f"from {flt.first} to {flt.last}. The table 'Per {flt.bucket}' has the same figures.",
        labels,
        [
            ("MTTA", [_minutes(r.mtta.seconds) for r in data.trend]),
            ("MTTR", [_minutes(r.mttr.seconds) for r in data.trend]),
            ("Time to detect", [_minutes(r.ttd.seconds) for r in data.trend]),
        ],
        value_suffix=" min",
    )
    trend = Table(
        "trend",
        f"Per {flt.bucket}",
        [Column("bucket", "Starting", "text"), *RESPONSE_COLUMNS],
        [[label, *_response_cells(r)] for label, r in zip(labels, data.trend, strict=True)],
        chart="trend",
    )
    return Report(
        key="response",
        title="Response",
        intro="How fast incidents were acknowledged, resolved and detected. Clocks start when the incident "
        "opened; cancelled incidents count in none of these figures.",
        filters=flt,
        figures=[
            Figure("Incidents", str(total.incidents), f"{data.cancelled} cancelled, not counted"),
            _mean_figure("MTTA", total.mtta, f"{total.unacknowledged} never acknowledged"),
            _mean_figure("MTTR", total.mttr, f"{total.unresolved} not resolved"),
            _mean_figure("Time to detect", total.ttd, "incidents an alert opened or preceded"),
        ],
        draw=[trend_chart],
        tables=[
            trend,
            _response_table(
                "priority", "By priority", Column("priority", "Priority", "text"), data.by_priority, total
            ),
            _response_table("team", "By team", Column("team", "Team", "text"), data.by_team, total),
        ],
        data=data,
    )


# ---------------------------------------------------------------------------------------------------------------
# volume


def volume(user: User, flt: Filters, now: datetime) -> Report:
    data = selectors.volume_report(user, flt)
    labels = [_bucket_label(d, flt.bucket) for d in data.buckets]
    made_charts: list[Callable[[], charts.Chart]] = []
    tables: list[Table] = []
    for breakdown in data.breakdowns:
        dim = breakdown.dimension
        made_charts.append(
            partial(
                charts.bar,
                f"by-{dim}",
                f"Incidents per {flt.bucket} by {dim}",
                f"Incidents opened each {flt.bucket} from {flt.first} to {flt.last}, stacked by {dim}. "
                f"The table 'By {dim}' has the same figures.",
                labels,
                [(s.label, s.counts) for s in breakdown.series],
                stacked=True,
            )
        )
        tables.append(
            Table(
                dim,
                f"By {dim}",
                [
                    Column("key", "Key", "text", show=False),
                    Column(dim, dim.capitalize(), "text"),
                    Column("incidents", "Incidents"),
                    *[Column(d.isoformat(), label) for d, label in zip(data.buckets, labels, strict=True)],
                ],
                [[s.key, s.label, s.total, *s.counts] for s in breakdown.series],
                chart=f"by-{dim}",
            )
        )
    busiest = max(range(len(labels)), key=lambda i: data.per_bucket[i]) if labels else None
    return Report(
        key="volume",
        title="Volume",
        intro=f"Incidents opened per {flt.bucket}. An incident on several services counts under each of them; "
        "cancelled incidents are left out.",
        filters=flt,
        figures=[
            Figure("Incidents", str(data.total), f"{data.cancelled} cancelled, not counted"),
            Figure(
                f"Busiest {flt.bucket}",
                labels[busiest] if busiest is not None and data.total else "–",
                f"{data.per_bucket[busiest]} incidents" if busiest is not None and data.total else "",
            ),
            Figure(
                f"Mean per {flt.bucket}",
                f"{data.total / len(labels):.1f}" if labels else "–",
                f"over {len(labels)} {flt.bucket}s",
            ),
        ],
        draw=made_charts,
        tables=tables,
        data=data,
    )


# ---------------------------------------------------------------------------------------------------------------
# reliability


def reliability(user: User, flt: Filters, now: datetime) -> Report:
    data = selectors.reliability_report(user, flt)
    measured = [s for s in data.services if s.mtbf_seconds is not None][:15]
    chart = partial(
        charts.bar,
        "mtbf",
        "Mean time between failures (hours)",
        "Mean time between the openings of consecutive incidents on each service with at least two, in hours; "
        "shortest first. The table 'By service' has the same figures.",
        [s.label for s in measured],
        [("MTBF", [_hours(s.mtbf_seconds) for s in measured])],
        horizontal=True,
        value_suffix=" h",
    )
    table = Table(
        "service",
        "By service",
        [
            Column("key", "Key", "text", show=False),
            Column("service", "Service", "text"),
            Column("team", "Team", "text"),
            Column("incidents", "Incidents"),
            Column("mtbf_seconds", "MTBF", "duration"),
            Column("mttr_seconds", "MTTR", "duration"),
            Column("first_at", "First opened", "datetime"),
            Column("last_at", "Last opened", "datetime"),
        ],
        [
            [s.key, s.label, s.team, s.incidents, s.mtbf_seconds, s.mttr.seconds, s.first_at, s.last_at]
            for s in data.services
        ],
        chart="mtbf",
    )
    worst = measured[0] if measured else None
    return Report(
        key="reliability",
        title="Reliability",
        intro="Mean time between failures per service: the time from one incident's opening to the next one's, "
        "averaged (ITIL's MTBSI); a service needs two incidents in the period to have one.",
        filters=flt,
        figures=[
            Figure("Services with incidents", str(len(data.services))),
            Figure(
                "Shortest MTBF",
                duration(worst.mtbf_seconds) if worst else "–",
                worst.label if worst else "",
            ),
        ],
        draw=[chart],
        tables=[table],
        data=data,
    )


# ---------------------------------------------------------------------------------------------------------------
# SLA


SLA_COLUMNS = [
    Column("response_met", "Response met"),
    Column("response_breached", "Response breached"),
    Column("response_in_progress", "Response in progress"),
    Column("response_compliance", "Response compliance", "percent"),
    Column("resolution_met", "Resolution met"),
    Column("resolution_breached", "Resolution breached"),
    Column("resolution_in_progress", "Resolution in progress"),
    Column("resolution_compliance", "Resolution compliance", "percent"),
]


def _sla_cells(row: SlaRow) -> list[Any]:
    out: list[Any] = []
    for tally in (row.response, row.resolution):
        out += [tally.met, tally.breached, tally.in_progress, tally.compliance]
    return out


def _sla_table(
    key: str, title: str, first: Column, rows: list[SlaRow], total: SlaRow, chart: str = ""
) -> Table:
    body = [[r.key, r.label, *_sla_cells(r)] for r in rows]
    if rows:
        body.append(["all", "All", *_sla_cells(total)])
    return Table(
        key,
        title,
        [Column("key", "Key", "text", show=False), first, *SLA_COLUMNS],
        body,
        "No SLA clocks.",
        chart,
    )


def sla_compliance(user: User, flt: Filters, now: datetime) -> Report:
    data = selectors.sla_report(user, flt, at=now)
    chart = partial(
        charts.bar,
        "compliance",
        "SLA compliance by priority (%)",
        "Share of decided SLA clocks that were met, per priority, for response and resolution. "
        "The table 'By priority' has the same figures.",
        [r.label for r in data.by_priority],
        [
            ("Response", [r.response.compliance for r in data.by_priority]),
            ("Resolution", [r.resolution.compliance for r in data.by_priority]),
        ],
        value_suffix="%",
    )
    total = data.total
    return Report(
        key="compliance",
        title="SLA",
        intro="The SLA clocks of the incidents opened in the period, as of now: met, breached (stopped over "
        "target, or still running past it) or in progress. Compliance is met ÷ (met + breached).",
        filters=flt,
        figures=[
            Figure(
                "Response compliance",
                pct(total.response.compliance),
                f"{total.response.met} met, {total.response.breached} breached",
            ),
            Figure(
                "Resolution compliance",
                pct(total.resolution.compliance),
                f"{total.resolution.met} met, {total.resolution.breached} breached",
            ),
            Figure(
                "In progress",
                str(total.response.in_progress + total.resolution.in_progress),
                "clocks still running within target",
            ),
        ],
        draw=[chart],
        tables=[
            _sla_table(
                "priority",
                "By priority",
                Column("priority", "Priority", "text"),
                data.by_priority,
                total,
                "compliance",
            ),
            _sla_table("team", "By team", Column("team", "Team", "text"), data.by_team, total),
        ],
        data=data,
    )


# ---------------------------------------------------------------------------------------------------------------
# noise


def noise(user: User, flt: Filters, now: datetime) -> Report:
    data = selectors.noise_report(user, flt)
    t = data.totals
    chart = partial(
        charts.bar,
        "integrations",
        "Noisiest integrations (alerts)",
        f"Alerts first seen from {flt.first} to {flt.last} per integration, the {selectors.TOP_INTEGRATIONS} "
        "noisiest. The table 'Noisiest integrations' has the same figures.",
        [f"{r.service} / {r.name}" for r in data.integrations],
        [
            ("Alerts", [r.alerts for r in data.integrations]),
            ("Resolved unacted", [r.unacted for r in data.integrations]),
        ],
        horizontal=True,
    )
    integrations = Table(
        "integrations",
        "Noisiest integrations",
        [
            Column("id", "Id", show=False),
            Column("integration", "Integration", "text"),
            Column("service", "Service", "text"),
            Column("kind", "Kind", "text"),
            Column("alerts", "Alerts"),
            Column("share_percent", "Share", "percent"),
            Column("unacted", "Resolved unacted"),
            Column("flapping_keys", "Flapping keys"),
        ],
        [
            [r.id, r.name, r.service, r.kind, r.alerts, r.share_percent, r.unacted, r.flapping_keys]
            for r in data.integrations
        ],
        chart="integrations",
    )
    flapping = Table(
        "flapping",
        "Flapping dedup keys",
        [
            Column("integration_id", "Integration id", show=False),
            Column("integration", "Integration", "text"),
            Column("service", "Service", "text"),
            Column("dedup_key", "Dedup key", "text"),
            Column("alerts", "Alerts"),
            Column("flaps", f"Alerts ≥ {selectors.FLAP_ALERTS} within an hour"),
            Column("first_at", "First seen", "datetime"),
            Column("last_at", "Last seen", "datetime"),
        ],
        [
            [
                k.integration_id,
                k.integration,
                k.service,
                k.dedup_key,
                k.alerts,
                k.flaps,
                k.first_at,
                k.last_at,
            ]
            for k in data.flapping
        ],
        empty="No dedup key flapped in this period.",
    )
    return Report(
        key="noise",
        title="Alert noise",
        intro=f"Alerts first seen in the period. Resolved unacted: resolved before anyone acknowledged the alert or "
        f"its incident. Flapping: a dedup key of one integration that opened {selectors.FLAP_ALERTS} or more alerts "
        "within an hour.",
        filters=flt,
        figures=[
            Figure(
                "Alerts",
                str(t.alerts),
                f"{t.triggers} triggers before deduplication; {t.suppressed} suppressed",
            ),
            Figure(
                "Alerts per incident",
                f"{t.alerts_per_incident:g}" if t.alerts_per_incident is not None else "–",
                f"{t.on_incidents} alerts on {t.incidents} incidents",
            ),
            Figure("Resolved unacted", pct(t.unacted_percent), f"{t.unacted} alerts"),
            Figure("Flapping keys", str(t.flapping_keys), f"{t.flapping_alerts} alerts closed a burst"),
        ],
        draw=[chart],
        tables=[integrations, flapping],
        data=data,
    )


# ---------------------------------------------------------------------------------------------------------------
# on-call load


def oncall(user: User, flt: Filters, now: datetime) -> Report:
    data = selectors.oncall_report(user, flt)
    shown = data.people[:15]
    chart = partial(
        charts.bar,
        "pages",
        "Pages per person",
        "Pages per person in the period, with those outside their working hours and at night "
        "(22:00–07:00 in their own time zone). The table 'Per person' has the same figures.",
        [p.name for p in shown],
        [
            ("Pages", [p.pages for p in shown]),
            ("Outside working hours", [p.outside_hours for p in shown]),
            ("At night", [p.night for p in shown]),
        ],
        horizontal=True,
    )
    table = Table(
        "people",
        "Per person",
        [
            Column("user_id", "Id", show=False),
            Column("person", "Person", "text"),
            Column("pages", "Pages"),
            Column("unreachable", "Unreachable"),
            Column("outside_hours", "Outside working hours"),
            Column("night", "At night"),
            Column("time_zone", "Time zone", "text"),
            Column("working_hours", "Working hours", "text"),
        ],
        [
            [
                p.user_id,
                p.name,
                p.pages,
                p.unreachable,
                p.outside_hours,
                p.night,
                p.time_zone,
                p.working_hours,
            ]
            for p in data.people
        ],
        empty="Nobody was paged in this period.",
        chart="pages",
    )
    return Report(
        key="oncall",
        title="On-call load",
        intro="Pages sent in the period for the incidents in scope: one page is one person reached by one "
        "escalation step in one round. Night is 22:00–07:00 in the person's own time zone.",
        filters=flt,
        figures=[
            Figure("Pages", str(data.pages), f"{data.unreachable} could not reach anyone"),
            Figure("People paged", str(len(data.people))),
            Figure(
                "Outside working hours", str(data.outside_hours), "people without working hours not counted"
            ),
            Figure("At night", str(data.night)),
        ],
        draw=[chart],
        tables=[table],
        data=data,
    )


# ---------------------------------------------------------------------------------------------------------------
# learning


def reviews(user: User, flt: Filters, now: datetime) -> Report:
    data = selectors.reviews_report(user, flt, today=now.date())
    pm, ai = data.postmortems_total, data.actions_total
    which = ", ".join(f"P{p}" for p in data.priorities)
    chart = partial(
        charts.bar,
        "completion",
        f"Postmortems and action items ({which})",
        f"Postmortems of the resolved {which} incidents by state, and their action items by state. "
        "The tables 'Postmortems' and 'Action items' have the same figures.",
        ["Postmortems", "Action items"],
        [
            ("Published / done", [pm.published, ai.done]),
            ("In review / open", [pm.in_review, ai.open]),
            ("Draft / won't do", [pm.draft, ai.wont_do]),
            ("Missing", [pm.missing, None]),
        ],
        stacked=True,
    )
    postmortems = Table(
        "postmortems",
        "Postmortems",
        [
            Column("key", "Key", "text", show=False),
            Column("priority", "Priority", "text"),
            Column("incidents", "Resolved incidents"),
            Column("published", "Published"),
            Column("in_review", "In review"),
            Column("draft", "Draft"),
            Column("missing", "None"),
            Column("completion_percent", "Completion", "percent"),
        ],
        [
            [r.key, r.label, r.incidents, r.published, r.in_review, r.draft, r.missing, r.completion_percent]
            for r in [*data.postmortems, pm]
        ],
        chart="completion",
    )
    actions = Table(
        "actions",
        "Action items",
        [
            Column("key", "Key", "text", show=False),
            Column("priority", "Priority", "text"),
            Column("total", "Items"),
            Column("done", "Done"),
            Column("done_on_time", "Done by due date"),
            Column("open", "Open"),
            Column("overdue", "Overdue"),
            Column("wont_do", "Won't do"),
            Column("completion_percent", "Completion", "percent"),
        ],
        [
            [
                r.key,
                r.label,
                r.total,
                r.done,
                r.done_on_time,
                r.open,
                r.overdue,
                r.wont_do,
                r.completion_percent,
            ]
            for r in [*data.actions, ai]
        ],
        chart="completion",
    )
    return Report(
        key="reviews",
        title="Learning",
        intro=f"Resolved {which} incidents opened in the period: is their postmortem published (their own, or "
        "their major incident's when it covers its children), and are the action items from them done? "
        "Completion of action items is done ÷ (done + open); won't-do items count in neither.",
        filters=flt,
        figures=[
            Figure(
                "Postmortem completion",
                pct(pm.completion_percent),
                f"{pm.published} of {pm.incidents} published",
            ),
            Figure("Action item completion", pct(ai.completion_percent), f"{ai.done} done, {ai.open} open"),
            Figure("Overdue action items", str(ai.overdue)),
        ],
        draw=[chart],
        tables=[postmortems, actions],
        data=data,
    )


Builder = Callable[[User, Filters, datetime], Report]

#: report key → (tab title, builder), in the order of the tabs
REPORTS: dict[str, tuple[str, Builder]] = {
    "response": ("Response", response),
    "volume": ("Volume", volume),
    "reliability": ("Reliability", reliability),
    "compliance": ("SLA", sla_compliance),
    "noise": ("Alert noise", noise),
    "oncall": ("On-call load", oncall),
    "reviews": ("Learning", reviews),
}
