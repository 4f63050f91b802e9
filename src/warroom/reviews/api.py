"""REST routes for learning from incidents: postmortems (with their sections, key events, 5 whys, contributing
factors, review workflow, comments, amendments and Markdown export), action items, problems and known errors,
and the configuration they use (templates, factor categories, the postmortem policy).

A postmortem is addressed by its incident's number (``/postmortems/INC0001042``), a problem by ``PRB0000042``
(or ``42``), an action item by its id. Objects the caller may not see are 404s whatever the route; references in
the body that do not resolve are 400s naming the field; the services decide rights (403), states (409) and bad
input (400 naming the field).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.accounts.schemas import Page, Paging, caller, known_filter, lookup, paginate, source_of, user_key
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.lib.errors import NotFound, PermissionDenied, ValidationFailed
from warroom.lib.ids import is_id
from warroom.reviews import export, search, selectors, services
from warroom.reviews.models import FactorCategory, Postmortem, PostmortemTemplate, Problem
from warroom.reviews.schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    ActionItemQuery,
    AmendIn,
    AmendmentOut,
    CategoryIn,
    CommentIn,
    CommentOut,
    FactorCategoryOut,
    FactorIn,
    FactorOut,
    FactorPatch,
    KeyEventIn,
    KeyEventOut,
    KnownErrorOut,
    KnownErrorQuery,
    PostmortemDetailOut,
    PostmortemIn,
    PostmortemOut,
    PostmortemPatch,
    PostmortemPolicyIn,
    PostmortemPolicyOut,
    PostmortemQuery,
    PostmortemTemplateIn,
    PostmortemTemplateOut,
    ProblemDetailOut,
    ProblemIn,
    ProblemOut,
    ProblemPatch,
    ProblemQuery,
    ProblemTransitionIn,
    Ref,
    RequestChangesIn,
    SubmitIn,
    WhyIn,
    WhyOut,
    WhyPatch,
    action_item_json,
    amendment_json,
    category_json,
    comment_json,
    factor_json,
    key_event_json,
    known_error_json,
    policy_json,
    postmortem_detail_json,
    postmortem_json,
    problem_detail_json,
    problem_json,
    template_json,
    why_json,
)

router = Router()

PM = ["postmortems"]
ITEMS = ["action items"]
PROBLEMS = ["problems"]
CONFIG = ["postmortem configuration"]


# ---------------------------------------------------------------------------------------------------------------
# resolving references from the body


def _incident(user: User, field: str, key: Ref) -> Incident:
    return lookup(field, partial(incident_selectors.get_incident_for_user_or_404, user, ref=key))


def _person(user: User, field: str, key: Ref) -> User:
    return lookup(field, partial(accounts.get_user_for_user_or_404, user, key=user_key(key)))


def _team(user: User, key: Ref) -> Team:
    return lookup("team", partial(accounts.get_team_for_user_or_404, user, key=key))


def _default_team(user: User) -> Team:
    teams = list(accounts.actionable_teams(user).order_by("name")[:6])
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise PermissionDenied("you are not a responder in any team, so you cannot open problems")
    names = ", ".join(t.slug for t in teams[:5])
    raise ValidationFailed(f"team is required: you act for several teams ({names})", field="team")


def _services(user: User, keys: list[Ref]) -> list[Service]:
    return [lookup("services", partial(catalog.get_service_for_user_or_404, user, key=k)) for k in keys]


def _template(key: Ref) -> PostmortemTemplate:
    return lookup("template", partial(selectors.get_template_or_404, key))


def _category(key: Ref) -> FactorCategory:
    return lookup("category", partial(selectors.get_category_or_404, key))


def _postmortem_ref(user: User, field: str, key: Ref) -> Postmortem:
    return lookup(field, partial(selectors.get_postmortem_for_user_or_404, user, ref=key))


def _problem_ref(user: User, field: str, key: Ref) -> Problem:
    return lookup(field, partial(selectors.get_problem_for_user_or_404, user, ref=key))


def _user_filter(user: User, value: str | None) -> str | None:
    return str(user.pk) if value == "me" else value


def _check_refs(user: User, seen: Callable[[dict[str, Any]], bool], **refs: str | None) -> None:
    """The references of a list's filters (``team``, ``service``, a person as ``owner`` or ``reviewer``): each
    must name one the caller can see, or one an item of the list they see has (``seen(filter)``: an action item
    they own in another team, a postmortem they review); else a 400 naming the parameter."""
    finders: dict[str, Callable[[User, str], object]] = {
        "team": lambda u, key: accounts.get_team_for_user_or_404(u, key=key),
        "service": lambda u, key: catalog.get_service_for_user_or_404(u, key=key),
        "owner": lambda u, key: accounts.get_user_for_user_or_404(u, key=user_key(key)),
        "reviewer": lambda u, key: accounts.get_user_for_user_or_404(u, key=user_key(key)),
    }
    for field, key in refs.items():
        if key and key not in ("me", "none"):
            known_filter(field, partial(finders[field], user, key), seen=partial(seen, {field: key}))


# ---------------------------------------------------------------------------------------------------------------
# postmortems


def _pm_detail(user: User, pm: Postmortem) -> dict[str, Any]:
    full = selectors.postmortem_detail(pm)
    return postmortem_detail_json(
        full,
        facts=selectors.facts_of(full),
        events=selectors.key_events(full),
        can_write=selectors.can_write_postmortem(user, full),
        can_publish=selectors.can_publish_postmortem(user, full),
        is_reviewer=selectors.is_reviewer(user, full),
    )


def _pm(request: HttpRequest, ref: str) -> tuple[User, Postmortem]:
    user = caller(request)
    return user, selectors.get_postmortem_for_user_or_404(user, ref=ref)


@router.get("/postmortems", response=Page[PostmortemOut], tags=PM, summary="List postmortems")
def list_postmortems(request: HttpRequest, query: Query[PostmortemQuery]) -> dict[str, Any]:
    """The postmortems you may see, newest first."""
    user = caller(request)

    def seen(flt: dict[str, Any]) -> bool:
        if "reviewer" in flt:
            flt = {"reviewer": int(flt["reviewer"])}
        return selectors.filter_postmortems(user, selectors.PostmortemFilter(**flt)).exists()

    reviewer = _user_filter(user, query.reviewer)
    if reviewer is not None and not is_id(reviewer):
        reviewer = str(_person(user, "reviewer", reviewer).pk)
    elif reviewer != str(user.pk):  # an id (yourself, "me", is always known)
        _check_refs(user, seen, reviewer=reviewer)
    _check_refs(user, seen, team=query.team)
    flt = selectors.PostmortemFilter(
        status=list(query.status) if query.status else None,
        team=query.team,
        required=query.required,
        reviewer=int(reviewer) if reviewer else None,
        text=query.q,
    )
    return paginate(selectors.filter_postmortems(user, flt), query, postmortem_json)


@router.post("/postmortems", response={201: PostmortemDetailOut}, tags=PM, summary="Start a postmortem")
def create_postmortem(request: HttpRequest, payload: PostmortemIn) -> Status[dict[str, Any]]:
    """Start the postmortem of an incident, pre-filled from the record (one per incident)."""
    user = caller(request)
    pm = services.create_postmortem(
        incident=_incident(user, "incident", payload.incident),
        actor=user,
        source=source_of(request),
        template=_template(payload.template) if payload.template is not None else None,
        title=payload.title,
    )
    return Status(201, _pm_detail(user, pm))


@router.get("/postmortems/{ref}", response=PostmortemDetailOut, tags=PM, summary="Get a postmortem")
def get_postmortem(request: HttpRequest, ref: str) -> dict[str, Any]:
    user, pm = _pm(request, ref)
    return _pm_detail(user, pm)


@router.patch("/postmortems/{ref}", response=PostmortemDetailOut, tags=PM, summary="Edit a postmortem")
def update_postmortem(request: HttpRequest, ref: str, payload: PostmortemPatch) -> dict[str, Any]:
    """Edit a draft or a postmortem in review; a published one changes only by amendment (409)."""
    user, pm = _pm(request, ref)
    sent = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {
        key: sent[key]
        for key in (
            "title",
            "sections",
            "detection_notes",
            "response_notes",
            "mitigated_at",
            "covers_children",
        )
        if key in sent
    }
    for key in ("title", "sections", "detection_notes", "response_notes", "covers_children"):
        if key in kwargs and kwargs[key] is None:
            raise ValidationFailed(f"{key} cannot be null", field=key)
    updated = services.update_postmortem(
        postmortem=pm, actor=user, source=source_of(request), expected_version=payload.version, **kwargs
    )
    return _pm_detail(user, updated)


@router.get("/postmortems/{ref}/export", tags=PM, summary="Export a postmortem as Markdown")
def export_postmortem(request: HttpRequest, ref: str) -> HttpResponse:
    """The whole postmortem as one Markdown document (``text/markdown``)."""
    user, pm = _pm(request, ref)
    items = list(selectors.action_items_of(user, postmortem=pm))
    response = HttpResponse(
        export.markdown_for(pm, action_items=items), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.export_filename(pm)}"'
    return response


@router.post("/postmortems/{ref}/submit", response=PostmortemDetailOut, tags=PM, summary="Submit for review")
def submit_postmortem(request: HttpRequest, ref: str, payload: SubmitIn) -> dict[str, Any]:
    """Draft → in review, naming the reviewers (members of the postmortem's team)."""
    user, pm = _pm(request, ref)
    reviewers = [_person(user, "reviewers", key) for key in payload.reviewers]
    moved = services.submit_postmortem(
        postmortem=pm,
        reviewers=reviewers,
        actor=user,
        source=source_of(request),
        expected_version=payload.version,
    )
    return _pm_detail(user, moved)


@router.post("/postmortems/{ref}/approve", response=PostmortemDetailOut, tags=PM, summary="Approve")
def approve_postmortem(request: HttpRequest, ref: str) -> dict[str, Any]:
    """A named reviewer approves (403 for anyone else)."""
    user, pm = _pm(request, ref)
    return _pm_detail(user, services.approve_postmortem(postmortem=pm, actor=user, source=source_of(request)))


@router.post(
    "/postmortems/{ref}/request-changes", response=PostmortemDetailOut, tags=PM, summary="Request changes"
)
def request_changes(request: HttpRequest, ref: str, payload: RequestChangesIn) -> dict[str, Any]:
    """In review → draft, with a comment; approvals are withdrawn."""
    user, pm = _pm(request, ref)
    moved = services.request_changes(
        postmortem=pm, actor=user, source=source_of(request), comment=payload.comment
    )
    return _pm_detail(user, moved)


@router.post("/postmortems/{ref}/publish", response=PostmortemDetailOut, tags=PM, summary="Publish")
def publish_postmortem(request: HttpRequest, ref: str) -> dict[str, Any]:
    """In review → published once every reviewer approved (team admins and managers)."""
    user, pm = _pm(request, ref)
    return _pm_detail(user, services.publish_postmortem(postmortem=pm, actor=user, source=source_of(request)))


@router.post(
    "/postmortems/{ref}/amendments",
    response={201: AmendmentOut},
    tags=PM,
    summary="Amend a published postmortem",
)
def amend_postmortem(request: HttpRequest, ref: str, payload: AmendIn) -> Status[dict[str, Any]]:
    """Change a published postmortem's text with a reason; the incident's timeline records it."""
    user, pm = _pm(request, ref)
    sent = payload.dict(exclude_unset=True)
    kwargs = {
        key: sent[key]
        for key in ("title", "sections", "detection_notes", "response_notes")
        if sent.get(key) is not None
    }
    amendment = services.amend_postmortem(
        postmortem=pm, actor=user, source=source_of(request), reason=payload.reason, **kwargs
    )
    return Status(201, amendment_json(amendment))


@router.get("/postmortems/{ref}/comments", response=Page[CommentOut], tags=PM, summary="Read the discussion")
def list_comments(request: HttpRequest, ref: str, paging: Query[Paging]) -> dict[str, Any]:
    _user, pm = _pm(request, ref)
    return paginate(pm.comments.select_related("author").order_by("created_at", "id"), paging, comment_json)


@router.post("/postmortems/{ref}/comments", response={201: CommentOut}, tags=PM, summary="Comment")
def add_comment(request: HttpRequest, ref: str, payload: CommentIn) -> Status[dict[str, Any]]:
    user, pm = _pm(request, ref)
    comment = services.add_comment(postmortem=pm, actor=user, source=source_of(request), body=payload.body)
    return Status(201, comment_json(comment))


@router.post("/postmortems/{ref}/key-events", response={201: KeyEventOut}, tags=PM, summary="Add a key event")
def add_key_event(request: HttpRequest, ref: str, payload: KeyEventIn) -> Status[dict[str, Any]]:
    """An event of your own on the postmortem's timeline; it may be backdated. Naive times are refused."""
    user, pm = _pm(request, ref)
    event = services.add_key_event(
        postmortem=pm, at=payload.at, text=payload.text, actor=user, source=source_of(request)
    )
    return Status(201, key_event_json(event))


@router.delete(
    "/postmortems/{ref}/key-events/{event_id}", response={204: None}, tags=PM, summary="Remove a key event"
)
def remove_key_event(request: HttpRequest, ref: str, event_id: int) -> Status[None]:
    user, pm = _pm(request, ref)
    event = selectors.get_key_event_or_404(pm, event_id)
    services.remove_key_event(event=event, actor=user, source=source_of(request))
    return Status(204, None)


@router.put(
    "/postmortems/{ref}/picks/{entry_id}",
    response=PostmortemDetailOut,
    tags=PM,
    summary="Pick a timeline entry",
)
def pick_entry(request: HttpRequest, ref: str, entry_id: int) -> dict[str, Any]:
    """Make an incident timeline entry a key event of the postmortem."""
    user, pm = _pm(request, ref)
    entry = selectors.get_entry_or_404(pm, entry_id)
    services.set_key_event(postmortem=pm, entry=entry, key=True, actor=user, source=source_of(request))
    return _pm_detail(user, pm)


@router.delete(
    "/postmortems/{ref}/picks/{entry_id}",
    response=PostmortemDetailOut,
    tags=PM,
    summary="Unpick a timeline entry",
)
def unpick_entry(request: HttpRequest, ref: str, entry_id: int) -> dict[str, Any]:
    user, pm = _pm(request, ref)
    entry = selectors.get_entry_or_404(pm, entry_id)
    services.set_key_event(postmortem=pm, entry=entry, key=False, actor=user, source=source_of(request))
    return _pm_detail(user, pm)


@router.post("/postmortems/{ref}/whys", response={201: WhyOut}, tags=PM, summary="Add a step to the 5 whys")
def add_why(request: HttpRequest, ref: str, payload: WhyIn) -> Status[dict[str, Any]]:
    user, pm = _pm(request, ref)
    why = services.add_why(
        postmortem=pm, answer=payload.answer, question=payload.question, actor=user, source=source_of(request)
    )
    return Status(201, why_json(why))


@router.patch("/postmortems/{ref}/whys/{why_id}", response=WhyOut, tags=PM, summary="Change or move a step")
def update_why(request: HttpRequest, ref: str, why_id: int, payload: WhyPatch) -> dict[str, Any]:
    user, pm = _pm(request, ref)
    why = selectors.get_why_or_404(pm, why_id)
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return why_json(services.update_why(why=why, actor=user, source=source_of(request), **sent))


@router.delete("/postmortems/{ref}/whys/{why_id}", response={204: None}, tags=PM, summary="Remove a step")
def remove_why(request: HttpRequest, ref: str, why_id: int) -> Status[None]:
    user, pm = _pm(request, ref)
    services.remove_why(why=selectors.get_why_or_404(pm, why_id), actor=user, source=source_of(request))
    return Status(204, None)


@router.post(
    "/postmortems/{ref}/factors", response={201: FactorOut}, tags=PM, summary="Add a contributing factor"
)
def add_factor(request: HttpRequest, ref: str, payload: FactorIn) -> Status[dict[str, Any]]:
    user, pm = _pm(request, ref)
    factor = services.add_factor(
        postmortem=pm,
        category=_category(payload.category),
        description=payload.description,
        actor=user,
        source=source_of(request),
    )
    return Status(201, factor_json(factor))


@router.patch(
    "/postmortems/{ref}/factors/{factor_id}", response=FactorOut, tags=PM, summary="Change a factor"
)
def update_factor(request: HttpRequest, ref: str, factor_id: int, payload: FactorPatch) -> dict[str, Any]:
    user, pm = _pm(request, ref)
    factor = selectors.get_factor_or_404(pm, factor_id)
    kwargs: dict[str, Any] = {}
    if payload.category is not None:
        kwargs["category"] = _category(payload.category)
    if payload.description is not None:
        kwargs["description"] = payload.description
    return factor_json(services.update_factor(factor=factor, actor=user, source=source_of(request), **kwargs))


@router.delete(
    "/postmortems/{ref}/factors/{factor_id}", response={204: None}, tags=PM, summary="Remove a factor"
)
def remove_factor(request: HttpRequest, ref: str, factor_id: int) -> Status[None]:
    user, pm = _pm(request, ref)
    services.remove_factor(
        factor=selectors.get_factor_or_404(pm, factor_id), actor=user, source=source_of(request)
    )
    return Status(204, None)


# ---------------------------------------------------------------------------------------------------------------
# configuration


@router.get(
    "/postmortem-templates", response=Page[PostmortemTemplateOut], tags=CONFIG, summary="List templates"
)
def list_templates(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    caller(request)
    return paginate(selectors.templates(), paging, template_json)


@router.post(
    "/postmortem-templates", response={201: PostmortemTemplateOut}, tags=CONFIG, summary="Create a template"
)
def create_template(request: HttpRequest, payload: PostmortemTemplateIn) -> Status[dict[str, Any]]:
    """Organisation admins only."""
    user = caller(request)
    template = services.save_template(
        actor=user,
        source=source_of(request),
        name=payload.name,
        description=payload.description,
        sections=[s.dict() for s in payload.sections],
        is_default=payload.is_default,
    )
    return Status(201, template_json(template))


@router.put(
    "/postmortem-templates/{template_id}",
    response=PostmortemTemplateOut,
    tags=CONFIG,
    summary="Change a template",
)
def update_template(request: HttpRequest, template_id: int, payload: PostmortemTemplateIn) -> dict[str, Any]:
    """Organisation admins only. Postmortems already started keep their sections."""
    user = caller(request)
    template = selectors.get_template_or_404(template_id)
    saved = services.save_template(
        actor=user,
        source=source_of(request),
        name=payload.name,
        description=payload.description,
        sections=[s.dict() for s in payload.sections],
        is_default=payload.is_default,
        template=template,
    )
    return template_json(saved)


@router.get(
    "/factor-categories", response=Page[FactorCategoryOut], tags=CONFIG, summary="List factor categories"
)
def list_categories(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """The contributing-factor taxonomy, retired categories included (``is_active``)."""
    caller(request)
    return paginate(selectors.factor_categories(active_only=False), paging, category_json)


@router.post(
    "/factor-categories", response={201: FactorCategoryOut}, tags=CONFIG, summary="Add a factor category"
)
def create_category(request: HttpRequest, payload: CategoryIn) -> Status[dict[str, Any]]:
    user = caller(request)
    category = services.save_factor_category(
        actor=user,
        source=source_of(request),
        name=payload.name,
        description=payload.description,
        is_active=payload.is_active,
    )
    return Status(201, category_json(category))


@router.put(
    "/factor-categories/{slug}", response=FactorCategoryOut, tags=CONFIG, summary="Change a factor category"
)
def update_category(request: HttpRequest, slug: str, payload: CategoryIn) -> dict[str, Any]:
    user = caller(request)
    category = FactorCategory.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound(f"contributing factor category {slug!r} not found")
    saved = services.save_factor_category(
        actor=user,
        source=source_of(request),
        name=payload.name,
        description=payload.description,
        is_active=payload.is_active,
        category=category,
    )
    return category_json(saved)


@router.get(
    "/postmortem-policy", response=PostmortemPolicyOut, tags=CONFIG, summary="Read the postmortem policy"
)
def get_policy(request: HttpRequest) -> dict[str, Any]:
    caller(request)
    return policy_json(selectors.policy())


@router.put(
    "/postmortem-policy", response=PostmortemPolicyOut, tags=CONFIG, summary="Change the postmortem policy"
)
def set_policy(request: HttpRequest, payload: PostmortemPolicyIn) -> dict[str, Any]:
    """Organisation admins only: which priorities need a postmortem when they resolve."""
    user = caller(request)
    kwargs: dict[str, Any] = {}
    if payload.template is not None:
        kwargs["template"] = _template(payload.template)
    if payload.due_days is not None:
        kwargs["due_days"] = payload.due_days
    policy = services.set_policy(
        actor=user, source=source_of(request), required_priorities=payload.required_priorities, **kwargs
    )
    return policy_json(policy)


# ---------------------------------------------------------------------------------------------------------------
# action items


def _item_json(item: Any) -> dict[str, Any]:
    return action_item_json(item, today=selectors.today())


@router.get("/action-items", response=Page[ActionItemOut], tags=ITEMS, summary="List action items")
def list_action_items(request: HttpRequest, query: Query[ActionItemQuery]) -> dict[str, Any]:
    """Action items across every team you may see, due soonest first."""
    user = caller(request)

    def seen(flt: dict[str, Any]) -> bool:
        return selectors.filter_action_items(user, selectors.ActionItemFilter(**flt)).exists()

    _check_refs(user, seen, owner=query.owner, team=query.team, service=query.service)
    flt = selectors.ActionItemFilter(
        owner=query.owner,
        status=list(query.status) if query.status else None,
        open_only=query.open,
        overdue=query.overdue,
        team=query.team,
        service=query.service,
        postmortem=_postmortem_ref(user, "postmortem", query.postmortem).pk if query.postmortem else None,
        incident=_incident(user, "incident", query.incident).pk if query.incident else None,
        problem=_problem_ref(user, "problem", query.problem).pk if query.problem else None,
        text=query.q,
    )
    return paginate(selectors.filter_action_items(user, flt), query, _item_json)


@router.post("/action-items", response={201: ActionItemOut}, tags=ITEMS, summary="Add an action item")
def create_action_item(request: HttpRequest, payload: ActionItemIn) -> Status[dict[str, Any]]:
    """Follow-up work on a postmortem, an incident or a problem (at least one)."""
    user = caller(request)
    item = services.create_action_item(
        actor=user,
        source=source_of(request),
        title=payload.title,
        description=payload.description,
        owner=_person(user, "owner", payload.owner) if payload.owner is not None else None,
        due_date=payload.due_date,
        priority=payload.priority,
        postmortem=_postmortem_ref(user, "postmortem", payload.postmortem) if payload.postmortem else None,
        incident=_incident(user, "incident", payload.incident) if payload.incident else None,
        problem=_problem_ref(user, "problem", payload.problem) if payload.problem else None,
    )
    return Status(201, _item_json(selectors.get_action_item_for_user_or_404(user, item_id=item.pk)))


@router.get("/action-items/{item_id}", response=ActionItemOut, tags=ITEMS, summary="Get an action item")
def get_action_item(request: HttpRequest, item_id: int) -> dict[str, Any]:
    user = caller(request)
    return _item_json(selectors.get_action_item_for_user_or_404(user, item_id=item_id))


@router.patch("/action-items/{item_id}", response=ActionItemOut, tags=ITEMS, summary="Change an action item")
def update_action_item(request: HttpRequest, item_id: int, payload: ActionItemPatch) -> dict[str, Any]:
    """Only the fields sent change; its owner may change the status (``done``, ``wont_do`` ...)."""
    user = caller(request)
    item = selectors.get_action_item_for_user_or_404(user, item_id=item_id)
    sent = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {}
    for key in ("title", "description", "priority", "status"):
        if key in sent:
            if sent[key] is None:
                raise ValidationFailed(f"{key} cannot be null", field=key)
            kwargs[key] = sent[key]
    if "due_date" in sent:
        kwargs["due_date"] = sent["due_date"]
    if "owner" in sent:
        kwargs["owner"] = None if payload.owner is None else _person(user, "owner", payload.owner)
    services.update_action_item(
        item=item, actor=user, source=source_of(request), expected_version=payload.version, **kwargs
    )
    return _item_json(selectors.get_action_item_for_user_or_404(user, item_id=item_id))


# ---------------------------------------------------------------------------------------------------------------
# problems and known errors


def _problem_detail(user: User, problem: Problem) -> dict[str, Any]:
    fresh = selectors.visible_problems(user).prefetch_related("services__team").get(pk=problem.pk)
    return problem_detail_json(
        fresh,
        incidents=list(selectors.problem_incidents(user, fresh)),
        can_write=selectors.can_write_problem(user, fresh),
    )


@router.get("/problems", response=Page[ProblemOut], tags=PROBLEMS, summary="List problems")
def list_problems(request: HttpRequest, query: Query[ProblemQuery]) -> dict[str, Any]:
    user = caller(request)

    def seen(flt: dict[str, Any]) -> bool:
        return selectors.filter_problems(user, selectors.ProblemFilter(**flt)).exists()

    _check_refs(user, seen, team=query.team, service=query.service)
    flt = selectors.ProblemFilter(
        status=list(query.status) if query.status else None,
        open_only=query.open,
        team=query.team,
        service=query.service,
        known_error=query.known_error,
        text=query.q,
    )
    rows = selectors.filter_problems(user, flt).prefetch_related("services__team")
    return paginate(rows, query, problem_json)


@router.post("/problems", response={201: ProblemDetailOut}, tags=PROBLEMS, summary="Open a problem")
def create_problem(request: HttpRequest, payload: ProblemIn) -> Status[dict[str, Any]]:
    user = caller(request)
    team = _team(user, payload.team) if payload.team is not None else _default_team(user)
    problem = services.create_problem(
        actor=user,
        source=source_of(request),
        title=payload.title,
        team=team,
        description=payload.description,
        services=_services(user, payload.services),
        incidents=[_incident(user, "incidents", key) for key in payload.incidents],
        root_cause=payload.root_cause,
        workaround=payload.workaround,
        owner=_person(user, "owner", payload.owner) if payload.owner is not None else None,
    )
    return Status(201, _problem_detail(user, problem))


@router.get("/problems/{ref}", response=ProblemDetailOut, tags=PROBLEMS, summary="Get a problem")
def get_problem(request: HttpRequest, ref: str) -> dict[str, Any]:
    user = caller(request)
    return _problem_detail(user, selectors.get_problem_for_user_or_404(user, ref=ref))


@router.patch("/problems/{ref}", response=ProblemDetailOut, tags=PROBLEMS, summary="Change a problem")
def update_problem(request: HttpRequest, ref: str, payload: ProblemPatch) -> dict[str, Any]:
    """Documenting a workaround makes the problem a known error."""
    user = caller(request)
    problem = selectors.get_problem_for_user_or_404(user, ref=ref)
    sent = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {}
    for key in ("title", "description", "root_cause", "workaround"):
        if key in sent:
            if sent[key] is None:
                raise ValidationFailed(f"{key} cannot be null (send an empty string)", field=key)
            kwargs[key] = sent[key]
    if "owner" in sent:
        kwargs["owner"] = None if payload.owner is None else _person(user, "owner", payload.owner)
    if "services" in sent:
        if payload.services is None:
            raise ValidationFailed("services must be a list (send [] for none)", field="services")
        kwargs["services"] = _services(user, payload.services)
    services.update_problem(
        problem=problem, actor=user, source=source_of(request), expected_version=payload.version, **kwargs
    )
    return _problem_detail(user, problem)


@router.post("/problems/{ref}/transition", response=ProblemDetailOut, tags=PROBLEMS, summary="Change status")
def transition_problem(request: HttpRequest, ref: str, payload: ProblemTransitionIn) -> dict[str, Any]:
    """Move to status ``to`` if the transition table allows it (409 otherwise)."""
    user = caller(request)
    problem = selectors.get_problem_for_user_or_404(user, ref=ref)
    services.transition_problem(
        problem=problem,
        actor=user,
        source=source_of(request),
        to=payload.to,
        note=payload.note,
        expected_version=payload.version,
    )
    return _problem_detail(user, problem)


@router.put(
    "/problems/{ref}/incidents/{incident_ref}",
    response=ProblemDetailOut,
    tags=PROBLEMS,
    summary="Link an incident",
)
def link_incident(request: HttpRequest, ref: str, incident_ref: str) -> dict[str, Any]:
    user = caller(request)
    problem = selectors.get_problem_for_user_or_404(user, ref=ref)
    incident = incident_selectors.get_incident_for_user_or_404(user, ref=incident_ref)
    services.link_problem_incident(problem=problem, incident=incident, actor=user, source=source_of(request))
    return _problem_detail(user, problem)


@router.delete(
    "/problems/{ref}/incidents/{incident_ref}",
    response=ProblemDetailOut,
    tags=PROBLEMS,
    summary="Unlink an incident",
)
def unlink_incident(request: HttpRequest, ref: str, incident_ref: str) -> dict[str, Any]:
    user = caller(request)
    problem = selectors.get_problem_for_user_or_404(user, ref=ref)
    incident = incident_selectors.get_incident_for_user_or_404(user, ref=incident_ref)
    services.link_problem_incident(
        problem=problem, incident=incident, actor=user, source=source_of(request), linked=False
    )
    return _problem_detail(user, problem)


@router.get(
    "/incidents/{ref}/known-errors",
    response=list[KnownErrorOut],
    tags=PROBLEMS,
    summary="Known errors for an incident",
)
def incident_known_errors(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    """Known errors (problems with a workaround, not closed) that share a service or words with the incident,
    best first."""
    user = caller(request)
    incident = incident_selectors.get_incident_for_user_or_404(user, ref=ref)
    return [known_error_json(m) for m in search.known_errors_for_incident(user, incident)]


@router.get("/known-errors", response=list[KnownErrorOut], tags=PROBLEMS, summary="Search known errors")
def search_known_errors(request: HttpRequest, query: Query[KnownErrorQuery]) -> list[dict[str, Any]]:
    """The known errors matching a text and services, e.g. while declaring an incident."""
    user = caller(request)
    service_ids = [
        lookup("service", partial(catalog.get_service_for_user_or_404, user, key=key)).pk
        for key in query.service or []
    ]
    matches = search.match_known_errors(user, text=query.q, service_ids=service_ids, limit=query.limit)
    return [known_error_json(m) for m in matches]
