"""Every change to an incident. Each service runs in one transaction, locks the incident row, writes the
change, its timeline entries and its audit row together, and bumps ``version`` with a compare-and-set, so two
people acting at once get one winner and one clear refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, TextChoices

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.engine import wake
from warroom.incidents import selectors
from warroom.incidents.models import (
    Category,
    Counter,
    EntryKind,
    Incident,
    IncidentRole,
    PriorityRule,
    RoleType,
    Subcategory,
    Task,
    TimelineEntry,
    Watcher,
)
from warroom.incidents.priority import Priority
from warroom.incidents.signals import incident_declared, incident_transitioned, incident_updated
from warroom.incidents.states import FINAL_STATES, TRANSITIONS, HoldReason, ResolutionCode, State, refusal
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed

TITLE_MAX = 200
TEXT_MAX = 50_000
NOTE_MAX = 20_000
TASK_TITLE_MAX = 300

_UNSET: Any = object()


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _display(value: Any) -> str:
    """How a field value reads on the timeline."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, User):
        return value.display_name
    if isinstance(value, Incident):
        return value.ref
    return str(value)


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "state": incident.state,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "priority": incident.priority,
        "team": incident.team_id,
        "assignee": incident.assignee_id,
        "category": incident.category_id,
        "subcategory": incident.subcategory_id,
        "hold_reason": incident.hold_reason,
        "resolution_code": incident.resolution_code,
        "is_major": incident.is_major,
        "is_private": incident.is_private,
        "parent": incident.parent_id,
        "version": incident.version,
    }


def _entry(
    incident: Incident,
    *,
    actor: User | None,
    source: str,
    kind: str,
    at: datetime,
    field: str = "",
    old: Any = "",
    new: Any = "",
    message: str = "",
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident,
        at=at,
        actor=actor,
        source=source,
        kind=kind,
        field=field,
        old_value=_display(old) if old != "" else "",
        new_value=_display(new) if new != "" else "",
        message=message,
    )


