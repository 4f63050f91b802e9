"""Every change to postmortems, problems, action items and their configuration.

Each service is keyword-only, runs in one transaction, writes the change and its audit row together, and (for
postmortems, problems and action items) locks the row and bumps ``version`` with a compare-and-set, so two people
editing at once get one winner and one clear 409. Publishing and amending a postmortem also write a line on the
incident's timeline through :func:`warroom.incidents.services.add_note`, in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, Max
from django.utils.text import slugify

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.audit import services as audit
from warroom.catalog.models import Service
from warroom.incidents import selectors as incident_selectors
from warroom.incidents import services as incident_services
from warroom.incidents.models import Incident, TimelineEntry
from warroom.incidents.priority import Priority
from warroom.incidents.states import State
from warroom.lib import clock, instants
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.reviews import facts as facts_module
from warroom.reviews import selectors
from warroom.reviews.defaults import DEFAULT_SECTIONS
from warroom.reviews.models import (
    ActionItem,
    Amendment,
    ContributingFactor,
    FactorCategory,
    FiveWhy,
    KeyEvent,
    Postmortem,
    PostmortemComment,
    PostmortemPolicy,
    PostmortemReviewer,
    PostmortemSection,
    PostmortemTemplate,
    Problem,
)
from warroom.reviews.states import (
    NEEDS_ROOT_CAUSE,
    PROBLEM_TRANSITIONS,
    ActionItemPriority,
    ActionItemStatus,
    PostmortemStatus,
    ProblemStatus,
    problem_refusal,
)

TITLE_MAX = 200
ITEM_TITLE_MAX = 300
TEXT_MAX = 50_000
SHORT_MAX = 2_000
QUESTION_MAX = 500
MAX_WHYS = 10
MAX_SECTIONS = 30

_UNSET: Any = object()


# ---------------------------------------------------------------------------------------------------------------
# input checks


def _clean_text(value: Any, *, field: str, limit: int = TEXT_MAX, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    label = field.replace("_", " ")
    if required and not value.strip():
        raise ValidationFailed(f"{label} must not be empty", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"{label} is at most {limit} characters (got {len(value)})", field=field)
    return value


def _clean_title(value: Any, *, field: str = "title", limit: int = TITLE_MAX) -> str:
    text = " ".join(_clean_text(value, field=field, limit=limit * 2, required=True).split())
    if len(text) > limit:
        raise ValidationFailed(f"the {field} is at most {limit} characters (got {len(text)})", field=field)
    return text


def _clean_moment(value: Any, *, field: str) -> datetime:
    """An aware datetime in the accepted range (:mod:`warroom.lib.instants`) that is not in the future, in UTC."""
    moment = instants.to_utc(value, field=field, message=f"{field} must be a date and time with a time zone")
    if moment > clock.now() + timedelta(minutes=1):
        raise ValidationFailed(f"{field} is in the future", field=field)
    return moment


def _clean_priority(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in ActionItemPriority.values:
        raise ValidationFailed("priority must be 1 (High), 2 (Medium) or 3 (Low)", field="priority")
    return value


#: the due dates an action item may have: a typo such as year 1 made reminders say "739,000 days ago"
DUE_EARLIEST, DUE_LATEST = date(2000, 1, 1), date(2199, 12, 31)


def _clean_due(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationFailed("due_date must be a date (YYYY-MM-DD)", field="due_date")
    if not DUE_EARLIEST <= value <= DUE_LATEST:
        raise ValidationFailed(
            f"due_date must lie between {DUE_EARLIEST:%Y-%m-%d} and {DUE_LATEST:%Y-%m-%d} (got {value:%Y-%m-%d})",
            field="due_date",
        )
    return value


def _require_active(user: User | None, field: str) -> None:
    if user is not None and not user.is_active:
        raise ValidationFailed(f"{user.display_name} is deactivated", field=field)


# ---------------------------------------------------------------------------------------------------------------
# postmortems: helpers


def _pm_snapshot(pm: Postmortem) -> dict[str, Any]:
    return {"status": pm.status, "title": pm.title, "version": pm.version}


@contextmanager
def _locked(postmortem: Postmortem, expected_version: int | None = None) -> Iterator[Postmortem]:
    """Open the transaction and lock the postmortem row; refuse if the caller saw an older version."""
    with transaction.atomic():
        locked = (
            Postmortem.objects.select_for_update(of=("self",))
            .select_related("incident", "team")
            .get(pk=postmortem.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(
                f"the postmortem of {locked.ref} was changed by someone else meanwhile (version "
                f"{locked.version}, you had {expected_version}); reload and try again",
                field="version",
            )
        yield locked


def _bump(row: models.Model, now: datetime, **values: Any) -> None:
    """Compare-and-set write of ``values`` on a versioned row (postmortem, problem, action item)."""
    model = type(row)
    version: int = row.version  # type: ignore[attr-defined]
    updated = model._default_manager.filter(pk=row.pk, version=version).update(
        **values, version=F("version") + 1, updated_at=now
    )
    if updated != 1:  # pragma: no cover - the row lock makes this unreachable; kept as a guard
        raise Conflict("it was changed by someone else meanwhile; reload and try again", field="version")
    for key, value in values.items():
        setattr(row, key, value)
    row.version = version + 1  # type: ignore[attr-defined]
    row.updated_at = now  # type: ignore[attr-defined]


def _require_write(actor: User | None, pm: Postmortem) -> None:
    if actor is not None and not selectors.can_write_postmortem(actor, pm):
        raise PermissionDenied(f"you may read the postmortem of {pm.ref} but not change it")


def _require_draft_or_review(pm: Postmortem) -> None:
    if pm.status == PostmortemStatus.PUBLISHED:
        raise Conflict(
            f"the postmortem of {pm.ref} is published; it changes only by amendment", field="status"
        )


def _prefill(key: str, incident: Incident, facts: facts_module.Facts) -> str:
    """The starting text of a default section, from the record."""
    fmt = facts_module.format_duration
    if key == "summary":
        parts = [f"{incident.title}."]
        if incident.description.strip():
            parts.append(incident.description.strip())
        if incident.resolution_notes.strip():
            parts.append(f"**Resolution:** {incident.resolution_notes.strip()}")
        return "\n\n".join(parts)
    if key == "impact":
        services = ", ".join(s.name for s in facts.services) or "none recorded"
        lines = [
            f"- Priority: {Priority(incident.priority).label}",
            f"- Services: {services}",
            f"- Impact duration: {fmt(facts.durations.impact)}",
            f"- Alerts: {len(facts.alerts)}",
        ]
        return "\n".join(lines)
    return ""


def _section_specs(template: PostmortemTemplate | None) -> list[dict[str, str]]:
    return list(template.sections) if template is not None and template.sections else list(DEFAULT_SECTIONS)


# ---------------------------------------------------------------------------------------------------------------
# postmortems: create and edit


def create_postmortem(
    *,
    incident: Incident,
    actor: User | None,
    source: str,
    template: PostmortemTemplate | None = None,
    title: str | None = None,
    required: bool = False,
) -> Postmortem:
    """Start the postmortem of ``incident`` from a template, pre-filled from the record. One per incident; the
    children of a major incident are covered by its postmortem instead of having their own."""
    if actor is not None and not accounts.can_act_for_team(actor, incident.team_id):
        raise PermissionDenied(f"you cannot write postmortems for {incident.team.name}", field="incident")
    if incident.state == State.CANCELED:
        raise Conflict(f"{incident.ref} was canceled; it needs no postmortem", field="incident")
    clean_title = _clean_title(title if title else incident.title)
    chosen = template or selectors.default_template()
    with transaction.atomic():
        if Postmortem.objects.filter(incident=incident).exists():
            raise Conflict(f"{incident.ref} already has a postmortem", field="incident")
        covering = selectors.covering_postmortem(incident)
        if covering is not None:
            raise Conflict(
                f"{incident.ref} is covered by the postmortem of its major incident {covering.ref}",
                field="incident",
            )
        now = clock.now()
        due_days = selectors.policy().due_days
        try:
            with transaction.atomic():
                pm = Postmortem.objects.create(
                    incident=incident,
                    team=incident.team,
                    title=clean_title,
                    template=chosen,
                    covers_children=incident.is_major,
                    required=required,
                    due_at=(incident.resolved_at or now) + timedelta(days=due_days) if required else None,
                    author=actor,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # a concurrent create won the unique incident
            raise Conflict(f"{incident.ref} already has a postmortem", field="incident") from None
        facts = facts_module.gather(incident, covers_children=pm.covers_children, mitigated_at=None)
        PostmortemSection.objects.bulk_create(
            PostmortemSection(
                postmortem=pm,
                key=spec["key"],
                title=spec["title"],
                hint=spec.get("hint", ""),
                position=position,
                body=_prefill(spec["key"], incident, facts),
            )
            for position, spec in enumerate(_section_specs(chosen))
        )
        audit.record(actor=actor, source=source, action="postmortem.create", obj=pm, after=_pm_snapshot(pm))
    return pm


def create_required_postmortem(*, incident: Incident) -> Postmortem | None:
    """The policy's side of a resolution: a draft for a priority that needs one, unless the incident is a test
    (opened by a test alert), has a postmortem already or is (or will be) covered by its major parent's. Runs
    inside the resolve's transaction."""
    if incident.is_test:
        return None
    if incident.priority not in selectors.policy().required_priorities:
        return None
    if Postmortem.objects.filter(incident=incident).exists():
        return None
    if (
        incident.parent_id is not None
        and Incident.objects.filter(pk=incident.parent_id, is_major=True).exists()
    ):
        return None
    try:
        return create_postmortem(incident=incident, actor=None, source="system", required=True)
    except Conflict:  # started by hand at this very moment: theirs stands, and so does the resolution
        return None


