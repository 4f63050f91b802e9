"""Every write to on-call schedules: schedules, layers (with participants and restrictions), overrides and
calendar feeds.

Each function runs in one transaction that also writes the audit row. Changes to a schedule's layers and
overrides first lock the schedule row, so two people editing one schedule take turns. Who may write:

* schedules and layers: the team's admins and managers (and organisation admins);
* overrides: the same, and also a responder for an override that involves themselves (taking someone's shift,
  or handing theirs to someone) — the common "can you cover me on Friday" swap;
* calendar feeds: the person whose feed it is; a team manager may also revoke a schedule feed of their team.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from warroom.accounts import selectors as accounts
from warroom.accounts.models import ACTING_ROLES, Membership, Role, Team, User
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.lib import clock, tokens, zones
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.oncall import rotation, selectors
from warroom.oncall.models import (
    CalendarFeed,
    EscalationPolicy,
    EscalationStep,
    FeedKind,
    Layer,
    LayerMember,
    LengthUnit,
    Override,
    Restriction,
    RotationKind,
    Schedule,
    ServicePolicy,
    StepTarget,
    TargetKind,
)

FEED_PREFIX = "wr_cal"
MAX_PARTICIPANTS = 100
MAX_LAYERS = 20
MAX_RESTRICTIONS = 28
MAX_OVERRIDE = dt.timedelta(days=366)
#: The longest shift each kind allows, in its own unit.
MAX_LENGTH = {"hourly": 8760, "daily": 365, "weekly": 52, "hours": 8760, "days": 365}
FIRST_YEAR, LAST_YEAR = 2000, 2100

_SCHEDULE_FIELDS = ("name", "time_zone", "description")
_LAYER_FIELDS = (
    "name",
    "priority",
    "rotation_kind",
    "shift_length",
    "custom_unit",
    "handoff_time",
    "start",
)

MAY_NOT_MANAGE = "only the team's admins and managers change its on-call schedules"


def _require_manager(actor: User | None, team_id: int) -> None:
    if actor is not None and not accounts.can_manage_team(actor, team_id):
        raise PermissionDenied(MAY_NOT_MANAGE)


def _lock(schedule: Schedule) -> Schedule:
    """Lock the schedule row for the rest of the transaction and mark it changed."""
    locked = Schedule.objects.select_for_update(of=("self",)).select_related("team").get(pk=schedule.pk)
    locked.updated_at = clock.now()
    locked.save(update_fields=["updated_at"])
    return locked


# ---------------------------------------------------------------------------------------------------------------
# schedules


def schedule_snapshot(schedule: Schedule) -> dict[str, Any]:
    return {
        "team": schedule.team.slug,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "description": schedule.description,
    }


def _clean_schedule(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in _SCHEDULE_FIELDS:
            raise ValidationFailed(f"unknown field {key!r}", field=key)
        if key == "name":
            value = (value or "").strip()
            if not value or len(value) > 100:
                raise ValidationFailed("a schedule name is 1 to 100 characters", field="name")
        elif key == "time_zone":
            value = zones.clean(value)
        elif key == "description":
            value = value or ""
            if len(value) > 20000:
                raise ValidationFailed("the description is at most 20000 characters", field="description")
        clean[key] = value
    return clean


def create_schedule(*, team: Team, actor: User | None, source: str, **fields: Any) -> Schedule:
    """A new, empty schedule of ``team``; needs ``name`` and ``time_zone``."""
    _require_manager(actor, team.pk)
    clean = _clean_schedule(fields)
    for required in ("name", "time_zone"):
        if required not in clean:
            raise ValidationFailed(f"a schedule needs a {required.replace('_', ' ')}", field=required)
    now = clock.now()
    try:
        with transaction.atomic():
            schedule = Schedule.objects.create(team=team, created_at=now, updated_at=now, **clean)
            audit.record(
                actor=actor,
                source=source,
                action="schedule.create",
                obj=schedule,
                after=schedule_snapshot(schedule),
            )
    except IntegrityError:
        raise Conflict(f"{team.name} already has a schedule named {clean['name']!r}", field="name") from None
    return schedule


def update_schedule(*, schedule: Schedule, actor: User | None, source: str, **fields: Any) -> Schedule:
    """Change name, time zone or description. A new zone keeps the layers' wall-clock times (09:00 stays 09:00)."""
    _require_manager(actor, schedule.team_id)
    clean = _clean_schedule(fields)
    try:
        with transaction.atomic():
            locked = _lock(schedule)
            before = schedule_snapshot(locked)
            for key, value in clean.items():
                setattr(locked, key, value)
            locked.save()
            audit.record(
                actor=actor,
                source=source,
                action="schedule.update",
                obj=locked,
                before=before,
                after=schedule_snapshot(locked),
            )
    except IntegrityError:
        raise Conflict(
            f"this team already has a schedule named {clean.get('name')!r}", field="name"
        ) from None
    return locked


