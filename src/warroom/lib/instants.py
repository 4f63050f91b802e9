"""The date-times Warroom accepts as input: aware, between 1970 and 2200, and handed on in UTC.

Python reads offsets up to ±23:59 and years 1 to 9999; PostgreSQL takes offsets only up to ±15:59 and psycopg
reads back only years 1 to 9999 *in UTC*, so ``9999-12-31T23:59:59-01:00`` was stored as year 10000 and could not
be read again, ``0001-01-01T00:00:00+01:00`` overflowed Python itself, and ``-23:00`` was a database error. A
date-time that comes in from outside (an API body or query string, or the service that checks what a form sent)
goes through :func:`to_utc`: an instant outside :data:`EARLIEST` .. :data:`LATEST` is a
:class:`~warroom.lib.errors.ValidationFailed` naming the field, anything else comes back converted to UTC (so any
offset Python reads is fine, ``-23:00`` included).

The range is the one the on-call API already used (``warroom.oncall.schemas.parse_instant``): wide enough for
any real plan, narrow enough that no arithmetic on it (a window's repeats, an SLA deadline, a year of shifts)
leaves what Python and both databases can hold. A caller with a documented range of its own (the SLA report
takes 1900 to 9000) passes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from warroom.lib.errors import ValidationFailed

#: the first instant accepted
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: the last instant accepted
LATEST = datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def in_range(value: datetime, *, earliest: datetime = EARLIEST, latest: datetime = LATEST) -> bool:
    """Whether the aware ``value`` lies between ``earliest`` and ``latest`` (both included); never raises."""
    # A year far outside the range is refused before any arithmetic: comparing or converting year 1 or 9999
    # with an offset can overflow Python's datetime.
    if not earliest.year - 1 <= value.year <= latest.year + 1:
        return False
    return earliest <= value <= latest


def to_utc(
    value: Any,
    *,
    field: str,
    message: str | None = None,
    earliest: datetime = EARLIEST,
    latest: datetime = LATEST,
) -> datetime:
    """``value`` (an aware datetime) in UTC; :class:`ValidationFailed` naming ``field`` if it is not a datetime,
    has no offset (``message`` then, if given, is the error text) or lies outside ``earliest`` .. ``latest``
    (by default the house range, :data:`EARLIEST` .. :data:`LATEST`; a caller with a documented range of its own,
    such as the SLA report's, passes it; both bounds must lie within years 2 .. 9998)."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(message or f"{field} must be a date-time with a time zone", field=field)
    if not in_range(value, earliest=earliest, latest=latest):
        raise ValidationFailed(
            f"{field} must be between {_stamp(earliest)} and {_stamp(latest)} (got {value.isoformat()})",
            field=field,
        )
    return value.astimezone(UTC)


def assume_utc(
    value: datetime, *, field: str, earliest: datetime = EARLIEST, latest: datetime = LATEST
) -> datetime:
    """Like :func:`to_utc`, but a naive ``value`` is read as UTC (for query filters documented that way)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return to_utc(aware, field=field, earliest=earliest, latest=latest)


def local_in_range(local: datetime) -> bool:
    """Whether a naive wall-clock time is one a zone can turn into an instant of the house range: its year lies
    within :data:`EARLIEST` .. :data:`LATEST`'s (checked before any conversion, which overflows near year 1 or
    9999); the instant itself is checked again in UTC by :func:`to_utc`."""
    return EARLIEST.year <= local.year <= LATEST.year