def update_postmortem(
    *,
    postmortem: Postmortem,
    actor: User | None,
    source: str,
    expected_version: int | None = None,
    title: str = _UNSET,
    sections: Mapping[str, str] = _UNSET,
    detection_notes: str = _UNSET,
    response_notes: str = _UNSET,
    mitigated_at: datetime | None = _UNSET,
    covers_children: bool = _UNSET,
) -> Postmortem:
    """Edit a draft or a postmortem in review. Only what is passed changes; ``sections`` maps section keys to
    their new markdown. A new ``mitigated_at`` lies between the start of the impact (the first alert, or the
    declaration if earlier) and the resolution, and not in the future (400 naming ``mitigated_at``)."""
    values: dict[str, Any] = {}
    if title is not _UNSET:
        values["title"] = _clean_title(title)
    for name, value in (("detection_notes", detection_notes), ("response_notes", response_notes)):
        if value is not _UNSET:
            values[name] = _clean_text(value, field=name)
    if mitigated_at is not _UNSET:
        values["mitigated_at"] = (
            None if mitigated_at is None else _clean_moment(mitigated_at, field="mitigated_at")
        )
    if covers_children is not _UNSET:
        if not isinstance(covers_children, bool):
            raise ValidationFailed("covers_children must be true or false", field="covers_children")
        values["covers_children"] = covers_children
    bodies = _clean_section_bodies(sections) if sections is not _UNSET else {}
    with _locked(postmortem, expected_version) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        now = clock.now()
        changed = {key: value for key, value in values.items() if getattr(locked, key) != value}
        if changed.get("mitigated_at") is not None:
            _check_mitigated(
                locked, changed["mitigated_at"], values.get("covers_children", locked.covers_children)
            )
        changed_sections = _write_sections(locked, bodies)
        if not changed and not changed_sections:
            return locked
        before = _pm_snapshot(locked)
        _bump(locked, now, **changed)
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.update",
            obj=locked,
            before=before,
            after={**_pm_snapshot(locked), "fields": sorted(changed), "sections": changed_sections},
        )
        return locked


