"""Schemas of the on-call API, the parsing of its times, and the JSON rendering of schedules and shifts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ninja import Field, Schema

from warroom.accounts.models import User
from warroom.accounts.schemas import Paging, TeamRef, UserRef, team_ref, user_ref
from warroom.lib import instants
from warroom.lib.apitypes import IsoDateTime, IsoDateTimeText, WallClockTime
from warroom.lib.errors import ValidationFailed
from warroom.lib.schema import InputSchema
from warroom.oncall import rotation
from warroom.oncall.models import CalendarFeed, Layer, Override, Schedule
from warroom.oncall.selectors import ScheduleWarning, days_from_mask

DAY_NAMES = rotation.WEEKDAYS
DAY_GROUPS = {"weekdays": range(5), "weekend": range(5, 7), "everyday": range(7)}


# ---------------------------------------------------------------------------------------------------------------
# parsing


def parse_instant(
    value: str | None, *, field: str, zone: ZoneInfo, ambiguous: Literal["first", "last"] = "first"
) -> datetime | None:
    """An ISO 8601 instant. With an offset (or ``Z``) it is exact; a date-time without one, or a bare date
    (midnight), is wall-clock time in ``zone`` and resolved by the schedule's DST rules. Bad input → 400 naming
    ``field``."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{field}: {text!r} is not an ISO 8601 date or date-time (e.g. 2026-03-08T09:00:00Z)", field=field
        ) from None
    if not instants.local_in_range(parsed):  # before any conversion: near year 1 or 9999 it overflows
        raise ValidationFailed(
            f"{field}: the year must be between {instants.EARLIEST.year} and {instants.LATEST.year}",
            field=field,
        )
    if parsed.tzinfo is None:
        return rotation.local_to_utc(parsed, zone, ambiguous=ambiguous)
    return instants.to_utc(parsed, field=field)


def parse_days(days: list[str | int], *, field: str) -> frozenset[int]:
    """Days of the week: names (``mon`` ... ``sun``, or ``weekdays``, ``weekend``, ``everyday``) or 0 = Monday."""
    chosen: set[int] = set()
    for day in days:
        key = str(day).strip().lower()
        if key in DAY_GROUPS:
            chosen.update(DAY_GROUPS[key])
        elif key in {"0", "1", "2", "3", "4", "5", "6"}:
            chosen.add(int(key))
        elif len(key) >= 3 and key[:3] in DAY_NAMES:
            chosen.add(DAY_NAMES.index(key[:3]))
        else:
            raise ValidationFailed(
                f"{field}: {day!r} is not a day of the week (mon ... sun, weekdays, weekend or 0-6)",
                field=field,
            )
    if not chosen:
        raise ValidationFailed(f"{field}: choose at least one day", field=field)
    return frozenset(chosen)


def to_local(value: datetime, zone: ZoneInfo, *, field: str = "start") -> datetime:
    """A layer start as naive wall-clock time in ``zone`` (an offset, if given, is converted; an instant outside
    the accepted range of :mod:`warroom.lib.instants` is a 400 naming ``field``, before it can overflow)."""
    if value.tzinfo is None:
        return value
    return instants.to_utc(value, field=field).astimezone(zone).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------------------------
# input


class ScheduleIn(InputSchema):
    team: str | int = Field(description="The owning team: slug or id.")
    name: str
    time_zone: str = Field(description="IANA time zone, e.g. Europe/London.")
    description: str = ""


class SchedulePatch(InputSchema):
    name: str | None = None
    time_zone: str | None = None
    description: str | None = None


class ScheduleQuery(Paging):
    team: str | None = None


def _every_day() -> list[str | int]:
    return ["everyday"]


class RestrictionIn(InputSchema):
    days: list[str | int] = Field(
        default_factory=_every_day,
        description="Days the window starts on: mon ... sun, weekdays, weekend, everyday, or 0 (Monday)-6.",
    )
    start: WallClockTime = Field(description="Local time the window opens, e.g. 09:00.")
    end: WallClockTime = Field(description="Local time it closes; at or before start means the next day.")


class LayerIn(InputSchema):
    name: str
    priority: int | None = Field(None, description="Higher wins. Default: above every existing layer.")
    rotation_kind: str = Field("weekly", description="hourly, daily, weekly or custom.")
    shift_length: int = Field(1, description="Hours (hourly), days (daily), weeks (weekly) or custom units.")
    custom_unit: str = Field("days", description="hours or days; only for custom rotations.")
    handoff_time: WallClockTime | None = Field(
        None, description="Local time day-based shifts change hands. Default: the start's time."
    )
    start: IsoDateTime = Field(description="Local date-time in the schedule's zone when the rotation begins.")
    participants: list[str | int] = Field(
        default_factory=list, description="Ids or emails, in rotation order."
    )
    restrictions: list[RestrictionIn] = Field(
        default_factory=list, description="Empty: on call around the clock."
    )


