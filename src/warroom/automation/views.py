"""Console pages for workflows (docs/automation.md): the list of the workflows of the user's teams, "New
workflow", and each workflow's page: its form for the team's admins and managers (a read-only account of it for
the other members), its delete, and its 20 most recent runs.

Reads go through :mod:`warroom.automation.selectors` (another team's workflow is a 404), writes through
:mod:`warroom.automation.services` with ``source="web"``. A refused write re-renders the page with the message
next to the field it names, at the error's status (400, 409); a member who may read a workflow but not change
it gets the 403 page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Max, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.automation import selectors, services
from warroom.automation.forms import WorkflowForm, workflow_initial
from warroom.automation.models import Trigger, Urgency, Workflow
from warroom.incidents import selectors as incidents
from warroom.lib.errors import PermissionDenied, ServiceError, ValidationFailed
from warroom.lib.ids import as_id
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error

RECENT_RUNS = 20

# Raised before a form is read, so that a person who may not write gets the 403 page rather than a form that
# cannot offer them any team.
MAY_NOT_ADD = "only the admins and managers of a team add workflows to it"


# ---------------------------------------------------------------------------------------------------------------
# what a workflow does, in words


def role_names() -> dict[str, str]:
    """Role type slug → its name."""
    return {r.slug: r.name for r in incidents.role_types()}


def people_named(workflows: Sequence[Workflow]) -> dict[int, str]:
    """User id → name of the people the workflows give roles to (scoped already: the workflows are visible)."""
    ids = {user_id for w in workflows for user_id in w.roles.values()}
    return {u.pk: u.display_name for u in User.objects.filter(pk__in=ids)}


def conditions_of(workflow: Workflow) -> str:
    """``P1, P2 · Checkout, Payments``, or ``Any incident``."""
    parts = []
    if workflow.priorities:
        parts.append(", ".join(f"P{p}" for p in workflow.priorities))
    services_ = [s.name for s in workflow.services.all()]
    if services_:
        parts.append(", ".join(sorted(services_)))
    return " · ".join(parts) or "Any incident"


def actions_of(workflow: Workflow, roles: dict[str, str], people: dict[int, str]) -> list[str]:
    """What the workflow does, one line per action, in the order it does it."""
    lines = [f"Task: {title}" for title in workflow.tasks]
    lines += [
        f"{roles.get(slug, slug)} → {people.get(user_id, 'someone no longer here')}"
        for slug, user_id in workflow.roles.items()
    ]
    notified = [u.display_name for u in workflow.notify_users.all()]
    if notified:
        urgency = "high urgency" if workflow.notify_urgency == Urgency.HIGH else "low urgency"
        lines.append(f"Notify {', '.join(notified)} ({urgency})")
    if workflow.webhook_url:
        lines.append(f"Call the webhook {workflow.webhook_host}")
    if workflow.message:
        lines.append("Note on the timeline")
    return lines


def actions_summary(workflow: Workflow, roles: dict[str, str], people: dict[int, str]) -> str:
    """``2 tasks · Incident Commander → Alice · Notify Bob (high urgency)``: the list's short account."""
    parts = []
    if workflow.tasks:
        parts.append(f"{len(workflow.tasks)} task{'s' if len(workflow.tasks) != 1 else ''}")
    parts += [line for line in actions_of(workflow, roles, people) if not line.startswith("Task: ")]
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# the list


@dataclass
class Row:
    workflow: Workflow
    trigger: str
    conditions: str
    actions: str
    last_run: datetime | None


@console_view
@require_GET
def workflow_list(request: AuthedRequest) -> HttpResponse:
    """The workflows of the teams the user belongs to (organisation admins: all), by team and name."""
    user = request.user
    # the last run the user may see (as on the workflow's page: not one on an incident hidden from them)
    seen = Q(runs__incident__in=incidents.visible_incidents(user))
    workflows = list(selectors.visible_workflows(user).annotate(last_run=Max("runs__at", filter=seen)))
    roles, people = role_names(), people_named(workflows)
    rows = [
        Row(
            workflow=w,
            trigger=Trigger(w.trigger).label,
            conditions=conditions_of(w),
            actions=actions_summary(w, roles, people),
            last_run=w.last_run,
        )
        for w in workflows
    ]
    context = {"rows": rows, "may_create": accounts.managed_teams(user).exists()}
    return render(request, "automation/workflow_list.html", context)


# ---------------------------------------------------------------------------------------------------------------
# new


def _chosen_team(request: AuthedRequest) -> Team | None:
    """The team a new workflow is for, before the form is posted: ``?team=`` (the team select fetching the form
    again), or the only team the user manages."""
    managed = accounts.managed_teams(request.user).order_by("name")
    ident = as_id(request.GET.get("team", ""))
    if ident is not None:
        return managed.filter(pk=ident).first()
    teams = list(managed[:2])
    return teams[0] if len(teams) == 1 else None


def _new_page(request: AuthedRequest, form: WorkflowForm, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "automation/workflow_form.html",
        {"form": form, "workflow": None, "team": form.for_team},
        status=status,
    )