def _check_mitigated(pm: Postmortem, mitigated: datetime, covers_children: bool) -> None:
    """The impact stopped after it began (the first alert, or the declaration if earlier) and no later than the
    resolution: otherwise a 400 naming ``mitigated_at``."""
    incident = pm.incident
    started = facts_module.impact_started(incident, covers_children=covers_children)
    if mitigated < started:
        raise ValidationFailed(
            f"mitigated_at ({mitigated:%Y-%m-%d %H:%M:%S} UTC) is before the impact began ({started:%Y-%m-%d %H:%M:%S} "
            f"UTC, {'the first alert' if started < incident.opened_at else f'{incident.ref} was declared'})",
            field="mitigated_at",
        )
    if incident.resolved_at is not None and mitigated > incident.resolved_at:
        raise ValidationFailed(
            f"mitigated_at ({mitigated:%Y-%m-%d %H:%M:%S} UTC) is after {incident.ref} was resolved "
            f"({incident.resolved_at:%Y-%m-%d %H:%M:%S} UTC); leave it empty when the impact stopped with the "
            "resolution",
            field="mitigated_at",
        )


def _clean_section_bodies(sections: Any) -> dict[str, str]:
    if not isinstance(sections, Mapping):
        raise ValidationFailed("sections must map section keys to markdown", field="sections")
    return {str(key): _clean_text(body, field=f"sections.{key}") for key, body in sections.items()}


def _write_sections(pm: Postmortem, bodies: Mapping[str, str]) -> list[str]:
    """Save the section bodies that changed; unknown keys are a 400 naming them. Returns the changed keys."""
    if not bodies:
        return []
    existing = {s.key: s for s in PostmortemSection.objects.filter(postmortem=pm)}
    unknown = sorted(set(bodies) - set(existing))
    if unknown:
        raise ValidationFailed(
            f"unknown section {unknown[0]!r}; the sections are {', '.join(existing)}",
            field=f"sections.{unknown[0]}",
        )
    changed = []
    for key, body in bodies.items():
        section = existing[key]
        if section.body != body:
            section.body = body
            section.save(update_fields=["body"])
            changed.append(key)
    return changed


# ---------------------------------------------------------------------------------------------------------------
# postmortems: key events


def _materialize_defaults(pm: Postmortem, now: datetime) -> None:
    """Turn the default picks into rows, so the author's choice starts from what they saw."""
    if pm.timeline_customized:
        return
    for entry in facts_module.default_key_entries(selectors.covered_incidents(pm)):
        KeyEvent.objects.get_or_create(
            postmortem=pm,
            entry=entry,
            defaults={"at": entry.at, "text": selectors.entry_text(entry, pm.incident_id), "created_at": now},
        )


def set_key_event(
    *, postmortem: Postmortem, entry: TimelineEntry, key: bool, actor: User | None, source: str
) -> None:
    """Pick (``key=True``) or unpick an incident timeline entry as a key event of the postmortem."""
    covered = {i.pk for i in selectors.covered_incidents(postmortem)}
    if entry.incident_id not in covered:
        raise ValidationFailed(
            f"timeline entry {entry.pk} is not on {postmortem.ref}'s timeline", field="entry"
        )
    with _locked(postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        now = clock.now()
        _materialize_defaults(locked, now)
        existing = KeyEvent.objects.filter(postmortem=locked, entry=entry).first()
        if key and existing is None:
            if (
                actor is not None
            ):  # the picked line as its author saw it: no number of an incident hidden from them
                incident_selectors.hide_unseen(actor, [entry])
            KeyEvent.objects.create(
                postmortem=locked,
                entry=entry,
                at=entry.at,
                text=selectors.entry_text(entry, locked.incident_id),
                added_by=actor,
                created_at=now,
            )
        elif not key and existing is not None:
            existing.delete()
        _bump(locked, now, timeline_customized=True)
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.key_event.pick" if key else "postmortem.key_event.unpick",
            obj=locked,
            after={"entry": entry.pk},
        )


def add_key_event(
    *, postmortem: Postmortem, at: datetime, text: str, actor: User | None, source: str
) -> KeyEvent:
    """Add an event of the author's own to the postmortem's timeline (it may be backdated, e.g. the deploy that
    started it). The incident's timeline is not touched."""
    moment = _clean_moment(at, field="at")
    clean = _clean_text(text, field="text", limit=SHORT_MAX, required=True).strip()
    with _locked(postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        now = clock.now()
        event = KeyEvent.objects.create(
            postmortem=locked, at=moment, text=clean, added_by=actor, created_at=now
        )
        _bump(locked, now)
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.key_event.add",
            obj=locked,
            after={"event": event.pk, "at": event.at.isoformat(), "text": clean},
        )
        return event


def remove_key_event(*, event: KeyEvent, actor: User | None, source: str) -> None:
    """Remove one of the author's own events (picked entries are unpicked with :func:`set_key_event`)."""
    if event.entry_id is not None:
        raise ValidationFailed(
            "this event comes from the incident's timeline: unpick it instead", field="event"
        )
    with _locked(event.postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        KeyEvent.objects.filter(pk=event.pk, postmortem=locked).delete()
        _bump(locked, clock.now())
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.key_event.remove",
            obj=locked,
            before={"event": event.pk, "text": event.text},
        )


# ---------------------------------------------------------------------------------------------------------------
# postmortems: 5 whys and contributing factors


def _renumber(pm: Postmortem, ordered: Sequence[FiveWhy]) -> None:
    for position, why in enumerate(ordered, start=1):
        if why.position != position:
            FiveWhy.objects.filter(pk=why.pk).update(position=position)
            why.position = position


def add_why(
    *, postmortem: Postmortem, answer: str, question: str = "", actor: User | None, source: str
) -> FiveWhy:
    """Append a step to the 5 whys chain (at most 10)."""
    clean_answer = _clean_text(answer, field="answer", limit=SHORT_MAX, required=True).strip()
    clean_question = _clean_text(question, field="question", limit=QUESTION_MAX).strip()
    with _locked(postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        count = FiveWhy.objects.filter(postmortem=locked).count()
        if count >= MAX_WHYS:
            raise ValidationFailed(f"the chain has {MAX_WHYS} steps already", field="answer")
        last = FiveWhy.objects.filter(postmortem=locked).aggregate(m=Max("position"))["m"] or 0
        why = FiveWhy.objects.create(
            postmortem=locked, position=last + 1, question=clean_question, answer=clean_answer
        )
        _bump(locked, clock.now())
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.why.add",
            obj=locked,
            after={"why": why.pk, "position": why.position, "answer": clean_answer},
        )
        return why


