"""What a report covers: the period (whole UTC days), the optional team, service and priority, and the size of
the time buckets of its trends. Every interface (console, API, CSV) resolves its input here, so bad input is the
same 4xx everywhere: a period that runs backwards or is too long is a 400 naming ``start``; an unknown priority
or bucket a 400 naming it; a team or service the user may not see (or that does not exist) a 404 naming
``team`` or ``service`` — another team's object looks exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.incidents.priority import Priority
from warroom.lib.errors import NotFound, ValidationFailed

#: the longest period a report covers (three years, like the SLA report)
MAX_DAYS = 3 * 366
#: the period when none is given: the 90 days up to today (UTC)
DEFAULT_DAYS = 90
#: periods up to this long are bucketed by week by default, longer ones by month
WEEKLY_UP_TO_DAYS = 184
BUCKETS = ("week", "month")
#: the days a period may cover: far enough from the ends of the calendar that the bucket and period arithmetic
#: (the Monday before the first day, the month after the last) stays inside it
EARLIEST = date(1970, 1, 1)
LATEST = date(9998, 12, 31)


@dataclass(frozen=True)
class Filters:
    """A resolved report scope. ``start``/``end`` are the UTC instants of ``first`` 00:00 and of the day after
    ``last`` 00:00 (the last day is included)."""

    first: date
    last: date
    team: Team | None = None
    service: Service | None = None
    priority: int | None = None
    bucket: str = "week"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def params(self) -> dict[str, Any]:
        """The filters as query parameters (for links, CSV downloads and the API)."""
        return {
            "start": self.first.isoformat(),
            "end": self.last.isoformat(),
            "team": self.team.slug if self.team else None,
            "service": self.service.slug if self.service else None,
            "priority": self.priority,
            "bucket": self.bucket,
        }

    def describe(self) -> str:
        """``2026-01-01 – 2026-03-31 · team Payments · service Checkout · P1``."""
        parts = [f"{self.first.isoformat()} – {self.last.isoformat()} (UTC)"]
        if self.team is not None:
            parts.append(f"team {self.team.name}")
        if self.service is not None:
            parts.append(f"service {self.service.name}")
        if self.priority is not None:
            parts.append(Priority(self.priority).label)
        return " · ".join(parts)


def _team(user: User, key: str) -> Team:
    try:
        return accounts.get_team_for_user_or_404(user, key=key.strip())
    except NotFound as exc:
        raise NotFound(f"team: {exc.message}", field="team") from None


def _service(user: User, key: str) -> Service:
    try:
        return catalog.get_service_for_user_or_404(user, key=key.strip())
    except NotFound as exc:
        raise NotFound(f"service: {exc.message}", field="service") from None


def resolve(
    user: User,
    *,
    today: date,
    start: date | None = None,
    end: date | None = None,
    team: str | None = None,
    service: str | None = None,
    priority: int | None = None,
    bucket: str | None = None,
) -> Filters:
    """Check and complete a report's filters for ``user``.

    Defaults: the :data:`DEFAULT_DAYS` days up to ``end`` (itself default today, and never before
    :data:`EARLIEST`); buckets of a week for periods up to :data:`WEEKLY_UP_TO_DAYS` days, of a month beyond. A
    day outside :data:`EARLIEST` … :data:`LATEST` is a 400 naming it.
    """
    for name, day in (("start", start), ("end", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ValidationFailed(
                f"{name}: give a day from {EARLIEST.isoformat()} to {LATEST.isoformat()}", field=name
            )
    last = end or today
    first = start or max(EARLIEST, last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise ValidationFailed("start: the first day must not be after the last (end)", field="start")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"start: a report covers at most {MAX_DAYS} days", field="start")
    if priority is not None and priority not in Priority.values:
        raise ValidationFailed("priority: give 1 (Critical) to 5 (Planning)", field="priority")
    if bucket is None or bucket == "":
        bucket = "week" if (last - first).days + 1 <= WEEKLY_UP_TO_DAYS else "month"
    if bucket not in BUCKETS:
        raise ValidationFailed(f"bucket: choose {' or '.join(BUCKETS)}", field="bucket")
    return Filters(
        first=first,
        last=last,
        team=_team(user, team) if team and team.strip() else None,
        service=_service(user, service) if service and service.strip() else None,
        priority=priority,
        bucket=bucket,
    )
