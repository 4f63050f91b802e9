"""Reads of postmortems, problems and action items, scoped to what the asking user may see.

Visibility rules (another team's object is a :class:`NotFound`, never a "forbidden"):

* organisation admins see everything;
* a **postmortem** is seen by the members (any role) of its team who may also see its incident (so a private
  incident's postmortem stays with the incident's own audience), and by its named reviewers;
* a **problem** is seen by the members of its team; the incidents linked to it are shown only when the viewer
  may see them;
* an **action item** is seen by the members of its team, unless it hangs off a private incident they may not
  see, and always by its owner.

Rights: observers read; responders, managers and admins of the team write (postmortem drafts, comments, 5 whys,
factors, problems, action items); admins and managers publish and amend postmortems; named reviewers approve
and comment; an action item's owner may change its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Model, Prefetch, Q, QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Role, User
from warroom.catalog.models import Service
from warroom.incidents import selectors as incidents
from warroom.incidents.models import Incident, TimelineEntry, parse_number
from warroom.lib import clock
from warroom.lib.errors import NotFound
from warroom.lib.ids import as_id
from warroom.reviews import facts as facts_module
from warroom.reviews.defaults import DEFAULT_REQUIRED_PRIORITIES
from warroom.reviews.models import (
    ActionItem,
    ContributingFactor,
    FactorCategory,
    FiveWhy,
    KeyEvent,
    Postmortem,
    PostmortemPolicy,
    PostmortemReviewer,
    PostmortemTemplate,
    Problem,
    parse_problem_ref,
)
from warroom.reviews.states import OPEN_ITEM_STATES, ProblemStatus

# ---------------------------------------------------------------------------------------------------------------
# configuration


def policy() -> PostmortemPolicy:
    """The postmortem policy (an unsaved default when the row is missing)."""
    found = PostmortemPolicy.objects.select_related("template").filter(pk=1).first()
    if found is None:
        found = PostmortemPolicy(pk=1, required_priorities=list(DEFAULT_REQUIRED_PRIORITIES), due_days=5)
    return found


def templates() -> QuerySet[PostmortemTemplate]:
    return PostmortemTemplate.objects.all()


def default_template() -> PostmortemTemplate | None:
    """The policy's template, else the one marked default, else any."""
    chosen = policy().template
    return chosen or PostmortemTemplate.objects.filter(is_default=True).first() or templates().first()


def _by_team[M: Model](qs: QuerySet[M], team: str) -> QuerySet[M]:
    """Rows of the team ``team`` names: its id or its slug."""
    ident = as_id(team)
    return qs.filter(team_id=ident) if ident is not None else qs.filter(team__slug=team)


def get_template_or_404(key: int | str) -> PostmortemTemplate:
    text = str(key).strip()
    found = (
        PostmortemTemplate.objects.filter(pk=ident).first()
        if (ident := as_id(text)) is not None
        else PostmortemTemplate.objects.filter(name__iexact=text).first()
    )
    if found is None:
        raise NotFound(f"postmortem template {key!r} not found")
    return found


def factor_categories(*, active_only: bool = True) -> QuerySet[FactorCategory]:
    qs = FactorCategory.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def get_category_or_404(key: int | str) -> FactorCategory:
    """An active category by slug, id or name."""
    text = str(key).strip()
    qs = factor_categories()
    found = (qs.filter(pk=ident).first() if (ident := as_id(text)) is not None else None) or qs.filter(
        Q(slug=text) | Q(name__iexact=text)
    ).first()
    if found is None:
        names = ", ".join(qs.values_list("slug", flat=True))
        raise NotFound(f"contributing factor category {key!r} not found; categories are {names}")
    return found


# ---------------------------------------------------------------------------------------------------------------
# postmortems


def _member_and_admin_teams(user: User) -> tuple[list[int], list[int]]:
    roles = accounts.roles_by_team(user)
    return list(roles), [team_id for team_id, role in roles.items() if role in (Role.ADMIN, Role.MANAGER)]


def visible_postmortems(user: User) -> QuerySet[Postmortem]:
    qs = Postmortem.objects.select_related("incident", "team", "author", "published_by")
    if user.is_org_admin:
        return qs
    member_of, _ = _member_and_admin_teams(user)
    seen_incidents = incidents.visible_incidents(user).values("pk")
    reviewing = PostmortemReviewer.objects.filter(user=user).values("postmortem_id")
    return qs.filter(Q(team_id__in=member_of, incident__in=seen_incidents) | Q(pk__in=reviewing))


def get_postmortem_for_user_or_404(user: User, *, ref: str | int) -> Postmortem:
    """The postmortem of incident ``ref`` (``INC0001042`` or ``1042``) if ``user`` may see it."""
    number = ref if isinstance(ref, int) else parse_number(str(ref))
    found = visible_postmortems(user).filter(incident__number=number).first() if number is not None else None
    if found is None:
        raise NotFound(f"postmortem {ref} not found")
    return found


