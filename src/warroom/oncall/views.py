"""Console pages for on-call: every schedule with who is on call now, and one schedule's next 14 days;
escalation policies (list, detail with the steps editor, create, edit, delete) and a service's policy.

Reads go through :mod:`warroom.oncall.selectors` (another team's schedule is a 404); writes (overrides) through
:mod:`warroom.oncall.services` with ``source="web"``. The schedule page shows times in the schedule's own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.catalog import selectors as catalog
from warroom.lib import clock
from warroom.lib.errors import PermissionDenied, ServiceError, ValidationFailed
from warroom.lib.ids import as_id
from warroom.oncall import rotation, selectors, services
from warroom.oncall.forms import (
    AddStepForm,
    OverrideForm,
    PolicyForm,
    ServicePolicyForm,
    StepEditForm,
    target_choices,
)
from warroom.oncall.models import EscalationPolicy, Layer, Restriction, Schedule
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
        {
            "schedule": entry.schedule,
            "on_call": [(entry.people.get(s.user_id), s.end) for s in entry.shifts],
            "mine": any(s.user_id == request.user.pk for s in entry.shifts),
        }
        for entry in selectors.on_call_now(request.user, at=now)
    ]
    context = {
        "rows": rows,
        "now": now,
        "my_shifts": my_shifts(request.user, now),
        "days": DAYS_SHOWN,
        "may_create": accounts.managed_teams(request.user).exists(),
    }
    return render(request, "oncall/schedule_list.html", context)


def my_shifts(user: User, now: datetime) -> list[dict[str, Any]]:
    """``user``'s own shifts in the next ``DAYS_SHOWN`` days, on every schedule they take part in, by start."""
    end = now + timedelta(days=DAYS_SHOWN)
    involved = selectors.visible_schedules(user).filter(
        Q(layers__members__user=user) | Q(overrides__user=user, overrides__end__gt=now)
    )
    found: list[dict[str, Any]] = []
    for schedule in involved.distinct().order_by("name", "id"):
        zone = selectors.zone_of(schedule)
        final = selectors.final_schedule(schedule, start=now, end=end)
        mine = [s for s in final.shifts if s.user_id == user.pk]
        found += [
            {
                "schedule": schedule,
                "start": run[0].start.astimezone(zone),
                "end": rotation.run_end(run).astimezone(zone),
                "zone": zone.key,
            }
            for run in rotation.consecutive_runs(mine)
        ]
    found.sort(key=lambda row: (row["start"], row["schedule"].pk))
    return found


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
    rows = []
    # One row per unbroken stretch of one person: a handoff to themselves (from one layer to another, an override
    # ending where their own shift goes on) is not a new row; the layer column names every source in order.
    for run in rotation.consecutive_runs(final.shifts):
        start, end = run[0].start, rotation.run_end(run)
        via: list[str] = []
        for s in run:
            label = "override" if s.override_id is not None else names.get(s.layer_id or 0, "")
            if label not in via:
                via.append(label)
        rows.append(
            Row(
                start.astimezone(zone),
                end.astimezone(zone),
                people.get(run[0].user_id),
                ", ".join(via),
                start <= now < end,
            )
        )
    rows += [
        Row(g.start.astimezone(zone), g.end.astimezone(zone), None, "", g.start <= now < g.end)
        for g in final.gaps
    ]
    rows.sort(key=lambda r: (r.start, r.person is not None, r.end))
    return rows


def schedule_page(
    request: AuthedRequest,
    schedule: Schedule,
    *,
    form: OverrideForm | None = None,
    status: int = 200,
    feed_secret_url: str = "",
) -> HttpResponse:
    """The schedule page; ``feed_secret_url`` is a just-created calendar feed's URL, shown this once."""
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
            {
                "o": o,
                "start": o.start.astimezone(zone),
                "end": o.end.astimezone(zone),
                # the API's rule for deleting it: managers any, a responder one that involves themselves
                "may_remove": services.may_change_override(user, schedule, {o.user_id, o.replaces_id}),
            }
            for o in selectors.overrides_of(schedule, start=now)
        ],
        "form": form,
        "can_manage": accounts.can_manage_team(user, schedule.team_id),
        "may_override_others": services.may_change_override(user, schedule, set()),
        "days": DAYS_SHOWN,
        "feeds": list(selectors.live_schedule_feeds(user, schedule)),
        "feed_secret_url": feed_secret_url,
    }
    return render(request, "oncall/schedule_detail.html", context, status=status)