def update_why(
    *,
    why: FiveWhy,
    actor: User | None,
    source: str,
    answer: str = _UNSET,
    question: str = _UNSET,
    position: int = _UNSET,
) -> FiveWhy:
    """Change a step's text or move it to ``position`` (1 = nearest the symptom); the others shift."""
    with _locked(why.postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        chain = list(FiveWhy.objects.filter(postmortem=locked).order_by("position", "id"))
        fresh = next((w for w in chain if w.pk == why.pk), None)
        if fresh is None:  # pragma: no cover - the caller fetched it from this postmortem
            raise ValidationFailed("that step is not in this chain", field="why")
        if answer is not _UNSET:
            fresh.answer = _clean_text(answer, field="answer", limit=SHORT_MAX, required=True).strip()
        if question is not _UNSET:
            fresh.question = _clean_text(question, field="question", limit=QUESTION_MAX).strip()
        fresh.save(update_fields=["answer", "question"])
        if position is not _UNSET:
            if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= len(chain):
                raise ValidationFailed(f"position must be 1 to {len(chain)}", field="position")
            chain.remove(fresh)
            chain.insert(position - 1, fresh)
            _renumber(locked, chain)
        _bump(locked, clock.now())
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.why.update",
            obj=locked,
            after={"why": fresh.pk, "position": fresh.position, "answer": fresh.answer},
        )
        return fresh


def remove_why(*, why: FiveWhy, actor: User | None, source: str) -> None:
    with _locked(why.postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        FiveWhy.objects.filter(pk=why.pk, postmortem=locked).delete()
        _renumber(locked, list(FiveWhy.objects.filter(postmortem=locked).order_by("position", "id")))
        _bump(locked, clock.now())
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.why.remove",
            obj=locked,
            before={"why": why.pk, "answer": why.answer},
        )


def add_factor(
    *, postmortem: Postmortem, category: FactorCategory, description: str, actor: User | None, source: str
) -> ContributingFactor:
    clean = _clean_text(description, field="description", limit=SHORT_MAX, required=True).strip()
    if not category.is_active:
        raise ValidationFailed(f"category {category.name!r} is no longer in use", field="category")
    with _locked(postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        now = clock.now()
        last = ContributingFactor.objects.filter(postmortem=locked).aggregate(m=Max("position"))["m"] or 0
        factor = ContributingFactor.objects.create(
            postmortem=locked, category=category, description=clean, position=last + 1, created_at=now
        )
        _bump(locked, now)
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.factor.add",
            obj=locked,
            after={"factor": factor.pk, "category": category.slug, "description": clean},
        )
        return factor


def update_factor(
    *,
    factor: ContributingFactor,
    actor: User | None,
    source: str,
    category: FactorCategory = _UNSET,
    description: str = _UNSET,
) -> ContributingFactor:
    with _locked(factor.postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        fresh = ContributingFactor.objects.select_related("category").get(pk=factor.pk, postmortem=locked)
        if category is not _UNSET:
            if not category.is_active and category.pk != fresh.category_id:
                raise ValidationFailed(f"category {category.name!r} is no longer in use", field="category")
            fresh.category = category
        if description is not _UNSET:
            fresh.description = _clean_text(
                description, field="description", limit=SHORT_MAX, required=True
            ).strip()
        fresh.save(update_fields=["category", "description"])
        _bump(locked, clock.now())
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.factor.update",
            obj=locked,
            after={"factor": fresh.pk, "category": fresh.category.slug, "description": fresh.description},
        )
        return fresh


def remove_factor(*, factor: ContributingFactor, actor: User | None, source: str) -> None:
    with _locked(factor.postmortem) as locked:
        _require_write(actor, locked)
        _require_draft_or_review(locked)
        ContributingFactor.objects.filter(pk=factor.pk, postmortem=locked).delete()
        _bump(locked, clock.now())
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.factor.remove",
            obj=locked,
            before={"factor": factor.pk, "description": factor.description},
        )


# ---------------------------------------------------------------------------------------------------------------
# postmortems: review workflow


def _check_reviewer(user: User, pm: Postmortem) -> None:
    if not user.is_active:
        raise ValidationFailed(f"{user.display_name} is deactivated", field="reviewers")
    if not (user.is_org_admin or accounts.is_member(user.pk, pm.team_id)):
        raise ValidationFailed(
            f"{user.display_name} cannot review: they are not a member of {pm.team.name}", field="reviewers"
        )


def submit_postmortem(
    *,
    postmortem: Postmortem,
    reviewers: Sequence[User],
    actor: User | None,
    source: str,
    expected_version: int | None = None,
) -> Postmortem:
    """Draft → in review, naming who reviews it. Resubmitting after changes were requested starts the
    approvals afresh."""
    people = list({u.pk: u for u in reviewers}.values())
    if not people:
        raise ValidationFailed("name at least one reviewer", field="reviewers")
    with _locked(postmortem, expected_version) as locked:
        _require_write(actor, locked)
        if locked.status != PostmortemStatus.DRAFT:
            raise Conflict(
                f"the postmortem of {locked.ref} is {PostmortemStatus(locked.status).label}; "
                "only a draft is submitted for review",
                field="status",
            )
        for person in people:
            _check_reviewer(person, locked)
        now = clock.now()
        PostmortemReviewer.objects.filter(postmortem=locked).exclude(user__in=people).delete()
        for person in people:
            PostmortemReviewer.objects.update_or_create(
                postmortem=locked, user=person, defaults={"approved_at": None, "added_at": now}
            )
        before = _pm_snapshot(locked)
        _bump(locked, now, status=PostmortemStatus.IN_REVIEW, submitted_at=now)
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.submit",
            obj=locked,
            before=before,
            after={**_pm_snapshot(locked), "reviewers": [p.pk for p in people]},
        )
        return locked