@console_view
@require_http_methods(["GET", "POST"])
def workflow_new(request: AuthedRequest) -> HttpResponse:
    """The "New workflow" form; a POST creates the workflow for one of the teams the user manages."""
    user = request.user
    if not accounts.managed_teams(user).exists():
        raise PermissionDenied(MAY_NOT_ADD)
    if request.method == "GET":
        team = _chosen_team(request)
        initial: dict[str, Any] = {"team": team.pk} if team else {}
        return _new_page(request, WorkflowForm(user=user, team=team, initial=initial))
    form = WorkflowForm(request.POST, user=user)
    if not form.is_valid():
        return _new_page(request, form, status=400)
    try:
        workflow = services.create_workflow(
            team=form.cleaned_data["team"], spec=form.spec(), actor=user, source=SOURCE
        )
    except ServiceError as exc:
        return _new_page(request, form, status=form_error(form, exc))
    when = str(Trigger(workflow.trigger).label)
    note = f"it runs when {when[0].lower()}{when[1:]}." if workflow.enabled else "disabled: it never runs."
    messages.success(request, f"{workflow.name} created: {note}")
    if workflow.revealed_secret:  # shown on this answer only: never stored where it could be shown again
        made = selectors.get_workflow_for_user_or_404(user, workflow.pk)
        return _detail(request, made, status=201, reveal=workflow.revealed_secret)
    return redirect("web:workflow-detail", workflow_id=workflow.pk)


# ---------------------------------------------------------------------------------------------------------------
# one workflow: edit (or read), runs, delete


def _detail(
    request: AuthedRequest,
    workflow: Workflow,
    *,
    form: WorkflowForm | None = None,
    status: int = 200,
    reveal: str = "",
) -> HttpResponse:
    user = request.user
    can_change = selectors.can_change(user, workflow)
    people = people_named([workflow])
    # a run on an incident the reader may not see (private, or moved to another team) is left out
    runs = list(selectors.visible_runs(user, workflow)[:RECENT_RUNS])
    if form is None and can_change:
        form = WorkflowForm(user=user, workflow=workflow, initial=workflow_initial(workflow))
        form.note_departed(workflow, people)
    context = {
        "workflow": workflow,
        "team": workflow.team,
        "form": form if can_change else None,
        "can_change": can_change,
        "trigger": Trigger(workflow.trigger).label,
        "conditions": conditions_of(workflow),
        "actions": actions_of(workflow, role_names(), people),
        "runs": runs,
        "recent": RECENT_RUNS,
        "reveal": reveal,
        # a run's webhook call stays shown after the webhook was taken off the workflow
        "has_calls": any(run.delivery_id for run in runs),
    }
    return render(request, "automation/workflow_form.html", context, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def workflow_detail(request: AuthedRequest, workflow_id: int) -> HttpResponse:
    """The workflow's page; a POST saves the form (the team's admins and managers)."""
    user = request.user
    workflow = selectors.get_workflow_for_user_or_404(user, workflow_id)
    if request.method == "GET":
        return _detail(request, workflow)
    if not selectors.can_change(user, workflow):
        raise PermissionDenied(f"only the admins and managers of {workflow.team.name} change its workflows")
    form = WorkflowForm(request.POST, user=user, workflow=workflow)
    if not form.is_valid():
        return _detail(request, workflow, form=form, status=400)
    try:
        updated = services.update_workflow(workflow=workflow, spec=form.spec(), actor=user, source=SOURCE)
    except ServiceError as exc:
        return _detail(request, workflow, form=form, status=form_error(form, exc))
    messages.success(request, f"{updated.name} saved.")
    if updated.revealed_secret:  # shown on this answer only
        fresh = selectors.get_workflow_for_user_or_404(user, updated.pk)
        return _detail(request, fresh, reveal=updated.revealed_secret)
    return redirect("web:workflow-detail", workflow_id=updated.pk)


@console_view
@require_POST
def workflow_delete(request: AuthedRequest, workflow_id: int) -> HttpResponse:
    """Delete the workflow (asked first on its page); its runs go with it, the incidents keep what it did."""
    workflow = selectors.get_workflow_for_user_or_404(request.user, workflow_id)
    name, team = workflow.name, workflow.team.name
    services.delete_workflow(workflow=workflow, actor=request.user, source=SOURCE)
    messages.success(request, f"{name} deleted from {team}.")
    return redirect("web:workflow-list")


@console_view
@require_POST
def workflow_webhook_test(request: AuthedRequest, workflow_id: int) -> HttpResponse:
    """Queue a test call of the workflow's webhook; its page shows how it went."""
    workflow = selectors.get_workflow_for_user_or_404(request.user, workflow_id)
    try:
        services.send_test_call(workflow=workflow, actor=request.user, source=SOURCE)
    except ValidationFailed as exc:  # no webhook (any more): said on the page; a refusal is the 403 page
        messages.error(request, exc.message)
    else:
        messages.success(request, "Test call queued: it is sent within seconds, and its result shows below.")
    return redirect("web:workflow-detail", workflow_id=workflow.pk)
