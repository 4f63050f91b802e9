"""Types of the values the API reads from query strings and bodies, where pydantic's lax mode reads too much.

**Dates, date-times and times of day are ISO 8601 text.** Pydantic also reads a number as seconds since 1970, in
a body and as the digits of a query value: ``?opened_before=0.5`` was 1970-01-01T00:00:00.5Z,
``"starts_at": 1700000000`` a day in 2023, ``?start=20260301`` (ISO 8601's basic form) 1970-08-23, and
``"start": 3600`` a time of day of 01:00 *UTC*. :data:`IsoDateTime`, :data:`IsoDate` and :data:`WallClockTime`
refuse a number, ``true``/``false`` or text that is only a number with the error type :data:`NOT_ISO`, which the
API answers with a 400 naming the field (``warroom.api``). Text that is not a date at all stays pydantic's own
error (a 422, as for any value of the wrong type). The range checks of :mod:`warroom.lib.instants` (1970-2200,
offsets) come after, where the value is used. Request bodies refuse numbers for a plain ``datetime``, ``date`` or
``time`` field too (:class:`warroom.lib.schema.InputSchema`, through :func:`number_refusal`); query schemas must
use these types (``tests/api/test_openapi_contract.py`` checks it).

**A time of day is wall-clock time** in a zone the endpoint names (the person's, the schedule's): ``09:00`` or
``09:00:00``, no offset (one is :data:`TIME_WITH_OFFSET`, a 400, as the services refused it before). OpenAPI's
``format: time`` is RFC 3339's ``full-time``, which requires an offset, so :data:`WallClockTime` is documented as
a string with :data:`WALL_CLOCK_PATTERN` instead, in answers as in bodies.

**A filter with fixed choices** (``?priority=``) refuses any other value with the error type
:data:`UNKNOWN_CHOICE` (a 400 naming the parameter and its choices); see :data:`QueryPriority`. Query parameters
typed as a ``Literal`` of strings get the same answer (``warroom.api`` rewrites pydantic's ``literal_error``).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

#: the error type of a number given for a date, a date-time or a time of day (answered 400)
NOT_ISO = "not_iso"
#: the error type of a value a filter with fixed choices does not have (answered 400)
UNKNOWN_CHOICE = "unknown_choice"
#: the error type of a time of day with an offset (answered 400, as the services always refused one)
TIME_WITH_OFFSET = "time_with_offset"
#: the error types the API answers with a 400 rather than a 422: the value has a readable type but is refused
REFUSED_ERRORS = frozenset({NOT_ISO, UNKNOWN_CHOICE, TIME_WITH_OFFSET})

#: what a time of day looks like, in and out: local wall-clock time, minutes or seconds, no offset
WALL_CLOCK_PATTERN = r"^\d{2}:\d{2}(:\d{2})?$"
_WALL_CLOCK = re.compile(WALL_CLOCK_PATTERN)
#: a time of day with an offset, which a wall-clock time does not have
_WITH_OFFSET = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$")
#: text that is only a number (what pydantic would read as seconds since 1970)
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")

#: (what it is, an example, what pydantic would read a number as) by the type a value is read as; datetime
#: before date (it is a date too)
_KINDS: tuple[tuple[type, str, str, str], ...] = (
    (datetime, "a date-time", "2026-03-01T09:30:00Z", "seconds since 1970"),
    (date, "a date", "2026-03-01", "seconds since 1970"),
    (time, "a time of day", "09:30", "seconds since midnight"),
)


def options_of(annotation: Any) -> list[Any]:
    """The types a value of ``annotation`` may have: a union's members, without ``Annotated`` wrappers."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return options_of(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [option for member in get_args(annotation) for option in options_of(member)]
    return [annotation]


def is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number or boolean, or text that is only a number."""
    if isinstance(value, bool | int | float | Decimal):
        return True
    return isinstance(value, str) and _NUMBER.fullmatch(value) is not None


def _not_iso(kind: type) -> PydanticCustomError:
    what, example, reading = next((w, e, r) for k, w, e, r in _KINDS if k is kind)
    return PydanticCustomError(
        NOT_ISO,
        "{what} is ISO 8601 text such as {example}, not a number ({reading} are not read)",
        {"what": what, "example": example, "reading": reading},
    )


def _refusing_numbers(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if is_number(value):
            raise _not_iso(kind)
        return value

    return check


def number_refusal(annotation: Any, value: Any) -> PydanticCustomError | None:
    """The error for ``value`` where ``annotation`` takes a date, a date-time or a time of day (and no number):
    a number, a boolean or text that is only a number; None for anything else."""
    if not is_number(value):
        return None
    options = options_of(annotation)
    if any(o in (int, float, Decimal, bool, str, Any, object) for o in options):
        return None  # the field takes numbers or text anyway (``str | datetime``): no date type to guard
    for kind, *_ in _KINDS:
        if kind in options:
            return _not_iso(kind)
    return None


def _wall_clock(value: Any) -> Any:
    if is_number(value):
        raise _not_iso(time)
    if isinstance(value, str) and _WITH_OFFSET.match(value):
        raise PydanticCustomError(
            TIME_WITH_OFFSET, "a time of day is wall-clock time in the zone named with it: no offset (09:30)"
        )
    if isinstance(value, str) and not _WALL_CLOCK.match(value):
        raise PydanticCustomError(
            "time_of_day", "a time of day is HH:MM or HH:MM:SS, wall-clock time without an offset"
        )
    return value


#: an ISO 8601 date-time (a naive one, or a bare date, is read as the endpoint documents: UTC, or local time)
IsoDateTime = Annotated[datetime, BeforeValidator(_refusing_numbers(datetime))]
#: an ISO 8601 date
IsoDate = Annotated[date, BeforeValidator(_refusing_numbers(date))]
#: a wall-clock time of day, ``HH:MM`` or ``HH:MM:SS``; answered as ``HH:MM:SS`` where the type is a ``time``
WallClockTime = Annotated[
    time,
    BeforeValidator(_wall_clock),
    WithJsonSchema({"type": "string", "pattern": WALL_CLOCK_PATTERN, "examples": ["09:00"]}),
]
#: a date-time kept as text (parsed by the endpoint, which also reads a date alone or local time): no number
IsoDateTimeText = Annotated[str, BeforeValidator(_refusing_numbers(datetime))]


def _choice_of(*choices: int) -> Callable[[Any], Any]:
    allowed = ", ".join(str(c) for c in choices[:-1]) + f" or {choices[-1]}"

    def check(value: Any) -> Any:
        text = value.strip() if isinstance(value, str) else None
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        for choice in choices:
            if text == str(choice):
                return choice
        raise PydanticCustomError(UNKNOWN_CHOICE, "not one of {allowed}", {"allowed": allowed})

    return check


#: an incident priority in a filter, 1 (Critical) to 5 (Planning), written as digits; anything else (``9``,
#: ``high``) is :data:`UNKNOWN_CHOICE`. Documented as an integer enum.
QueryPriority = Annotated[Literal[1, 2, 3, 4, 5], BeforeValidator(_choice_of(1, 2, 3, 4, 5))]