def delete_schedule(*, schedule: Schedule, actor: User | None, source: str) -> None:
    """Delete the schedule with its layers, overrides and calendar feeds."""
    _require_manager(actor, schedule.team_id)
    with transaction.atomic():
        locked = _lock(schedule)
        audit.record(
            actor=actor, source=source, action="schedule.delete", obj=locked, before=schedule_snapshot(locked)
        )
        locked.delete()


# ---------------------------------------------------------------------------------------------------------------
# layers


def layer_snapshot(layer: Layer) -> dict[str, Any]:
    return {
        "schedule": layer.schedule_id,
        "name": layer.name,
        "priority": layer.priority,
        "rotation_kind": layer.rotation_kind,
        "shift_length": layer.shift_length,
        "custom_unit": layer.custom_unit,
        "handoff_time": layer.handoff_time.isoformat(),
        "start": dt.datetime.combine(layer.starts_on, layer.starts_at).isoformat(),
        "participants": list(
            LayerMember.objects.filter(layer=layer).order_by("position").values_list("user__email", flat=True)
        ),
        "restrictions": [
            {
                "days": sorted(selectors.days_from_mask(r.days)),
                "start": r.start_time.isoformat(),
                "end": r.end_time.isoformat(),
            }
            for r in Restriction.objects.filter(layer=layer).order_by("id")
        ],
    }


def _clean_layer(fields: dict[str, Any], current: Layer | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in _LAYER_FIELDS:
            raise ValidationFailed(f"unknown field {key!r}", field=key)
        if key == "name":
            value = (value or "").strip()
            if not value or len(value) > 100:
                raise ValidationFailed("a layer name is 1 to 100 characters", field="name")
        elif key == "priority":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
                raise ValidationFailed(
                    "priority is a whole number from 1 to 1000 (higher wins)", field="priority"
                )
        elif key == "rotation_kind":
            if value not in RotationKind.values:
                raise ValidationFailed(
                    f"rotation kind must be one of {', '.join(RotationKind.values)}", field="rotation_kind"
                )
        elif key == "custom_unit":
            if value not in LengthUnit.values:
                raise ValidationFailed("the custom unit is hours or days", field="custom_unit")
        elif key == "shift_length":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValidationFailed(
                    "the shift length is a whole number of at least 1", field="shift_length"
                )
        elif key == "handoff_time":
            if not isinstance(value, dt.time) or value.tzinfo is not None:
                raise ValidationFailed(
                    "the handoff time is a local time of day such as 09:00", field="handoff_time"
                )
            value = value.replace(microsecond=0)
        elif key == "start":
            if not isinstance(value, dt.datetime) or value.tzinfo is not None:
                raise ValidationFailed(
                    "the start is a local date-time in the schedule's zone, without an offset", field="start"
                )
            if not FIRST_YEAR <= value.year <= LAST_YEAR:
                raise ValidationFailed(
                    f"the start must be between {FIRST_YEAR} and {LAST_YEAR}", field="start"
                )
            value = value.replace(microsecond=0)
        clean[key] = value
    # The length limit depends on the kind (and unit), which may come from the current row.
    kind = clean.get("rotation_kind", current.rotation_kind if current else RotationKind.WEEKLY)
    unit = clean.get("custom_unit", current.custom_unit if current else LengthUnit.DAYS)
    length = clean.get("shift_length", current.shift_length if current else 1)
    limit = MAX_LENGTH[unit if kind == RotationKind.CUSTOM else kind]
    if length > limit:
        noun = (
            unit
            if kind == RotationKind.CUSTOM
            else {"hourly": "hours", "daily": "days", "weekly": "weeks"}[kind]
        )
        raise ValidationFailed(f"a {kind} shift is at most {limit} {noun}", field="shift_length")
    return clean


def _clean_restrictions(restrictions: Sequence[rotation.Restriction]) -> list[rotation.Restriction]:
    if len(restrictions) > MAX_RESTRICTIONS:
        raise ValidationFailed(f"a layer has at most {MAX_RESTRICTIONS} restrictions", field="restrictions")
    for r in restrictions:
        if not r.days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in r.days):
            raise ValidationFailed(
                "each restriction needs at least one day of the week (0 = Monday to 6 = Sunday)",
                field="restrictions",
            )
        if r.start.tzinfo is not None or r.end.tzinfo is not None:
            raise ValidationFailed(
                "restriction times are local times of day without an offset", field="restrictions"
            )
    return list(restrictions)


