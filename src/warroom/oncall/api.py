"""REST routes for on-call: schedules, layers, overrides, the final schedule, "on call now" and calendar feeds.

Times in answers are UTC; shifts also carry their start and end in the schedule's zone. Times in requests are
ISO 8601: with an offset (or ``Z``) they are exact, without one they are wall-clock time in the schedule's zone
(resolved by the DST rules of ``docs/oncall.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.accounts.schemas import Page, caller, lookup, paginate, source_of, team_ref, user_key
from warroom.catalog import selectors as catalog_selectors
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.oncall import rotation, selectors, services
from warroom.oncall.models import CalendarFeed, EscalationPolicy, Layer, Schedule
from warroom.oncall.schemas import (
    AtQuery,
    FeedCreatedOut,
    FeedOut,
    LayerIn,
    LayerOut,
    LayerPatch,
    NowQuery,
    OnCallNowOut,
    OnCallOut,
    OverrideIn,
    OverrideOut,
    OverridePatch,
    OverrideQuery,
    ParticipantsIn,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    PolicyQuery,
    RangeQuery,
    RestrictionIn,
    ScheduleDetailOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    ScheduleQuery,
    ServicePolicyIn,
    ShiftsOut,
    StepIn,
    feed_json,
    layer_json,
    override_json,
    parse_days,
    parse_instant,
    schedule_json,
    schedule_ref,
    shift_json,
    to_local,
    warning_json,
)

router = Router(tags=["on-call"])

DEFAULT_RANGE = timedelta(days=14)
MAX_RANGE = timedelta(days=100)


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _schedule(request: HttpRequest, schedule_id: int) -> tuple[User, Schedule]:
    user = caller(request)
    return user, selectors.get_schedule_for_user_or_404(user, key=schedule_id)


def _detail(schedule: Schedule) -> dict[str, Any]:
    layers = list(selectors.layers_of(schedule))
    now = clock.now()
    final = selectors.final_schedule(schedule, start=now, end=now + selectors.WARNING_HORIZON)
    warnings = selectors.warnings_for(schedule, final, layers)
    people = selectors.people_by_id(w.user_id for w in warnings if w.user_id is not None)
    data = schedule_json(schedule)
    data["layers"] = [layer_json(layer) for layer in layers]
    data["warnings"] = [warning_json(w, people) for w in warnings]
    return data


def _people(schedule: Schedule, keys: Sequence[str | int], field: str = "participants") -> list[User]:
    return [
        lookup(field, partial(selectors.get_team_person_or_404, schedule, key=user_key(key))) for key in keys
    ]


def _restrictions(items: Sequence[RestrictionIn]) -> list[rotation.Restriction]:
    return [
        rotation.Restriction(
            days=parse_days(item.days, field=f"restrictions.{n}.days"), start=item.start, end=item.end
        )
        for n, item in enumerate(items)
    ]


def _layer_fields(schedule: Schedule, payload: LayerIn | LayerPatch, sent: set[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in ("name", "priority", "rotation_kind", "shift_length", "custom_unit", "handoff_time", "start"):
        if key not in sent:
            continue
        value = getattr(payload, key)
        if value is None:
            if key in ("priority", "handoff_time"):
                continue  # null: the default (above every layer; the start's time of day)
            raise ValidationFailed(f"{key} cannot be null", field=key)
        fields[key] = to_local(value, selectors.zone_of(schedule)) if key == "start" else value
    return fields


def _range(schedule: Schedule, query: RangeQuery) -> tuple[datetime, datetime]:
    zone = selectors.zone_of(schedule)
    start = parse_instant(query.start, field="start", zone=zone) or clock.now()
    end = parse_instant(query.end, field="end", zone=zone) or start + DEFAULT_RANGE
    if end <= start:
        raise ValidationFailed("end must be after start", field="end")
    if end - start > MAX_RANGE:
        raise ValidationFailed("the range is at most 100 days", field="end")
    return start, end


def _layer_names(schedule: Schedule) -> dict[int, str]:
    return dict(Layer.objects.filter(schedule=schedule).values_list("id", "name"))


def _shifts_json(schedule: Schedule, shifts: Sequence[rotation.Shift]) -> list[dict[str, Any]]:
    people = selectors.people_by_id(s.user_id for s in shifts)
    zone = selectors.zone_of(schedule)
    names = _layer_names(schedule)
    return [shift_json(s, zone, people, names) for s in shifts]


def _on_call_json(now: selectors.OnCallNow, at: datetime) -> dict[str, Any]:
    return {
        "schedule": schedule_ref(now.schedule),
        "at": at,
        "on_call": _shifts_json(now.schedule, now.shifts),
    }


def feed_url(secret: str) -> str:
    return str(settings.WARROOM_BASE_URL).rstrip("/") + reverse("oncall-calendar-feed", args=[secret])


# ---------------------------------------------------------------------------------------------------------------
# schedules


def _team_filter(user: User, key: str) -> Team:
    """The team a list's ``?team=`` names; one the caller cannot see is a 400 naming ``team``, as an unknown one."""
    return lookup("team", partial(accounts.get_team_for_user_or_404, user, key=key))


