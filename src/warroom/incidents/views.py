"""Console pages for incidents: the list, the declare form, the detail page and every action on it.

Reads go through :mod:`warroom.incidents.selectors` (another team's incident is a 404), writes through
:mod:`warroom.incidents.services` with ``source="web"``. Every action is a POST that answers with the detail
page: re-rendered in place for htmx, a redirect otherwise; a refused action re-renders the page with the
message next to the form that asked, at the error's status (400, 409, ...).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.catalog import selectors as catalog
from warroom.incidents import selectors, services
from warroom.incidents.forms import (
    DeclareForm,
    EditForm,
    FilterForm,
    MergeForm,
    NoteForm,
    PreviewForm,
    RelateForm,
    RoleForm,
    TaskForm,
    TaskUpdateForm,
    TransitionForm,
    WatchForm,
    edit_initial,
)
from warroom.incidents.models import Incident
from warroom.incidents.priority import Impact, Priority, Urgency
from warroom.incidents.states import (
    OPEN_STATES,
    TRANSITIONS,
    HoldReason,
    ResolutionCode,
    State,
    allowed_targets,
)
from warroom.lib.errors import NotFound, ServiceError
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error, query_string

PAGE_SIZE = 25
TIMELINE_POLL_SECONDS = 15

VERB_LABELS = {
    "start": "Start work",
    "hold": "Put on hold",
    "resume": "Resume",
    "resolve": "Resolve",
    "close": "Close",
    "reopen": "Reopen",
    "cancel": "Cancel incident",
}


# ---------------------------------------------------------------------------------------------------------------
# list


def _filter_from(form: FilterForm, request: AuthedRequest) -> selectors.IncidentFilter:
    state = form.value("state")
    priority = form.value("priority")
    assignee = form.value("assignee")
    if assignee == "me":
        assignee = str(request.user.pk)
    return selectors.IncidentFilter(
        state=[state] if state and state != "all" else None,
        open_only=not state,
        priority=[priority] if priority else None,
        team=form.value("team"),
        service=form.value("service"),
        assignee=assignee,
        text=form.value("q"),
    )


@console_view
@require_GET
def incident_list(request: AuthedRequest) -> HttpResponse:
    """The incident desk: filters that refresh the table live, and the table re-polled every 15 s."""
    form = FilterForm(request.GET, user=request.user)
    form.is_valid()
    incidents = selectors.filter_incidents(request.user, _filter_from(form, request)).prefetch_related(
        "services"
    )
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    params = {name: request.GET.get(name, "") for name in form.fields if form.value(name) is not None}
    context = {
        "form": form,
        "page": page,
        "params": params,
        "filtered": any(key != "state" for key in params) or params.get("state") not in (None, ""),
        "qs_self": query_string(params, page=page.number if page.number > 1 else None),
        "qs_prev": query_string(params, page=page.previous_page_number()) if page.has_previous() else "",
        "qs_next": query_string(params, page=page.next_page_number()) if page.has_next() else "",
        "poll_seconds": TIMELINE_POLL_SECONDS,
    }
    partial = request.htmx and not request.htmx.history_restore_request and request.htmx.target == "results"
    template = "incidents/_results.html" if partial else "incidents/list.html"
    return render(request, template, context)


# ---------------------------------------------------------------------------------------------------------------
# declare


def _preview_priority(data: Any) -> int:
    form = PreviewForm(data)
    if form.is_valid():
        return selectors.priority_for(form.cleaned_data["impact"], form.cleaned_data["urgency"])
    return selectors.priority_for(Impact.MEDIUM, Urgency.MEDIUM)


@console_view
@require_http_methods(["GET", "POST"])
def incident_declare(request: AuthedRequest) -> HttpResponse:
    user = request.user
    teams = list(accounts.actionable_teams(user)[:2])
    if not teams:
        # An observer (or someone in no team) may declare for no team (the menu's `may_declare` is false): a
        # 403 that says why, on GET and on a hand-made POST alike, instead of a form whose assignment group
        # list is empty, or that form's 400.
        memberships = accounts.memberships_visible_to(user, user)
        return render(request, "incidents/declare.html", {"memberships": memberships}, status=403)
    initial = {"team": teams[0].pk} if len(teams) == 1 else {}
    form = DeclareForm(request.POST or None, user=user, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = services.declare_incident(
                    actor=user,
                    source=SOURCE,
                    title=data["title"],
                    description=data["description"],
                    team=data["team"],
                    services=data["services"],
                    impact=data["impact"],
                    urgency=data["urgency"],
                    category=data["category"],
                    subcategory=data["subcategory"],
                    assignee=data["assignee"],
                    is_major=data["is_major"],
                    is_private=data["is_private"],
                )
            except ServiceError as exc:
                status = form_error(form, exc)
            else:
                messages.success(request, f"{incident.ref} declared. Its timeline has started.")
                return redirect("web:incident-detail", ref=incident.ref)
    priority = _preview_priority(request.POST if request.method == "POST" else {"impact": 2, "urgency": 2})
    context = {"form": form, "priority": priority, "priority_label": Priority(priority).label}
    return render(request, "incidents/declare.html", context, status=status)


@console_view
@require_GET
def priority_preview(request: AuthedRequest) -> HttpResponse:
    """The priority that impact × urgency give through the current matrix (the declare form's preview)."""
    priority = _preview_priority(request.GET)
    return render(
        request,
        "incidents/_priority_preview.html",
        {"priority": priority, "priority_label": Priority(priority).label},
    )


# ---------------------------------------------------------------------------------------------------------------
# detail


def _get(request: AuthedRequest, ref: str) -> Incident:
    return selectors.get_incident_for_user_or_404(request.user, ref=ref)


def _timeline_context(request: AuthedRequest, incident: Incident) -> dict[str, Any]:
    shown = selectors.console_timeline(incident)
    selectors.hide_unseen(request.user, shown.items)
    return {
        "incident": incident,
        "entries": shown.items[::-1],  # newest first
        "total": shown.total,
        "poll_seconds": TIMELINE_POLL_SECONDS,
    }


def _visible_linked_ids(request: AuthedRequest, incident: Incident) -> set[int]:
    """Which of the incident's parent, children, related and merged incidents the user may see."""
    linked_ids = [i.pk for i in (*incident.related.all(), *incident.children.all(), *incident.merged.all())]
    linked_ids += [pk for pk in (incident.parent_id, incident.merged_into_id) if pk is not None]
    return set(
        selectors.visible_incidents(request.user).filter(pk__in=linked_ids).values_list("pk", flat=True)
    )


def major_card_context(request: AuthedRequest, incident: Incident) -> dict[str, Any]:
    """What the major-incident card (``{% major_panel %}``) reads, for the card alone."""
    incident = selectors.incident_detail(incident)
    visible_ids = _visible_linked_ids(request, incident)
    return {
        "incident": incident,
        "can_edit": selectors.can_edit(request.user, incident),
        "children": [c for c in incident.children.all() if c.pk in visible_ids],
    }


def _detail_context(request: AuthedRequest, incident: Incident, **bound: forms.Form) -> dict[str, Any]:
    user = request.user
    incident = selectors.incident_detail(incident)
    can_edit = selectors.can_edit(user, incident)
    visible_ids = _visible_linked_ids(request, incident)
    parent_visible = incident.parent_id in visible_ids
    visible_service_ids = set(
        catalog.visible_services(user)
        .filter(pk__in=[s.pk for s in incident.services.all()])
        .values_list("pk", flat=True)
    )
    people = accounts.team_people(incident.team)
    holders = {r.role_type_id: r for r in incident.roles.all()}
    transitions = [
        {"to": target.value, "label": VERB_LABELS[verb], "verb": verb}
        for target in allowed_targets(incident.state)
        for verb in [TRANSITIONS[(State(incident.state), target)]]
    ]
    context: dict[str, Any] = {
        "incident": incident,
        "can_edit": can_edit,
        "can_note": selectors.can_write_notes(user, incident),
        "is_watching": any(w.user_id == user.pk for w in incident.watchers.all()),
        "parent_visible": parent_visible,
        "children": [c for c in incident.children.all() if c.pk in visible_ids],
        "related": [r for r in incident.related.all() if r.pk in visible_ids],
        "visible_service_ids": visible_service_ids,
        "roles": [{"type": rt, "holder": holders.get(rt.pk)} for rt in selectors.role_types()],
        "people": people,
        "transitions": transitions,
        "hold_reasons": HoldReason.choices,
        "resolution_codes": ResolutionCode.choices,
        # said in the resolve form: work still open on an incident about to be resolved
        "open_tasks": sum(1 for task in incident.tasks.all() if not task.is_done),
        "edit_form": EditForm(initial=edit_initial(incident, parent_visible), user=user, incident=incident),
        "transition_form": TransitionForm(),
        "note_form": NoteForm(),
        "task_form": TaskForm(people=people),
        "role_form": RoleForm(people=people),
        "relate_form": RelateForm(),
        "merge_form": MergeForm(),
        "can_merge": can_edit and incident.state in OPEN_STATES,
        # the incident it was merged into, and those merged into it, that the user may see
        "merged_into": incident.merged_into if incident.merged_into_id in visible_ids else None,
        "merged": [m for m in incident.merged.all() if m.pk in visible_ids],
        **_timeline_context(request, incident),
    }
    context.update(bound)
    return context


#: where the page scrolls after an htmx action was refused: the form that shows why (``id="form-problem"``)
SHOW_PROBLEM = "outerHTML show:#form-problem:top"


def _detail(
    request: AuthedRequest, incident: Incident, *, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    response = render(
        request, "incidents/detail.html", _detail_context(request, incident, **bound), status=status
    )
    if request.htmx and status >= 400:
        # The page is swapped in place, where the user was scrolled to; the refusal (e.g. a version conflict at
        # the top of a long form whose button is far below) would be out of sight.
        response["HX-Reswap"] = SHOW_PROBLEM
    return response


def _done(request: AuthedRequest, incident: Incident) -> HttpResponse:
    """After a successful action: the fresh page in place for htmx, a redirect (POST → GET) otherwise."""
    if request.htmx:
        return _detail(request, incident)
    return redirect("web:incident-detail", ref=incident.ref)


@console_view
@require_GET
def incident_detail(request: AuthedRequest, ref: str) -> HttpResponse:
    return _detail(request, _get(request, ref))


@console_view
@require_GET
def incident_timeline(request: AuthedRequest, ref: str) -> HttpResponse:
    """The timeline alone: the detail page polls it."""
    incident = _get(request, ref)
    return render(request, "incidents/_timeline.html", _timeline_context(request, incident))


# ---------------------------------------------------------------------------------------------------------------
# actions (POST only)


@console_view
@require_POST
def incident_edit(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _get(request, ref)
    form = EditForm(request.POST, user=request.user, incident=incident)
    if not form.is_valid():
        return _detail(request, incident, status=400, edit_form=form)
    data = form.cleaned_data
    chosen = list(data["services"])
    visible = set(catalog.visible_services(request.user).values_list("pk", flat=True))
    # Services of teams the user cannot see stay linked: the form never showed them.
    kept = [s for s in incident.services.all() if s.pk not in visible]
    changes: dict[str, Any] = {}
    parent_visible = (
        incident.parent_id is None
        or selectors.visible_incidents(request.user).filter(pk=incident.parent_id).exists()
    )
    if parent_visible or data["parent"] is not None:
        changes["parent"] = data["parent"]
    try:
        services.update_incident(
            incident=incident,
            actor=request.user,
            source=SOURCE,
            expected_version=data["version"],
            team=data["team"],
            title=data["title"],
            description=data["description"],
            impact=data["impact"],
            urgency=data["urgency"],
            category=data["category"],
            subcategory=data["subcategory"],
            assignee=data["assignee"],
            is_major=data["is_major"],
            is_private=data["is_private"],
            services=[*chosen, *kept],
            **changes,
        )
    except ServiceError as exc:
        return _detail(request, incident, status=form_error(form, exc), edit_form=form)
    return _done(request, incident)


@console_view
@require_POST
def incident_transition(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _get(request, ref)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, status=400, transition_form=form)
    data = form.cleaned_data
    try:
        services.transition_incident(
            incident=incident,
            actor=request.user,
            source=SOURCE,
            to=data["to"],
            hold_reason=data["hold_reason"],
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
            note=data["note"],
            expected_version=data["version"],
        )
    except ServiceError as exc:
        return _detail(request, incident, status=form_error(form, exc), transition_form=form)
    return _done(request, incident)


@console_view
@require_POST
def incident_note(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _get(request, ref)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, status=400, note_form=form)
    try:
        services.add_note(
            incident=incident, actor=request.user, source=SOURCE, text=form.cleaned_data["text"]
        )
    except ServiceError as exc:
        return _detail(request, incident, status=form_error(form, exc), note_form=form)
    return _done(request, incident)


@console_view
@require_POST
def incident_role(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _get(request, ref)
    form = RoleForm(request.POST, people=accounts.team_people(incident.team))
    if not form.is_valid():
        return _detail(request, incident, status=400, role_form=form)
    data = form.cleaned_data
    try:
        role_type = selectors.get_role_type_or_404(data["role"])
        if data["action"] == "release":
            services.release_role(incident=incident, role_type=role_type, actor=request.user, source=SOURCE)
        elif data["action"] == "claim":
            services.assign_role(
                incident=incident, role_type=role_type, user=request.user, actor=request.user, source=SOURCE
            )
        elif data["user"] is None:
            form.add_error("user", f"choose who takes {role_type.name}")
            return _detail(request, incident, status=400, role_form=form)
        else:
            services.assign_role(
                incident=incident,
                role_type=role_type,
                user=data["user"],
                actor=request.user,
                source=SOURCE,
                replace=True,
            )
    except ServiceError as exc:
        status = 400 if isinstance(exc, NotFound) else form_error(form, exc)
        if isinstance(exc, NotFound):
            form.add_error("role", exc.message)
        return _detail(request, incident, status=status, role_form=form)
    return _done(request, incident)


@console_view
@require_POST
def incident_task_add(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _get(request, ref)
    form = TaskForm(request.POST, people=accounts.team_people(incident.team))
    if not form.is_valid():
        return _detail(request, incident, status=400, task_form=form)
    try:
        services.add_task(
            incident=incident,
            actor=request.user,
            source=SOURCE,
            title=form.cleaned_data["title"],
            owner=form.cleaned_data["owner"],
        )
    except ServiceError as exc:
        return _detail(request, incident, status=form_error(form, exc), task_form=form)
    return _done(request, incident)


@console_view
@require_POST
def incident_task_update(request: AuthedRequest, ref: str, task_id: int) -> HttpResponse:
    incident = _get(request, ref)
    task = selectors.get_task_or_404(incident, task_id)
    form = TaskUpdateForm(request.POST, people=accounts.team_people(incident.team))
    if not form.is_valid():
        return _detail(request, incident, status=400, task_form=form)
    changes: dict[str, Any] = {}
    if form.cleaned_data["done"] in ("0", "1"):
        changes["done"] = form.cleaned_data["done"] == "1"
    if "owner" in request.POST:
        changes["owner"] = form.cleaned_data["owner"]
    try:
        services.update_task(task=task, actor=request.user, source=SOURCE, **changes)
    except ServiceError as exc:
        return _detail(request, incident, status=form_error(form, exc), task_form=form)
    return _done(request, incident)


@console_view
@require_POST
def incident_watch(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _get(request, ref)
    form = WatchForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, status=400)
    services.set_watching(
        incident=incident,
        user=request.user,
        watching=form.cleaned_data["watching"],
        actor=request.user,
        source=SOURCE,
    )
    return _done(request, incident)


def _named_incident(request: AuthedRequest, form: forms.Form, field: str) -> Incident | None:
    """The incident a valid ``form`` names in ``field``, if the user may see it; else None, with the reason put on
    the field (a 400 of the form, not a 404 page: the incident in the URL exists)."""
    try:
        return selectors.get_incident_for_user_or_404(request.user, ref=form.cleaned_data[field])
    except NotFound as exc:
        form.add_error(field, exc.message)
        return None


@console_view
@require_POST
def incident_merge(request: AuthedRequest, ref: str) -> HttpResponse:
    """Merge this incident, a duplicate, into the one named (:func:`warroom.incidents.services.merge_incident`),
    then show that one: this incident is canceled."""
    incident = _get(request, ref)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, status=400, merge_form=form)
    into = _named_incident(request, form, "into")
    if into is None:
        return _detail(request, incident, status=400, merge_form=form)
    try:
        kept = services.merge_incident(incident=incident, into=into, actor=request.user, source=SOURCE)
    except ServiceError as exc:
        return _detail(request, incident, status=form_error(form, exc), merge_form=form)
    messages.success(request, f"{incident.ref} was merged into {kept.ref} and canceled.")
    return redirect("web:incident-detail", ref=kept.ref)


@console_view
@require_POST
def incident_relate(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _get(request, ref)
    form = RelateForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, status=400, relate_form=form)
    other = _named_incident(request, form, "ref")
    if other is None:
        return _detail(request, incident, status=400, relate_form=form)
    try:
        services.link_related(
            incident=incident,
            other=other,
            actor=request.user,
            source=SOURCE,
            linked=form.cleaned_data["action"] == "link",
        )
    except ServiceError as exc:
        return _detail(request, incident, status=form_error(form, exc), relate_form=form)
    return _done(request, incident)