def _observers(team_id: int, people: Sequence[User]) -> set[int]:
    """Which of ``people`` are observers of the team: read-only, they may not act on its incidents, so nobody
    puts them on call (a rotation, an override, an escalation step) where a page would wait on them."""
    return set(
        Membership.objects.filter(
            team_id=team_id, user_id__in=[p.pk for p in people], role=Role.OBSERVER
        ).values_list("user_id", flat=True)
    )


def _observer_refusal(person: User, team: Team, field: str, where: str = "") -> ValidationFailed:
    return ValidationFailed(
        f"{where}{person.display_name} is an observer of {team.name} (read-only: observers cannot act on "
        "incidents), so they cannot be on call; make them a responder first",
        field=field,
    )


def _clean_participants(schedule: Schedule, participants: Sequence[User]) -> list[User]:
    if len(participants) > MAX_PARTICIPANTS:
        raise ValidationFailed(f"a layer has at most {MAX_PARTICIPANTS} participants", field="participants")
    members = selectors.team_people_ids(schedule)
    observers = _observers(schedule.team_id, participants)
    for person in participants:
        if person.pk not in members or not person.is_active:
            raise ValidationFailed(
                f"{person.display_name} is not an active member of {schedule.team.name}", field="participants"
            )
        if person.pk in observers:
            raise _observer_refusal(person, schedule.team, "participants")
    return list(participants)


def _write_participants(layer: Layer, participants: Sequence[User]) -> None:
    LayerMember.objects.filter(layer=layer).delete()
    LayerMember.objects.bulk_create(
        [LayerMember(layer=layer, user=person, position=n) for n, person in enumerate(participants)]
    )


def _write_restrictions(layer: Layer, restrictions: Sequence[rotation.Restriction]) -> None:
    Restriction.objects.filter(layer=layer).delete()
    Restriction.objects.bulk_create(
        [
            Restriction(
                layer=layer,
                days=selectors.mask_from_days(r.days),
                start_time=r.start.replace(microsecond=0),
                end_time=r.end.replace(microsecond=0),
            )
            for r in restrictions
        ]
    )


def _apply_layer_fields(layer: Layer, clean: dict[str, Any]) -> None:
    for key, value in clean.items():
        if key == "start":
            layer.starts_on, layer.starts_at = value.date(), value.time()
        else:
            setattr(layer, key, value)


def create_layer(
    *,
    schedule: Schedule,
    actor: User | None,
    source: str,
    participants: Sequence[User] = (),
    restrictions: Sequence[rotation.Restriction] = (),
    **fields: Any,
) -> Layer:
    """Add a rotation to ``schedule``. Needs ``name`` and ``start`` (naive local date-time); ``priority`` defaults
    to one above the current highest; ``handoff_time`` to the start's time of day."""
    _require_manager(actor, schedule.team_id)
    clean = _clean_layer(fields, None)
    for required in ("name", "start"):
        if required not in clean:
            raise ValidationFailed(f"a layer needs a {required}", field=required)
    clean.setdefault("handoff_time", clean["start"].time())
    chosen = _clean_restrictions(restrictions)
    try:
        with transaction.atomic():
            locked = _lock(schedule)
            people = _clean_participants(locked, participants)
            if Layer.objects.filter(schedule=locked).count() >= MAX_LAYERS:
                raise ValidationFailed(f"a schedule has at most {MAX_LAYERS} layers")
            if "priority" not in clean:
                highest = Layer.objects.filter(schedule=locked).aggregate(top=Max("priority"))["top"]
                clean["priority"] = (highest or 0) + 1
            layer = Layer(schedule=locked, created_at=clock.now())
            _apply_layer_fields(layer, clean)
            layer.save()
            _write_participants(layer, people)
            _write_restrictions(layer, chosen)
            audit.record(
                actor=actor,
                source=source,
                action="schedule.layer.create",
                obj=layer,
                after=layer_snapshot(layer),
            )
    except IntegrityError:
        raise Conflict(
            f"this schedule already has a layer with priority {clean.get('priority')}", field="priority"
        ) from None
    return selectors.get_layer_or_404(schedule, layer_id=layer.pk)


