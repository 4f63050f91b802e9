"""Every change to a workflow (docs/automation.md): create, change, delete; validated, audited, one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.audit import services as audit
from warroom.automation.models import Trigger, Urgency, Workflow
from warroom.catalog.models import Service
from warroom.comms import outbox
from warroom.comms import services as comms
from warroom.comms.models import Delivery, RecipientKind
from warroom.incidents.models import RoleType
from warroom.incidents.priority import Priority
from warroom.incidents.services import TASK_TITLE_MAX
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.lib.ids import as_id

NAME_MAX = 100
MESSAGE_MAX = 2000
TASKS_MAX = 20
SECRET_MIN, SECRET_MAX = 16, 200


@dataclass
class WorkflowSpec:
    """What a workflow is, as its editor gives it (ids, slugs and plain values)."""

    name: str
    trigger: str
    enabled: bool = True
    priorities: list[int] = field(default_factory=list)
    services: list[int] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    roles: dict[str, int] = field(default_factory=dict)
    notify_users: list[int] = field(default_factory=list)
    notify_urgency: str = Urgency.HIGH
    message: str = ""
    #: an https URL that gets the incident as signed JSON ("": none)
    webhook_url: str = ""
    #: the webhook's signing secret ("": keep the one it has, or make one)
    webhook_secret: str = ""


@dataclass
class _Clean:
    values: dict[str, Any]
    services: list[Service]
    notify_users: list[User]
    #: ``{"signing_secret": …}``: the one given, else a new one (``_secret`` keeps an existing one instead)
    webhook_secret: dict[str, str]
    secret_given: bool


def _ids(values: list[int], *, field_name: str) -> list[int]:
    """``values`` as ids, in order, once each; a value no id can be (negative, beyond 64 bits) is a 400."""
    ids = [as_id(value) for value in values]
    bad = [str(value) for value, ident in zip(values, ids, strict=True) if ident is None]
    if bad:
        raise ValidationFailed(f"{field_name}: {', '.join(bad)} is not an id", field=field_name)
    return list(dict.fromkeys(i for i in ids if i is not None))


def _members(team: Team, user_ids: list[int], *, field_name: str) -> list[User]:
    wanted = _ids(user_ids, field_name=field_name)
    found = {
        u.pk: u for u in User.objects.filter(pk__in=wanted, is_active=True, memberships__team=team).distinct()
    }
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise ValidationFailed(
            f"{field_name}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not an active member of "
            f"{team.name}",
            field=field_name,
        )
    return [found[pk] for pk in wanted]


def _clean(team: Team, spec: WorkflowSpec) -> _Clean:
    name = (spec.name or "").strip()
    if not name:
        raise ValidationFailed("a workflow needs a name", field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"a workflow's name is at most {NAME_MAX} characters", field="name")
    if spec.trigger not in Trigger.values:
        raise ValidationFailed(f"trigger must be one of {', '.join(Trigger.values)}", field="trigger")
    priorities = sorted(set(spec.priorities))
    if any(p not in Priority.values for p in priorities):
        raise ValidationFailed("priorities are 1 to 5", field="priorities")
    service_ids = _ids(spec.services, field_name="services")
    services = list(Service.objects.filter(pk__in=service_ids, team=team))
    if len(services) != len(service_ids):
        known = {s.pk for s in services}
        missing = ", ".join(str(pk) for pk in service_ids if pk not in known)
        raise ValidationFailed(f"services: {missing} is not a service of {team.name}", field="services")
    tasks = [title.strip() for title in spec.tasks if title.strip()]
    if len(tasks) > TASKS_MAX:
        raise ValidationFailed(f"at most {TASKS_MAX} tasks", field="tasks")
    if any(len(title) > TASK_TITLE_MAX for title in tasks):
        raise ValidationFailed(f"a task's title is at most {TASK_TITLE_MAX} characters", field="tasks")
    known_roles = set(RoleType.objects.values_list("slug", flat=True))
    unknown = sorted(slug for slug in spec.roles if slug not in known_roles)
    if unknown:
        raise ValidationFailed(
            f"roles: {', '.join(unknown)} is not a role (one of {', '.join(sorted(known_roles))})",
            field="roles",
        )
    role_holders = _members(team, list(spec.roles.values()), field_name="roles") if spec.roles else []
    holders = {u.pk: u for u in role_holders}
    notify_users = _members(team, spec.notify_users, field_name="notify_users")
    if spec.notify_urgency not in Urgency.values:
        raise ValidationFailed("notify_urgency must be high or low", field="notify_urgency")
    message = (spec.message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise ValidationFailed(f"the message is at most {MESSAGE_MAX} characters", field="message")
    if notify_users and not message:
        raise ValidationFailed("say what to tell the people notified (message)", field="message")
    webhook_url, webhook_secret = _webhook(spec)
    if not (tasks or spec.roles or notify_users or message or webhook_url):
        raise ValidationFailed(
            "a workflow needs something to do: tasks, roles, people to notify, a message or a webhook",
            field="tasks",
        )
    return _Clean(
        values={
            "name": name,
            "trigger": spec.trigger,
            "enabled": bool(spec.enabled),
            "priorities": priorities,
            "tasks": tasks,
            "roles": {slug: holders[pk].pk for slug, pk in sorted(spec.roles.items())},
            "notify_urgency": spec.notify_urgency,
            "message": message,
            "webhook_url": webhook_url,
        },
        services=services,
        notify_users=notify_users,
        webhook_secret=webhook_secret,
        secret_given=bool((spec.webhook_secret or "").strip()),
    )


def _webhook(spec: WorkflowSpec) -> tuple[str, dict[str, str]]:
    """The webhook's URL and signing secret (a new one unless given); ("", {}) for none."""
    url = (spec.webhook_url or "").strip()
    secret = (spec.webhook_secret or "").strip()
    if not url:
        if secret:
            raise ValidationFailed("a signing secret needs a webhook URL", field="webhook_secret")
        return "", {}
    if secret and not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise ValidationFailed(
            f"a signing secret is {SECRET_MIN} to {SECRET_MAX} characters; leave it out to have one made",
            field="webhook_secret",
        )
    return comms.webhook_target(url, field="webhook_url", signing_secret=secret)