def postmortem_of(user: User, incident: Incident) -> Postmortem | None:
    """The postmortem that covers ``incident`` (its own, or its major parent's), if ``user`` may see it."""
    own = visible_postmortems(user).filter(incident=incident).first()
    if own is not None or incident.parent_id is None:
        return own
    return visible_postmortems(user).filter(incident_id=incident.parent_id, covers_children=True).first()


def covering_postmortem(incident: Incident) -> Postmortem | None:
    """The major parent's postmortem when it covers ``incident`` (no visibility check: for services)."""
    if incident.parent_id is None:
        return None
    return Postmortem.objects.filter(incident_id=incident.parent_id, covers_children=True).first()


def is_reviewer(user: User, postmortem: Postmortem) -> bool:
    return PostmortemReviewer.objects.filter(postmortem=postmortem, user=user).exists()


def can_write_postmortem(user: User, postmortem: Postmortem) -> bool:
    """Write the draft (sections, key events, 5 whys, factors, action items): the team's responders and up."""
    return accounts.can_act_for_team(user, postmortem.team_id)


def can_publish_postmortem(user: User, postmortem: Postmortem) -> bool:
    """Publish and amend: the team's admins and managers, and organisation admins."""
    return accounts.can_manage_team(user, postmortem.team_id)


def can_comment(user: User, postmortem: Postmortem) -> bool:
    return can_write_postmortem(user, postmortem) or is_reviewer(user, postmortem)


@dataclass(frozen=True)
class PostmortemFilter:
    status: list[str] | None = None
    team: str | None = None
    required: bool | None = None
    reviewer: int | None = None
    text: str | None = None


def filter_postmortems(user: User, flt: PostmortemFilter) -> QuerySet[Postmortem]:
    qs = visible_postmortems(user)
    if flt.status:
        qs = qs.filter(status__in=flt.status)
    if flt.team:
        qs = _by_team(qs, flt.team)
    if flt.required is not None:
        qs = qs.filter(required=flt.required)
    if flt.reviewer is not None:
        qs = qs.filter(pk__in=PostmortemReviewer.objects.filter(user_id=flt.reviewer).values("postmortem_id"))
    if flt.text:
        text = flt.text.strip()
        match = Q(title__icontains=text) | Q(incident__title__icontains=text)
        number = parse_number(text)
        if number is not None:
            match |= Q(incident__number=number)
        qs = qs.filter(match)
    return qs.order_by("-created_at", "-id")


def postmortem_detail(postmortem: Postmortem) -> Postmortem:
    """Fresh from the database, with what the page and the API show."""
    return (
        Postmortem.objects.select_related("incident", "team", "author", "published_by", "template")
        .prefetch_related(
            "sections",
            Prefetch("reviewers", queryset=PostmortemReviewer.objects.select_related("user")),
            "comments__author",
            "whys",
            "factors__category",
            "amendments__author",
        )
        .get(pk=postmortem.pk)
    )


def covered_incidents(postmortem: Postmortem) -> list[Incident]:
    return facts_module.covered_incidents(postmortem.incident, postmortem.covers_children)


def facts_of(postmortem: Postmortem) -> facts_module.Facts:
    """Frozen facts once published; live ones before."""
    if postmortem.facts:
        return facts_module.Facts.from_json(postmortem.facts)
    return facts_module.gather(
        postmortem.incident, covers_children=postmortem.covers_children, mitigated_at=postmortem.mitigated_at
    )


def key_events(postmortem: Postmortem) -> list[KeyEvent]:
    """The postmortem's timeline, oldest first: the picked incident entries (the default picks until the author
    chooses) and the author's own backdated events. Default picks are unsaved :class:`KeyEvent` objects."""
    rows = list(
        KeyEvent.objects.filter(postmortem=postmortem)
        .select_related("entry__incident", "entry__actor", "added_by")
        .order_by("at", "id")
    )
    if postmortem.timeline_customized:
        return rows
    manual = [row for row in rows if row.entry_id is None]
    defaults = [
        KeyEvent(
            postmortem=postmortem,
            entry=entry,
            at=entry.at,
            text=entry_text(entry, postmortem.incident_id),
            created_at=entry.at,
        )
        for entry in facts_module.default_key_entries(covered_incidents(postmortem))
    ]
    return sorted([*defaults, *manual], key=lambda e: (e.at, e.entry_id or 0, e.pk or 0))