def update_layer(
    *,
    layer: Layer,
    actor: User | None,
    source: str,
    participants: Sequence[User] | None = None,
    restrictions: Sequence[rotation.Restriction] | None = None,
    **fields: Any,
) -> Layer:
    """Change a layer; ``participants`` and ``restrictions`` (when given) replace the whole list."""
    schedule = layer.schedule
    _require_manager(actor, schedule.team_id)
    try:
        with transaction.atomic():
            locked_schedule = _lock(schedule)
            locked = Layer.objects.select_for_update().get(pk=layer.pk)
            clean = _clean_layer(fields, locked)
            chosen = _clean_restrictions(restrictions) if restrictions is not None else None
            people = _clean_participants(locked_schedule, participants) if participants is not None else None
            before = layer_snapshot(locked)
            _apply_layer_fields(locked, clean)
            locked.save()
            if people is not None:
                _write_participants(locked, people)
            if chosen is not None:
                _write_restrictions(locked, chosen)
            audit.record(
                actor=actor,
                source=source,
                action="schedule.layer.update",
                obj=locked,
                before=before,
                after=layer_snapshot(locked),
            )
    except IntegrityError:
        raise Conflict(
            f"this schedule already has a layer with priority {fields.get('priority')}", field="priority"
        ) from None
    return selectors.get_layer_or_404(schedule, layer_id=layer.pk)


def set_participants(*, layer: Layer, participants: Sequence[User], actor: User | None, source: str) -> Layer:
    """Replace the layer's rotation order with ``participants`` (a person may appear more than once)."""
    return update_layer(layer=layer, actor=actor, source=source, participants=participants)


def delete_layer(*, layer: Layer, actor: User | None, source: str) -> None:
    _require_manager(actor, layer.schedule.team_id)
    with transaction.atomic():
        _lock(layer.schedule)
        locked = Layer.objects.select_for_update().get(pk=layer.pk)
        audit.record(
            actor=actor,
            source=source,
            action="schedule.layer.delete",
            obj=locked,
            before=layer_snapshot(locked),
        )
        locked.delete()


# ---------------------------------------------------------------------------------------------------------------
# overrides


def override_snapshot(o: Override) -> dict[str, Any]:
    return {
        "schedule": o.schedule_id,
        "user": o.user.email,
        "replaces": o.replaces.email if o.replaces else None,
        "start": o.start.isoformat(),
        "end": o.end.isoformat(),
        "note": o.note,
    }


def may_change_override(actor: User | None, schedule: Schedule, involved: set[int | None]) -> bool:
    """Whether ``actor`` may create, change or delete an override of ``schedule`` whose user and replaced person
    are ``involved``: the team's admins and managers any; a responder only one that involves themselves."""
    if actor is None or accounts.can_manage_team(actor, schedule.team_id):
        return True
    return accounts.can_act_for_team(actor, schedule.team_id) and actor.pk in involved


def _may_override(actor: User | None, schedule: Schedule, involved: set[int | None]) -> None:
    if not may_change_override(actor, schedule, involved):
        raise PermissionDenied(
            "only the team's admins and managers change overrides; responders may only take or give their own "
            "shifts"
        )


def _clean_override(
    schedule: Schedule, user: User, replaces: User | None, start: dt.datetime, end: dt.datetime, note: str
) -> tuple[dt.datetime, dt.datetime, str]:
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValidationFailed(f"the override {name} needs a time zone offset (or Z for UTC)", field=name)
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        raise ValidationFailed("an override must end after it starts", field="end")
    if end - start > MAX_OVERRIDE:
        raise ValidationFailed("an override lasts at most 366 days", field="end")
    if end <= clock.now():
        raise ValidationFailed("that override would already be over", field="end")
    if not FIRST_YEAR <= start.year <= LAST_YEAR or end.year > LAST_YEAR:
        raise ValidationFailed(f"overrides fall between {FIRST_YEAR} and {LAST_YEAR}", field="start")
    if replaces is not None and replaces.pk == user.pk:
        raise ValidationFailed("an override cannot replace a person with themselves", field="replaces")
    if user.pk not in selectors.team_people_ids(schedule) or not user.is_active:
        raise ValidationFailed(
            f"{user.display_name} is not an active member of {schedule.team.name}", field="user"
        )
    if _observers(schedule.team_id, [user]):
        raise _observer_refusal(user, schedule.team, "user")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("the note is at most 200 characters", field="note")
    return start, end, note