def _secret(clean: _Clean, current: dict[str, str]) -> tuple[dict[str, str], str]:
    """The signing secret to store, and the one to show this once (a new one only)."""
    if not clean.values["webhook_url"]:
        return {}, ""
    if clean.secret_given or not current.get("signing_secret"):
        made = "" if clean.secret_given else clean.webhook_secret["signing_secret"]
        return clean.webhook_secret, made
    return dict(current), ""


def describe(workflow: Workflow) -> dict[str, Any]:
    """The workflow as its audit rows record it."""
    return {
        "name": workflow.name,
        "team": workflow.team_id,
        "trigger": workflow.trigger,
        "enabled": workflow.enabled,
        "priorities": workflow.priorities,
        "services": sorted(s.pk for s in workflow.services.all()),
        "tasks": workflow.tasks,
        "roles": workflow.roles,
        "notify_users": sorted(u.pk for u in workflow.notify_users.all()),
        "notify_urgency": workflow.notify_urgency,
        "message": workflow.message,
        "webhook_url": workflow.webhook_url,
    }


def _require_manager(actor: User | None, team: Team) -> None:
    if actor is not None and not accounts.can_manage_team(actor, team.pk):
        raise PermissionDenied(f"only the admins and managers of {team.name} change its workflows")


def create_workflow(*, team: Team, spec: WorkflowSpec, actor: User | None, source: str) -> Workflow:
    _require_manager(actor, team)
    clean = _clean(team, spec)
    now = clock.now()
    secret, made = _secret(clean, {})
    try:
        with transaction.atomic():
            workflow = Workflow.objects.create(
                team=team, created_at=now, updated_at=now, webhook_secret=secret, **clean.values
            )
            workflow.services.set(clean.services)
            workflow.notify_users.set(clean.notify_users)
            audit.record(
                actor=actor, source=source, action="workflow.create", obj=workflow, after=describe(workflow)
            )
    except IntegrityError:
        raise Conflict(
            f"{team.name} already has a workflow named {clean.values['name']!r}", field="name"
        ) from None
    workflow.revealed_secret = made
    return workflow


