"""Schemas of the reviews API (postmortems, action items, problems and known errors) and the functions that
turn rows into JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from warroom.accounts.schemas import Paging, TeamRef, UserRef, team_ref, user_ref
from warroom.catalog.schemas import ServiceRef, service_ref
from warroom.incidents.models import Incident
from warroom.incidents.schemas import IncidentRef, incident_ref
from warroom.lib import markdown
from warroom.lib.apitypes import IsoDate, IsoDateTime
from warroom.lib.schema import InputSchema
from warroom.reviews.facts import Facts, format_duration
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
    PostmortemTemplate,
    Problem,
)
from warroom.reviews.search import KnownErrorMatch
from warroom.reviews.states import (
    ActionItemPriority,
    ActionItemStatus,
    PostmortemStatus,
    ProblemStatus,
    problem_targets,
)

Ref = str | int
"""A reference to another object: a slug, name, email or number as text, or an id as a number."""
PostmortemStatusName = Literal["draft", "in_review", "published"]
ProblemStatusName = Literal["new", "assessed", "root_cause_analysis", "fix_in_progress", "resolved", "closed"]
ItemStatusName = Literal["open", "in_progress", "done", "wont_do"]


# ---------------------------------------------------------------------------------------------------------------
# input: postmortems


class PostmortemQuery(Paging):
    status: list[PostmortemStatusName] | None = Field(None, description="Repeatable: ?status=draft")
    team: str | None = Field(None, description="Team slug or id.")
    required: bool | None = Field(None, description="Only those the policy required (true) or not (false).")
    reviewer: str | None = Field(None, description='Postmortems someone reviews: "me", an email or an id.')
    q: str | None = Field(None, max_length=200, description="Text in the title, or an incident number.")


class PostmortemIn(InputSchema):
    incident: Ref = Field(description="The incident: INC0001042 or 1042.")
    template: Ref | None = Field(None, description="Template name or id; default: the policy's template.")
    title: str | None = Field(None, description="Default: the incident's title.")


class PostmortemPatch(InputSchema):
    """Only the fields sent change. ``sections`` maps section keys to their new markdown."""

    title: str | None = None
    sections: dict[str, str] | None = None
    detection_notes: str | None = None
    response_notes: str | None = None
    mitigated_at: IsoDateTime | None = Field(None, description="When the impact stopped; null clears it.")
    covers_children: bool | None = None
    version: int | None = Field(None, description="The version you saw; a newer one on the server is a 409.")


class SubmitIn(InputSchema):
    reviewers: list[Ref] = Field(description="Emails or ids of the people who review it (at least one).")
    version: int | None = None


class RequestChangesIn(InputSchema):
    comment: str = Field(description="What to change; added to the discussion.")


class AmendIn(InputSchema):
    reason: str = Field(description="Why the published postmortem changes.")
    title: str | None = None
    sections: dict[str, str] | None = None
    detection_notes: str | None = None
    response_notes: str | None = None


class CommentIn(InputSchema):
    body: str = Field(description="Markdown.")


class KeyEventIn(InputSchema):
    at: IsoDateTime = Field(description="When it happened (may be before the incident was declared).")
    text: str


class WhyIn(InputSchema):
    answer: str
    question: str = ""


class WhyPatch(InputSchema):
    answer: str | None = None
    question: str | None = None
    position: int | None = Field(None, description="Move the step here (1 = nearest the symptom).")


class FactorIn(InputSchema):
    category: Ref = Field(description="Category slug, name or id.")
    description: str


class FactorPatch(InputSchema):
    category: Ref | None = None
    description: str | None = None


class SectionIn(InputSchema):
    title: str
    key: str | None = Field(None, description="Default: the title as a slug.")
    hint: str = ""


class PostmortemTemplateIn(InputSchema):
    name: str
    description: str = ""
    sections: list[SectionIn]
    is_default: bool = False


class CategoryIn(InputSchema):
    name: str
    description: str = ""
    is_active: bool = True


class PostmortemPolicyIn(InputSchema):
    required_priorities: list[int] = Field(description="Priorities (1-5) that need a postmortem.")
    template: Ref | None = Field(None, description="Template name or id drafts start from.")
    due_days: int | None = Field(None, description="Days after the resolution a required postmortem is due.")


# ---------------------------------------------------------------------------------------------------------------
# input: problems and action items


class ProblemQuery(Paging):
    status: list[ProblemStatusName] | None = Field(None, description="Repeatable.")
    open: bool = Field(False, description="Only problems that are not closed.")
    team: str | None = None
    service: str | None = Field(None, description="Service slug or id.")
    known_error: bool | None = Field(None, description="Only known errors (true) or only the others (false).")
    q: str | None = Field(None, max_length=200)


class ProblemIn(InputSchema):
    title: str
    team: Ref | None = Field(None, description="Team slug or id; optional when you act for exactly one team.")
    description: str = ""
    services: list[Ref] = Field(default_factory=list, description="Service slugs or ids.")
    incidents: list[Ref] = Field(default_factory=list, description="Incident numbers.")
    root_cause: str = ""
    workaround: str = Field("", description="A documented workaround makes the problem a known error.")
    owner: Ref | None = Field(None, description="Email or id of a member of the team.")


class ProblemPatch(InputSchema):
    title: str | None = None
    description: str | None = None
    root_cause: str | None = None
    workaround: str | None = None
    owner: Ref | None = None
    services: list[Ref] | None = None
    version: int | None = None


class ProblemTransitionIn(InputSchema):
    to: str = Field(description=f"Target status: {', '.join(ProblemStatus.values)}.")
    note: str = ""
    version: int | None = None


class ActionItemQuery(Paging):
    owner: str | None = Field(None, description='"me", "none", an email or an id.')
    status: list[ItemStatusName] | None = Field(None, description="Repeatable.")
    open: bool = Field(False, description="Only open and in-progress items.")
    overdue: bool = Field(False, description="Only open items whose due date (UTC) has passed.")
    team: str | None = None
    service: str | None = Field(None, description="Service slug or id (of the linked incident or problem).")
    postmortem: str | None = Field(None, description="Its incident's number.")
    incident: str | None = None
    problem: str | None = None
    q: str | None = Field(None, max_length=200)


class ActionItemIn(InputSchema):
    title: str
    description: str = ""
    owner: Ref | None = Field(None, description="Email or id.")
    due_date: IsoDate | None = Field(None, description="YYYY-MM-DD.")
    priority: int = Field(2, description="1 High, 2 Medium, 3 Low.")
    postmortem: Ref | None = Field(None, description="The postmortem, by its incident's number.")
    incident: Ref | None = None
    problem: Ref | None = Field(None, description="PRB0000042 or 42.")


class ActionItemPatch(InputSchema):
    title: str | None = None
    description: str | None = None
    owner: Ref | None = None
    due_date: IsoDate | None = None
    priority: int | None = None
    status: str | None = Field(None, description=f"One of {', '.join(ActionItemStatus.values)}.")
    version: int | None = None


class KnownErrorQuery(Schema):
    q: str = Field("", max_length=2000, description="Text to match, e.g. the title you are about to declare.")
    service: list[str] | None = Field(None, description="Repeatable: service slugs or ids.")
    limit: int = Field(5, ge=1, le=20)


# ---------------------------------------------------------------------------------------------------------------
# output


class ReviewChoice(Schema):
    value: str | int
    label: str


class SectionOut(Schema):
    key: str
    title: str
    hint: str
    body: str
    body_html: str


class FactsOut(Schema):
    incidents: list[dict[str, Any]]
    services: list[dict[str, Any]]
    people: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    times: dict[str, datetime | None]
    durations: dict[str, int | None] = Field(description="Seconds; null when a clock did not start or stop.")
    durations_text: dict[str, str]
    sla: dict[str, Any] | None = Field(description="Null when SLAs are not tracked.")
    generated_at: datetime
    frozen: bool = Field(description="True once published: the facts as they were then.")


class KeyEventOut(Schema):
    id: int | None = Field(description="Null for a default pick not yet saved.")
    at: datetime
    text: str
    entry: int | None = Field(description="The incident timeline entry; null for the author's own events.")


class WhyOut(Schema):
    id: int
    position: int
    question: str
    answer: str


class FactorOut(Schema):
    id: int
    category: ReviewChoice
    description: str


class ReviewerOut(Schema):
    user: UserRef
    approved: bool
    approved_at: datetime | None


class CommentOut(Schema):
    id: int
    author: UserRef | None
    created_at: datetime
    body: str
    body_html: str


class AmendmentOut(Schema):
    id: int
    author: UserRef | None
    at: datetime
    reason: str
    changes: dict[str, Any]


class PostmortemOut(Schema):
    ref: str = Field(description="The incident's number: postmortems are addressed by it.")
    incident: IncidentRef
    title: str
    status: str
    status_label: str
    team: TeamRef
    required: bool
    due_at: datetime | None
    author: UserRef | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    published_by: UserRef | None
    version: int


class PostmortemDetailOut(PostmortemOut):
    template: str | None
    covers_children: bool
    mitigated_at: datetime | None
    detection_notes: str
    response_notes: str
    sections: list[SectionOut]
    facts: FactsOut
    key_events: list[KeyEventOut]
    whys: list[WhyOut]
    factors: list[FactorOut]
    reviewers: list[ReviewerOut]
    comments: list[CommentOut]
    amendments: list[AmendmentOut]
    can_write: bool
    can_publish: bool
    is_reviewer: bool


class PostmortemTemplateOut(Schema):
    id: int
    name: str
    description: str
    sections: list[dict[str, str]]
    is_default: bool


class FactorCategoryOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    is_active: bool


class PostmortemPolicyOut(Schema):
    required_priorities: list[int]
    template: str | None
    due_days: int


class ProblemOut(Schema):
    ref: str = Field(description="PRB0000042")
    id: int
    title: str
    status: str
    status_label: str
    team: TeamRef
    owner: UserRef | None
    known_error: bool
    known_error_at: datetime | None
    services: list[ServiceRef]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int


class ProblemDetailOut(ProblemOut):
    description: str
    description_html: str
    root_cause: str
    root_cause_html: str
    workaround: str
    workaround_html: str
    incidents: list[IncidentRef]
    allowed_transitions: list[ReviewChoice]
    can_write: bool


class ActionItemOut(Schema):
    id: int
    title: str
    description: str
    team: TeamRef
    owner: UserRef | None
    due_date: date | None
    overdue: bool
    priority: int
    priority_label: str
    status: str
    status_label: str
    postmortem: str | None = Field(description="The postmortem's incident number.")
    incident: IncidentRef | None
    problem: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    version: int


class KnownErrorOut(Schema):
    ref: str
    title: str
    status: str
    status_label: str
    team: TeamRef
    workaround: str
    workaround_html: str
    same_service: bool
    score: float = Field(
        description="Higher is a better match: 1 for a shared service, plus up to 1 for text."
    )


# ---------------------------------------------------------------------------------------------------------------
# rendering


def postmortem_json(pm: Postmortem) -> dict[str, Any]:
    """The list view. ``incident``, ``team``, ``author`` and ``published_by`` should be selected."""
    return {
        "ref": pm.incident.ref,
        "incident": incident_ref(pm.incident),
        "title": pm.title,
        "status": pm.status,
        "status_label": PostmortemStatus(pm.status).label,
        "team": team_ref(pm.team),
        "required": pm.required,
        "due_at": pm.due_at,
        "author": user_ref(pm.author),
        "created_at": pm.created_at,
        "updated_at": pm.updated_at,
        "submitted_at": pm.submitted_at,
        "published_at": pm.published_at,
        "published_by": user_ref(pm.published_by),
        "version": pm.version,
    }


def facts_json(facts: Facts, *, frozen: bool) -> dict[str, Any]:
    data = facts.to_json()
    data["times"] = {
        "first_alert_at": facts.times.first_alert_at,
        "opened_at": facts.times.opened_at,
        "acknowledged_at": facts.times.acknowledged_at,
        "mitigated_at": facts.times.mitigated_at,
        "resolved_at": facts.times.resolved_at,
    }
    data["durations_text"] = {k: format_duration(v) for k, v in data["durations"].items()}
    data["generated_at"] = facts.generated_at
    data["frozen"] = frozen
    return data


def key_event_json(event: KeyEvent) -> dict[str, Any]:
    return {"id": event.pk, "at": event.at, "text": event.text, "entry": event.entry_id}


def why_json(why: FiveWhy) -> dict[str, Any]:
    return {"id": why.pk, "position": why.position, "question": why.question, "answer": why.answer}


def factor_json(factor: ContributingFactor) -> dict[str, Any]:
    return {
        "id": factor.pk,
        "category": {"value": factor.category.slug, "label": factor.category.name},
        "description": factor.description,
    }


def reviewer_json(review: PostmortemReviewer) -> dict[str, Any]:
    return {
        "user": user_ref(review.user),
        "approved": review.approved_at is not None,
        "approved_at": review.approved_at,
    }


def comment_json(comment: PostmortemComment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "author": user_ref(comment.author),
        "created_at": comment.created_at,
        "body": comment.body,
        "body_html": markdown.render(comment.body),
    }


def amendment_json(amendment: Amendment) -> dict[str, Any]:
    return {
        "id": amendment.pk,
        "author": user_ref(amendment.author),
        "at": amendment.at,
        "reason": amendment.reason,
        "changes": amendment.changes,
    }


def postmortem_detail_json(
    pm: Postmortem,
    *,
    facts: Facts,
    events: Sequence[KeyEvent],
    can_write: bool,
    can_publish: bool,
    is_reviewer: bool,
) -> dict[str, Any]:
    """The full postmortem. ``pm`` comes from :func:`selectors.postmortem_detail`."""
    return {
        **postmortem_json(pm),
        "template": pm.template.name if pm.template else None,
        "covers_children": pm.covers_children,
        "mitigated_at": pm.mitigated_at,
        "detection_notes": pm.detection_notes,
        "response_notes": pm.response_notes,
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "hint": s.hint,
                "body": s.body,
                "body_html": markdown.render(s.body),
            }
            for s in pm.sections.all()
        ],
        "facts": facts_json(facts, frozen=bool(pm.facts)),
        "key_events": [key_event_json(e) for e in events],
        "whys": [why_json(w) for w in pm.whys.all()],
        "factors": [factor_json(f) for f in pm.factors.all()],
        "reviewers": [reviewer_json(r) for r in pm.reviewers.all()],
        "comments": [comment_json(c) for c in pm.comments.all()],
        "amendments": [amendment_json(a) for a in pm.amendments.all()],
        "can_write": can_write,
        "can_publish": can_publish,
        "is_reviewer": is_reviewer,
    }


def template_json(template: PostmortemTemplate) -> dict[str, Any]:
    return {
        "id": template.pk,
        "name": template.name,
        "description": template.description,
        "sections": template.sections,
        "is_default": template.is_default,
    }


def category_json(category: FactorCategory) -> dict[str, Any]:
    return {
        "id": category.pk,
        "slug": category.slug,
        "name": category.name,
        "description": category.description,
        "is_active": category.is_active,
    }


def policy_json(policy: PostmortemPolicy) -> dict[str, Any]:
    return {
        "required_priorities": list(policy.required_priorities),
        "template": policy.template.name if policy.template else None,
        "due_days": policy.due_days,
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    """The list view. ``team`` and ``owner`` selected, ``services__team`` prefetched."""
    return {
        "ref": problem.ref,
        "id": problem.pk,
        "title": problem.title,
        "status": problem.status,
        "status_label": ProblemStatus(problem.status).label,
        "team": team_ref(problem.team),
        "owner": user_ref(problem.owner),
        "known_error": problem.is_known_error,
        "known_error_at": problem.known_error_at,
        "services": [service_ref(s) for s in sorted(problem.services.all(), key=lambda s: s.name)],
        "created_at": problem.created_at,
        "updated_at": problem.updated_at,
        "resolved_at": problem.resolved_at,
        "closed_at": problem.closed_at,
        "version": problem.version,
    }


def problem_detail_json(
    problem: Problem, *, incidents: Sequence[Incident], can_write: bool
) -> dict[str, Any]:
    return {
        **problem_json(problem),
        "description": problem.description,
        "description_html": markdown.render(problem.description),
        "root_cause": problem.root_cause,
        "root_cause_html": markdown.render(problem.root_cause),
        "workaround": problem.workaround,
        "workaround_html": markdown.render(problem.workaround),
        "incidents": [incident_ref(i) for i in incidents],
        "allowed_transitions": [
            {"value": t.value, "label": t.label} for t in problem_targets(problem.status)
        ],
        "can_write": can_write,
    }


def action_item_json(item: ActionItem, *, today: date) -> dict[str, Any]:
    """``team``, ``owner``, ``postmortem__incident``, ``incident`` and ``problem`` should be selected."""
    return {
        "id": item.pk,
        "title": item.title,
        "description": item.description,
        "team": team_ref(item.team),
        "owner": user_ref(item.owner),
        "due_date": item.due_date,
        "overdue": item.is_open and item.due_date is not None and item.due_date < today,
        "priority": item.priority,
        "priority_label": ActionItemPriority(item.priority).label,
        "status": item.status,
        "status_label": ActionItemStatus(item.status).label,
        "postmortem": item.postmortem.incident.ref if item.postmortem else None,
        "incident": incident_ref(item.incident) if item.incident else None,
        "problem": item.problem.ref if item.problem else None,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "completed_at": item.completed_at,
        "version": item.version,
    }


def known_error_json(match: KnownErrorMatch) -> dict[str, Any]:
    problem = match.problem
    return {
        "ref": problem.ref,
        "title": problem.title,
        "status": problem.status,
        "status_label": ProblemStatus(problem.status).label,
        "team": team_ref(problem.team),
        "workaround": problem.workaround,
        "workaround_html": markdown.render(problem.workaround),
        "same_service": match.same_service,
        "score": round(match.score, 4),
    }