def approve_postmortem(*, postmortem: Postmortem, actor: User, source: str) -> Postmortem:
    """A named reviewer approves the postmortem in review."""
    with _locked(postmortem) as locked:
        review = PostmortemReviewer.objects.filter(postmortem=locked, user=actor).first()
        if review is None:
            raise PermissionDenied(f"only the named reviewers approve the postmortem of {locked.ref}")
        if locked.status != PostmortemStatus.IN_REVIEW:
            raise Conflict(
                f"the postmortem of {locked.ref} is {PostmortemStatus(locked.status).label}, not in review",
                field="status",
            )
        if review.approved_at is not None:
            return locked
        now = clock.now()
        PostmortemReviewer.objects.filter(pk=review.pk).update(approved_at=now)
        _bump(locked, now)
        audit.record(
            actor=actor, source=source, action="postmortem.approve", obj=locked, after={"reviewer": actor.pk}
        )
        return locked


def request_changes(*, postmortem: Postmortem, actor: User, source: str, comment: str) -> Postmortem:
    """In review → draft, with a comment saying what to change; approvals given so far are withdrawn."""
    text = _clean_text(comment, field="comment", limit=TEXT_MAX, required=True).strip()
    with _locked(postmortem) as locked:
        if not (selectors.is_reviewer(actor, locked) or selectors.can_publish_postmortem(actor, locked)):
            raise PermissionDenied(
                f"only reviewers and the team's managers send {locked.ref}'s postmortem back"
            )
        if locked.status != PostmortemStatus.IN_REVIEW:
            raise Conflict(
                f"the postmortem of {locked.ref} is {PostmortemStatus(locked.status).label}, not in review",
                field="status",
            )
        now = clock.now()
        PostmortemReviewer.objects.filter(postmortem=locked).update(approved_at=None)
        PostmortemComment.objects.create(
            postmortem=locked, author=actor, created_at=now, body=f"**Changes requested.** {text}"
        )
        before = _pm_snapshot(locked)
        _bump(locked, now, status=PostmortemStatus.DRAFT)
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.request_changes",
            obj=locked,
            before=before,
            after=_pm_snapshot(locked),
        )
        return locked


def publish_postmortem(*, postmortem: Postmortem, actor: User, source: str) -> Postmortem:
    """In review → published, once every named reviewer approved. The facts and key events are frozen, and
    the incident's timeline says so. Team admins and managers (and organisation admins) publish."""
    with _locked(postmortem) as locked:
        if not selectors.can_publish_postmortem(actor, locked):
            raise PermissionDenied(
                f"only {locked.team.name}'s admins and managers publish postmortems", field="status"
            )
        if locked.status != PostmortemStatus.IN_REVIEW:
            raise Conflict(
                f"the postmortem of {locked.ref} is {PostmortemStatus(locked.status).label}; "
                "only a postmortem in review is published",
                field="status",
            )
        pending = [
            r.user.display_name
            for r in PostmortemReviewer.objects.filter(postmortem=locked, approved_at__isnull=True)
            .select_related("user")
            .order_by("user__full_name")
        ]
        if pending:
            raise Conflict(f"waiting for approval from {', '.join(pending)}", field="reviewers")
        now = clock.now()
        _materialize_defaults(locked, now)
        frozen = facts_module.gather(
            locked.incident, covers_children=locked.covers_children, mitigated_at=locked.mitigated_at
        ).to_json()
        before = _pm_snapshot(locked)
        _bump(
            locked,
            now,
            status=PostmortemStatus.PUBLISHED,
            published_at=now,
            published_by=actor,
            facts=frozen,
            timeline_customized=True,
        )
        incident_services.add_note(
            incident=locked.incident,
            actor=actor,
            source=source,
            text=f"Postmortem published: **{locked.title}**",
        )
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.publish",
            obj=locked,
            before=before,
            after=_pm_snapshot(locked),
        )
        return locked


def amend_postmortem(
    *,
    postmortem: Postmortem,
    actor: User,
    source: str,
    reason: str,
    title: str = _UNSET,
    sections: Mapping[str, str] = _UNSET,
    detection_notes: str = _UNSET,
    response_notes: str = _UNSET,
) -> Amendment:
    """Change a published postmortem's text, with the reason. The amendment keeps every changed text before
    and after, and the incident's timeline gets a line."""
    why = _clean_text(reason, field="reason", limit=SHORT_MAX, required=True).strip()
    asked: dict[str, str] = {}
    if title is not _UNSET:
        asked["title"] = _clean_title(title)
    for name, value in (("detection_notes", detection_notes), ("response_notes", response_notes)):
        if value is not _UNSET:
            asked[name] = _clean_text(value, field=name)
    bodies = _clean_section_bodies(sections) if sections is not _UNSET else {}
    with _locked(postmortem) as locked:
        if not selectors.can_publish_postmortem(actor, locked):
            raise PermissionDenied(
                f"only {locked.team.name}'s admins and managers amend published postmortems"
            )
        if locked.status != PostmortemStatus.PUBLISHED:
            raise Conflict(
                f"the postmortem of {locked.ref} is not published yet: edit the draft instead", field="status"
            )
        changes: dict[str, dict[str, str]] = {
            name: {"before": getattr(locked, name), "after": value}
            for name, value in asked.items()
            if getattr(locked, name) != value
        }
        current = {s.key: s.body for s in PostmortemSection.objects.filter(postmortem=locked)}
        for key, body in bodies.items():
            if key in current and current[key] != body:
                changes[f"sections.{key}"] = {"before": current[key], "after": body}
        _write_sections(locked, bodies)
        if not changes:
            raise ValidationFailed("the amendment changes nothing", field="sections")
        now = clock.now()
        amendment = Amendment.objects.create(
            postmortem=locked, author=actor, at=now, reason=why, changes=changes
        )
        _bump(locked, now, **{k: v for k, v in asked.items() if k in changes})
        incident_services.add_note(
            incident=locked.incident, actor=actor, source=source, text=f"Postmortem amended: {why}"
        )
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.amend",
            obj=locked,
            after={"amendment": amendment.pk, "fields": sorted(changes), "reason": why},
        )
        return amendment