@contextmanager
def _locked(incident: Incident, expected_version: int | None = None) -> Iterator[Incident]:
    """Open the transaction and lock the incident row; refuse if the caller saw an older version.

    The lock is ``FOR NO KEY UPDATE`` (the incident's id does not change): it keeps other writers of the incident
    out, but a row that only refers to it (an alert, a timeline line, a task) can check its foreign key
    meanwhile instead of waiting for the edit to commit."""
    with transaction.atomic():
        locked = (
            Incident.objects.select_for_update(of=("self",), no_key=True)
            .select_related("team", "assignee", "category", "subcategory", "parent")
            .get(pk=incident.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(
                f"{locked.ref} was changed by someone else meanwhile (version {locked.version}, "
                f"you had {expected_version}); reload and try again",
                field="version",
            )
        yield locked


def _save(locked: Incident, values: dict[str, Any], now: datetime) -> None:
    """Compare-and-set write of ``values``; bumps the version."""
    updated = Incident.objects.filter(pk=locked.pk, version=locked.version).update(
        **values, version=F("version") + 1, updated_at=now
    )
    if updated != 1:  # pragma: no cover - the row lock makes this unreachable; kept as a guard
        raise Conflict(f"{locked.ref} was changed by someone else meanwhile; reload and try again")
    for key, value in values.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.updated_at = now


def _require_edit(actor: User | None, incident: Incident) -> None:
    if actor is not None and not selectors.can_edit(actor, incident):
        raise PermissionDenied(f"you may view {incident.ref} but not change it")


def _require_open_record(incident: Incident) -> None:
    if incident.state in FINAL_STATES:
        raise Conflict(
            f"{incident.ref} is {State(incident.state).label}; it can no longer be changed", field="state"
        )


def _clean_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationFailed("the title must not be empty", field="title")
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise ValidationFailed(
            f"the title is at most {TITLE_MAX} characters (got {len(title)})", field="title"
        )
    return title


def _clean_text(value: Any, *, field: str, limit: int = TEXT_MAX, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    if required and not value.strip():
        raise ValidationFailed(f"{field.replace('_', ' ')} must not be empty", field=field)
    if len(value) > limit:
        raise ValidationFailed(
            f"{field.replace('_', ' ')} is at most {limit} characters (got {len(value)})", field=field
        )
    return value


def _check_level(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in (1, 2, 3):
        raise ValidationFailed(f"{field} must be 1 (High), 2 (Medium) or 3 (Low)", field=field)
    return value


def _check_choice(value: Any, choices: type[TextChoices], *, field: str, needed_for: str) -> None:
    """A hold reason or resolution code: a missing one and a wrong one are told apart; both list the values."""
    allowed = ", ".join(choices.values)
    if value is None or value == "":
        raise ValidationFailed(f"{needed_for} needs a {field}: one of {allowed}", field=field)
    if value not in choices.values:
        raise ValidationFailed(f"{field} {value!r} is not one of the allowed values: {allowed}", field=field)


def _check_assignee(assignee: User | None, team: Team) -> None:
    if assignee is not None and not accounts.is_member_acting(assignee.pk, team.pk):
        raise ValidationFailed(
            f"{assignee.display_name} cannot be the assignee: they are not a responder in {team.name}",
            field="assignee",
        )


def _check_category(category: Category | None, subcategory: Subcategory | None) -> None:
    if subcategory is not None and (category is None or subcategory.category_id != category.pk):
        raise ValidationFailed(
            f"subcategory {subcategory.name!r} does not belong to category "
            f"{category.name if category else '(none)'!r}",
            field="subcategory",
        )


def _check_parent(incident: Incident, parent: Incident | None) -> None:
    """Refuse a parent that is the incident itself or one of its descendants (walks the stored chain)."""
    node_id: int | None = parent.pk if parent is not None else None
    for _ in range(100):
        if node_id is None:
            return
        if node_id == incident.pk:
            raise ValidationFailed("an incident cannot be its own parent or ancestor", field="parent")
        node_id = Incident.objects.filter(pk=node_id).values_list("parent_id", flat=True).first()
    raise ValidationFailed("the parent chain is deeper than 100 incidents", field="parent")


def _child_line(
    parent: Incident, child: Incident, *, attached: bool, actor: User | None, source: str, at: datetime
) -> None:
    """The parent's side of a change of ``child``'s parent (the child's side is its own field line). It names
    the child; a viewer who may not see the child reads a neutral line instead (``selectors.hide_unseen``)."""
    verb = "attached" if attached else "detached"
    _entry(
        parent,
        actor=actor,
        source=source,
        kind=EntryKind.LINK,
        at=at,
        field="child",
        old="" if attached else child.ref,
        new=child.ref if attached else "",
        message=f"Child incident {verb}: {child.ref} {child.title}",
    )


def _next_number() -> int:
    """Take the next incident number; the row update holds the counter's lock until commit."""
    Counter.objects.get_or_create(name="incident", defaults={"value": 1000})
    Counter.objects.filter(name="incident").update(value=F("value") + 1)
    return Counter.objects.get(name="incident").value


# ---------------------------------------------------------------------------------------------------------------
# declare and update


def declare_incident(
    *,
    actor: User | None,
    source: str,
    title: str,
    team: Team,
    description: str = "",
    services: Iterable[Service] = (),
    impact: int = 2,
    urgency: int = 2,
    category: Category | None = None,
    subcategory: Subcategory | None = None,
    assignee: User | None = None,
    is_major: bool = False,
    is_private: bool = False,
    parent: Incident | None = None,
    reporter: User | None = _UNSET,
    opened_at: datetime | None = None,
) -> Incident:
    """Open a new incident in state New. ``opened_at`` backdates it (imports and demo data only)."""
    title = _clean_title(title)
    description = _clean_text(description, field="description")
    impact = _check_level(impact, "impact")
    urgency = _check_level(urgency, "urgency")
    if actor is not None and not accounts.can_act_for_team(actor, team.pk):
        raise PermissionDenied(f"you cannot declare incidents for {team.name}", field="team")
    _check_assignee(assignee, team)
    _check_category(category, subcategory)
    services = list(services)
    now = opened_at or clock.now()
    reporter = actor if reporter is _UNSET else reporter
    with transaction.atomic():
        incident = Incident.objects.create(
            number=_next_number(),
            title=title,
            description=description,
            reporter=reporter,
            category=category,
            subcategory=subcategory,
            impact=impact,
            urgency=urgency,
            priority=selectors.priority_for(impact, urgency),
            team=team,
            assignee=assignee,
            is_major=is_major,
            is_private=is_private,
            parent=parent,
            opened_at=now,
            updated_at=now,
        )
        if services:
            incident.services.set(services)
        if parent is not None:
            _child_line(parent, incident, attached=True, actor=actor, source=source, at=now)
        parts = [f"Priority {Priority(incident.priority).label}", f"assigned to {team.name}"]
        if assignee:
            parts.append(f"assignee {assignee.display_name}")
        if services:
            parts.append("services " + ", ".join(s.name for s in services))
        _entry(
            incident,
            actor=actor,
            source=source,
            kind=EntryKind.CREATED,
            at=now,
            message=f"Declared: {title}. " + "; ".join(parts) + ".",
        )
        audit.record(
            actor=actor, source=source, action="incident.declare", obj=incident, after=_snapshot(incident)
        )
        incident_declared.send(sender=Incident, incident=incident, at=now)
        wake.soon(
            "paging.escalate"
        )  # its escalation starts in the engine's next wake-up, not at its next cycle
    return incident


_FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "impact": "Impact",
    "urgency": "Urgency",
    "priority": "Priority",
    "category": "Category",
    "subcategory": "Subcategory",
    "team": "Assignment group",
    "assignee": "Assignee",
    "is_major": "Major incident",
    "is_private": "Private",
    "parent": "Parent incident",
    "services": "Services",
}


def update_incident(
    *,
    incident: Incident,
    actor: User | None,
    source: str,
    expected_version: int | None = None,
    title: str = _UNSET,
    description: str = _UNSET,
    impact: int = _UNSET,
    urgency: int = _UNSET,
    category: Category | None = _UNSET,
    subcategory: Subcategory | None = _UNSET,
    team: Team = _UNSET,
    assignee: User | None = _UNSET,
    is_major: bool = _UNSET,
    is_private: bool = _UNSET,
    parent: Incident | None = _UNSET,
    services: Iterable[Service] = _UNSET,
) -> Incident:
    """Change any of the record's fields. Only fields passed are touched; each change is one timeline entry."""
    asked: dict[str, Any] = {
        key: value
        for key, value in {
            "title": title,
            "description": description,
            "impact": impact,
            "urgency": urgency,
            "category": category,
            "subcategory": subcategory,
            "team": team,
            "assignee": assignee,
            "is_major": is_major,
            "is_private": is_private,
            "parent": parent,
        }.items()
        if value is not _UNSET
    }
    if "title" in asked:
        asked["title"] = _clean_title(asked["title"])
    if "description" in asked:
        if asked["description"] is None:  # "" clears it; a null is more likely a mistake than a wish
            raise ValidationFailed(
                'description cannot be null; send "" for no description', field="description"
            )
        asked["description"] = _clean_text(asked["description"], field="description")
    for level in ("impact", "urgency"):
        if level in asked:
            _check_level(asked[level], level)
    for flag in ("is_major", "is_private"):
        if flag in asked and not isinstance(asked[flag], bool):
            raise ValidationFailed(f"{flag} must be true or false", field=flag)

    with _locked(incident, expected_version) as locked:
        _require_edit(actor, locked)
        _require_open_record(locked)
        now = clock.now()
        before = _snapshot(locked)
        values: dict[str, Any] = {}
        changes: list[tuple[str, Any, Any]] = []

        for key, value in asked.items():
            current = getattr(locked, key)
            if current != value:
                values[key] = value
                changes.append((key, current, value))

        if "team" in values and actor is not None and not accounts.can_act_for_team(actor, values["team"].pk):
            raise PermissionDenied(f"you cannot assign incidents to {values['team'].name}", field="team")
        new_team = values.get("team", locked.team)
        new_assignee = values.get("assignee", locked.assignee)
        moved_away = "team" in values and new_assignee is not None and "assignee" not in asked
        if (
            moved_away
            and new_assignee is not None
            and not accounts.is_member_acting(new_assignee.pk, new_team.pk)
        ):
            # The assignee does not belong to the new group: the group picks a new one.
            values["assignee"] = None
            changes.append(("assignee", locked.assignee, None))
            new_assignee = None
        if "assignee" in values or "team" in values:
            _check_assignee(new_assignee, new_team)
        if "category" in values or "subcategory" in values:
            new_category = values.get("category", locked.category)
            new_sub = values.get("subcategory", locked.subcategory)
            if (
                "category" in values
                and "subcategory" not in asked
                and new_sub is not None
                and new_sub.category_id != (new_category.pk if new_category else None)
            ):
                values["subcategory"] = None
                changes.append(("subcategory", locked.subcategory, None))
                new_sub = None
            _check_category(new_category, new_sub)
        if "parent" in values:
            _check_parent(locked, values["parent"])
        if "impact" in values or "urgency" in values:
            priority = selectors.priority_for(
                values.get("impact", locked.impact), values.get("urgency", locked.urgency)
            )
            if priority != locked.priority:
                values["priority"] = priority
                changes.append(("priority", Priority(locked.priority).label, Priority(priority).label))

        service_change: tuple[list[str], list[str]] | None = None
        if services is not _UNSET:
            new_services = list(services)
            old_names = sorted(s.name for s in locked.services.all())
            new_names = sorted(s.name for s in new_services)
            if old_names != new_names:
                service_change = (old_names, new_names)

        if not values and service_change is None:
            return locked
        before_parent = locked.parent
        _save(locked, values, now)
        if service_change is not None:
            locked.services.set(new_services)
            changes.append(("services", ", ".join(service_change[0]), ", ".join(service_change[1])))
        if "parent" in values:
            for linked, attached in ((before_parent, False), (values["parent"], True)):
                if linked is not None:
                    _child_line(linked, locked, attached=attached, actor=actor, source=source, at=now)
        for key, old, new in changes:
            if key in ("impact", "urgency"):
                old, new = f"{old}", f"{new}"
            if key == "description":
                _entry(
                    locked,
                    actor=actor,
                    source=source,
                    kind=EntryKind.FIELD,
                    at=now,
                    field=key,
                    message="Description edited.",
                )
                continue
            _entry(
                locked,
                actor=actor,
                source=source,
                kind=EntryKind.FIELD,
                at=now,
                field=key,
                old=old,
                new=new,
                message=f"{_FIELD_LABELS[key]}: {_display(old)} → {_display(new)}",
            )
        audit.record(
            actor=actor,
            source=source,
            action="incident.update",
            obj=locked,
            before=before,
            after=_snapshot(locked),
        )
        incident_updated.send(
            sender=Incident, incident=locked, changed=frozenset(c[0] for c in changes), at=now
        )
        return locked


# ---------------------------------------------------------------------------------------------------------------
# state


def transition_incident(
    *,
    incident: Incident,
    actor: User | None,
    source: str,
    to: str,
    hold_reason: str = "",
    resolution_code: str = "",
    resolution_notes: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Incident:
    """Move the incident to state ``to`` if the transition table allows it from its current state."""
    if to not in State.values:
        raise ValidationFailed(f"unknown state {to!r}; states are {', '.join(State.values)}", field="to")
    note = _clean_text(note, field="note", limit=NOTE_MAX)
    if to == State.ON_HOLD:
        _check_choice(hold_reason, HoldReason, field="hold_reason", needed_for="putting an incident on hold")
    if to == State.RESOLVED:
        _check_choice(resolution_code, ResolutionCode, field="resolution_code", needed_for="resolving")
        resolution_notes = _clean_text(resolution_notes, field="resolution_notes", required=True)

    with _locked(incident, expected_version) as locked:
        _require_edit(actor, locked)
        frm = locked.state
        if (State(frm), State(to)) not in TRANSITIONS:
            raise Conflict(f"{locked.ref}: {refusal(frm, to)}", field="state")
        now = clock.now()
        before = _snapshot(locked)
        values: dict[str, Any] = {"state": to, "hold_reason": hold_reason if to == State.ON_HOLD else ""}
        # The first response: a move to In Progress or On Hold (by anyone, a source's acknowledgement included),
        # or a person resolving. The system resolving a New incident (its alerts resolved) is no response: the
        # incident stays "never acknowledged" and its response clock does not count as met.
        if locked.acknowledged_at is None and (
            to in (State.IN_PROGRESS, State.ON_HOLD) or (to == State.RESOLVED and actor is not None)
        ):
            values["acknowledged_at"] = now
        detail = ""
        if to == State.ON_HOLD:
            detail = f" ({HoldReason(hold_reason).label})"
        elif to == State.RESOLVED:
            values.update(resolved_at=now, resolution_code=resolution_code, resolution_notes=resolution_notes)
            detail = f" ({ResolutionCode(resolution_code).label}): {resolution_notes}"
        elif to == State.CLOSED:
            values["closed_at"] = now
        elif to == State.CANCELED:
            values["canceled_at"] = now
        elif frm == State.RESOLVED and to == State.IN_PROGRESS:
            values.update(
                resolved_at=None,
                resolution_code="",
                resolution_notes="",
                reopen_count=locked.reopen_count + 1,
            )
            detail = " (reopened)"
        _save(locked, values, now)
        incident_transitioned.send(
            sender=Incident,
            incident=locked,
            frm=frm,
            to=to,
            acknowledged="acknowledged_at" in values,
            at=now,
        )
        _entry(
            locked,
            actor=actor,
            source=source,
            kind=EntryKind.STATE,
            at=now,
            field="state",
            old=State(frm).label,
            new=State(to).label,
            message=f"State: {State(frm).label} → {State(to).label}{detail}",
        )
        if note.strip():
            _entry(locked, actor=actor, source=source, kind=EntryKind.NOTE, at=now, message=note)
        audit.record(
            actor=actor,
            source=source,
            action=f"incident.{TRANSITIONS[(State(frm), State(to))]}",
            obj=locked,
            before=before,
            after=_snapshot(locked),
        )
        return locked


def close_resolved_incidents(*, older_than: datetime, limit: int = 100) -> int:
    """Close incidents resolved before ``older_than`` (the auto-close engine module). Returns how many."""
    closed = 0
    with transaction.atomic():
        due = list(
            Incident.objects.select_for_update(skip_locked=True)
            .filter(state=State.RESOLVED, resolved_at__lt=older_than)
            .order_by("resolved_at")[:limit]
        )
        for incident in due:
            now = clock.now()
            before = _snapshot(incident)
            _save(incident, {"state": State.CLOSED, "closed_at": now}, now)
            _entry(
                incident,
                actor=None,
                source="engine",
                kind=EntryKind.STATE,
                at=now,
                field="state",
                old=State.RESOLVED.label,
                new=State.CLOSED.label,
                message="State: Resolved → Closed (closed automatically after the resolution period)",
            )
            audit.record(
                actor=None,
                source="engine",
                action="incident.close",
                obj=incident,
                before=before,
                after=_snapshot(incident),
            )
            closed += 1
    return closed


# ---------------------------------------------------------------------------------------------------------------
# notes, roles, tasks, watchers, links


def add_note(*, incident: Incident, actor: User, source: str, text: str) -> TimelineEntry:
    """Add a note to the timeline. Anyone who may change the incident, or takes part in it, may write one."""
    text = _clean_text(text, field="text", limit=NOTE_MAX, required=True)
    if not selectors.can_write_notes(actor, incident):
        raise PermissionDenied(f"you may view {incident.ref} but not write on it")
    with transaction.atomic():
        now = clock.now()
        entry = _entry(incident, actor=actor, source=source, kind=EntryKind.NOTE, at=now, message=text)
        Incident.objects.filter(pk=incident.pk).update(updated_at=now)
        audit.record(
            actor=actor, source=source, action="incident.note", obj=incident, after={"entry": entry.pk}
        )
    return entry


def assign_role(
    *,
    incident: Incident,
    role_type: RoleType,
    user: User,
    actor: User | None,
    source: str,
    replace: bool = False,
) -> IncidentRole:
    """Give ``role_type`` to ``user``. Without ``replace`` this is a claim: it fails if someone holds it."""
    with _locked(incident) as locked:
        _require_edit(actor, locked)
        _require_open_record(locked)
        now = clock.now()
        current = (
            IncidentRole.objects.select_related("user").filter(incident=locked, role_type=role_type).first()
        )
        if current is not None and current.user_id == user.pk:
            return current
        if current is not None and not replace:
            raise Conflict(
                f"{role_type.name} on {locked.ref} is already held by {current.user.display_name}",
                field="role",
            )
        old_holder = current.user if current is not None else None
        if current is not None:
            current.delete()
        try:
            with transaction.atomic():
                role = IncidentRole.objects.create(
                    incident=locked, role_type=role_type, user=user, assigned_at=now
                )
        except IntegrityError:  # pragma: no cover - the row lock serialises claims; kept as a guard
            raise Conflict(f"{role_type.name} on {locked.ref} was just taken", field="role") from None
        _save(locked, {}, now)
        _entry(
            locked,
            actor=actor,
            source=source,
            kind=EntryKind.ROLE,
            at=now,
            field=role_type.slug,
            old=old_holder or "",
            new=user,
            message=f"{role_type.name}: {_display(old_holder)} → {user.display_name}",
        )
        audit.record(
            actor=actor,
            source=source,
            action="incident.role.assign",
            obj=locked,
            before={"role": role_type.slug, "user": old_holder.pk if old_holder else None},
            after={"role": role_type.slug, "user": user.pk},
        )
        return role


def release_role(*, incident: Incident, role_type: RoleType, actor: User | None, source: str) -> None:
    with _locked(incident) as locked:
        _require_edit(actor, locked)
        _require_open_record(locked)
        current = (
            IncidentRole.objects.select_related("user").filter(incident=locked, role_type=role_type).first()
        )
        if current is None:
            raise Conflict(f"nobody holds {role_type.name} on {locked.ref}", field="role")
        now = clock.now()
        holder = current.user
        current.delete()
        _save(locked, {}, now)
        _entry(
            locked,
            actor=actor,
            source=source,
            kind=EntryKind.ROLE,
            at=now,
            field=role_type.slug,
            old=holder,
            message=f"{role_type.name}: {holder.display_name} stepped down",
        )
        audit.record(
            actor=actor,
            source=source,
            action="incident.role.release",
            obj=locked,
            before={"role": role_type.slug, "user": holder.pk},
        )


def add_task(
    *, incident: Incident, actor: User | None, source: str, title: str, owner: User | None = None
) -> Task:
    title = _clean_text(title, field="title", limit=TASK_TITLE_MAX, required=True).strip()
    with _locked(incident) as locked:
        _require_edit(actor, locked)
        _require_open_record(locked)
        now = clock.now()
        task = Task.objects.create(
            incident=locked, title=title, owner=owner, created_at=now, created_by=actor
        )
        _save(locked, {}, now)
        owner_text = f" (owner {owner.display_name})" if owner else ""
        _entry(
            locked,
            actor=actor,
            source=source,
            kind=EntryKind.TASK,
            at=now,
            field="task",
            message=f"Task added: {title}{owner_text}",
        )
        audit.record(
            actor=actor,
            source=source,
            action="incident.task.add",
            obj=locked,
            after={"task": task.pk, "title": title, "owner": owner.pk if owner else None},
        )
        return task


def update_task(
    *,
    task: Task,
    actor: User | None,
    source: str,
    done: bool = _UNSET,
    owner: User | None = _UNSET,
    title: str = _UNSET,
) -> Task:
    """Tick a task off (or back on), give it to someone, or rename it. The owner may tick their own task."""
    with _locked(task.incident) as locked:
        if actor is not None and not (selectors.can_edit(actor, locked) or task.owner_id == actor.pk):
            raise PermissionDenied(f"you may view {locked.ref} but not change its tasks")
        _require_open_record(locked)
        fresh = Task.objects.select_for_update(of=("self",)).select_related("owner").get(pk=task.pk)
        now = clock.now()
        messages: list[str] = []
        if title is not _UNSET:
            new_title = _clean_text(title, field="title", limit=TASK_TITLE_MAX, required=True).strip()
            if new_title != fresh.title:
                messages.append(f"Task renamed: {fresh.title} → {new_title}")
                fresh.title = new_title
        if owner is not _UNSET and owner != fresh.owner:
            messages.append(f"Task {fresh.title!r} owner: {_display(fresh.owner)} → {_display(owner)}")
            fresh.owner = owner
        if done is not _UNSET:
            if not isinstance(done, bool):
                raise ValidationFailed("done must be true or false", field="done")
            if done and fresh.done_at is None:
                fresh.done_at, fresh.done_by = now, actor
                messages.append(f"Task done: {fresh.title}")
            elif not done and fresh.done_at is not None:
                fresh.done_at, fresh.done_by = None, None
                messages.append(f"Task reopened: {fresh.title}")
        if not messages:
            return fresh
        fresh.save()
        _save(locked, {}, now)
        for message in messages:
            _entry(
                locked, actor=actor, source=source, kind=EntryKind.TASK, at=now, field="task", message=message
            )
        audit.record(
            actor=actor,
            source=source,
            action="incident.task.update",
            obj=locked,
            after={"task": fresh.pk, "title": fresh.title, "done": fresh.is_done, "owner": fresh.owner_id},
        )
        return fresh


def set_watching(*, incident: Incident, user: User, watching: bool, actor: User | None, source: str) -> bool:
    """Start or stop ``user`` watching the incident. Returns whether anything changed."""
    if actor is not None and actor.pk != user.pk:
        _require_edit(actor, incident)
    with transaction.atomic():
        now = clock.now()
        if watching:
            _watcher, created = Watcher.objects.get_or_create(
                incident=incident, user=user, defaults={"created_at": now}
            )
            if not created:
                return False
            message = f"{user.display_name} is watching"
        else:
            deleted, _ = Watcher.objects.filter(incident=incident, user=user).delete()
            if not deleted:
                return False
            message = f"{user.display_name} stopped watching"
        _entry(incident, actor=actor, source=source, kind=EntryKind.WATCH, at=now, message=message)
        audit.record(
            actor=actor,
            source=source,
            action="incident.watch" if watching else "incident.unwatch",
            obj=incident,
            after={"user": user.pk},
        )
        return True


def link_related(
    *, incident: Incident, other: Incident, actor: User | None, source: str, linked: bool = True
) -> None:
    """Mark two incidents as related (both timelines say so), or undo it."""
    if other.pk == incident.pk:
        raise ValidationFailed("an incident cannot be related to itself", field="related")
    with _locked(incident) as locked:
        _require_edit(actor, locked)
        now = clock.now()
        exists = locked.related.filter(pk=other.pk).exists()
        if exists == linked:
            return
        if linked:
            locked.related.add(other)
        else:
            locked.related.remove(other)
        verb = "Related to" if linked else "No longer related to"
        _entry(
            locked,
            actor=actor,
            source=source,
            kind=EntryKind.LINK,
            at=now,
            field="related",
            message=f"{verb} {other.ref}",
        )
        _entry(
            other,
            actor=actor,
            source=source,
            kind=EntryKind.LINK,
            at=now,
            field="related",
            message=f"{verb} {locked.ref}",
        )
        audit.record(
            actor=actor,
            source=source,
            action="incident.relate" if linked else "incident.unrelate",
            obj=locked,
            after={"other": other.pk},
        )


#: What another app moves when a duplicate is merged: given the two locked incidents (duplicate, kept) and who
#: merged them ("Bob Responder (web)"), it moves its rows of the duplicate to the kept incident, in the merge's
#: transaction, and says what it moved for the timelines ("" when nothing). The alerts app registers one.
Mover = Callable[[Incident, Incident, str], str]
_MOVERS: list[Mover] = []


def moves_on_merge(mover: Mover) -> None:
    """Register ``mover`` (once) to run in every :func:`merge_incident` (from an app's ``ready``)."""
    if mover not in _MOVERS:
        _MOVERS.append(mover)


def merge_incident(*, incident: Incident, into: Incident, actor: User | None, source: str) -> Incident:
    """Merge the duplicate ``incident`` into ``into``: in one transaction, with both rows locked (lowest id
    first), the registered movers carry over what their apps own (the alerts:
    :func:`warroom.alerts.actions.move_alerts_on_merge`), the duplicate's children become ``into``'s, its watchers
    who may see ``into`` watch it too, and the duplicate is canceled with a note naming ``into`` and keeps it in
    ``merged_into``; both timelines say so. Both must be open, different, and changeable by ``actor``. Returns
    ``into``, reloaded."""
    if into.pk == incident.pk:
        raise ValidationFailed("an incident cannot be merged into itself", field="into")
    with transaction.atomic():
        rows = {
            row.pk: row
            for row in Incident.objects.select_for_update(of=("self",), no_key=True)
            .select_related("team")
            .filter(pk__in=[incident.pk, into.pk])
            .order_by("pk")
        }
        dup, keep = rows[incident.pk], rows[into.pk]
        for row in (dup, keep):
            _require_edit(actor, row)
            if row.state not in (State.NEW, State.IN_PROGRESS, State.ON_HOLD):
                raise Conflict(
                    f"{row.ref} is {State(row.state).label}; only open incidents are merged", field="into"
                )
        now = clock.now()
        who = actor.display_name if actor is not None else "Warroom"
        moved = "; ".join(m for m in (mover(dup, keep, f"{who} ({source})") for mover in _MOVERS) if m)
        # the duplicate's children (not ``keep`` itself) move to ``keep``; if ``keep`` was its child, it takes
        # the duplicate's place under the duplicate's parent
        children = list(Incident.objects.filter(parent=dup).exclude(pk=keep.pk).order_by("pk"))
        for child in children:
            _check_parent(child, keep)

        def new_parent(row: Incident, parent: Incident | None, why: str) -> None:
            _entry(
                row,
                actor=actor,
                source=source,
                kind=EntryKind.FIELD,
                at=now,
                field="parent",
                old=dup.ref,
                new=parent.ref if parent else "",
                message=f"Parent: {dup.ref} → {parent.ref if parent else '(none)'} ({why})",
            )

        if keep.parent_id == dup.pk:
            _check_parent(keep, dup.parent)
            _save(keep, {"parent": dup.parent}, now)
            new_parent(keep, dup.parent, f"{dup.ref} was merged into this incident")
        for child in children:
            Incident.objects.filter(pk=child.pk).update(parent=keep, version=F("version") + 1, updated_at=now)
            new_parent(child, keep, f"{dup.ref} was merged into {keep.ref}")
            _child_line(keep, child, attached=True, actor=actor, source=source, at=now)
        watching = set(Watcher.objects.filter(incident=keep).values_list("user_id", flat=True))
        joining = [
            w.user
            for w in Watcher.objects.filter(incident=dup).select_related("user").order_by("pk")
            if w.user_id not in watching and selectors.visible_incidents(w.user).filter(pk=keep.pk).exists()
        ]
        Watcher.objects.bulk_create([Watcher(incident=keep, user=u, created_at=now) for u in joining])
        details = "; ".join(
            part
            for part in (
                moved,
                f"children moved: {', '.join(c.ref for c in children)}" if children else "",
                f"now watching: {', '.join(u.display_name for u in joining)}" if joining else "",
            )
            if part
        )
        _save(dup, {"merged_into": keep}, now)
        transition_incident(incident=dup, actor=actor, source=source, to=State.CANCELED)
        said = f" by {who}" + (f" ({details})" if details else "")
        for line_on, other, message in (
            (keep, dup, f"{dup.ref} was merged into this incident{said}"),
            (dup, keep, f"Merged into {keep.ref}{said}"),
        ):
            _entry(
                line_on,
                actor=actor,
                source=source,
                kind=EntryKind.LINK,
                at=now,
                field="merged",
                new=other.ref,
                message=message,
            )
        audit.record(
            actor=actor,
            source=source,
            action="incident.merge",
            obj=dup,
            after={
                "into": keep.pk,
                "children": [c.pk for c in children],
                "watchers": [u.pk for u in joining],
            },
        )
        return Incident.objects.select_related("team", "assignee").get(pk=keep.pk)


def set_priority_rule(
    *, impact: int, urgency: int, priority: int, actor: User | None, source: str
) -> PriorityRule:
    """Edit one cell of the priority matrix (organisation admins). Existing incidents keep their priority."""
    _check_level(impact, "impact")
    _check_level(urgency, "urgency")
    if not isinstance(priority, int) or isinstance(priority, bool) or priority not in Priority.values:
        raise ValidationFailed("priority must be 1 to 5", field="priority")
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins edit the priority matrix")
    with transaction.atomic():
        rule = PriorityRule.objects.select_for_update().filter(impact=impact, urgency=urgency).first()
        before = {"priority": rule.priority} if rule else None
        if rule is None:
            rule = PriorityRule.objects.create(impact=impact, urgency=urgency, priority=priority)
        else:
            rule.priority = priority
            rule.save(update_fields=["priority"])
        audit.record(
            actor=actor,
            source=source,
            action="priority_matrix.set",
            obj=rule,
            before=before,
            after={"impact": impact, "urgency": urgency, "priority": priority},
        )
    return rule


# ---------------------------------------------------------------------------------------------------------------
# alerts


def record_alert(
    *, incident: Incident, source: str, message: str, at: datetime | None = None
) -> TimelineEntry:
    """Write the timeline line of an alert that opened, joined or left ``incident`` (the alert engine)."""
    with transaction.atomic():
        now = at or clock.now()
        entry = _entry(
            incident, actor=None, source=source, kind=EntryKind.LINK, at=now, field="alert", message=message
        )
        Incident.objects.filter(pk=incident.pk).update(updated_at=now)
    return entry


def record_workflow(*, incident: Incident, source: str, message: str) -> TimelineEntry:
    """Write the timeline line of a workflow run on ``incident`` (what it did, what it could not do)."""
    with transaction.atomic():
        now = clock.now()
        entry = _entry(
            incident,
            actor=None,
            source=source,
            kind=EntryKind.LINK,
            at=now,
            field="workflow",
            message=message,
        )
        Incident.objects.filter(pk=incident.pk).update(updated_at=now)
    return entry


def record_paging(
    *, incident: Incident, source: str, message: str, at: datetime | None = None
) -> TimelineEntry:
    """Write a timeline line of the incident's paging (who was paged, steps with nobody, exhausted, stopped):
    the escalation runtime, in its own transaction."""
    with transaction.atomic():
        now = at or clock.now()
        entry = _entry(
            incident, actor=None, source=source, kind=EntryKind.LINK, at=now, field="paging", message=message
        )
        Incident.objects.filter(pk=incident.pk).update(updated_at=now)
    return entry
