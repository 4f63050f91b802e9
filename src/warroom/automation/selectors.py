"""Reads of workflows, scoped to the reader's teams (another team's workflow is a 404)."""

from __future__ import annotations

from django.db.models import QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.deactivation import LeftBehind
from warroom.accounts.models import User
from warroom.automation.models import Workflow, WorkflowRun
from warroom.incidents import selectors as incidents
from warroom.lib.errors import NotFound


def visible_workflows(user: User) -> QuerySet[Workflow]:
    """The workflows of the teams ``user`` belongs to (organisation admins: all)."""
    workflows = Workflow.objects.select_related("team", "last_test_call").prefetch_related(
        "services", "notify_users"
    )
    if user.is_org_admin:
        return workflows
    return workflows.filter(team_id__in=accounts.team_ids(user))


def get_workflow_for_user_or_404(user: User, workflow_id: int) -> Workflow:
    workflow = visible_workflows(user).filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} not found")
    return workflow


def can_change(user: User, workflow: Workflow) -> bool:
    """A team's admins and managers (and organisation admins) change its workflows; its members read them."""
    return accounts.can_manage_team(user, workflow.team_id)


def visible_runs(user: User, workflow: Workflow) -> QuerySet[WorkflowRun]:
    """The runs of ``workflow``, newest first, on the incidents ``user`` may see: a run on a private incident
    shows only to those who may see the incident (its participants, its team's admins, organisation admins)."""
    return workflow.runs.select_related("incident", "delivery").filter(
        incident__in=incidents.visible_incidents(user)
    )


def workflows_naming(user: User) -> list[LeftBehind]:
    """Workflows that give ``user`` a role or notify them: what deactivating them leaves to hand over (the role is
    then not given and the notification not sent, and the run says so on the incident's timeline)."""
    workflows = Workflow.objects.select_related("team").order_by("name", "id")
    found = [w for w in workflows.filter(notify_users=user)]
    found += [w for w in workflows.exclude(notify_users=user) if user.pk in w.roles.values()]
    return [
        LeftBehind("workflow", f"{w.name} ({w.team.name})", "it gives them a role or notifies them")
        for w in sorted(found, key=lambda w: (w.name, w.pk))
    ]


def role_holders(workflows: list[Workflow]) -> dict[int, User]:
    """The people the role actions of ``workflows`` name, by id, loaded with one query (someone deleted since is
    missing). They were members of the workflow's team when it was saved: anyone who may read it may see them."""
    ids = {user_id for workflow in workflows for user_id in workflow.roles.values()}
    return User.objects.in_bulk(ids) if ids else {}