@router.get("/schedules", response=Page[ScheduleOut], summary="List schedules")
def list_schedules(request: HttpRequest, query: Query[ScheduleQuery]) -> dict[str, Any]:
    """The schedules of your teams (organisation admins: all). ``team`` narrows to one team (slug or id)."""
    user = caller(request)
    schedules = selectors.visible_schedules(user).order_by("name", "id")
    if query.team:
        schedules = schedules.filter(team=_team_filter(user, query.team))
    return paginate(schedules, query, schedule_json)


@router.post("/schedules", response={201: ScheduleDetailOut}, summary="Create a schedule")
def create_schedule(request: HttpRequest, payload: ScheduleIn) -> Status[dict[str, Any]]:
    """Team admins and managers. A schedule starts empty: add layers next."""
    user = caller(request)
    team = lookup("team", partial(accounts.get_team_for_user_or_404, user, key=payload.team))
    schedule = services.create_schedule(
        team=team,
        actor=user,
        source=source_of(request),
        name=payload.name,
        time_zone=payload.time_zone,
        description=payload.description,
    )
    return Status(201, _detail(schedule))


@router.get("/schedules/{schedule_id}", response=ScheduleDetailOut, summary="Get a schedule")
def get_schedule(request: HttpRequest, schedule_id: int) -> dict[str, Any]:
    """The schedule with its layers and its warnings for the next 14 days."""
    _user, schedule = _schedule(request, schedule_id)
    return _detail(schedule)


@router.patch("/schedules/{schedule_id}", response=ScheduleDetailOut, summary="Change a schedule")
def update_schedule(request: HttpRequest, schedule_id: int, payload: SchedulePatch) -> dict[str, Any]:
    """Only the fields sent change. A new time zone keeps the layers' local times (09:00 stays 09:00)."""
    user, schedule = _schedule(request, schedule_id)
    sent = payload.dict(exclude_unset=True)
    updated = services.update_schedule(schedule=schedule, actor=user, source=source_of(request), **sent)
    return _detail(updated)