def _refuse_double_replacement(
    schedule: Schedule, replaces: User | None, start: dt.datetime, end: dt.datetime, exclude: int | None
) -> None:
    """Two overrides replacing one person at the same time would make the outcome depend on their order."""
    if replaces is None:
        return
    clash = Override.objects.filter(schedule=schedule, replaces=replaces, start__lt=end, end__gt=start)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    other = clash.select_related("user").first()
    if other is not None:
        zone = selectors.zone_of(schedule)
        begins, ends = other.start.astimezone(zone), other.end.astimezone(zone)
        until = f"{ends:%H:%M}" if ends.date() == begins.date() else f"{ends:%Y-%m-%d %H:%M}"
        raise Conflict(
            f"{replaces.display_name} is already replaced by {other.user.display_name} from "
            f"{begins:%Y-%m-%d %H:%M} to {until} ({zone.key}, the schedule's time zone)",
            field="replaces",
        )


def create_override(
    *,
    schedule: Schedule,
    user: User,
    start: dt.datetime,
    end: dt.datetime,
    actor: User | None,
    source: str,
    replaces: User | None = None,
    note: str = "",
) -> Override:
    """Put ``user`` on call from ``start`` to ``end`` in place of ``replaces`` (or in addition when None)."""
    _may_override(actor, schedule, {user.pk, replaces.pk if replaces else None})
    start, end, note = _clean_override(schedule, user, replaces, start, end, note)
    with transaction.atomic():
        locked = _lock(schedule)
        _refuse_double_replacement(locked, replaces, start, end, None)
        override = Override.objects.create(
            schedule=locked,
            user=user,
            replaces=replaces,
            start=start,
            end=end,
            note=note,
            created_by=actor,
            created_at=clock.now(),
        )
        audit.record(
            actor=actor,
            source=source,
            action="schedule.override.create",
            obj=override,
            after=override_snapshot(override),
        )
    return override


_UNSET: Any = object()


def update_override(
    *,
    override: Override,
    actor: User | None,
    source: str,
    user: User | None = None,
    replaces: User | None = _UNSET,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    note: str | None = None,
) -> Override:
    """Change an override; only the arguments given change (``replaces=None`` makes it an addition)."""
    schedule = override.schedule
    _may_override(actor, schedule, {override.user_id, override.replaces_id})
    with transaction.atomic():
        locked_schedule = _lock(schedule)
        locked = (
            Override.objects.select_for_update(of=("self",))
            .select_related("user", "replaces")
            .get(pk=override.pk)
        )
        before = override_snapshot(locked)
        new_user = user or locked.user
        new_replaces = locked.replaces if replaces is _UNSET else replaces
        _may_override(actor, schedule, {new_user.pk, new_replaces.pk if new_replaces else None})
        new_start, new_end, new_note = _clean_override(
            locked_schedule,
            new_user,
            new_replaces,
            start or locked.start,
            end or locked.end,
            locked.note if note is None else note,
        )
        _refuse_double_replacement(locked_schedule, new_replaces, new_start, new_end, locked.pk)
        locked.user, locked.replaces = new_user, new_replaces
        locked.start, locked.end, locked.note = new_start, new_end, new_note
        locked.save()
        audit.record(
            actor=actor,
            source=source,
            action="schedule.override.update",
            obj=locked,
            before=before,
            after=override_snapshot(locked),
        )
    return locked


def delete_override(*, override: Override, actor: User | None, source: str) -> None:
    _may_override(actor, override.schedule, {override.user_id, override.replaces_id})
    with transaction.atomic():
        _lock(override.schedule)
        locked = (
            Override.objects.select_for_update(of=("self",))
            .select_related("user", "replaces")
            .get(pk=override.pk)
        )
        audit.record(
            actor=actor,
            source=source,
            action="schedule.override.delete",
            obj=locked,
            before=override_snapshot(locked),
        )
        locked.delete()