def entry_text(entry: TimelineEntry, main_incident_id: int) -> str:
    """How an incident timeline entry reads as a key event: with its incident's number when it comes from a
    covered child, and who did it."""
    who = (
        entry.actor.display_name
        if entry.actor is not None
        else ("Warroom" if entry.source == "engine" else "")
    )
    prefix = f"{entry.incident.ref}: " if entry.incident_id != main_incident_id else ""
    text = entry.message or f"{entry.field}: {entry.old_value} → {entry.new_value}"
    return f"{prefix}{text}" + (f" ({who})" if who else "")


@dataclass(frozen=True)
class Picker:
    #: the timeline entries offered, oldest first
    entries: list[TimelineEntry]
    #: alert lines of a storm left out (:func:`picker_entries`)
    left_out: int


def picker_entries(postmortem: Postmortem) -> Picker:
    """The timeline entries of the covered incidents the key-event picker offers, oldest first: every one but,
    of an incident's many alert lines (a storm writes one per alert), only the first and the last few, as the
    incident page shows them, and those already picked."""
    covered = covered_incidents(postmortem)
    entries = list(incidents.timeline_of(covered).exclude(incidents.ALERT_LINE))
    picked = set(
        KeyEvent.objects.filter(postmortem=postmortem, entry__isnull=False).values_list("entry_id", flat=True)
    )
    left_out = 0
    for incident in covered:
        shown, count = incidents.ends_of_alert_lines(incident)
        if len(shown) < count:
            ids = {e.pk for e in shown}
            shown += list(incidents.alert_lines([incident]).filter(pk__in=picked - ids))
        entries += shown
        left_out += count - len(shown)
    entries.sort(key=lambda e: (e.at, e.pk))
    return Picker(entries, left_out)


def get_why_or_404(postmortem: Postmortem, why_id: int) -> FiveWhy:
    found = FiveWhy.objects.filter(postmortem=postmortem, pk=why_id).first()
    if found is None:
        raise NotFound(f"step {why_id} of the 5 whys not found on {postmortem.ref}")
    return found


def get_factor_or_404(postmortem: Postmortem, factor_id: int) -> ContributingFactor:
    found = ContributingFactor.objects.filter(postmortem=postmortem, pk=factor_id).first()
    if found is None:
        raise NotFound(f"contributing factor {factor_id} not found on {postmortem.ref}")
    return found


def get_key_event_or_404(postmortem: Postmortem, event_id: int) -> KeyEvent:
    found = KeyEvent.objects.filter(postmortem=postmortem, pk=event_id).first()
    if found is None:
        raise NotFound(f"key event {event_id} not found on {postmortem.ref}")
    return found


def get_entry_or_404(postmortem: Postmortem, entry_id: int) -> TimelineEntry:
    """A timeline entry of one of the incidents the postmortem covers."""
    found = (
        TimelineEntry.objects.filter(incident__in=covered_incidents(postmortem), pk=entry_id)
        .select_related("incident", "actor")
        .first()
    )
    if found is None:
        raise NotFound(f"timeline entry {entry_id} not found on {postmortem.ref}'s timeline")
    return found


# ---------------------------------------------------------------------------------------------------------------
# problems


def visible_problems(user: User) -> QuerySet[Problem]:
    qs = Problem.objects.select_related("team", "owner", "created_by")
    if user.is_org_admin:
        return qs
    return qs.filter(team_id__in=accounts.team_ids(user))


def get_problem_for_user_or_404(user: User, *, ref: str | int) -> Problem:
    """A problem by ``PRB0000042`` or ``42`` if ``user`` may see it."""
    pk = ref if isinstance(ref, int) else parse_problem_ref(str(ref))
    found = visible_problems(user).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound(f"problem {ref} not found")
    return found


def can_write_problem(user: User, problem: Problem) -> bool:
    return accounts.can_act_for_team(user, problem.team_id)


def problem_incidents(user: User, problem: Problem) -> QuerySet[Incident]:
    """The incidents linked to ``problem`` that ``user`` may see, newest first."""
    return incidents.visible_incidents(user).filter(problems=problem).order_by("-opened_at")


def problems_of_incident(user: User, incident: Incident) -> QuerySet[Problem]:
    return visible_problems(user).filter(incidents=incident).order_by("-created_at")


@dataclass(frozen=True)
class ProblemFilter:
    status: list[str] | None = None
    open_only: bool = False
    team: str | None = None
    service: str | None = None
    known_error: bool | None = None
    text: str | None = None


