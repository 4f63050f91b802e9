"""Schemas of the workflows API (docs/api.md#workflows) and the functions that turn workflows into JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from warroom.accounts.models import User
from warroom.accounts.schemas import Paging, TeamRef, UserRef, team_ref, user_ref
from warroom.automation.models import Trigger, Urgency, Workflow, WorkflowRun
from warroom.automation.services import MESSAGE_MAX, NAME_MAX, SECRET_MAX, SECRET_MIN, TASKS_MAX, WorkflowSpec
from warroom.comms.models import Delivery
from warroom.incidents.schemas import IncidentRef, incident_ref
from warroom.lib.schema import InputSchema

TRIGGERS = ", ".join(Trigger.values)
URGENCIES = " or ".join(Urgency.values)


# ---------------------------------------------------------------------------------------------------------------
# input


class WorkflowQuery(Paging):
    team: str | None = Field(None, description="Only this team's workflows (slug or id).")


class WorkflowUpdateIn(InputSchema):
    """A whole workflow: what is left out takes its default (no conditions, no actions of that kind)."""

    name: str = Field(description=f"Unique in the team; at most {NAME_MAX} characters.")
    trigger: str = Field(description=f"When it runs: one of {TRIGGERS}.")
    enabled: bool = Field(True, description="false: kept, but never runs.")
    priorities: list[int] = Field(
        default_factory=list, description="Condition: the incident's priority is one of these (1-5); []: any."
    )
    services: list[int] = Field(
        default_factory=list,
        description="Condition: the incident is about one of these services of the team (ids); []: any.",
    )
    tasks: list[str] = Field(
        default_factory=list, description=f"Action: task titles added to the incident (at most {TASKS_MAX})."
    )
    roles: dict[str, int] = Field(
        default_factory=dict,
        description="Action: incident roles given while free, role type slug → user id of a team member, "
        'e.g. {"incident-commander": 7}.',
    )
    notify_users: list[int] = Field(
        default_factory=list,
        description="Action: team members told (through their own notification rules), by user id; needs "
        "`message`.",
    )
    notify_urgency: str = Field(Urgency.HIGH, description=f"The notification's urgency: {URGENCIES}.")
    message: str = Field(
        "",
        description=f"What the people notified are told, also noted on the incident's timeline (at most "
        f"{MESSAGE_MAX} characters).",
    )
    webhook_url: str = Field(
        "",
        description="Action: an https URL that gets the incident as signed JSON (type `warroom.workflow`); "
        '"": none.',
    )
    webhook_secret: str = Field(
        "",
        description=f"The webhook's signing secret ({SECRET_MIN}-{SECRET_MAX} characters). Left out: the workflow "
        "keeps the one it has, or gets a new one, shown once as `webhook_secret` in this answer.",
    )

    def spec(self) -> WorkflowSpec:
        return WorkflowSpec(
            name=self.name,
            trigger=self.trigger,
            enabled=self.enabled,
            priorities=list(self.priorities),
            services=list(self.services),
            tasks=list(self.tasks),
            roles=dict(self.roles),
            notify_users=list(self.notify_users),
            notify_urgency=self.notify_urgency,
            message=self.message,
            webhook_url=self.webhook_url,
            webhook_secret=self.webhook_secret,
        )


class WorkflowIn(WorkflowUpdateIn):
    team: str | int = Field(description="The owning team: slug or id.")


# ---------------------------------------------------------------------------------------------------------------
# output


class WorkflowServiceRef(Schema):
    id: int
    name: str


class WebhookCallOut(Schema):
    status: str = Field(description="pending, sending, sent or failed.")
    attempts: int
    last_error: str = Field(description="Why the last attempt failed (empty once sent).")
    delivery_id: str = Field(description="Sent as `Warroom-Delivery-Id` with every attempt.")


class WorkflowOut(Schema):
    id: int
    team: TeamRef
    name: str
    enabled: bool
    trigger: str = Field(description=f"One of {TRIGGERS}.")
    priorities: list[int]
    services: list[WorkflowServiceRef]
    tasks: list[str]
    roles: dict[str, int] = Field(description="Role type slug → user id.")
    role_holders: dict[str, UserRef | None] = Field(
        description="Role type slug → the person ``roles`` names (null: no longer a user)."
    )
    notify_users: list[UserRef]
    notify_urgency: str
    message: str
    webhook_url: str = Field(
        description='The webhook ("": none): in full for those who may change the workflow, else scheme and host '
        "only (a URL may carry a secret)."
    )
    webhook_secret: str | None = Field(
        None,
        description="Only in the answer that made a new signing secret (create or replace without one): keep it, "
        "it is not shown again.",
    )
    last_test_call: WebhookCallOut | None = Field(
        description="The last test call of the webhook (`POST /workflows/{id}/webhook/test`), and how it went."
    )
    created_at: datetime
    updated_at: datetime
    can_change: bool = Field(
        description="Whether you may change or delete it (the team's admins and managers)."
    )


class WorkflowRunOut(Schema):
    id: int
    incident: IncidentRef
    at: datetime = Field(description="When the timeline line that triggered the run was written.")
    done: list[str] = Field(description="The actions done, in words.")
    failed: list[str] = Field(description="The actions that could not be done, each with the reason.")
    webhook: WebhookCallOut | None = Field(description="The webhook call the run queued, and how it went.")


# ---------------------------------------------------------------------------------------------------------------
# rendering


def workflow_json(workflow: Workflow, *, viewer_may_change: bool, holders: dict[int, User]) -> dict[str, Any]:
    """``workflow`` as JSON (its services and notify_users prefetched, as the selectors give it; ``holders``: the
    people its roles name, from :func:`warroom.automation.selectors.role_holders`)."""
    return {
        "id": workflow.pk,
        "team": team_ref(workflow.team),
        "name": workflow.name,
        "enabled": workflow.enabled,
        "trigger": workflow.trigger,
        "priorities": workflow.priorities,
        "services": [{"id": s.pk, "name": s.name} for s in workflow.services.all()],
        "tasks": workflow.tasks,
        "roles": workflow.roles,
        "role_holders": {slug: user_ref(holders.get(user_id)) for slug, user_id in workflow.roles.items()},
        "notify_users": [user_ref(u) for u in workflow.notify_users.all()],
        "notify_urgency": workflow.notify_urgency,
        "message": workflow.message,
        "webhook_url": workflow.webhook_url if viewer_may_change else workflow.webhook_host,
        "webhook_secret": workflow.revealed_secret or None,
        "last_test_call": webhook_call_json(workflow.last_test_call),
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
        "can_change": viewer_may_change,
    }


def webhook_call_json(delivery: Delivery | None) -> dict[str, Any] | None:
    if delivery is None:
        return None
    return {
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "delivery_id": delivery.delivery_id,
    }


def run_json(run: WorkflowRun) -> dict[str, Any]:
    """``run`` as JSON (its incident and delivery loaded, as :func:`~warroom.automation.selectors.visible_runs`
    gives them)."""
    return {
        "id": run.pk,
        "incident": incident_ref(run.incident),
        "at": run.at,
        "done": run.done,
        "failed": run.failed,
        "webhook": webhook_call_json(run.delivery),
    }