@router.delete("/schedules/{schedule_id}", response={204: None}, summary="Delete a schedule")
def delete_schedule(request: HttpRequest, schedule_id: int) -> Status[None]:
    """With its layers, overrides and calendar feeds."""
    user, schedule = _schedule(request, schedule_id)
    services.delete_schedule(schedule=schedule, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# layers


@router.get("/schedules/{schedule_id}/layers", response=list[LayerOut], summary="List a schedule's layers")
def list_layers(request: HttpRequest, schedule_id: int) -> list[dict[str, Any]]:
    """Highest priority first."""
    _user, schedule = _schedule(request, schedule_id)
    return [layer_json(layer) for layer in selectors.layers_of(schedule)]


@router.post("/schedules/{schedule_id}/layers", response={201: LayerOut}, summary="Add a layer")
def create_layer(request: HttpRequest, schedule_id: int, payload: LayerIn) -> Status[dict[str, Any]]:
    """A rotation: participants take turns in shifts; restrictions limit it to time-of-day/day-of-week windows."""
    user, schedule = _schedule(request, schedule_id)
    sent = set(payload.dict(exclude_unset=True)) | {
        "name",
        "start",
        "rotation_kind",
        "shift_length",
        "custom_unit",
    }
    layer = services.create_layer(
        schedule=schedule,
        actor=user,
        source=source_of(request),
        participants=_people(schedule, payload.participants),
        restrictions=_restrictions(payload.restrictions),
        **_layer_fields(schedule, payload, sent),
    )
    return Status(201, layer_json(layer))


@router.get("/schedules/{schedule_id}/layers/{layer_id}", response=LayerOut, summary="Get a layer")
def get_layer(request: HttpRequest, schedule_id: int, layer_id: int) -> dict[str, Any]:
    _user, schedule = _schedule(request, schedule_id)
    return layer_json(selectors.get_layer_or_404(schedule, layer_id=layer_id))


@router.patch("/schedules/{schedule_id}/layers/{layer_id}", response=LayerOut, summary="Change a layer")
def update_layer(
    request: HttpRequest, schedule_id: int, layer_id: int, payload: LayerPatch
) -> dict[str, Any]:
    """Only the fields sent change; ``participants`` and ``restrictions`` replace the whole list."""
    user, schedule = _schedule(request, schedule_id)
    layer = selectors.get_layer_or_404(schedule, layer_id=layer_id)
    sent = set(payload.dict(exclude_unset=True))
    participants = restrictions = None
    if "participants" in sent:
        if payload.participants is None:
            raise ValidationFailed("participants cannot be null (send [] for nobody)", field="participants")
        participants = _people(schedule, payload.participants)
    if "restrictions" in sent:
        restrictions = _restrictions(payload.restrictions or [])
    updated = services.update_layer(
        layer=layer,
        actor=user,
        source=source_of(request),
        participants=participants,
        restrictions=restrictions,
        **_layer_fields(schedule, payload, sent),
    )
    return layer_json(updated)


@router.put(
    "/schedules/{schedule_id}/layers/{layer_id}/participants",
    response=LayerOut,
    summary="Set a layer's participants",
)
def set_participants(
    request: HttpRequest, schedule_id: int, layer_id: int, payload: ParticipantsIn
) -> dict[str, Any]:
    """The rotation order, replaced whole. A person may appear more than once."""
    user, schedule = _schedule(request, schedule_id)
    layer = selectors.get_layer_or_404(schedule, layer_id=layer_id)
    updated = services.set_participants(
        layer=layer,
        participants=_people(schedule, payload.participants),
        actor=user,
        source=source_of(request),
    )
    return layer_json(updated)


@router.delete("/schedules/{schedule_id}/layers/{layer_id}", response={204: None}, summary="Delete a layer")
def delete_layer(request: HttpRequest, schedule_id: int, layer_id: int) -> Status[None]:
    user, schedule = _schedule(request, schedule_id)
    layer = selectors.get_layer_or_404(schedule, layer_id=layer_id)
    services.delete_layer(layer=layer, actor=user, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# overrides


def _override_people(
    schedule: Schedule, user_field: str | int, replaces: str | int | None
) -> tuple[User, User | None]:
    person = lookup("user", partial(selectors.get_team_person_or_404, schedule, key=user_key(user_field)))
    replaced = None
    if replaces is not None:
        replaced = lookup(
            "replaces", partial(selectors.get_replaceable_person_or_404, schedule, key=user_key(replaces))
        )
    return person, replaced


@router.get("/schedules/{schedule_id}/overrides", response=list[OverrideOut], summary="List overrides")
def list_overrides(
    request: HttpRequest, schedule_id: int, query: Query[OverrideQuery]
) -> list[dict[str, Any]]:
    """Overrides that end after ``start`` (default: now) and, if given, begin before ``end``; by start."""
    _user, schedule = _schedule(request, schedule_id)
    zone = selectors.zone_of(schedule)
    start = parse_instant(query.start, field="start", zone=zone) or clock.now()
    end = parse_instant(query.end, field="end", zone=zone)
    return [override_json(o) for o in selectors.overrides_of(schedule, start=start, end=end)]


@router.post("/schedules/{schedule_id}/overrides", response={201: OverrideOut}, summary="Add an override")
def create_override(request: HttpRequest, schedule_id: int, payload: OverrideIn) -> Status[dict[str, Any]]:
    """Put ``user`` on call from ``start`` to ``end`` in place of ``replaces`` (or, without it, in addition)."""
    actor, schedule = _schedule(request, schedule_id)
    zone = selectors.zone_of(schedule)
    person, replaced = _override_people(schedule, payload.user, payload.replaces)
    start = parse_instant(payload.start, field="start", zone=zone)
    end = parse_instant(payload.end, field="end", zone=zone, ambiguous="last")
    if start is None or end is None:
        raise ValidationFailed(
            "an override needs a start and an end", field="start" if start is None else "end"
        )
    override = services.create_override(
        schedule=schedule,
        user=person,
        replaces=replaced,
        start=start,
        end=end,
        note=payload.note,
        actor=actor,
        source=source_of(request),
    )
    return Status(201, override_json(override))


@router.get(
    "/schedules/{schedule_id}/overrides/{override_id}", response=OverrideOut, summary="Get an override"
)
def get_override(request: HttpRequest, schedule_id: int, override_id: int) -> dict[str, Any]:
    _user, schedule = _schedule(request, schedule_id)
    return override_json(selectors.get_override_or_404(schedule, override_id=override_id))


@router.patch(
    "/schedules/{schedule_id}/overrides/{override_id}", response=OverrideOut, summary="Change an override"
)
def update_override(
    request: HttpRequest, schedule_id: int, override_id: int, payload: OverridePatch
) -> dict[str, Any]:
    """Only the fields sent change; ``"replaces": null`` turns it into an addition."""
    actor, schedule = _schedule(request, schedule_id)
    override = selectors.get_override_or_404(schedule, override_id=override_id)
    zone = selectors.zone_of(schedule)
    sent = payload.dict(exclude_unset=True)
    changes: dict[str, Any] = {}
    if sent.get("user") is not None:
        changes["user"] = lookup(
            "user", partial(selectors.get_team_person_or_404, schedule, key=user_key(sent["user"]))
        )
    if "replaces" in sent:
        changes["replaces"] = (
            None
            if sent["replaces"] is None
            else lookup(
                "replaces",
                partial(selectors.get_replaceable_person_or_404, schedule, key=user_key(sent["replaces"])),
            )
        )
    if sent.get("start") is not None:
        changes["start"] = parse_instant(sent["start"], field="start", zone=zone)
    if sent.get("end") is not None:
        changes["end"] = parse_instant(sent["end"], field="end", zone=zone, ambiguous="last")
    if "note" in sent:
        changes["note"] = sent["note"] or ""
    updated = services.update_override(override=override, actor=actor, source=source_of(request), **changes)
    return override_json(updated)


@router.delete(
    "/schedules/{schedule_id}/overrides/{override_id}", response={204: None}, summary="Delete an override"
)
def delete_override(request: HttpRequest, schedule_id: int, override_id: int) -> Status[None]:
    actor, schedule = _schedule(request, schedule_id)
    override = selectors.get_override_or_404(schedule, override_id=override_id)
    services.delete_override(override=override, actor=actor, source=source_of(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# the final schedule


@router.get("/schedules/{schedule_id}/shifts", response=ShiftsOut, summary="The final schedule over a range")
def shifts(request: HttpRequest, schedule_id: int, query: Query[RangeQuery]) -> dict[str, Any]:
    """Who is on call from ``start`` to ``end`` (default: the next 14 days; at most 100 days), after layers,
    restrictions and overrides; ``gaps`` are the stretches with nobody on call. Each shift is one unbroken
    stretch of one person from one source (``layer`` or ``override_id``): a one-person rotation handing off to
    itself is one shift, while a change of source (say an override ending where the person's own shift goes on)
    starts a new one; ``/on-call`` gives the whole unbroken stretch of whoever is on call."""
    _user, schedule = _schedule(request, schedule_id)
    start, end = _range(schedule, query)
    final = selectors.final_schedule(schedule, start=start, end=end)
    warnings = selectors.warnings_for(schedule, final)
    people = selectors.people_by_id(w.user_id for w in warnings if w.user_id is not None)
    return {
        "schedule": schedule_ref(schedule),
        "time_zone": schedule.time_zone,
        "start": final.start,
        "end": final.end,
        "shifts": _shifts_json(schedule, rotation.merge_same_origin(final.shifts)),
        "gaps": [{"start": g.start, "end": g.end} for g in final.gaps],
        "warnings": [warning_json(w, people) for w in warnings],
    }


@router.get("/schedules/{schedule_id}/on-call", response=OnCallOut, summary="Who is on call at an instant")
def on_call(request: HttpRequest, schedule_id: int, query: Query[AtQuery]) -> dict[str, Any]:
    """Everyone on call at ``at`` (default: now), each once with the start and end of their whole unbroken stretch
    (a handoff to themselves does not end it); ``layer``/``override_id`` say why they are on call at ``at``. An
    empty list means nobody is."""
    _user, schedule = _schedule(request, schedule_id)
    at = parse_instant(query.at, field="at", zone=selectors.zone_of(schedule)) or clock.now()
    return _on_call_json(selectors.on_call(schedule, at=at), at)


@router.get("/oncall/now", response=OnCallNowOut, summary="Who is on call now, on every schedule you can see")
def on_call_now(request: HttpRequest, query: Query[NowQuery]) -> dict[str, Any]:
    """One entry per schedule of your teams (organisation admins: all); ``team`` narrows to one team."""
    user = caller(request)
    team_id = _team_filter(user, query.team).pk if query.team else None
    at = clock.now()
    return {
        "at": at,
        "schedules": [_on_call_json(now, at) for now in selectors.on_call_now(user, at=at, team_id=team_id)],
    }


# ---------------------------------------------------------------------------------------------------------------
# calendar feeds


def _created(feed: CalendarFeed, secret: str) -> dict[str, Any]:
    return {**feed_json(feed), "url": feed_url(secret)}


@router.get(
    "/schedules/{schedule_id}/feeds", response=list[FeedOut], summary="Your calendar feeds of a schedule"
)
def list_schedule_feeds(request: HttpRequest, schedule_id: int) -> list[dict[str, Any]]:
    user, schedule = _schedule(request, schedule_id)
    return [feed_json(f) for f in selectors.feeds_of(user, schedule=schedule)]


@router.post(
    "/schedules/{schedule_id}/feeds", response={201: FeedCreatedOut}, summary="Publish a schedule as iCal"
)
def create_schedule_feed(request: HttpRequest, schedule_id: int) -> Status[dict[str, Any]]:
    """A secret URL (shown once) that calendar apps can subscribe to. Anyone with the URL sees the schedule's
    shifts, so treat it like a password; revoke it with ``DELETE /oncall/feeds/{id}``."""
    user, schedule = _schedule(request, schedule_id)
    feed, secret = services.create_calendar_feed(
        user=user, schedule=schedule, actor=user, source=source_of(request)
    )
    return Status(201, _created(feed, secret))


@router.get("/oncall/feeds", response=list[FeedOut], summary="Your personal calendar feeds")
def list_personal_feeds(request: HttpRequest) -> list[dict[str, Any]]:
    return [feed_json(f) for f in selectors.feeds_of(caller(request))]


@router.post("/oncall/feeds", response={201: FeedCreatedOut}, summary="Publish your own shifts as iCal")
def create_personal_feed(request: HttpRequest) -> Status[dict[str, Any]]:
    """A secret URL (shown once) with your shifts on every schedule you can see."""
    user = caller(request)
    feed, secret = services.create_calendar_feed(user=user, actor=user, source=source_of(request))
    return Status(201, _created(feed, secret))


@router.delete("/oncall/feeds/{feed_id}", response=FeedOut, summary="Revoke a calendar feed")
def revoke_feed(request: HttpRequest, feed_id: int) -> dict[str, Any]:
    """Your own feed, or (team admins and managers) any feed of your team's schedules."""
    user = caller(request)
    feed = selectors.get_feed_for_user_or_404(user, feed_id=feed_id)
    return feed_json(services.revoke_calendar_feed(feed=feed, actor=user, source=source_of(request)))


# ---------------------------------------------------------------------------------------------------------------
# escalation policies


def _steps(payload_steps: Sequence[StepIn]) -> list[services.StepSpec]:
    return [
        services.StepSpec(s.delay_minutes, [services.TargetSpec(t.kind, t.id) for t in s.targets])
        for s in payload_steps
    ]


def policy_json(policy: EscalationPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "team": team_ref(policy.team),
        "name": policy.name,
        "description": policy.description,
        "repeat": policy.repeat,
        "steps": [
            {
                "order": step.order,
                "delay_minutes": step.delay_minutes,
                "targets": [
                    {
                        "kind": t.kind,
                        "id": t.user_id or t.schedule_id or t.team_id,
                        "name": selectors.target_label(t),
                    }
                    for t in step.targets.all()
                ],
            }
            for step in selectors.steps_of(policy)
        ],
        "services": list(policy.services.values_list("service_id", flat=True)),
    }


@router.get("/escalation-policies", response=Page[PolicyOut], summary="List escalation policies")
def list_policies(request: HttpRequest, query: Query[PolicyQuery]) -> dict[str, Any]:
    user = caller(request)
    policies = selectors.visible_policies(user).order_by("name", "id")
    if query.team:
        policies = policies.filter(team=_team_filter(user, query.team))
    return paginate(policies, query, policy_json)


@router.post("/escalation-policies", response={201: PolicyOut}, summary="Create an escalation policy")
def create_policy(request: HttpRequest, payload: PolicyIn) -> Status[dict[str, Any]]:
    """Team admins and managers. Steps page their targets in order, each waiting ``delay_minutes``."""
    user = caller(request)
    team = lookup("team", partial(accounts.get_team_for_user_or_404, user, key=payload.team))
    policy = services.create_policy(
        team=team,
        actor=user,
        source=source_of(request),
        name=payload.name,
        description=payload.description,
        repeat=payload.repeat,
        steps=_steps(payload.steps),
    )
    return Status(201, policy_json(policy))


@router.get("/escalation-policies/{policy_id}", response=PolicyOut, summary="Get an escalation policy")
def get_policy(request: HttpRequest, policy_id: int) -> dict[str, Any]:
    return policy_json(selectors.get_policy_for_user_or_404(caller(request), key=policy_id))


@router.patch("/escalation-policies/{policy_id}", response=PolicyOut, summary="Change an escalation policy")
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyPatch) -> dict[str, Any]:
    """Only the fields sent change; ``steps`` replaces all steps."""
    user = caller(request)
    policy = selectors.get_policy_for_user_or_404(user, key=policy_id)
    sent = payload.dict(exclude_unset=True)
    steps = _steps(payload.steps) if payload.steps is not None else None
    sent.pop("steps", None)
    updated = services.update_policy(
        policy=policy, actor=user, source=source_of(request), steps=steps, **sent
    )
    return policy_json(updated)


@router.delete(
    "/escalation-policies/{policy_id}", response={204: None}, summary="Delete an escalation policy"
)
def delete_policy(request: HttpRequest, policy_id: int) -> Status[None]:
    user = caller(request)
    policy = selectors.get_policy_for_user_or_404(user, key=policy_id)
    services.delete_policy(policy=policy, actor=user, source=source_of(request))
    return Status(204, None)


@router.put(
    "/services/{service_id}/escalation-policy", response=PolicyOut | None, summary="Pick a service's policy"
)
def set_service_policy(
    request: HttpRequest, service_id: int, payload: ServicePolicyIn
) -> dict[str, Any] | None:
    """Team admins and managers of the service's team; ``policy: null`` pages nobody for it."""
    user = caller(request)
    service = catalog_selectors.get_service_for_user_or_404(user, key=service_id)
    policy = (
        lookup("policy", partial(selectors.get_policy_for_user_or_404, user, key=payload.policy))
        if payload.policy is not None
        else None
    )
    services.set_service_policy(service=service, policy=policy, actor=user, source=source_of(request))
    return policy_json(policy) if policy else None
