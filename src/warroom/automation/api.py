"""REST routes for workflows (docs/api.md#workflows): list, create, read, replace and delete a team's workflows, and
read their runs.

Members of a team read its workflows; its admins and managers (and organisation admins) change them (403 for the
others, decided by :mod:`warroom.automation.services`). Another team's workflow is a 404; a team named in the
body or in ``?team=`` that the caller cannot see is a 400 naming ``team``; bad input is a 400 naming the field.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.accounts.schemas import Page, Paging, caller, lookup, paginate, source_of
from warroom.automation import selectors, services
from warroom.automation.models import Workflow
from warroom.automation.schemas import (
    WebhookCallOut,
    WorkflowIn,
    WorkflowOut,
    WorkflowQuery,
    WorkflowRunOut,
    WorkflowUpdateIn,
    run_json,
    webhook_call_json,
    workflow_json,
)

router = Router(tags=["automation"])


def _workflow(request: HttpRequest, workflow_id: int) -> tuple[User, Workflow]:
    user = caller(request)
    return user, selectors.get_workflow_for_user_or_404(user, workflow_id)


def _json(user: User, workflow: Workflow, holders: dict[int, User] | None = None) -> dict[str, Any]:
    return workflow_json(
        workflow,
        viewer_may_change=selectors.can_change(user, workflow),
        holders=selectors.role_holders([workflow]) if holders is None else holders,
    )


def _fresh(user: User, workflow: Workflow) -> dict[str, Any]:
    """A workflow just written, read again as the selectors give it (team, services and people loaded), with the
    signing secret its service made, if it made one (shown this once)."""
    fresh = selectors.get_workflow_for_user_or_404(user, workflow.pk)
    fresh.revealed_secret = workflow.revealed_secret
    return _json(user, fresh)


def _team(user: User, key: str | int) -> Team:
    """The team a body or a list's ``?team=`` names; one the caller cannot see is a 400 naming ``team``."""
    return lookup("team", partial(accounts.get_team_for_user_or_404, user, key=key))


@router.get("/workflows", response=Page[WorkflowOut], summary="List workflows")
def list_workflows(request: HttpRequest, query: Query[WorkflowQuery]) -> dict[str, Any]:
    """The workflows of your teams (organisation admins: all), by team and name. ``team`` narrows to one team
    (slug or id); one you cannot see is a 400 naming it."""
    user = caller(request)
    workflows = selectors.visible_workflows(user).order_by("team__name", "name", "id")
    if query.team:
        workflows = workflows.filter(team=_team(user, query.team))
    holders: dict[int, User] = {}
    return paginate(
        workflows,
        query,
        lambda workflow: _json(user, workflow, holders),
        prepare=lambda page: holders.update(selectors.role_holders(page)),
    )


@router.post("/workflows", response={201: WorkflowOut}, summary="Create a workflow")
def create_workflow(request: HttpRequest, payload: WorkflowIn) -> Status[dict[str, Any]]:
    """Team admins and managers. How and when it runs: docs/automation.md. A webhook given without a signing
    secret gets a new one, in this answer only (``webhook_secret``)."""
    user = caller(request)
    team = _team(user, payload.team)
    workflow = services.create_workflow(team=team, spec=payload.spec(), actor=user, source=source_of(request))
    return Status(201, _fresh(user, workflow))


@router.get("/workflows/{workflow_id}", response=WorkflowOut, summary="Get a workflow")
def get_workflow(request: HttpRequest, workflow_id: int) -> dict[str, Any]:
    user, workflow = _workflow(request, workflow_id)
    return _json(user, workflow)


@router.put("/workflows/{workflow_id}", response=WorkflowOut, summary="Replace a workflow")
def replace_workflow(request: HttpRequest, workflow_id: int, payload: WorkflowUpdateIn) -> dict[str, Any]:
    """Team admins and managers. The whole workflow: a field left out takes its default (``tasks`` left out: no
    tasks; ``webhook_url`` left out: no webhook). It stays in its team. The webhook keeps its signing secret
    unless ``webhook_secret`` gives another; a workflow that gets its first webhook gets a new secret, in this
    answer only."""
    user, workflow = _workflow(request, workflow_id)
    updated = services.update_workflow(
        workflow=workflow, spec=payload.spec(), actor=user, source=source_of(request)
    )
    return _fresh(user, updated)


@router.delete("/workflows/{workflow_id}", response={204: None}, summary="Delete a workflow")
def delete_workflow(request: HttpRequest, workflow_id: int) -> Status[None]:
    """Team admins and managers. Its runs go with it; what it already did to incidents stays."""
    user, workflow = _workflow(request, workflow_id)
    services.delete_workflow(workflow=workflow, actor=user, source=source_of(request))
    return Status(204, None)


@router.get("/workflows/{workflow_id}/runs", response=Page[WorkflowRunOut], summary="List a workflow's runs")
def list_runs(request: HttpRequest, workflow_id: int, paging: Query[Paging]) -> dict[str, Any]:
    """Newest first: the incident, when, what was done and what could not be. Runs on a private incident show
    only to those who may see it."""
    user, workflow = _workflow(request, workflow_id)
    return paginate(selectors.visible_runs(user, workflow), paging, run_json)


@router.post(
    "/workflows/{workflow_id}/webhook/test",
    response={202: WebhookCallOut},
    summary="Test a workflow's webhook",
)
def test_webhook(request: HttpRequest, workflow_id: int) -> Status[dict[str, Any] | None]:
    """Team admins and managers. Queues a signed test call of the workflow's webhook (type `warroom.test`, no
    incident), sent within seconds; its status shows here and as the workflow's `last_test_call`. A workflow
    without a webhook is a 400 naming `webhook_url`."""
    user, workflow = _workflow(request, workflow_id)
    delivery = services.send_test_call(workflow=workflow, actor=user, source=source_of(request))
    return Status(202, webhook_call_json(delivery))