def filter_problems(user: User, flt: ProblemFilter) -> QuerySet[Problem]:
    qs = visible_problems(user)
    if flt.status:
        qs = qs.filter(status__in=flt.status)
    if flt.open_only:
        qs = qs.exclude(status=ProblemStatus.CLOSED)
    if flt.team:
        qs = _by_team(qs, flt.team)
    if flt.service:
        links = Problem.services.through.objects.all()
        links = (
            links.filter(service_id=ident)
            if (ident := as_id(flt.service)) is not None
            else links.filter(service__slug=flt.service)
        )
        qs = qs.filter(pk__in=links.values("problem_id"))
    if flt.known_error is True:
        qs = qs.exclude(workaround="")
    elif flt.known_error is False:
        qs = qs.filter(workaround="")
    if flt.text:
        text = flt.text.strip()
        match = Q(title__icontains=text) | Q(description__icontains=text) | Q(workaround__icontains=text)
        pk = parse_problem_ref(text)
        if pk is not None and text.upper().startswith("PRB"):
            match |= Q(pk=pk)
        qs = qs.filter(match)
    return qs.order_by("-created_at", "-id")


# ---------------------------------------------------------------------------------------------------------------
# action items


def visible_action_items(user: User) -> QuerySet[ActionItem]:
    qs = ActionItem.objects.select_related(
        "team", "owner", "postmortem__incident", "incident", "problem", "created_by"
    )
    if user.is_org_admin:
        return qs
    seen = incidents.visible_incidents(user).values("pk")
    hidden = (Q(incident__is_private=True) & ~Q(incident__in=seen)) | (
        Q(postmortem__incident__is_private=True) & ~Q(postmortem__incident__in=seen)
    )
    return qs.filter((Q(team_id__in=accounts.team_ids(user)) & ~hidden) | Q(owner=user))


def get_action_item_for_user_or_404(user: User, *, item_id: int | str) -> ActionItem:
    text = str(item_id).strip()
    found = (
        visible_action_items(user).filter(pk=ident).first() if (ident := as_id(text)) is not None else None
    )
    if found is None:
        raise NotFound(f"action item {item_id} not found")
    return found


def can_edit_action_item(user: User, item: ActionItem) -> bool:
    return accounts.can_act_for_team(user, item.team_id)


def can_update_action_item_status(user: User, item: ActionItem) -> bool:
    return can_edit_action_item(user, item) or item.owner_id == user.pk


def today() -> date:
    """The current UTC date: what "overdue" is measured against (see docs/postmortems.md)."""
    return clock.now().date()


#: Due soonest first (no due date last, on both databases), then by priority.
ITEM_ORDER = (F("due_date").asc(nulls_last=True), "priority", "id")


@dataclass(frozen=True)
class ActionItemFilter:
    owner: str | None = None
    status: list[str] | None = None
    open_only: bool = False
    overdue: bool = False
    team: str | None = None
    service: str | None = None
    postmortem: int | None = None
    incident: int | None = None
    problem: int | None = None
    text: str | None = None


def _owner_q(user: User, owner: str) -> Q:
    if owner == "me":
        return Q(owner=user)
    if owner == "none":
        return Q(owner__isnull=True)
    if (ident := as_id(owner)) is not None:
        return Q(owner_id=ident)
    return Q(owner__email__iexact=owner)


def _service_q(service: str) -> Q:
    key = Q(pk=ident) if (ident := as_id(service)) is not None else Q(slug=service)
    ids = Service.objects.filter(key).values("pk")
    linked = ActionItem.objects.filter(
        Q(incident__services__in=ids)
        | Q(postmortem__incident__services__in=ids)
        | Q(problem__services__in=ids)
    ).values("pk")
    return Q(pk__in=linked)


def filter_action_items(user: User, flt: ActionItemFilter) -> QuerySet[ActionItem]:
    """The visible action items matching ``flt``: overdue first by due date, then by priority."""
    qs = visible_action_items(user)
    if flt.owner:
        qs = qs.filter(_owner_q(user, flt.owner))
    if flt.status:
        qs = qs.filter(status__in=flt.status)
    if flt.open_only:
        qs = qs.filter(status__in=list(OPEN_ITEM_STATES))
    if flt.overdue:
        qs = qs.filter(status__in=list(OPEN_ITEM_STATES), due_date__lt=today())
    if flt.team:
        qs = _by_team(qs, flt.team)
    if flt.service:
        qs = qs.filter(_service_q(flt.service))
    if flt.postmortem is not None:
        qs = qs.filter(postmortem_id=flt.postmortem)
    if flt.incident is not None:
        qs = qs.filter(Q(incident_id=flt.incident) | Q(postmortem__incident_id=flt.incident))
    if flt.problem is not None:
        qs = qs.filter(problem_id=flt.problem)
    if flt.text:
        qs = qs.filter(Q(title__icontains=flt.text.strip()) | Q(description__icontains=flt.text.strip()))
    return qs.order_by(*ITEM_ORDER)


def action_items_of(user: User, **links: object) -> QuerySet[ActionItem]:
    """The visible action items linked to a postmortem, incident or problem (``postmortem=pm`` ...)."""
    return visible_action_items(user).filter(**links).order_by("status", *ITEM_ORDER)
