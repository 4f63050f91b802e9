"""The audit log as CSV, streamed: one header line, then one line per row, newest first, at most
:data:`EXPORT_MAX` rows (narrow the time range for more). JSON cells (before, after) are compact JSON; times are
ISO 8601 UTC; a cell a spreadsheet would run as a formula gets a leading apostrophe. The last two columns name
the team of the row's object (empty: organisation admins only)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from warroom.audit.models import AuditEvent
from warroom.lib import clock

EXPORT_MAX = 100_000
COLUMNS = [
    "id",
    "at",
    "actor_id",
    "actor_email",
    "actor_name",
    "source",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "request_id",
    "team_id",
    "team",
]


class _Line:
    """A file-like object whose write returns the line, for :func:`csv.writer` in a generator."""

    def write(self, value: str) -> str:
        return value


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _json(value: Any) -> str:
    return (
        "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    )


def _row(event: AuditEvent) -> list[str]:
    return [
        str(event.pk),
        event.at.isoformat(),
        "" if event.actor_id is None else str(event.actor_id),
        _safe(event.actor_email),
        _safe(event.actor_name),
        event.source,
        _safe(event.action),
        _safe(event.object_type),
        _safe(event.object_id),
        _safe(_json(event.before)),
        _safe(_json(event.after)),
        _safe(event.request_id),
        "" if event.team_id is None else str(event.team_id),
        _safe(event.team.name) if event.team is not None else "",
    ]


def lines(rows: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Line(), lineterminator="\n")
    yield writer.writerow(COLUMNS)
    for event in rows.select_related("team")[:EXPORT_MAX].iterator(chunk_size=2000):
        yield writer.writerow(_row(event))


def csv_response(rows: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="warroom-audit-{clock.now():%Y%m%d-%H%M%S}.csv"'
    response["Cache-Control"] = "no-store"
    return response