class LayerPatch(InputSchema):
    name: str | None = None
    priority: int | None = None
    rotation_kind: str | None = None
    shift_length: int | None = None
    custom_unit: str | None = None
    handoff_time: WallClockTime | None = None
    start: IsoDateTime | None = None
    participants: list[str | int] | None = Field(None, description="Replaces the whole rotation order.")
    restrictions: list[RestrictionIn] | None = Field(None, description="Replaces every restriction.")


class ParticipantsIn(InputSchema):
    participants: list[str | int] = Field(description="Ids or emails, in rotation order.")


class OverrideIn(InputSchema):
    user: str | int = Field(description="Who goes on call: id or email.")
    replaces: str | int | None = Field(None, description="Whose shifts they take; leave out to add them.")
    start: IsoDateTimeText = Field(
        description="ISO 8601; without an offset it is local time in the schedule's zone."
    )
    end: IsoDateTimeText
    note: str = ""


class OverridePatch(InputSchema):
    user: str | int | None = None
    replaces: str | int | None = Field(None, description="null: the override adds its user instead.")
    start: IsoDateTimeText | None = None
    end: IsoDateTimeText | None = None
    note: str | None = None


class RangeQuery(Schema):
    start: str | None = Field(None, description="ISO 8601 (default: now). Without an offset: schedule-local.")
    end: str | None = Field(
        None, description="ISO 8601 (default: start + 14 days); at most 100 days after start."
    )


class AtQuery(Schema):
    at: str | None = Field(
        None, description="ISO 8601 instant (default: now). Without an offset: schedule-local."
    )


class NowQuery(Schema):
    team: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# output


class ScheduleRef(Schema):
    id: int
    name: str
    team: str = Field(description="The owning team's slug.")


class ScheduleOut(Schema):
    id: int
    name: str
    team: TeamRef
    time_zone: str
    description: str
    created_at: datetime
    updated_at: datetime


class ParticipantOut(Schema):
    position: int
    user: UserRef


class RestrictionOut(Schema):
    days: list[str]
    start: str
    end: str


class LayerOut(Schema):
    id: int
    name: str
    priority: int
    rotation_kind: str
    shift_length: int
    custom_unit: str
    shift: str = Field(description="The shift length in words, e.g. '1 week' or '12 hours'.")
    handoff_time: str
    start: str = Field(description="Local date-time in the schedule's zone.")
    participants: list[ParticipantOut]
    restrictions: list[RestrictionOut]
    created_at: datetime


class WarningOut(Schema):
    code: str = Field(
        description="nobody_on_call, no_contact_method, participant_inactive, participant_not_in_team"
    )
    message: str
    user: UserRef | None = None
    start: datetime | None = None
    end: datetime | None = None


class ScheduleDetailOut(ScheduleOut):
    layers: list[LayerOut]
    warnings: list[WarningOut] = Field(description="Problems in the next 14 days and with the participants.")


class LayerRef(Schema):
    id: int
    name: str


class ShiftOut(Schema):
    user: UserRef
    start: datetime
    end: datetime
    start_local: str = Field(description="The start in the schedule's zone, with its offset.")
    end_local: str
    layer: LayerRef | None = None
    override_id: int | None = None


class GapOut(Schema):
    start: datetime
    end: datetime


class ShiftsOut(Schema):
    schedule: ScheduleRef
    time_zone: str
    start: datetime
    end: datetime
    shifts: list[ShiftOut]
    gaps: list[GapOut] = Field(description="Where nobody is on call.")
    warnings: list[WarningOut]


class OnCallOut(Schema):
    schedule: ScheduleRef
    at: datetime
    on_call: list[ShiftOut] = Field(description="Shifts in progress (start and end within 8 days of `at`).")


class OnCallNowOut(Schema):
    at: datetime
    schedules: list[OnCallOut]


class OverrideOut(Schema):
    id: int
    schedule: ScheduleRef
    user: UserRef
    replaces: UserRef | None
    start: datetime
    end: datetime
    note: str
    created_by: UserRef | None
    created_at: datetime


class OverrideQuery(Schema):
    start: str | None = Field(None, description="Only overrides ending after this (default: now).")
    end: str | None = None


class FeedOut(Schema):
    id: int
    kind: str
    schedule: ScheduleRef | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    is_active: bool


class FeedCreatedOut(FeedOut):
    url: str = Field(description="The secret calendar URL. Shown only this once.")


