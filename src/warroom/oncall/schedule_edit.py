"""Console pages that change schedules: create, edit and delete a schedule; add, edit and delete its layers
(ordered participants, rotation, shift length, handoff, start, restriction windows); create and revoke calendar
feeds of a schedule from its page (the secret URL is shown once).

Team admins and managers change schedules and layers; another team's schedule is a 404 (selectors), anyone else
who can see it gets a 403 (services, or the check before a form is shown). Every write goes through
:mod:`warroom.oncall.services` with ``source="web"``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.lib.errors import NotFound, PermissionDenied, ServiceError
from warroom.oncall import selectors, services
from warroom.oncall.api import feed_url
from warroom.oncall.forms import LayerForm, ScheduleForm, layer_initial, restriction_row
from warroom.oncall.models import Layer, Schedule
from warroom.oncall.views import schedule_page
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error

#: empty participant selects and restriction rows offered beyond the layer's own
SPARE_SLOTS = 2
SPARE_WINDOWS = 2


def _require_manager(request: AuthedRequest, schedule: Schedule) -> None:
    if not accounts.can_manage_team(request.user, schedule.team_id):
        raise PermissionDenied(services.MAY_NOT_MANAGE)


# -- schedules ---------------------------------------------------------------------------------------------------


def _schedule_form_page(
    request: AuthedRequest, form: ScheduleForm, *, schedule: Schedule | None, status: int = 200
) -> HttpResponse:
    return render(request, "oncall/schedule_form.html", {"form": form, "schedule": schedule}, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def schedule_create(request: AuthedRequest) -> HttpResponse:
    """A new, empty schedule of a team the user manages; then its page, to add layers."""
    user = request.user
    if not accounts.managed_teams(user).exists():
        raise PermissionDenied(services.MAY_NOT_MANAGE)
    if request.method == "GET":
        teams = list(accounts.managed_teams(user)[:2])
        initial = {"time_zone": "UTC", **({"team": teams[0].pk} if len(teams) == 1 else {})}
        return _schedule_form_page(
            request, ScheduleForm(user=user, creating=True, initial=initial), schedule=None
        )
    form = ScheduleForm(request.POST, user=user, creating=True)
    if not form.is_valid():
        return _schedule_form_page(request, form, schedule=None, status=400)
    try:
        schedule = services.create_schedule(
            team=form.cleaned_data["team"], actor=user, source=SOURCE, **form.schedule_fields()
        )
    except ServiceError as exc:
        return _schedule_form_page(request, form, schedule=None, status=form_error(form, exc))
    messages.success(request, f"{schedule.name} created. Add a layer to put people on call.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)


@console_view
@require_http_methods(["GET", "POST"])
def schedule_edit(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    _require_manager(request, schedule)
    if request.method == "GET":
        initial = {
            "name": schedule.name,
            "time_zone": schedule.time_zone,
            "description": schedule.description,
        }
        form = ScheduleForm(user=request.user, creating=False, initial=initial)
        return _schedule_form_page(request, form, schedule=schedule)
    form = ScheduleForm(request.POST, user=request.user, creating=False)
    if not form.is_valid():
        return _schedule_form_page(request, form, schedule=schedule, status=400)
    try:
        services.update_schedule(
            schedule=schedule, actor=request.user, source=SOURCE, **form.schedule_fields()
        )
    except ServiceError as exc:
        return _schedule_form_page(request, form, schedule=schedule, status=form_error(form, exc))
    messages.success(request, "Schedule saved.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)


@console_view
@require_POST
def schedule_delete(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    services.delete_schedule(schedule=schedule, actor=request.user, source=SOURCE)
    messages.success(request, f"{schedule.name} deleted, with its layers, overrides and calendar feeds.")
    return redirect("oncall-schedule-list")


# -- layers ------------------------------------------------------------------------------------------------------


def _layer_form(
    schedule: Schedule,
    *,
    layer: Layer | None = None,
    data: Any = None,
    initial: dict[str, Any] | None = None,
) -> LayerForm:
    initial = initial or {}
    used_slots = (
        len(data.getlist("participants")) if data is not None else len(initial.get("participants", []))
    )
    used_windows = sum(1 for key in initial if key.endswith("_days"))
    return LayerForm(
        data,
        initial=initial,
        schedule=schedule,
        layer=layer,
        slots=max(4, used_slots + SPARE_SLOTS),
        restriction_rows=max(3, used_windows + SPARE_WINDOWS) if data is None else _rows_in(data),
    )


def _rows_in(data: Any) -> int:
    """How many restriction rows the submitted form had (at least 3; the form caps it and refuses rows past
    its limit)."""
    numbers = [n for n in map(restriction_row, data) if n is not None]
    return max(3, max(numbers, default=-1) + 1)


def _layer_page(
    request: AuthedRequest, schedule: Schedule, form: LayerForm, *, layer: Layer | None, status: int = 200
) -> HttpResponse:
    context = {"schedule": schedule, "form": form, "layer": layer, "zone": selectors.zone_of(schedule).key}
    return render(request, "oncall/layer_form.html", context, status=status)


def _save_layer(request: AuthedRequest, schedule: Schedule, layer: Layer | None) -> HttpResponse:
    form = _layer_form(schedule, layer=layer, data=request.POST)
    if not form.is_valid():
        return _layer_page(request, schedule, form, layer=layer, status=400)
    data = form.cleaned_data
    people, windows = data["participant_users"], data["restriction_specs"]
    try:
        if layer is None:
            saved = services.create_layer(
                schedule=schedule,
                participants=people,
                restrictions=windows,
                actor=request.user,
                source=SOURCE,
                **form.layer_fields(),
            )
        else:
            saved = services.update_layer(
                layer=layer,
                participants=people,
                restrictions=windows,
                actor=request.user,
                source=SOURCE,
                **form.layer_fields(),
            )
    except ServiceError as exc:
        return _layer_page(request, schedule, form, layer=layer, status=form_error(form, exc))
    messages.success(request, f"Layer {saved.name} saved.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)


@console_view
@require_http_methods(["GET", "POST"])
def layer_create(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    _require_manager(request, schedule)
    if request.method == "POST":
        return _save_layer(request, schedule, None)
    return _layer_page(request, schedule, _layer_form(schedule, initial={"shift_length": 1}), layer=None)


@console_view
@require_http_methods(["GET", "POST"])
def layer_edit(request: AuthedRequest, schedule_id: int, layer_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    layer = selectors.get_layer_or_404(schedule, layer_id=layer_id)
    _require_manager(request, schedule)
    if request.method == "POST":
        return _save_layer(request, schedule, layer)
    return _layer_page(
        request, schedule, _layer_form(schedule, layer=layer, initial=layer_initial(layer)), layer=layer
    )


@console_view
@require_POST
def layer_delete(request: AuthedRequest, schedule_id: int, layer_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    layer = selectors.get_layer_or_404(schedule, layer_id=layer_id)
    services.delete_layer(layer=layer, actor=request.user, source=SOURCE)
    messages.success(request, f"Layer {layer.name} deleted.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)


# -- calendar feeds ----------------------------------------------------------------------------------------------


@console_view
@require_POST
def feed_create(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    """A secret iCal URL of this schedule for the signed-in person, shown on the answer to this POST only."""
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    _feed, secret = services.create_calendar_feed(
        user=request.user, schedule=schedule, actor=request.user, source=SOURCE
    )
    response = schedule_page(request, schedule, status=201, feed_secret_url=feed_url(secret))
    response["Cache-Control"] = "no-store"
    return response


@console_view
@require_POST
def feed_revoke(request: AuthedRequest, schedule_id: int, feed_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    feed = selectors.get_feed_for_user_or_404(request.user, feed_id=feed_id)
    if feed.schedule_id != schedule.pk:
        raise NotFound(f"calendar feed {feed_id} not found")
    services.revoke_calendar_feed(feed=feed, actor=request.user, source=SOURCE)
    messages.success(request, "Calendar feed revoked: its URL stops working now.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)