def add_comment(*, postmortem: Postmortem, actor: User, source: str, body: str) -> PostmortemComment:
    """A comment in the review discussion: from the team's responders and up, and the named reviewers."""
    text = _clean_text(body, field="body", limit=TEXT_MAX, required=True).strip()
    if not selectors.can_comment(actor, postmortem):
        raise PermissionDenied(f"you may read the postmortem of {postmortem.ref} but not comment on it")
    with transaction.atomic():
        comment = PostmortemComment.objects.create(
            postmortem=postmortem, author=actor, created_at=clock.now(), body=text
        )
        audit.record(
            actor=actor,
            source=source,
            action="postmortem.comment",
            obj=postmortem,
            after={"comment": comment.pk},
        )
    return comment


# ---------------------------------------------------------------------------------------------------------------
# configuration (organisation admins)


def _require_org_admin(actor: User | None, what: str) -> None:
    if actor is not None and not actor.is_org_admin:
        raise PermissionDenied(f"only organisation admins change {what}")


def _clean_sections(value: Any) -> list[dict[str, str]]:
    """A template's sections: 1 to 30 of ``{"title", "key"?, "hint"?}``; keys default to the slugged title."""
    if not isinstance(value, list) or not value:
        raise ValidationFailed("sections must be a list of at least one section", field="sections")
    if len(value) > MAX_SECTIONS:
        raise ValidationFailed(f"a template has at most {MAX_SECTIONS} sections", field="sections")
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"sections.{index}"
        if not isinstance(item, Mapping):
            raise ValidationFailed(f"{where} must be an object with a title", field=where)
        section_title = _clean_title(item.get("title"), field=f"{where}.title", limit=120)
        key = str(item.get("key") or slugify(section_title))[:50]
        if not re.fullmatch(r"[-a-z0-9_]+", key):
            raise ValidationFailed(f"{where}.key must be letters, digits and dashes", field=f"{where}.key")
        if key in seen:
            raise ValidationFailed(f"{where}: two sections are called {key!r}", field=f"{where}.key")
        seen.add(key)
        hint = _clean_text(item.get("hint", ""), field=f"{where}.hint", limit=300).strip()
        cleaned.append({"key": key, "title": section_title, "hint": hint})
    return cleaned


def save_template(
    *,
    actor: User | None,
    source: str,
    name: str,
    sections: Any,
    description: str = "",
    is_default: bool = False,
    template: PostmortemTemplate | None = None,
) -> PostmortemTemplate:
    """Create a postmortem template (or change ``template``). Postmortems already started keep their sections."""
    _require_org_admin(actor, "postmortem templates")
    clean_name = _clean_title(name, field="name", limit=100)
    clean_sections = _clean_sections(sections)
    clean_description = _clean_text(description, field="description", limit=300).strip()
    with transaction.atomic():
        clash = PostmortemTemplate.objects.filter(name__iexact=clean_name)
        if template is not None:
            clash = clash.exclude(pk=template.pk)
        if clash.exists():
            raise ValidationFailed(f"a template called {clean_name!r} exists", field="name")
        now = clock.now()
        if is_default:
            PostmortemTemplate.objects.filter(is_default=True).update(is_default=False)
        before = None
        if template is None:
            template = PostmortemTemplate(created_at=now)
        else:
            before = {"name": template.name, "sections": template.sections, "is_default": template.is_default}
        template.name, template.description, template.sections = clean_name, clean_description, clean_sections
        template.is_default = is_default
        template.updated_at = now
        template.save()
        audit.record(
            actor=actor,
            source=source,
            action="postmortem_template.save",
            obj=template,
            before=before,
            after={"name": clean_name, "sections": clean_sections, "is_default": template.is_default},
        )
    return template


def save_factor_category(
    *,
    actor: User | None,
    source: str,
    name: str,
    description: str = "",
    is_active: bool = True,
    category: FactorCategory | None = None,
) -> FactorCategory:
    """Add a contributing-factor category (or change ``category``); retire one with ``is_active=False``."""
    _require_org_admin(actor, "the contributing-factor categories")
    clean_name = _clean_title(name, field="name", limit=80)
    clean_description = _clean_text(description, field="description", limit=300).strip()
    with transaction.atomic():
        if category is None:
            slug = slugify(clean_name)[:50]
            if not slug:
                raise ValidationFailed("the name needs letters or digits", field="name")
            if FactorCategory.objects.filter(slug=slug).exists():
                raise ValidationFailed(f"a category {slug!r} exists", field="name")
            last = FactorCategory.objects.aggregate(m=Max("position"))["m"] or 0
            category = FactorCategory(slug=slug, position=last + 1)
        category.name, category.description, category.is_active = clean_name, clean_description, is_active
        category.save()
        audit.record(
            actor=actor,
            source=source,
            action="factor_category.save",
            obj=category,
            after={"slug": category.slug, "name": clean_name, "is_active": is_active},
        )
    return category


def set_policy(
    *,
    actor: User | None,
    source: str,
    required_priorities: Iterable[int],
    template: PostmortemTemplate | None = _UNSET,
    due_days: int = _UNSET,
) -> PostmortemPolicy:
    """Which priorities need a postmortem when they resolve, the template drafts start from, and how many days
    a required postmortem has."""
    _require_org_admin(actor, "the postmortem policy")
    priorities = sorted(set(required_priorities))
    if any(not isinstance(p, int) or isinstance(p, bool) or p not in Priority.values for p in priorities):
        raise ValidationFailed("required_priorities are priorities 1 to 5", field="required_priorities")
    if due_days is not _UNSET and (
        not isinstance(due_days, int) or isinstance(due_days, bool) or not 0 <= due_days <= 365
    ):
        raise ValidationFailed("due_days is 0 to 365", field="due_days")
    with transaction.atomic():
        now = clock.now()
        policy, _ = PostmortemPolicy.objects.select_for_update().get_or_create(
            pk=1, defaults={"required_priorities": priorities, "updated_at": now}
        )
        before = {"required_priorities": policy.required_priorities, "due_days": policy.due_days}
        policy.required_priorities = priorities
        if template is not _UNSET:
            policy.template = template
        if due_days is not _UNSET:
            policy.due_days = due_days
        policy.updated_at, policy.updated_by = now, actor
        policy.save()
        audit.record(
            actor=actor,
            source=source,
            action="postmortem_policy.set",
            obj=policy,
            before=before,
            after={
                "required_priorities": priorities,
                "due_days": policy.due_days,
                "template": policy.template_id,
            },
        )
    return policy


