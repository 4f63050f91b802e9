"""The workflow runner (engine module ``automation.workflows``, docs/automation.md).

Each pass looks at the triggering timeline lines (an incident declared, acknowledged, its priority changed, made
major, resolved, closed) written since the last pass, less :data:`LOOK_BACK` so that a line whose transaction
committed late is still seen; :class:`~warroom.automation.models.SeenEntry` makes sure each line is looked at once.
For each line, in one transaction: the enabled workflows of the incident's team with that trigger whose conditions
the incident meets (now) run, each once (:class:`~warroom.automation.models.WorkflowRun` is unique per workflow and
line), their actions in order (tasks, roles, notifications, the webhook, the timeline line), each in a savepoint:
an action that cannot be done (a role already held, an incident closed meanwhile) is recorded as not done, and the
others still are. The first pass starts now, and so does every pass while no workflow is enabled: lines from
before a workflow was enabled never run anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from warroom.accounts.models import User
from warroom.automation import services as automation
from warroom.automation.models import ScanState, SeenEntry, Trigger, Workflow, WorkflowRun
from warroom.engine import registry
from warroom.incidents import services as incidents
from warroom.incidents.models import TRIGGER_KINDS, EntryKind, Incident, IncidentRole, RoleType, TimelineEntry
from warroom.incidents.priority import Priority
from warroom.incidents.states import State
from warroom.lib.errors import ServiceError
from warroom.notify import services as notify

SOURCE = "engine"
#: a workflow's webhook call is a ``warroom.workflow`` message to its receiver
WEBHOOK_CATEGORY = "workflow"
#: how far before the last pass a pass looks again, for lines whose transaction committed late
LOOK_BACK = timedelta(minutes=5)
#: triggering lines per pass
BATCH = 200

#: a state line's new state → its trigger. Acknowledged is the move out of New to In Progress or On Hold (the
#: first response; an incident back from On Hold or reopened is not acknowledged again: ``TRIGGERING``)
STATE_TRIGGERS = {
    State.RESOLVED.label: Trigger.RESOLVED,
    State.CLOSED.label: Trigger.CLOSED,
    State.IN_PROGRESS.label: Trigger.ACKNOWLEDGED,
    State.ON_HOLD.label: Trigger.ACKNOWLEDGED,
}
_ACKNOWLEDGED = [State.IN_PROGRESS.label, State.ON_HOLD.label]

TRIGGERING = (
    Q(kind=EntryKind.CREATED)
    | Q(kind=EntryKind.FIELD, field="priority")
    | Q(kind=EntryKind.FIELD, field="is_major", new_value="yes")
    | Q(kind=EntryKind.STATE, new_value__in=[State.RESOLVED.label, State.CLOSED.label])
    | Q(kind=EntryKind.STATE, old_value=State.NEW.label, new_value__in=_ACKNOWLEDGED)
)


def trigger_of(entry: TimelineEntry) -> str:
    if entry.kind == EntryKind.CREATED:
        return Trigger.DECLARED
    if entry.kind == EntryKind.STATE:
        return STATE_TRIGGERS[entry.new_value]
    return Trigger.MAJOR if entry.field == "is_major" else Trigger.PRIORITY


def run(now: datetime) -> int:
    """One pass; returns the workflow runs made (:class:`registry.More` when lines are left for the next)."""
    state = ScanState.objects.filter(pk=1).first()
    if state is None:
        ScanState.objects.create(pk=1, scanned_until=now)
        return 0
    if not Workflow.objects.filter(enabled=True).exists():
        # nothing could run: look no further back than now when a workflow is enabled
        ScanState.objects.filter(pk=1).update(scanned_until=now)
        return 0
    since = state.scanned_until - LOOK_BACK
    seen = SeenEntry.objects.filter(at__gte=since).values("entry_id")
    lines = list(
        TimelineEntry.objects.filter(TRIGGERING, kind__in=TRIGGER_KINDS, at__gte=since)
        .exclude(pk__in=seen)
        .order_by("at", "id")[:BATCH]
    )
    runs = 0
    for line in lines:
        runs += _handle(line)
    if len(lines) == BATCH:
        return registry.More(runs)
    ScanState.objects.filter(pk=1).update(scanned_until=now)
    SeenEntry.objects.filter(at__lt=since - LOOK_BACK).delete()
    return runs


def _handle(line: TimelineEntry) -> int:
    """Run the workflows ``line`` triggers, in one transaction with the mark that it was seen."""
    with transaction.atomic():
        _, created = SeenEntry.objects.get_or_create(entry_id=line.pk, defaults={"at": line.at})
        if not created:
            return 0
        incident = Incident.objects.prefetch_related("services").filter(pk=line.incident_id).first()
        if incident is None:
            return 0
        service_ids = {s.pk for s in incident.services.all()}
        workflows = (
            Workflow.objects.filter(team_id=incident.team_id, trigger=trigger_of(line), enabled=True)
            .prefetch_related("services", "notify_users")
            .order_by("name", "id")
        )
        runs = 0
        for workflow in workflows:
            # a workflow acts on what happens after it was made, never on what happened before
            if line.at >= workflow.created_at and matches(workflow, incident, service_ids):
                run_workflow(workflow, incident, line)
                runs += 1
        return runs


def matches(workflow: Workflow, incident: Incident, service_ids: set[int]) -> bool:
    """Whether ``incident`` (as it is now) meets the workflow's conditions."""
    if workflow.priorities and incident.priority not in workflow.priorities:
        return False
    wanted = {s.pk for s in workflow.services.all()}
    return not wanted or bool(wanted & service_ids)