# ---------------------------------------------------------------------------------------------------------------
# calendar feeds


def create_calendar_feed(
    *, user: User, actor: User | None, source: str, schedule: Schedule | None = None
) -> tuple[CalendarFeed, str]:
    """A secret iCal URL for ``user``: of ``schedule`` (which ``user`` must be able to see), or of their own
    shifts when ``schedule`` is None. Returns the row and the secret, which is never shown again."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("you can only create calendar feeds for yourself")
    if schedule is not None and not selectors.visible_schedules(user).filter(pk=schedule.pk).exists():
        raise PermissionDenied("you can only publish schedules you can see")
    secret = tokens.generate(FEED_PREFIX)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            kind=FeedKind.PERSONAL if schedule is None else FeedKind.SCHEDULE,
            user=user,
            schedule=schedule,
            prefix=secret[: len(FEED_PREFIX) + 7],
            digest=tokens.digest(secret),
            created_at=clock.now(),
        )
        audit.record(
            actor=actor,
            source=source,
            action="calendar_feed.create",
            obj=feed,
            after={"user": user.email, "kind": feed.kind, "schedule": schedule.pk if schedule else None},
        )
    return feed, secret


def revoke_calendar_feed(*, feed: CalendarFeed, actor: User | None, source: str) -> CalendarFeed:
    """Stop a feed at once. Its owner may, and so may a manager of the team whose schedule it publishes."""
    owner = actor is None or actor.pk == feed.user_id
    manager = (
        feed.schedule is not None
        and actor is not None
        and accounts.can_manage_team(actor, feed.schedule.team_id)
    )
    if not (owner or manager):
        raise PermissionDenied("only the feed's owner or the team's managers revoke it")
    with transaction.atomic():
        updated = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        if not updated:
            raise Conflict("this calendar feed is already revoked")
        feed.refresh_from_db()
        audit.record(
            actor=actor,
            source=source,
            action="calendar_feed.revoke",
            obj=feed,
            after={"user": feed.user.email},
        )
    return feed


def touch_calendar_feed(feed: CalendarFeed) -> None:
    """Record that the feed was read (at most once a minute, so polling readers do not turn into writers)."""
    now = clock.now()
    if feed.last_used_at is None or now - feed.last_used_at > dt.timedelta(minutes=1):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)


# ---------------------------------------------------------------------------------------------------------------
# escalation policies

MAX_STEPS = 20
MAX_TARGETS = 20
MAX_REPEAT = 20
MAY_NOT_MANAGE_POLICIES = "only the team's admins and managers change its escalation policies"


@dataclass(frozen=True)
class TargetSpec:
    """A step target as asked for: ``kind`` is user, schedule or team; ``id`` the row's id."""

    kind: str
    id: int


@dataclass(frozen=True)
class StepSpec:
    delay_minutes: int
    targets: Sequence[TargetSpec] = field(default_factory=tuple)


def policy_snapshot(policy: EscalationPolicy) -> dict[str, Any]:
    return {
        "team": policy.team.slug,
        "name": policy.name,
        "description": policy.description,
        "repeat": policy.repeat,
        "steps": [
            {
                "delay_minutes": step.delay_minutes,
                "targets": [
                    {"kind": t.kind, "id": t.user_id or t.schedule_id or t.team_id}
                    for t in step.targets.all()
                ],
            }
            for step in selectors.steps_of(policy)
        ],
    }


def _require_policy_manager(actor: User | None, team_id: int) -> None:
    if actor is not None and not accounts.can_manage_team(actor, team_id):
        raise PermissionDenied(MAY_NOT_MANAGE_POLICIES)