@console_view
@require_GET
def schedule_detail(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    return schedule_page(request, selectors.get_schedule_for_user_or_404(request.user, key=schedule_id))


@console_view
@require_http_methods(["POST"])
def override_create(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    """Add an override from the schedule page; its times are wall-clock in the schedule's zone."""
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    form = OverrideForm(request.POST, schedule=schedule)
    if not form.is_valid():
        return schedule_page(request, schedule, form=form, status=400)
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
        if isinstance(exc, PermissionDenied) and accounts.can_act_for_team(request.user, schedule.team_id):
            # A responder naming two other people: a mistake in the form, shown on it with their input kept.
            exc.field = "user"
        return schedule_page(request, schedule, form=form, status=form_error(form, exc))
    # wall-clock in the schedule's zone, which need not be the reader's: named, as the schedule page does
    messages.success(
        request,
        f"{data['user'].display_name} is on call from {data['start']:%a %d %b %H:%M} "
        f"until {data['end']:%a %d %b %H:%M} ({zone.key}).",
    )
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)


@console_view
@require_POST
def override_delete(request: AuthedRequest, schedule_id: int, override_id: int) -> HttpResponse:
    schedule = selectors.get_schedule_for_user_or_404(request.user, key=schedule_id)
    override = selectors.get_override_or_404(schedule, override_id=override_id)
    services.delete_override(override=override, actor=request.user, source=SOURCE)
    messages.success(request, "Override removed.")
    return redirect("oncall-schedule-detail", schedule_id=schedule.pk)


# ---------------------------------------------------------------------------------------------------------------
# escalation policies


def _policy_list_page(
    request: AuthedRequest, *, form: PolicyForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    policies = list(
        selectors.visible_policies(user)
        .prefetch_related("steps", "services__service")
        .order_by("team__name", "name")
    )
    visible_services = set(catalog.visible_services(user).values_list("pk", flat=True))
    rows = [
        {
            "policy": p,
            "steps": len(p.steps.all()),
            "services": [link.service for link in p.services.all() if link.service_id in visible_services],
        }
        for p in policies
    ]
    may_create = accounts.managed_teams(user).exists()
    if form is None and may_create:
        teams = list(accounts.managed_teams(user)[:2])
        form = PolicyForm(user=user, creating=True, initial={"team": teams[0].pk} if len(teams) == 1 else {})
    return render(request, "oncall/policy_list.html", {"rows": rows, "form": form}, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def policy_list(request: AuthedRequest) -> HttpResponse:
    """The escalation policies of the user's teams; a POST creates one (team admins and managers)."""
    if request.method == "GET":
        return _policy_list_page(request)
    if not accounts.managed_teams(request.user).exists():
        raise PermissionDenied(services.MAY_NOT_MANAGE_POLICIES)
    form = PolicyForm(request.POST, user=request.user, creating=True)
    if not form.is_valid():
        return _policy_list_page(request, form=form, status=400)
    try:
        policy = services.create_policy(
            team=form.cleaned_data["team"], actor=request.user, source=SOURCE, **form.policy_fields()
        )
    except ServiceError as exc:
        return _policy_list_page(request, form=form, status=form_error(form, exc))
    messages.success(request, f"{policy.name} created. Add its steps below.")
    return redirect("oncall-policy-detail", policy_id=policy.pk)


def _step_rows(policy: EscalationPolicy) -> list[dict[str, Any]]:
    rows = []
    for step in selectors.steps_of(policy):
        targets = list(step.targets.all())
        rows.append(
            {
                "step": step,
                "number": step.order + 1,
                "targets": [
                    {"target": t, "label": selectors.target_label(t), "kind": t.kind} for t in targets
                ],
            }
        )
    return rows


def _policy_detail(
    request: AuthedRequest,
    policy: EscalationPolicy,
    *,
    status: int = 200,
    edit_form: PolicyForm | None = None,
    step_form: AddStepForm | None = None,
    step_edit: StepEditForm | None = None,
) -> HttpResponse:
    user = request.user
    can_manage = accounts.can_manage_team(user, policy.team_id)
    visible = set(catalog.visible_services(user).values_list("pk", flat=True))
    used_by = [
        link.service for link in policy.services.select_related("service") if link.service_id in visible
    ]
    steps = _step_rows(policy)
    loop_minutes = sum(row["step"].delay_minutes for row in steps)
    context: dict[str, Any] = {
        "policy": policy,
        "steps": steps,
        "used_by": used_by,
        "can_manage": can_manage,
        "loop_minutes": loop_minutes,
        "rounds": policy.repeat + 1,
        "edit_form": edit_form,
        "step_form": step_form,
        "step_edit": step_edit,
        # the 0-based step the refused change was for (its widgets point at the error), None if unreadable
        "edit_step": as_id(step_edit.data.get("step")) if step_edit is not None else None,
    }
    if can_manage:
        if edit_form is None:
            context["edit_form"] = PolicyForm(
                user=user,
                creating=False,
                initial={"name": policy.name, "description": policy.description, "repeat": policy.repeat},
            )
        if step_form is None:
            context["step_form"] = AddStepForm(user=user, team=policy.team)
        context["target_groups"] = target_choices(user, policy.team)
    return render(request, "oncall/policy_detail.html", context, status=status)


def _policy(request: AuthedRequest, policy_id: int) -> EscalationPolicy:
    return selectors.get_policy_for_user_or_404(request.user, key=policy_id)


def _require_policy_manager(request: AuthedRequest, policy: EscalationPolicy) -> None:
    if not accounts.can_manage_team(request.user, policy.team_id):
        raise PermissionDenied(services.MAY_NOT_MANAGE_POLICIES)


@console_view
@require_GET
def policy_detail(request: AuthedRequest, policy_id: int) -> HttpResponse:
    return _policy_detail(request, _policy(request, policy_id))


@console_view
@require_POST
def policy_edit(request: AuthedRequest, policy_id: int) -> HttpResponse:
    """Rename, describe or change the repeat count."""
    policy = _policy(request, policy_id)
    _require_policy_manager(request, policy)
    form = PolicyForm(request.POST, user=request.user, creating=False)
    if not form.is_valid():
        return _policy_detail(request, policy, status=400, edit_form=form)
    try:
        updated = services.update_policy(
            policy=policy, actor=request.user, source=SOURCE, **form.policy_fields()
        )
    except ServiceError as exc:
        return _policy_detail(request, policy, status=form_error(form, exc), edit_form=form)
    messages.success(request, f"{updated.name} saved.")
    return redirect("oncall-policy-detail", policy_id=policy.pk)


@console_view
@require_POST
def policy_delete(request: AuthedRequest, policy_id: int) -> HttpResponse:
    """Delete a policy that no service uses (a 409 page names the services otherwise)."""
    policy = _policy(request, policy_id)
    services.delete_policy(policy=policy, actor=request.user, source=SOURCE)
    messages.success(request, f"{policy.name} deleted.")
    return redirect("oncall-policy-list")


def current_specs(policy: EscalationPolicy) -> list[services.StepSpec]:
    """The policy's steps as the services take them, to change one and write them all back."""
    return [
        services.StepSpec(
            step.delay_minutes,
            [
                services.TargetSpec(t.kind, t.user_id or t.schedule_id or t.team_id or 0)
                for t in step.targets.all()
            ],
        )
        for step in selectors.steps_of(policy)
    ]


def edited_specs(specs: list[services.StepSpec], data: dict[str, Any]) -> list[services.StepSpec]:
    """``specs`` with one change from a :class:`StepEditForm`; :class:`ValidationFailed` naming the field when
    the step or target does not exist (any more)."""
    index = data["step"]
    if index >= len(specs):
        raise ValidationFailed("that step no longer exists; reload the page", field="step")
    step = specs[index]
    action = data["action"]
    if action == "add_target":
        specs[index] = services.StepSpec(step.delay_minutes, [*step.targets, data["target_spec"]])
    elif action == "remove_target":
        targets = list(step.targets)
        if data["target_index"] >= len(targets):
            raise ValidationFailed("that target no longer exists; reload the page", field="target_index")
        if len(targets) == 1:
            raise ValidationFailed(
                f"step {index + 1} needs at least one target: remove the step instead", field="target_index"
            )
        del targets[data["target_index"]]
        specs[index] = services.StepSpec(step.delay_minutes, targets)
    elif action == "set_delay":
        specs[index] = services.StepSpec(data["delay_minutes"], step.targets)
    elif action == "move_up" and index > 0:
        specs[index - 1], specs[index] = specs[index], specs[index - 1]
    elif action == "move_down" and index + 1 < len(specs):
        specs[index + 1], specs[index] = specs[index], specs[index + 1]
    elif action == "remove":
        del specs[index]
    return specs


@console_view
@require_POST
def policy_step_add(request: AuthedRequest, policy_id: int) -> HttpResponse:
    """Add a last step with one target (more targets can be added to it afterwards)."""
    policy = _policy(request, policy_id)
    _require_policy_manager(request, policy)
    form = AddStepForm(request.POST, user=request.user, team=policy.team)
    if not form.is_valid():
        return _policy_detail(request, policy, status=400, step_form=form)
    specs = current_specs(policy)
    specs.append(services.StepSpec(form.cleaned_data["delay_minutes"], [form.cleaned_data["target"]]))
    try:
        services.update_policy(policy=policy, actor=request.user, source=SOURCE, steps=specs)
    except ServiceError as exc:
        if exc.field and exc.field.startswith("steps"):
            exc.field = "target"
        return _policy_detail(request, policy, status=form_error(form, exc), step_form=form)
    messages.success(request, f"Step {len(specs)} added.")
    return redirect("oncall-policy-detail", policy_id=policy.pk)


@console_view
@require_POST
def policy_step_edit(request: AuthedRequest, policy_id: int) -> HttpResponse:
    """One change to one step: add or remove a target, change its delay, move it up or down, remove it."""
    policy = _policy(request, policy_id)
    _require_policy_manager(request, policy)
    form = StepEditForm(request.POST, user=request.user, team=policy.team)
    if not form.is_valid():
        return _policy_detail(request, policy, status=400, step_edit=form)
    try:
        specs = edited_specs(current_specs(policy), form.cleaned_data)
        services.update_policy(policy=policy, actor=request.user, source=SOURCE, steps=specs)
    except ServiceError as exc:
        if exc.field and exc.field.startswith("steps"):
            exc.field = None
        return _policy_detail(request, policy, status=form_error(form, exc), step_edit=form)
    messages.success(request, "Steps saved.")
    # back where the user was: the step just changed (where it moved to), or the list after a removal
    action, index = form.cleaned_data["action"], form.cleaned_data["step"]
    moved = {"move_up": index - 1, "move_down": index + 1}.get(action, index)
    place = "steps" if action == "remove" else f"step-{min(max(moved, 0), len(specs) - 1) + 1}"
    return redirect(reverse("oncall-policy-detail", kwargs={"policy_id": policy.pk}) + f"#{place}")


@console_view
@require_POST
def service_policy(request: AuthedRequest, slug: str) -> HttpResponse:
    """Choose the policy that pages for a service (from the service page; the service team's admins and
    managers)."""
    service = catalog.get_service_for_user_or_404(request.user, key=slug)
    if not accounts.can_manage_team(request.user, service.team_id):
        raise PermissionDenied("only the service team's admins and managers choose its escalation policy")
    form = ServicePolicyForm(request.POST, user=request.user, team_id=service.team_id)
    if not form.is_valid():
        raise ValidationFailed("choose one of the team's escalation policies", field="policy")
    policy = form.cleaned_data["policy"]
    services.set_service_policy(service=service, policy=policy, actor=request.user, source=SOURCE)
    if policy is None:
        messages.success(request, f"{service.name} has no escalation policy: nobody will be paged.")
    else:
        messages.success(request, f"{policy.name} now pages for {service.name}.")
    return redirect("web:service-detail", slug=service.slug)