# ---------------------------------------------------------------------------------------------------------------
# rendering


def schedule_ref(schedule: Schedule) -> dict[str, Any]:
    return {"id": schedule.pk, "name": schedule.name, "team": schedule.team.slug}


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "name": schedule.name,
        "team": team_ref(schedule.team),
        "time_zone": schedule.time_zone,
        "description": schedule.description,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
    }


def shift_words(layer: Layer) -> str:
    n = layer.shift_length
    unit = {"hourly": "hour", "daily": "day", "weekly": "week"}.get(
        layer.rotation_kind, "hour" if layer.custom_unit == "hours" else "day"
    )
    return f"{n} {unit}{'' if n == 1 else 's'}"


def layer_json(layer: Layer) -> dict[str, Any]:
    return {
        "id": layer.pk,
        "name": layer.name,
        "priority": layer.priority,
        "rotation_kind": layer.rotation_kind,
        "shift_length": layer.shift_length,
        "custom_unit": layer.custom_unit,
        "shift": shift_words(layer),
        "handoff_time": layer.handoff_time.strftime("%H:%M"),
        "start": datetime.combine(layer.starts_on, layer.starts_at).isoformat(timespec="minutes"),
        "participants": [{"position": m.position, "user": user_ref(m.user)} for m in layer.members.all()],
        "restrictions": [
            {
                "days": [DAY_NAMES[d] for d in sorted(days_from_mask(r.days))],
                "start": r.start_time.strftime("%H:%M"),
                "end": r.end_time.strftime("%H:%M"),
            }
            for r in layer.restrictions.all()
        ],
        "created_at": layer.created_at,
    }


def warning_json(w: ScheduleWarning, people: dict[int, User]) -> dict[str, Any]:
    return {
        "code": w.code,
        "message": w.message,
        "user": user_ref(people.get(w.user_id)) if w.user_id is not None else None,
        "start": w.start,
        "end": w.end,
    }


def shift_json(
    shift: rotation.Shift, zone: ZoneInfo, people: dict[int, User], layer_names: dict[int, str]
) -> dict[str, Any]:
    return {
        "user": user_ref(people.get(shift.user_id))
        or {"id": shift.user_id, "email": "", "name": "(deleted)"},
        "start": shift.start,
        "end": shift.end,
        "start_local": shift.start.astimezone(zone).isoformat(),
        "end_local": shift.end.astimezone(zone).isoformat(),
        "layer": (
            {"id": shift.layer_id, "name": layer_names.get(shift.layer_id, "")}
            if shift.layer_id is not None
            else None
        ),
        "override_id": shift.override_id,
    }


def override_json(o: Override) -> dict[str, Any]:
    return {
        "id": o.pk,
        "schedule": schedule_ref(o.schedule),
        "user": user_ref(o.user),
        "replaces": user_ref(o.replaces),
        "start": o.start,
        "end": o.end,
        "note": o.note,
        "created_by": user_ref(o.created_by),
        "created_at": o.created_at,
    }


def feed_json(feed: CalendarFeed) -> dict[str, Any]:
    return {
        "id": feed.pk,
        "kind": feed.kind,
        "schedule": schedule_ref(feed.schedule) if feed.schedule else None,
        "prefix": feed.prefix,
        "created_at": feed.created_at,
        "last_used_at": feed.last_used_at,
        "revoked_at": feed.revoked_at,
        "is_active": feed.is_active,
    }


# ---------------------------------------------------------------------------------------------------------------
# escalation policies


class TargetIn(InputSchema):
    kind: Literal["user", "schedule", "team"]
    id: int


class StepIn(InputSchema):
    delay_minutes: int = Field(15, description="Minutes to wait after paging this step before the next one.")
    targets: list[TargetIn]


class PolicyIn(InputSchema):
    team: int | str
    name: str
    description: str = ""
    repeat: int = 0
    steps: list[StepIn] = Field(default_factory=list)


class PolicyPatch(InputSchema):
    name: str | None = None
    description: str | None = None
    repeat: int | None = None
    steps: list[StepIn] | None = None


class TargetOut(Schema):
    kind: str
    id: int
    name: str


class StepOut(Schema):
    order: int
    delay_minutes: int
    targets: list[TargetOut]


class PolicyOut(Schema):
    id: int
    team: TeamRef
    name: str
    description: str
    repeat: int
    steps: list[StepOut]
    services: list[int]


class PolicyQuery(Paging):
    team: str | None = None


class ServicePolicyIn(InputSchema):
    policy: int | None = Field(None, description="The policy's id; null: nobody is paged for the service.")