def _clean_policy(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            value = (value or "").strip()
            if not value or len(value) > 100:
                raise ValidationFailed("a policy name is 1 to 100 characters", field="name")
        elif key == "description":
            value = value or ""
            if len(value) > 20000:
                raise ValidationFailed("the description is at most 20000 characters", field="description")
        elif key == "repeat":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_REPEAT:
                raise ValidationFailed(f"repeat is a whole number from 0 to {MAX_REPEAT}", field="repeat")
        else:
            raise ValidationFailed(f"unknown field {key!r}", field=key)
        clean[key] = value
    return clean


def _refuse_observer_target(person: User, team: Team, where: str) -> None:
    """A person a step names must be able to act on incidents: not an observer of the policy's team, and, when
    not in it, not only an observer wherever they are (organisation admins act everywhere)."""
    if person.is_org_admin:
        return
    roles = dict(Membership.objects.filter(user=person).values_list("team_id", "role"))
    if roles.get(team.pk) == Role.OBSERVER:
        raise _observer_refusal(person, team, where, f"{where}: ")
    if team.pk not in roles and roles and not set(roles.values()) & ACTING_ROLES:
        raise ValidationFailed(
            f"{where}: {person.display_name} is only an observer (read-only: observers cannot act on "
            "incidents), so they cannot be paged; make them a responder of a team first",
            field=where,
        )


def _target_row(spec: TargetSpec, team: Team, actor: User | None, where: str) -> StepTarget:
    """A target the actor may name: a person or schedule they can see, or a team they can see."""
    if spec.kind == TargetKind.USER:
        users = accounts.visible_users(actor) if actor else User.objects.filter(is_active=True)
        found_user = users.filter(pk=spec.id).first()
        if found_user is None:
            raise ValidationFailed(f"{where}: person {spec.id} not found", field=where)
        _refuse_observer_target(found_user, team, where)
        return StepTarget(kind=spec.kind, user=found_user)
    if spec.kind == TargetKind.SCHEDULE:
        schedules = selectors.visible_schedules(actor) if actor else Schedule.objects.all()
        found_schedule = schedules.filter(pk=spec.id).first()
        if found_schedule is None:
            raise ValidationFailed(f"{where}: schedule {spec.id} not found", field=where)
        return StepTarget(kind=spec.kind, schedule=found_schedule)
    if spec.kind == TargetKind.TEAM:
        teams = accounts.visible_teams(actor) if actor else Team.objects.all()
        found_team = teams.filter(pk=spec.id).first()
        if found_team is None:
            raise ValidationFailed(f"{where}: team {spec.id} not found", field=where)
        return StepTarget(kind=spec.kind, team=found_team)
    raise ValidationFailed(f"{where}: a target kind is user, schedule or team", field=where)


def _clean_steps(
    steps: Sequence[StepSpec], team: Team, actor: User | None
) -> list[tuple[int, list[StepTarget]]]:
    if len(steps) > MAX_STEPS:
        raise ValidationFailed(f"a policy has at most {MAX_STEPS} steps", field="steps")
    out: list[tuple[int, list[StepTarget]]] = []
    for i, step in enumerate(steps):
        delay = step.delay_minutes
        if not isinstance(delay, int) or isinstance(delay, bool) or not 1 <= delay <= 1440:
            raise ValidationFailed(
                f"steps[{i}].delay_minutes is a whole number of minutes from 1 to 1440", field=f"steps[{i}]"
            )
        if not step.targets:
            raise ValidationFailed(f"steps[{i}] needs at least one target", field=f"steps[{i}].targets")
        if len(step.targets) > MAX_TARGETS:
            raise ValidationFailed(f"a step has at most {MAX_TARGETS} targets", field=f"steps[{i}].targets")
        rows = [_target_row(t, team, actor, f"steps[{i}].targets[{j}]") for j, t in enumerate(step.targets)]
        out.append((delay, rows))
    return out


def _write_steps(policy: EscalationPolicy, steps: list[tuple[int, list[StepTarget]]]) -> None:
    EscalationStep.objects.filter(policy=policy).delete()
    for order, (delay, targets) in enumerate(steps):
        step = EscalationStep.objects.create(policy=policy, order=order, delay_minutes=delay)
        for target in targets:
            target.step = step
        StepTarget.objects.bulk_create(targets)


def create_policy(
    *,
    team: Team,
    actor: User | None,
    source: str,
    steps: Sequence[StepSpec] = (),
    **fields: Any,
) -> EscalationPolicy:
    """A new policy of ``team`` (needs ``name``; ``description``, ``repeat`` optional) with ``steps`` in order."""
    _require_policy_manager(actor, team.pk)
    clean = _clean_policy(fields)
    if "name" not in clean:
        raise ValidationFailed("a policy needs a name", field="name")
    clean_steps = _clean_steps(steps, team, actor)
    now = clock.now()
    try:
        with transaction.atomic():
            policy = EscalationPolicy.objects.create(team=team, created_at=now, updated_at=now, **clean)
            _write_steps(policy, clean_steps)
            audit.record(
                actor=actor, source=source, action="policy.create", obj=policy, after=policy_snapshot(policy)
            )
    except IntegrityError:
        raise Conflict(f"{team.name} already has a policy named {clean['name']!r}", field="name") from None
    return policy


def _refuse_emptying(policy: EscalationPolicy) -> None:
    """A policy that pages for services keeps at least one step: without steps their incidents page nobody."""
    used = list(ServicePolicy.objects.filter(policy=policy).select_related("service")[:6])
    if used:
        names = ", ".join(link.service.name for link in used[:5]) + (" …" if len(used) > 5 else "")
        raise Conflict(
            f"{policy.name} pages for {names}: without steps their incidents, a P1 included, would page nobody. "
            "Keep a step, or pick another policy for them first",
            field="steps",
        )


def update_policy(
    *,
    policy: EscalationPolicy,
    actor: User | None,
    source: str,
    steps: Sequence[StepSpec] | None = None,
    **fields: Any,
) -> EscalationPolicy:
    """Change name, description or repeat; ``steps`` (when given) replaces all steps. Escalations already running
    pick the new steps up at their next step."""
    _require_policy_manager(actor, policy.team_id)
    clean = _clean_policy(fields)
    clean_steps = _clean_steps(steps, policy.team, actor) if steps is not None else None
    try:
        with transaction.atomic():
            locked = (
                EscalationPolicy.objects.select_for_update(of=("self",))
                .select_related("team")
                .get(pk=policy.pk)
            )
            before = policy_snapshot(locked)
            if clean_steps == []:
                _refuse_emptying(locked)
            for key, value in clean.items():
                setattr(locked, key, value)
            locked.updated_at = clock.now()
            locked.save()
            if clean_steps is not None:
                _write_steps(locked, clean_steps)
            audit.record(
                actor=actor,
                source=source,
                action="policy.update",
                obj=locked,
                before=before,
                after=policy_snapshot(locked),
            )
    except IntegrityError:
        raise Conflict(f"this team already has a policy named {clean.get('name')!r}", field="name") from None
    return locked


def delete_policy(*, policy: EscalationPolicy, actor: User | None, source: str) -> None:
    """Delete a policy no service uses."""
    _require_policy_manager(actor, policy.team_id)
    with transaction.atomic():
        locked = (
            EscalationPolicy.objects.select_for_update(of=("self",)).select_related("team").get(pk=policy.pk)
        )
        used = list(ServicePolicy.objects.filter(policy=locked).select_related("service"))
        if used:
            names = ", ".join(link.service.name for link in used[:5])
            raise Conflict(
                f"{locked.name} pages for {names}; pick another policy for them first", field="policy"
            )
        audit.record(
            actor=actor, source=source, action="policy.delete", obj=locked, before=policy_snapshot(locked)
        )
        locked.delete()


def set_service_policy(
    *, service: Service, policy: EscalationPolicy | None, actor: User | None, source: str
) -> EscalationPolicy | None:
    """Make ``policy`` page for ``service``'s incidents (None: nobody is paged). The actor manages the service's
    team; the policy belongs to the service's team (or the actor may see it: an organisation admin)."""
    if actor is not None and not accounts.can_manage_team(actor, service.team_id):
        raise PermissionDenied("only the service team's admins and managers choose its escalation policy")
    if (
        policy is not None
        and actor is not None
        and not selectors.visible_policies(actor).filter(pk=policy.pk).exists()
    ):
        raise ValidationFailed(f"escalation policy {policy.pk} not found", field="policy")
    with transaction.atomic():
        if policy is not None:
            # locked, so a concurrent edit cannot take its last step away between the check and the link
            locked = EscalationPolicy.objects.select_for_update(of=("self",)).get(pk=policy.pk)
            if not EscalationStep.objects.filter(policy=locked).exists():
                raise ValidationFailed(
                    f"{locked.name} has no steps: {service.name}'s incidents, a P1 included, would page nobody. "
                    "Add a step to the policy first",
                    field="policy",
                )
        current = ServicePolicy.objects.select_for_update().filter(service=service).first()
        before = {"policy": current.policy_id if current else None}
        if policy is None:
            ServicePolicy.objects.filter(service=service).delete()
        else:
            ServicePolicy.objects.update_or_create(service=service, defaults={"policy": policy})
        audit.record(
            actor=actor,
            source=source,
            action="service.set_policy",
            obj=service,
            before=before,
            after={"policy": policy.pk if policy else None},
        )
    return policy