# ---------------------------------------------------------------------------------------------------------------
# problems


def _problem_snapshot(problem: Problem) -> dict[str, Any]:
    return {
        "title": problem.title,
        "status": problem.status,
        "team": problem.team_id,
        "owner": problem.owner_id,
        "known_error": problem.is_known_error,
        "version": problem.version,
    }


def _check_owner(owner: User | None, team: Team) -> None:
    if owner is None:
        return
    _require_active(owner, "owner")
    if not (owner.is_org_admin or accounts.is_member(owner.pk, team.pk)):
        raise ValidationFailed(
            f"{owner.display_name} cannot own it: they are not a member of {team.name}", field="owner"
        )


def _require_problem_write(actor: User | None, problem: Problem) -> None:
    if actor is not None and not selectors.can_write_problem(actor, problem):
        raise PermissionDenied(f"you may read {problem.ref} but not change it")


@contextmanager
def _locked_problem(problem: Problem, expected_version: int | None = None) -> Iterator[Problem]:
    with transaction.atomic():
        locked = (
            Problem.objects.select_for_update(of=("self",)).select_related("team", "owner").get(pk=problem.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(
                f"{locked.ref} was changed by someone else meanwhile (version {locked.version}, you had "
                f"{expected_version}); reload and try again",
                field="version",
            )
        yield locked


def _clean_workaround(value: Any) -> str:
    """The workaround text; blank (only spaces) is stored as no workaround at all, so a problem is a known error
    exactly when the stored text is not empty (the ``problem_known_error_has_time`` constraint)."""
    text = _clean_text(value, field="workaround")
    return text if text.strip() else ""


def create_problem(
    *,
    actor: User | None,
    source: str,
    title: str,
    team: Team,
    description: str = "",
    services: Iterable[Service] = (),
    incidents: Iterable[Incident] = (),
    root_cause: str = "",
    workaround: str = "",
    owner: User | None = None,
) -> Problem:
    """Open a problem record (status New). With a workaround it is a known error from the start."""
    clean_title = _clean_title(title)
    texts = {
        "description": _clean_text(description, field="description"),
        "root_cause": _clean_text(root_cause, field="root_cause"),
        "workaround": _clean_workaround(workaround),
    }
    if actor is not None and not accounts.can_act_for_team(actor, team.pk):
        raise PermissionDenied(f"you cannot open problems for {team.name}", field="team")
    _check_owner(owner, team)
    with transaction.atomic():
        now = clock.now()
        problem = Problem.objects.create(
            title=clean_title,
            team=team,
            owner=owner,
            created_by=actor,
            created_at=now,
            updated_at=now,
            known_error_at=now if texts["workaround"] else None,
            **texts,
        )
        problem.services.set(list(services))
        problem.incidents.set(list(incidents))
        audit.record(
            actor=actor,
            source=source,
            action="problem.create",
            obj=problem,
            after={
                **_problem_snapshot(problem),
                "services": sorted(problem.services.values_list("pk", flat=True)),
                "incidents": sorted(problem.incidents.values_list("pk", flat=True)),
            },
        )
    return problem


def update_problem(
    *,
    problem: Problem,
    actor: User | None,
    source: str,
    expected_version: int | None = None,
    title: str = _UNSET,
    description: str = _UNSET,
    root_cause: str = _UNSET,
    workaround: str = _UNSET,
    owner: User | None = _UNSET,
    services: Iterable[Service] = _UNSET,
) -> Problem:
    """Change the record; documenting a workaround makes it a known error (and removing it, no longer)."""
    values: dict[str, Any] = {}
    if title is not _UNSET:
        values["title"] = _clean_title(title)
    for name, value in (("description", description), ("root_cause", root_cause)):
        if value is not _UNSET:
            values[name] = _clean_text(value, field=name)
    if workaround is not _UNSET:
        values["workaround"] = _clean_workaround(workaround)
    with _locked_problem(problem, expected_version) as locked:
        _require_problem_write(actor, locked)
        if locked.status == ProblemStatus.CLOSED:
            raise Conflict(f"{locked.ref} is closed; it can no longer be changed", field="status")
        if owner is not _UNSET:
            _check_owner(owner, locked.team)
            values["owner"] = owner
        changed = {k: v for k, v in values.items() if getattr(locked, k) != v}
        new_services = None
        if services is not _UNSET:
            wanted = sorted(s.pk for s in services)
            if wanted != sorted(locked.services.values_list("pk", flat=True)):
                new_services = list(services)
        if not changed and new_services is None:
            return locked
        now = clock.now()
        if "workaround" in changed:
            had, has = bool(locked.workaround.strip()), bool(changed["workaround"])
            if has and not had:
                changed["known_error_at"] = now
            elif had and not has:
                changed["known_error_at"] = None
        before = _problem_snapshot(locked)
        _bump(locked, now, **changed)
        if new_services is not None:
            locked.services.set(new_services)
        audit.record(
            actor=actor,
            source=source,
            action="problem.update",
            obj=locked,
            before=before,
            after={
                **_problem_snapshot(locked),
                "fields": sorted(changed) + (["services"] if new_services is not None else []),
            },
        )
        return locked


def transition_problem(
    *,
    problem: Problem,
    actor: User | None,
    source: str,
    to: str,
    note: str = "",
    expected_version: int | None = None,
) -> Problem:
    """Move the problem to status ``to`` if :data:`~warroom.reviews.states.PROBLEM_TRANSITIONS` allows it. Fix in
    progress and resolved need a documented root cause."""
    if to not in ProblemStatus.values:
        raise ValidationFailed(
            f"unknown status {to!r}; statuses are {', '.join(ProblemStatus.values)}", field="to"
        )
    clean_note = _clean_text(note, field="note", limit=SHORT_MAX).strip()
    with _locked_problem(problem, expected_version) as locked:
        _require_problem_write(actor, locked)
        frm = locked.status
        if (ProblemStatus(frm), ProblemStatus(to)) not in PROBLEM_TRANSITIONS:
            raise Conflict(f"{locked.ref}: {problem_refusal(frm, to)}", field="status")
        if ProblemStatus(to) in NEEDS_ROOT_CAUSE and not locked.root_cause.strip():
            raise ValidationFailed(
                f"document the root cause before moving {locked.ref} to {ProblemStatus(to).label}",
                field="root_cause",
            )
        now = clock.now()
        values: dict[str, Any] = {"status": to}
        if to == ProblemStatus.RESOLVED:
            values["resolved_at"] = now
        elif to == ProblemStatus.CLOSED:
            values["closed_at"] = now
        elif frm == ProblemStatus.RESOLVED:
            values["resolved_at"] = None
        before = _problem_snapshot(locked)
        _bump(locked, now, **values)
        audit.record(
            actor=actor,
            source=source,
            action=f"problem.{PROBLEM_TRANSITIONS[(ProblemStatus(frm), ProblemStatus(to))].replace(' ', '_')}",
            obj=locked,
            before=before,
            after={**_problem_snapshot(locked), "note": clean_note},
        )
        return locked


def link_problem_incident(
    *, problem: Problem, incident: Incident, actor: User | None, source: str, linked: bool = True
) -> bool:
    """Link ``incident`` to the problem (or unlink it). Returns whether anything changed."""
    with _locked_problem(problem) as locked:
        _require_problem_write(actor, locked)
        exists = locked.incidents.filter(pk=incident.pk).exists()
        if exists == linked:
            return False
        if linked:
            locked.incidents.add(incident)
        else:
            locked.incidents.remove(incident)
        _bump(locked, clock.now())
        audit.record(
            actor=actor,
            source=source,
            action="problem.link_incident" if linked else "problem.unlink_incident",
            obj=locked,
            after={"incident": incident.pk},
        )
        return True


# ---------------------------------------------------------------------------------------------------------------
# action items


def _item_snapshot(item: ActionItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "status": item.status,
        "owner": item.owner_id,
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "priority": item.priority,
        "version": item.version,
    }


def create_action_item(
    *,
    actor: User | None,
    source: str,
    title: str,
    description: str = "",
    owner: User | None = None,
    due_date: date | None = None,
    priority: int = ActionItemPriority.MEDIUM,
    postmortem: Postmortem | None = None,
    incident: Incident | None = None,
    problem: Problem | None = None,
) -> ActionItem:
    """Add follow-up work to a postmortem, an incident or a problem (the first of those decides its team)."""
    clean_title = _clean_title(title, limit=ITEM_TITLE_MAX)
    clean_description = _clean_text(description, field="description")
    clean_priority = _clean_priority(priority)
    due = _clean_due(due_date)
    _require_active(owner, "owner")
    links: list[tuple[str, Postmortem | Problem | Incident]] = [
        (name, link)
        for name, link in (("postmortem", postmortem), ("problem", problem), ("incident", incident))
        if link is not None
    ]
    if not links:
        raise ValidationFailed(
            "an action item belongs to a postmortem, an incident or a problem: name one", field="postmortem"
        )
    for name, link in links:
        if actor is not None and not accounts.can_act_for_team(actor, link.team_id):
            raise PermissionDenied(f"you cannot add action items to {link.ref}", field=name)
    team = links[0][1].team
    with transaction.atomic():
        now = clock.now()
        item = ActionItem.objects.create(
            title=clean_title,
            description=clean_description,
            team=team,
            owner=owner,
            due_date=due,
            priority=clean_priority,
            postmortem=postmortem,
            incident=incident,
            problem=problem,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        audit.record(
            actor=actor,
            source=source,
            action="action_item.create",
            obj=item,
            after={**_item_snapshot(item), "links": {name: link.pk for name, link in links}},
        )
    return item


def update_action_item(
    *,
    item: ActionItem,
    actor: User | None,
    source: str,
    expected_version: int | None = None,
    title: str = _UNSET,
    description: str = _UNSET,
    owner: User | None = _UNSET,
    due_date: date | None = _UNSET,
    priority: int = _UNSET,
    status: str = _UNSET,
) -> ActionItem:
    """Change an action item. Its owner may move its status; anything else needs the team's responders."""
    values: dict[str, Any] = {}
    if title is not _UNSET:
        values["title"] = _clean_title(title, limit=ITEM_TITLE_MAX)
    if description is not _UNSET:
        values["description"] = _clean_text(description, field="description")
    if owner is not _UNSET:
        _require_active(owner, "owner")
        values["owner"] = owner
    if due_date is not _UNSET:
        values["due_date"] = _clean_due(due_date)
    if priority is not _UNSET:
        values["priority"] = _clean_priority(priority)
    if status is not _UNSET:
        if status not in ActionItemStatus.values:
            raise ValidationFailed(
                f"unknown status {status!r}; statuses are {', '.join(ActionItemStatus.values)}",
                field="status",
            )
        values["status"] = status
    with transaction.atomic():
        locked = (
            ActionItem.objects.select_for_update(of=("self",)).select_related("team", "owner").get(pk=item.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(
                f"action item {locked.pk} was changed by someone else meanwhile (version {locked.version}, you "
                f"had {expected_version}); reload and try again",
                field="version",
            )
        changed = {k: v for k, v in values.items() if getattr(locked, k) != v}
        if actor is not None:
            allowed = (
                selectors.can_update_action_item_status(actor, locked)
                if set(changed) <= {"status"}
                else selectors.can_edit_action_item(actor, locked)
            )
            if not allowed:
                raise PermissionDenied(f"you may read action item {locked.pk} but not change it")
        if not changed:
            return locked
        now = clock.now()
        if "status" in changed:
            finished = changed["status"] in (ActionItemStatus.DONE, ActionItemStatus.WONT_DO)
            was_finished = locked.status in (ActionItemStatus.DONE, ActionItemStatus.WONT_DO)
            if finished and not was_finished:
                changed["completed_at"] = now
            elif not finished:
                changed["completed_at"] = None
        before = _item_snapshot(locked)
        _bump(locked, now, **changed)
        audit.record(
            actor=actor,
            source=source,
            action="action_item.update",
            obj=locked,
            before=before,
            after=_item_snapshot(locked),
        )
        return locked
