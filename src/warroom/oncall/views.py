"""Console pages for on-call: every schedule with who is on call now, and one schedule's next 14 days.

Reads go through :mod:`warroom.oncall.selectors` (another team's schedule is a 404); writes (overrides) through
:mod:`warroom.oncall.services` with ``source="web"``. The schedule page shows times in the schedule's own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.lib import clock
from warroom.lib.errors import ServiceError
from warroom.oncall import rotation, selectors, services
from warroom.oncall.forms import OverrideForm
from warroom.oncall.models import Layer, Restriction, Schedule
from warroom.oncall.schemas import shift_words
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error

DAYS_SHOWN = 14


@dataclass
class Row:
    """One line of the schedule table: a shift, or a gap when ``person`` is None."""

    start: datetime
    end: datetime
    person: User | None
    via: str
    now: bool

    @property
    def hours(self) -> str:
        hours = (self.end - self.start) / timedelta(hours=1)
        return f"{hours:g} h"


def window_label(r: Restriction) -> str:
    """``Weekdays 09:00–17:00``, ``Sat, Sun 10:00–10:00``..."""
    days = selectors.days_from_mask(r.days)
    named = {frozenset(range(7)): "Every day", frozenset(range(5)): "Weekdays", frozenset({5, 6}): "Weekends"}
    label = named.get(days) or ", ".join(rotation.WEEKDAYS[d].capitalize() for d in sorted(days))
    return f"{label} {r.start_time:%H:%M}–{r.end_time:%H:%M}"


@console_view
@require_GET
def schedule_list(request: AuthedRequest) -> HttpResponse:
    """Every schedule the user can see, with who is on call on it right now."""
    now = clock.now()
    rows = [
        {"schedule": entry.schedule, "on_call": [(entry.people.get(s.user_id), s.end) for s in entry.shifts]}
        for entry in selectors.on_call_now(request.user, at=now)
    ]
    return render(request, "oncall/schedule_list.html", {"rows": rows, "now": now})


def _window(zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """From local midnight today to local midnight ``DAYS_SHOWN`` days later, in the schedule's zone."""
    today = rotation.wall(now, zone).date()
    start = rotation.local_to_utc(datetime.combine(today, datetime.min.time()), zone)
    end = rotation.local_to_utc(
        datetime.combine(today + timedelta(days=DAYS_SHOWN), datetime.min.time()), zone
    )
    return start, end


def _rows(final: rotation.FinalSchedule, zone: ZoneInfo, layers: list[Layer], now: datetime) -> list[Row]:
    people = selectors.people_by_id(s.user_id for s in final.shifts)
    names = {layer.pk: layer.name for layer in layers}
    rows = [
        Row(
            s.start.astimezone(zone),
            s.end.astimezone(zone),
            people.get(s.user_id),
            "override" if s.override_id is not None else names.get(s.layer_id or 0, ""),
            s.start <= now < s.end,
        )
        for s in final.shifts
    ]
    rows += [
        Row(g.start.astimezone(zone), g.end.astimezone(zone), None, "", g.start <= now < g.end)
        for g in final.gaps
    ]
    rows.sort(key=lambda r: (r.start, r.person is not None, r.end))
    return rows


def _detail(
    request: AuthedRequest, schedule: Schedule, *, form: OverrideForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    zone = selectors.zone_of(schedule)
    now = clock.now()
    start, end = _window(zone, now)
    layers = list(selectors.layers_of(schedule))
    final = selectors.final_schedule(schedule, start=start, end=end)
    warnings = [w for w in selectors.warnings_for(schedule, final, layers) if w.code != "nobody_on_call"]
    may_override = accounts.can_act_for_team(user, schedule.team_id)
    if form is None and may_override:
        form = OverrideForm(schedule=schedule)
    context: dict[str, Any] = {
        "schedule": schedule,
        "zone": zone.key,
        "layers": [
            {
                "layer": layer,
                "shift": shift_words(layer),
                "windows": [window_label(r) for r in layer.restrictions.all()],
            }
            for layer in layers
        ],
        "rows": _rows(final, zone, layers, now),
        "gaps": len(final.gaps),
        "warnings": warnings,
        "overrides": [
            {"o": o, "start": o.start.astimezone(zone), "end": o.end.astimezone(zone)}
            for o in selectors.overrides_of(schedule, start=now)
        ],
        "form": form,
        "can_manage": accounts.can_manage_team(user, schedule.team_id),
        "days": DAYS_SHOWN,
    }
    return render(request, "oncall/schedule_detail.html", context, status=status)


@console_view
@require_GET
def schedule_detail(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    return _detail(request, selectors.get_schedule_for_user_or_404(request.user, key=schedule_id))


@console_view
@require_http_methods(["POST"])
def override_create(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    """Add an override from the schedule page; its times are wall-clock in the schedule's zone."""
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    form = OverrideForm(request.POST, schedule=schedule)
    if not form.is_valid():
        return _detail(request, schedule, form=form, status=400)
    zone = selectors.zone_of(schedule)
    data = form.cleaned_data
    try:
        services.create_override(
            schedule=schedule,
            user=data["user"],
            replaces=data["replaces"],
            start=rotation.local_to_utc(data["start"].replace(tzinfo=None), zone),
            end=rotation.local_to_utc(data["end"].replace(tzinfo=None), zone, ambiguous="last"),
            note=data["note"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _detail(request, schedule, form=form, status=form_error(form, exc))
    messages.success(request, f"{data['user'].display_name} is on call from {data['start']:%a %d %b %H:%M}.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)


@console_view
@require_POST
def override_delete(request: AuthedRequest, schedule_id: int, override_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    override = selectors.get_override_or_404(schedule, override_id=override_id)
    services.delete_override(override=override, actor=request.user, source=SOURCE)
    messages.success(request, "Override removed.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)