def update_workflow(*, workflow: Workflow, spec: WorkflowSpec, actor: User | None, source: str) -> Workflow:
    _require_manager(actor, workflow.team)
    clean = _clean(workflow.team, spec)
    try:
        with transaction.atomic():
            locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
            before = describe(locked)
            for name, value in clean.values.items():
                setattr(locked, name, value)
            locked.webhook_secret, made = _secret(clean, dict(locked.webhook_secret or {}))
            locked.updated_at = clock.now()
            locked.save()
            locked.services.set(clean.services)
            locked.notify_users.set(clean.notify_users)
            after = describe(locked)
            if made or clean.secret_given:  # the audit row says that the secret changed, never what it is
                after["webhook_secret"] = "changed"
            if after != before:
                audit.record(
                    actor=actor,
                    source=source,
                    action="workflow.update",
                    obj=locked,
                    before=before,
                    after=after,
                )
    except IntegrityError:
        raise Conflict(
            f"{workflow.team.name} already has a workflow named {clean.values['name']!r}", field="name"
        ) from None
    locked.revealed_secret = made
    return locked


def delete_workflow(*, workflow: Workflow, actor: User | None, source: str) -> None:
    _require_manager(actor, workflow.team)
    with transaction.atomic():
        if not Workflow.objects.select_for_update().filter(pk=workflow.pk).exists():
            return  # deleted meanwhile: once is enough, and so is one audit row
        audit.record(
            actor=actor,
            source=source,
            action="workflow.delete",
            obj=workflow,
            before=describe(workflow),
            team=workflow.team,
        )
        workflow.delete()


#: a test call is a ``warroom.test`` message to the webhook, as a contact method's test message is
TEST_CATEGORY = "test"


def queue_webhook_call(
    workflow: Workflow, *, subject: str, body: str, context: dict[str, Any], dedup_key: str, category: str
) -> Delivery | None:
    """Queue one signed call of ``workflow``'s webhook in the subscriber outbox (``comms.deliver`` sends it), in
    the caller's transaction; None when ``dedup_key`` was queued already."""
    return outbox.enqueue(
        kind=RecipientKind.WEBHOOK,
        address=workflow.webhook_url,
        secret=dict(workflow.webhook_secret),  # the outbox adds the URL
        subject=subject,
        body=body,
        context=context,
        dedup_key=dedup_key,
        category=category,
    )


def send_test_call(*, workflow: Workflow, actor: User | None, source: str) -> Delivery:
    """Queue a test call of the workflow's webhook (team admins and managers): signed like a real call, with the
    workflow and no incident, sent by the subscriber outbox within seconds. The workflow keeps it as its last
    test call, whose status its page shows."""
    _require_manager(actor, workflow.team)
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if not locked.webhook_url:
            raise ValidationFailed("the workflow has no webhook to test", field="webhook_url")
        page = settings.WARROOM_BASE_URL.rstrip("/") + reverse("web:workflow-detail", args=[locked.pk])
        delivery = queue_webhook_call(
            locked,
            subject=f"Test call from the workflow {locked.name}",
            body="A test of this webhook from Warroom. No incident: nothing to do.",
            context={
                "event": "workflow.test",
                "url": page,
                "workflow": {"id": locked.pk, "name": locked.name, "trigger": locked.trigger},
            },
            dedup_key=f"workflow-test:{locked.pk}:{uuid.uuid4().hex}",
            category=TEST_CATEGORY,
        )
        assert delivery is not None  # a fresh dedup key: always inserted
        locked.last_test_call = delivery
        locked.save(update_fields=["last_test_call"])
        audit.record(actor=actor, source=source, action="workflow.webhook_test", obj=locked)
    workflow.last_test_call = delivery
    return delivery