def _incident_url(incident: Incident) -> str:
    return settings.WARROOM_BASE_URL.rstrip("/") + reverse("web:incident-detail", args=[incident.ref])


def run_workflow(workflow: Workflow, incident: Incident, line: TimelineEntry) -> WorkflowRun:
    """Do the workflow's actions on ``incident`` and record the run (and a timeline line saying what was done)."""
    run = WorkflowRun.objects.create(workflow=workflow, incident=incident, entry_id=line.pk, at=line.at)
    done: list[str] = []
    failed: list[str] = []

    def attempt(what: str, action: object) -> None:
        try:
            with transaction.atomic():
                result = action() if callable(action) else None
        except ServiceError as exc:
            failed.append(f"{what}: {exc}")
        else:
            if isinstance(result, str):
                failed.append(f"{what}: {result}")
            else:
                done.append(what)

    for title in workflow.tasks:
        attempt(
            f"task “{title}”",
            lambda title=title: incidents.add_task(incident=incident, actor=None, source=SOURCE, title=title),
        )
    role_types = RoleType.objects.in_bulk(list(workflow.roles), field_name="slug")
    holders = User.objects.in_bulk(list(workflow.roles.values()))
    for slug, user_id in workflow.roles.items():
        role_type, user = role_types.get(slug), holders.get(user_id)
        label = role_type.name if role_type else slug
        if role_type is None or user is None or not user.is_active:
            failed.append(f"{label}: the role or its person no longer exists or is deactivated")
            continue
        attempt(
            f"{label} → {user.display_name}",
            lambda role_type=role_type, user=user: _give_role(incident, role_type, user),
        )
    if workflow.notify_users.exists():
        _notify(workflow, incident, run, done, failed)
    if workflow.webhook_url:
        attempt(
            f"webhook to {workflow.webhook_host} queued",
            lambda: _call_webhook(workflow, incident, line, run),
        )
    run.done, run.failed = done, failed
    run.save(update_fields=["done", "failed", "delivery"])
    summary = f"Workflow “{workflow.name}” ({Trigger(workflow.trigger).label.lower()})"
    summary += f": {'; '.join(done)}." if done else ": nothing to do."
    if failed:
        summary += f" Not done: {'; '.join(failed)}."
    if workflow.message:
        summary += f"\n{workflow.message}"
    incidents.record_workflow(incident=incident, source=SOURCE, message=summary)
    return run


def _call_webhook(workflow: Workflow, incident: Incident, line: TimelineEntry, run: WorkflowRun) -> None:
    """Queue the signed POST of the incident to the workflow's webhook (the subscriber outbox sends it, with
    retries, ``comms.deliver``); the run keeps the delivery, so its page shows whether it arrived."""
    url = _incident_url(incident)
    trigger = Trigger(workflow.trigger)
    context = {
        "event": "workflow",
        "url": url,
        "workflow": {"id": workflow.pk, "name": workflow.name, "trigger": trigger.value, "run": run.pk},
        "trigger": {"at": line.at.isoformat(), "what": line.message},
        "incident": {
            "ref": incident.ref,
            "number": incident.number,
            "title": incident.title,
            "state": incident.state,
            "priority": incident.priority,
            "impact": incident.impact,
            "urgency": incident.urgency,
            "is_major": incident.is_major,
            "is_test": incident.is_test,
            "team": incident.team.slug,
            "services": sorted(s.name for s in incident.services.all()),
            "url": url,
        },
    }
    run.delivery = automation.queue_webhook_call(
        workflow,
        subject=f"{incident.message_mark}{incident.ref} {workflow.name}: {incident.title}",
        body=f"{incident.message_mark}{workflow.message}" if workflow.message else "",
        context=context,
        dedup_key=f"workflow:{run.pk}:webhook",
        category=WEBHOOK_CATEGORY,
    )


def _give_role(incident: Incident, role_type: RoleType, user: User) -> str | None:
    """Give the role when it is free; a role someone already holds stays theirs (returned as the reason)."""
    holder = (
        IncidentRole.objects.select_related("user").filter(incident=incident, role_type=role_type).first()
    )
    if holder is not None and holder.user_id != user.pk:
        return f"already held by {holder.user.display_name}"
    incidents.assign_role(incident=incident, role_type=role_type, user=user, actor=None, source=SOURCE)
    return None


def _notify(
    workflow: Workflow, incident: Incident, run: WorkflowRun, done: list[str], failed: list[str]
) -> None:
    mark = incident.message_mark
    url = _incident_url(incident)
    priority = str(Priority(incident.priority).label)
    reached: list[str] = []
    for person in workflow.notify_users.all():
        if not person.is_active:
            failed.append(f"notify {person.display_name}: deactivated")
            continue
        result = notify.enqueue(
            user=person,
            urgency=workflow.notify_urgency,
            subject=f"{mark}{incident.ref} {workflow.name}: {incident.title}",
            body=f"{mark}{workflow.message}\n\n{incident.ref} {incident.title} (priority {priority})\n{url}",
            context={"url": url, "incident": incident.ref, "event": "workflow"},
            dedup_key=f"workflow:{run.pk}:{person.pk}",
            group=f"workflow:{incident.pk}",
        )
        if result.reachable:
            reached.append(person.display_name)
        else:
            failed.append(f"notify {person.display_name}: {'; '.join(result.skipped) or 'no contact method'}")
    if reached:
        done.append(f"notified {', '.join(reached)}")
