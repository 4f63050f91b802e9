"""Major incidents: promote and demote, attach children, resolve a parent with its children, and the update
rhythm (the engine module ``incidents.major_updates`` calls :func:`remind_overdue`).

Every service runs in one transaction and writes its change, its timeline entries, its audit row and its
outbox rows together. The major-incident group and the rhythm live in :class:`MajorIncidentSettings` (one row).

An *update* is, for now, a timeline note on the incident (stakeholder updates will count too once they exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.audit import services as audit
from warroom.incidents import services
from warroom.incidents.models import (
    EntryKind,
    Incident,
    IncidentRole,
    MajorIncidentSettings,
    MajorUpdateRhythm,
    TimelineEntry,
)
from warroom.incidents.priority import Priority
from warroom.incidents.states import OPEN_STATES, ResolutionCode, State
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.notify import services as notify

ENGINE_SOURCE = "engine"
ENGINE_BATCH = 100
#: who is reminded of an overdue update, first holder wins; then the assignee
REMINDED_ROLES = ("communications-lead", "incident-commander")
UPDATE_KINDS = (EntryKind.NOTE,)


# ---------------------------------------------------------------------------------------------------------------
# settings


def current_settings() -> MajorIncidentSettings:
    """The settings row, created with the defaults on first use."""
    row, _ = MajorIncidentSettings.objects.get_or_create(pk=1)
    return row


def group_members(config: MajorIncidentSettings | None = None) -> list[User]:
    """The major-incident group: the active members of its team and its named people, each once, by name."""
    config = config or current_settings()
    people: dict[int, User] = {}
    if config.group_team_id is not None and config.group_team is not None:
        for person in accounts.team_people(config.group_team):
            people[person.pk] = person
    for person in config.group_users.filter(is_active=True):
        people.setdefault(person.pk, person)
    return sorted(people.values(), key=lambda p: (p.full_name, p.email))


def interval_for(priority: int, config: MajorIncidentSettings | None = None) -> timedelta | None:
    """Minutes between updates for ``priority``; None: no rhythm for that priority."""
    config = config or current_settings()
    minutes = (config.update_minutes or {}).get(str(priority))
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        return None
    return timedelta(minutes=minutes)


def _clean_minutes(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValidationFailed(
            'update_minutes must be an object like {"1": 30, "2": 60}', field="update_minutes"
        )
    clean: dict[str, int] = {}
    for key, minutes in value.items():
        if str(key) not in {str(p) for p in Priority.values}:
            raise ValidationFailed(f"update_minutes: {key!r} is not a priority 1-5", field="update_minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 1440:
            raise ValidationFailed(
                f"update_minutes: P{key} must be 1 to 1440 minutes (got {minutes!r})", field="update_minutes"
            )
        clean[str(key)] = minutes
    return clean


def configure(
    *,
    actor: User | None,
    source: str,
    group_team: Team | Any | None = services._UNSET,
    group_users: list[User] | Any = services._UNSET,
    update_minutes: dict[str, int] | Any = services._UNSET,
) -> MajorIncidentSettings:
    """Change the major-incident group and the rhythm (organisation admins). Only what is passed changes."""
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied("only organisation admins configure major incidents")
    with transaction.atomic():
        current_settings()
        row = MajorIncidentSettings.objects.select_for_update().get(pk=1)
        before = _settings_snapshot(row)
        if group_team is not services._UNSET:
            row.group_team = group_team
        if update_minutes is not services._UNSET:
            row.update_minutes = _clean_minutes(update_minutes)
        row.updated_at = clock.now()
        row.save()
        if group_users is not services._UNSET:
            row.group_users.set(group_users)
        audit.record(
            actor=actor,
            source=source,
            action="major_settings.update",
            obj=row,
            before=before,
            after=_settings_snapshot(row),
        )
    return row


def _settings_snapshot(row: MajorIncidentSettings) -> dict[str, Any]:
    return {
        "group_team": row.group_team_id,
        "group_users": sorted(row.group_users.values_list("pk", flat=True)) if row.pk else [],
        "update_minutes": row.update_minutes,
    }


# ---------------------------------------------------------------------------------------------------------------
# promote and demote


def _incident_url(incident: Incident) -> str:
    return django_settings.WARROOM_BASE_URL.rstrip("/") + reverse("web:incident-detail", args=[incident.ref])


def _notify_group(incident: Incident, *, event: str, urgency: str, headline: str, body: str) -> str:
    """Queue one notification per group member (keyed by the incident's version, so a redo adds nothing);
    return the sentence the timeline carries about who was told. A test incident's subject and body begin with
    "[TEST]", as its pages do."""
    mark = incident.message_mark
    reached: list[str] = []
    missed: list[str] = []
    members = group_members()
    for person in members:
        result = notify.enqueue(
            user=person,
            urgency=urgency,
            subject=f"{mark}{incident.ref} {headline}: {incident.title}",
            body=f"{mark}{body}",
            context={"url": _incident_url(incident), "incident": incident.ref, "event": event},
            dedup_key=f"major:{incident.pk}:{event}:v{incident.version}:{person.pk}",
            group=f"major:{incident.pk}",
        )
        (reached if result.reachable else missed).append(person.display_name)
    if not members:
        return " No major-incident group is configured, so nobody was notified."
    told = (
        f" Notified {', '.join(reached)}."
        if reached
        else " Nobody in the major-incident group could be notified."
    )
    if missed:
        told += f" Not reachable: {', '.join(missed)}."
    return told


def promote_to_major(*, incident: Incident, actor: User | None, source: str, note: str = "") -> Incident:
    """Make an open incident major: the flag, a timeline entry, an audit row, a notification to the
    major-incident group, and its update rhythm starts now. Promoting a major incident is a 409."""
    with services._locked(incident) as locked:
        services._require_edit(actor, locked)  # who may do it first, then what they sent
        note = services._clean_text(note, field="note", limit=services.NOTE_MAX)
        if locked.state not in OPEN_STATES:
            raise Conflict(f"{locked.ref} is {State(locked.state).label}; only open incidents become major")
        if locked.is_major:
            raise Conflict(f"{locked.ref} is already a major incident", field="is_major")
        now = clock.now()
        before = services._snapshot(locked)
        services._save(locked, {"is_major": True}, now)
        MajorUpdateRhythm.objects.update_or_create(
            incident=locked,
            defaults={
                "started_at": now,
                "last_update_at": now,
                "reminded_due_at": None,
                "last_reminded_at": None,
            },
        )
        who = f" by {actor.display_name}" if actor is not None else ""
        reason = f" Reason: {note.strip()}" if note.strip() else ""
        told = _notify_group(
            locked,
            event="promote",
            urgency="high",
            headline="is now a MAJOR incident",
            body=f"{locked.ref} {locked.title} ({Priority(locked.priority).label}) was promoted to a major "
            f"incident{who}.{reason}",
        )
        services._entry(
            locked,
            actor=actor,
            source=source,
            kind=EntryKind.FIELD,
            at=now,
            field="is_major",
            old=False,
            new=True,
            message=f"Promoted to a major incident.{reason}{told}",
        )
        audit.record(
            actor=actor,
            source=source,
            action="incident.major.promote",
            obj=locked,
            before=before,
            after=services._snapshot(locked),
        )
        return locked


def demote(*, incident: Incident, actor: User | None, source: str, note: str = "") -> Incident:
    """Make a major incident ordinary again: the flag, a timeline entry, an audit row and a (low-urgency)
    notification to the group; its update rhythm stops. Demoting an ordinary incident is a 409."""
    with services._locked(incident) as locked:
        services._require_edit(actor, locked)  # who may do it first, then what they sent
        note = services._clean_text(note, field="note", limit=services.NOTE_MAX)
        services._require_open_record(locked)
        if not locked.is_major:
            raise Conflict(f"{locked.ref} is not a major incident", field="is_major")
        now = clock.now()
        before = services._snapshot(locked)
        services._save(locked, {"is_major": False}, now)
        MajorUpdateRhythm.objects.filter(incident=locked).delete()
        who = f" by {actor.display_name}" if actor is not None else ""
        reason = f" Reason: {note.strip()}" if note.strip() else ""
        told = _notify_group(
            locked,
            event="demote",
            urgency="low",
            headline="is no longer a major incident",
            body=f"{locked.ref} {locked.title} was demoted from major incident{who}.{reason}",
        )
        services._entry(
            locked,
            actor=actor,
            source=source,
            kind=EntryKind.FIELD,
            at=now,
            field="is_major",
            old=True,
            new=False,
            message=f"Demoted: no longer a major incident.{reason}{told}",
        )
        audit.record(
            actor=actor,
            source=source,
            action="incident.major.demote",
            obj=locked,
            before=before,
            after=services._snapshot(locked),
        )
        return locked


# ---------------------------------------------------------------------------------------------------------------
# children


def attach_child(*, parent: Incident, child: Incident, actor: User | None, source: str) -> Incident:
    """Make ``child`` a child of ``parent`` (both timelines say so). The actor must be able to change both."""
    if child.pk == parent.pk:
        raise ValidationFailed("an incident cannot be its own child", field="child")
    with transaction.atomic(), services._locked(parent) as locked_parent:
        services._require_edit(actor, locked_parent)
        services._require_open_record(locked_parent)
        if Incident.objects.filter(pk=child.pk, parent_id=parent.pk).exists():
            raise Conflict(f"{child.ref} is already a child of {parent.ref}", field="child")
        # update_incident writes both lines: the child's parent field, and "Child incident attached" here.
        updated = services.update_incident(incident=child, actor=actor, source=source, parent=locked_parent)
        services._save(locked_parent, {}, clock.now())
    return updated


def detach_child(*, parent: Incident, child: Incident, actor: User | None, source: str) -> Incident:
    """Undo :func:`attach_child`."""
    with transaction.atomic(), services._locked(parent) as locked_parent:
        services._require_edit(actor, locked_parent)
        if not Incident.objects.filter(pk=child.pk, parent_id=parent.pk).exists():
            raise Conflict(f"{child.ref} is not a child of {parent.ref}", field="child")
        updated = services.update_incident(incident=child, actor=actor, source=source, parent=None)
        services._save(locked_parent, {}, clock.now())
    return updated


def open_children(parent: Incident) -> list[Incident]:
    return list(parent.children.filter(state__in=list(OPEN_STATES)).order_by("number"))


def resolve_children(
    *,
    parent: Incident,
    actor: User | None,
    source: str,
    resolution_code: str = ResolutionCode.PERMANENT_FIX,
    resolution_notes: str = "",
) -> list[Incident]:
    """Resolve every open child of ``parent`` in one transaction (all or none): each child's timeline says it
    was resolved with its parent. The actor must be able to change every one of them."""
    code = resolution_code or ResolutionCode.PERMANENT_FIX
    # The notes are part of the child's record: they do not name the parent, which the child's viewers may not
    # see. The line that names it is a parent-field line, which the timeline shows per viewer.
    notes = resolution_notes.strip() or "Resolved together with its parent incident."
    resolved: list[Incident] = []
    with transaction.atomic():
        for child in open_children(parent):
            moved = services.transition_incident(
                incident=child,
                actor=actor,
                source=source,
                to=State.RESOLVED,
                resolution_code=code,
                resolution_notes=notes,
            )
            services._entry(
                moved,
                actor=actor,
                source=source,
                kind=EntryKind.NOTE,
                at=clock.now(),
                field="parent",
                message=f"Resolved together with its parent {parent.ref}.",
            )
            resolved.append(moved)
        if resolved:
            services._entry(
                parent,
                actor=actor,
                source=source,
                kind=EntryKind.LINK,
                at=clock.now(),
                field="child",
                message="Children resolved with the parent: " + ", ".join(c.ref for c in resolved),
            )
            audit.record(
                actor=actor,
                source=source,
                action="incident.major.resolve_children",
                obj=parent,
                after={"children": [c.pk for c in resolved]},
            )
    return resolved


def resolve_with_children(
    *,
    incident: Incident,
    actor: User | None,
    source: str,
    resolution_code: str,
    resolution_notes: str,
    also_children: bool,
    expected_version: int | None = None,
) -> tuple[Incident, list[Incident]]:
    """Resolve ``incident`` and, when ``also_children``, its open children with the same code and notes, in
    one transaction. Without ``also_children`` the children stay as they are."""
    with transaction.atomic():
        parent = services.transition_incident(
            incident=incident,
            actor=actor,
            source=source,
            to=State.RESOLVED,
            resolution_code=resolution_code,
            resolution_notes=resolution_notes,
            expected_version=expected_version,
        )
        children = (
            resolve_children(
                parent=parent,
                actor=actor,
                source=source,
                resolution_code=resolution_code,
                resolution_notes=resolution_notes,
            )
            if also_children
            else []
        )
    return parent, children


# ---------------------------------------------------------------------------------------------------------------
# the update rhythm (engine)


@dataclass(frozen=True)
class RhythmView:
    interval: timedelta | None
    last_update_at: datetime
    due_at: datetime | None
    overdue: bool


def last_update_at(incident: Incident, since: datetime) -> datetime:
    """The latest update (a timeline note, for now) at or after ``since``; ``since`` if none."""
    latest = (
        TimelineEntry.objects.filter(incident=incident, kind__in=UPDATE_KINDS, at__gte=since)
        .aggregate(latest=Max("at"))
        .get("latest")
    )
    return max(latest, since) if latest is not None else since


def major_since(incident: Incident, started_at: datetime) -> datetime:
    """When the incident last became major: its rhythm row's start, or later if the flag was cleared and set
    again since (in *Edit fields*, which leaves the row): the latest change of the flag on its timeline."""
    flagged = (
        TimelineEntry.objects.filter(
            incident=incident, kind=EntryKind.FIELD, field="is_major", at__gt=started_at
        )
        .aggregate(latest=Max("at"))
        .get("latest")
    )
    return flagged if flagged is not None else started_at


def rhythm_view(incident: Incident, now: datetime) -> RhythmView | None:
    """The rhythm of a major incident for the console and the API; None for an ordinary one."""
    if not incident.is_major:
        return None
    row = MajorUpdateRhythm.objects.filter(incident=incident).first()
    since = major_since(incident, row.started_at) if row is not None else incident.opened_at
    last = last_update_at(incident, since)
    interval = interval_for(incident.priority)
    # a resolved or closed incident owes no more updates
    due = last + interval if interval is not None and incident.state in OPEN_STATES else None
    return RhythmView(
        interval=interval, last_update_at=last, due_at=due, overdue=due is not None and now >= due
    )


def reminded_person(incident: Incident) -> tuple[User | None, str]:
    """Who is reminded of an overdue update: the Communications Lead, else the Incident Commander, else the
    assignee; with the capacity they are reminded in."""
    holders = {
        r.role_type.slug: r
        for r in IncidentRole.objects.select_related("role_type", "user").filter(
            incident=incident, role_type__slug__in=REMINDED_ROLES, user__is_active=True
        )
    }
    for slug in REMINDED_ROLES:
        if slug in holders:
            return holders[slug].user, holders[slug].role_type.name
    if incident.assignee is not None and incident.assignee.is_active:
        return incident.assignee, "assignee"
    return None, ""


def _adopt_new_majors(now: datetime) -> None:
    """Incidents made major another way (declared major, or the edit form) get their rhythm row, from now."""
    missing = Incident.objects.filter(
        is_major=True, state__in=list(OPEN_STATES), major_rhythm__isnull=True
    ).values_list("pk", flat=True)[:ENGINE_BATCH]
    for pk in missing:
        MajorUpdateRhythm.objects.get_or_create(
            incident_id=pk, defaults={"started_at": now, "last_update_at": now}
        )


def remind_overdue(*, now: datetime, after_pk: int = 0, limit: int = ENGINE_BATCH) -> tuple[int, int, int]:
    """One batch, one transaction: take the rhythm rows of open major incidents past ``after_pk``
    (``FOR UPDATE SKIP LOCKED``) and remind once for each overdue period: the k-th period is due at the last
    update + k × interval; a row remembers the due instant it reminded for, so a period is never reminded
    twice. Returns (rows taken, reminders, the last pk taken)."""
    reminded = 0
    with transaction.atomic():
        if after_pk == 0:
            _adopt_new_majors(now)
        config = current_settings()
        rows = list(
            MajorUpdateRhythm.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("incident", "incident__assignee")
            .filter(pk__gt=after_pk, incident__is_major=True, incident__state__in=list(OPEN_STATES))
            .order_by("pk")[:limit]
        )
        for row in rows:
            if _remind_row(row, now, config):
                reminded += 1
    return len(rows), reminded, rows[-1].pk if rows else after_pk


def _remind_row(row: MajorUpdateRhythm, now: datetime, config: MajorIncidentSettings) -> bool:
    incident = row.incident
    interval = interval_for(incident.priority, config)
    last = last_update_at(incident, major_since(incident, row.started_at))
    if last != row.last_update_at:
        row.last_update_at = last
        row.save(update_fields=["last_update_at"])
    if interval is None or now < last + interval:
        return False
    periods = (now - last) // interval
    due = last + periods * interval
    if row.reminded_due_at is not None and row.reminded_due_at >= due:
        return False
    person, capacity = reminded_person(incident)
    late = now - last
    minutes = int(late.total_seconds() // 60)
    every = int(interval.total_seconds() // 60)
    headline = f"update overdue ({minutes} min since the last, every {every} min for P{incident.priority})"
    if person is None:
        told = " Nobody holds the Communications Lead or Incident Commander role and nobody is assigned."
    else:
        result = notify.enqueue(
            user=person,
            urgency="high",
            subject=f"{incident.message_mark}{incident.ref} {headline}: {incident.title}",
            body=f"{incident.message_mark}{incident.ref} {incident.title} is a major incident: post an update (a "
            f"timeline note). You are reminded as {capacity}.",
            context={"url": _incident_url(incident), "incident": incident.ref, "event": "update_overdue"},
            dedup_key=f"major-update:{incident.pk}:{due.isoformat()}:{person.pk}",
            group=f"major:{incident.pk}",
        )
        told = f" Reminded {person.display_name} ({capacity})."
        if not result.reachable:
            told += " They could not be reached."
    row.reminded_due_at = due
    row.last_reminded_at = now
    row.save(update_fields=["reminded_due_at", "last_reminded_at"])
    services._entry(
        incident,
        actor=None,
        source=ENGINE_SOURCE,
        kind=EntryKind.LINK,
        at=now,
        field="major_update",
        message=f"Major incident {headline}.{told}",
    )
    audit.record(
        actor=None,
        source=ENGINE_SOURCE,
        action="incident.major.update_overdue",
        obj=incident,
        after={"due": due.isoformat(), "reminded": person.pk if person else None, "capacity": capacity},
    )
    return True


def run_engine(now: datetime) -> int:
    """Every open major incident, batch after batch (bounded per cycle). Returns how many were reminded."""
    total, after = 0, 0
    for _ in range(20):
        taken, reminded, after = remind_overdue(now=now, after_pk=after)
        total += reminded
        if taken < ENGINE_BATCH:
            break
    return total
