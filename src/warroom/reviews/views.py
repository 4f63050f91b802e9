"""Console pages for postmortems, action items and problems.

Reads go through :mod:`warroom.reviews.selectors` (another team's object is a 404), writes through
:mod:`warroom.reviews.services` with ``source="web"``. Every action is a POST. On the postmortem and problem
pages an action answers with the page: re-rendered in place for htmx, a redirect otherwise; a refused action
re-renders the page with the message next to the form that asked, at the error's status (400, 409, ...).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.catalog import selectors as catalog
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.priority import Priority
from warroom.lib import clock
from warroom.lib.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from warroom.lib.ids import as_id
from warroom.reviews import export, search, selectors, services
from warroom.reviews.export import fact_rows
from warroom.reviews.forms import (
    ActionItemEditForm,
    ActionItemFilterForm,
    ActionItemForm,
    ActionItemStatusForm,
    AmendForm,
    CategoryForm,
    CommentForm,
    EditForm,
    FactorForm,
    KeyEventForm,
    LinkIncidentForm,
    PickForm,
    PolicyForm,
    PostmortemFilterForm,
    ProblemEditForm,
    ProblemFilterForm,
    ProblemForm,
    ProblemTransitionForm,
    RequestChangesForm,
    StartForm,
    SubmitForm,
    WhyActionForm,
    WhyForm,
)
from warroom.reviews.models import ActionItem, Postmortem, Problem
from warroom.reviews.states import PROBLEM_TRANSITIONS, PostmortemStatus, ProblemStatus, problem_targets
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error, query_string

PAGE_SIZE = 25


def _page(request: AuthedRequest, rows: Any, form: forms.Form) -> dict[str, Any]:
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    params = {name: request.GET.get(name, "") for name in form.fields if request.GET.get(name)}
    return {
        "page": page,
        "params": params,
        "filtered": bool(params),
        "qs_prev": query_string(params, page=page.previous_page_number()) if page.has_previous() else "",
        "qs_next": query_string(params, page=page.next_page_number()) if page.has_next() else "",
    }


def _local_next(request: AuthedRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# ---------------------------------------------------------------------------------------------------------------
# postmortems: list and start


@console_view
@require_GET
def postmortem_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = PostmortemFilterForm(request.GET, user=user)
    form.is_valid()
    flt = selectors.PostmortemFilter(
        status=[form.value("status")] if form.value("status") else None,
        team=form.value("team"),
        reviewer=user.pk if form.value("mine") == "review" else None,
        text=form.value("q"),
    )
    rows = selectors.filter_postmortems(user, flt)
    context = {"form": form, "start_form": StartForm(), "now": clock.now(), **_page(request, rows, form)}
    partial = request.htmx and not request.htmx.history_restore_request and request.htmx.target == "results"
    return render(
        request, "reviews/_postmortem_results.html" if partial else "reviews/postmortem_list.html", context
    )


@console_view
@require_POST
def postmortem_start(request: AuthedRequest) -> HttpResponse:
    """Start the postmortem of an incident (from the incident page or the list)."""
    form = StartForm(request.POST)
    if form.is_valid():
        try:
            incident = incident_selectors.get_incident_for_user_or_404(
                request.user, ref=form.cleaned_data["incident"]
            )
            pm = services.create_postmortem(
                incident=incident, actor=request.user, source=SOURCE, template=form.cleaned_data["template"]
            )
        except NotFound as exc:
            form.add_error("incident", exc.message)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Postmortem of {pm.ref} started from the record. Over to you.")
            return redirect("web:postmortem-detail", ref=pm.ref)
    rows = selectors.filter_postmortems(request.user, selectors.PostmortemFilter())
    filters = PostmortemFilterForm({}, user=request.user)
    context = {"form": filters, "start_form": form, "start_open": True, **_page(request, rows, filters)}
    return render(request, "reviews/postmortem_list.html", context, status=400)


# ---------------------------------------------------------------------------------------------------------------
# postmortems: the page


def _get_pm(request: AuthedRequest, ref: str) -> Postmortem:
    return selectors.get_postmortem_for_user_or_404(request.user, ref=ref)


def _pm_context(request: AuthedRequest, pm: Postmortem, **bound: Any) -> dict[str, Any]:
    user = request.user
    full = selectors.postmortem_detail(pm)
    sections = list(full.sections.all())
    can_write = selectors.can_write_postmortem(user, full)
    facts = selectors.facts_of(full)
    events = selectors.key_events(full)
    picked = {e.entry_id for e in events if e.entry_id is not None}
    editable = full.status != PostmortemStatus.PUBLISHED
    picker = selectors.picker_entries(full) if can_write and editable else None
    if picker is not None:
        incident_selectors.hide_unseen(user, picker.entries)  # a linked incident the author may not see
    reviewers = list(full.reviewers.all())
    edit_initial = {
        "title": full.title,
        "version": full.version,
        "mitigated_at": full.mitigated_at,
        "covers_children": full.covers_children,
        "detection_notes": full.detection_notes,
        "response_notes": full.response_notes,
        **{f"section-{s.key}": s.body for s in sections},
    }
    context: dict[str, Any] = {
        "pm": full,
        "incident": full.incident,
        "sections": sections,
        "facts": facts,
        "fact_rows": fact_rows(facts),
        "events": events,
        "picker": [(e, e.pk in picked) for e in picker.entries] if picker else [],
        "picker_left_out": picker.left_out if picker else 0,
        "can_write": can_write and editable,
        "can_publish": selectors.can_publish_postmortem(user, full),
        "can_comment": selectors.can_comment(user, full),
        "is_reviewer": any(r.user_id == user.pk for r in reviewers),
        "my_review": next((r for r in reviewers if r.user_id == user.pk), None),
        "reviewers": reviewers,
        "pending": [r for r in reviewers if r.approved_at is None],
        "action_items": list(selectors.action_items_of(user, postmortem=full)),
        "today": selectors.today(),
        "priority_label": Priority(full.incident.priority).label,
        "edit_form": EditForm(initial=edit_initial, sections=sections),
        "amend_form": AmendForm(initial=edit_initial, sections=sections),
        "event_form": KeyEventForm(),
        "why_form": WhyForm(),
        "factor_form": FactorForm(),
        "submit_form": SubmitForm(team=full.team, initial={"reviewers": [r.user_id for r in reviewers]}),
        "comment_form": CommentForm(),
        "changes_form": RequestChangesForm(),
        "item_form": ActionItemForm(team=full.team, user=user),
    }
    context.update(bound)
    return context


def _pm_page(request: AuthedRequest, pm: Postmortem, *, status: int = 200, **bound: Any) -> HttpResponse:
    return render(request, "reviews/postmortem_detail.html", _pm_context(request, pm, **bound), status=status)


def _pm_done(request: AuthedRequest, pm: Postmortem, anchor: str = "") -> HttpResponse:
    if request.htmx:
        return _pm_page(request, pm)
    response = redirect("web:postmortem-detail", ref=pm.ref)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


@console_view
@require_GET
def postmortem_detail(request: AuthedRequest, ref: str) -> HttpResponse:
    return _pm_page(request, _get_pm(request, ref))


@console_view
@require_GET
def postmortem_export(request: AuthedRequest, ref: str) -> HttpResponse:
    """The postmortem as a Markdown file."""
    pm = _get_pm(request, ref)
    text = export.markdown_for(pm, action_items=list(selectors.action_items_of(request.user, postmortem=pm)))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.export_filename(pm)}"'
    return response


@console_view
@require_GET
def postmortem_print(request: AuthedRequest, ref: str) -> HttpResponse:
    """The postmortem as a printable page (the browser's print dialog makes a PDF of it)."""
    pm = _get_pm(request, ref)
    full = selectors.postmortem_detail(pm)
    facts = selectors.facts_of(full)
    context = {
        "pm": full,
        "incident": full.incident,
        "facts": facts,
        "fact_rows": fact_rows(facts),
        "events": selectors.key_events(full),
        "action_items": list(selectors.action_items_of(request.user, postmortem=full)),
        "priority_label": Priority(full.incident.priority).label,
    }
    return render(request, "reviews/postmortem_print.html", context)


@console_view
@require_POST
def postmortem_edit(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = EditForm(request.POST, sections=list(pm.sections.all()))
    if not form.is_valid():
        return _pm_page(request, pm, status=400, edit_form=form)
    data = form.cleaned_data
    try:
        services.update_postmortem(
            postmortem=pm,
            actor=request.user,
            source=SOURCE,
            expected_version=data["version"],
            title=data["title"],
            sections=form.sections(),
            detection_notes=data["detection_notes"],
            response_notes=data["response_notes"],
            mitigated_at=data["mitigated_at"],
            covers_children=data["covers_children"],
        )
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), edit_form=form)
    if request.htmx:
        return _pm_page(request, pm, just_saved=True)
    messages.success(request, "Saved.")
    return _pm_done(request, pm, "write")


@console_view
@require_POST
def postmortem_event_add(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = KeyEventForm(request.POST)
    if not form.is_valid():
        return _pm_page(request, pm, status=400, event_form=form)
    try:
        services.add_key_event(
            postmortem=pm,
            at=form.cleaned_data["at"],
            text=form.cleaned_data["text"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), event_form=form)
    return _pm_done(request, pm, "key-events")


@console_view
@require_POST
def postmortem_event_remove(request: AuthedRequest, ref: str, event_id: int) -> HttpResponse:
    pm = _get_pm(request, ref)
    services.remove_key_event(
        event=selectors.get_key_event_or_404(pm, event_id), actor=request.user, source=SOURCE
    )
    return _pm_done(request, pm, "key-events")


@console_view
@require_POST
def postmortem_pick(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = PickForm(request.POST)
    if not form.is_valid():
        return _pm_page(request, pm, status=400)
    entry = selectors.get_entry_or_404(pm, form.cleaned_data["entry"])
    services.set_key_event(
        postmortem=pm, entry=entry, key=form.cleaned_data["key"] == "1", actor=request.user, source=SOURCE
    )
    return _pm_done(request, pm, "key-events")


@console_view
@require_POST
def postmortem_why_add(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = WhyForm(request.POST)
    if not form.is_valid():
        return _pm_page(request, pm, status=400, why_form=form)
    try:
        services.add_why(
            postmortem=pm,
            answer=form.cleaned_data["answer"],
            question=form.cleaned_data["question"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), why_form=form)
    return _pm_done(request, pm, "whys")


@console_view
@require_POST
def postmortem_why_action(request: AuthedRequest, ref: str, why_id: int) -> HttpResponse:
    """Move a step up or down the chain, or remove it."""
    pm = _get_pm(request, ref)
    why = selectors.get_why_or_404(pm, why_id)
    form = WhyActionForm(request.POST)
    if not form.is_valid():
        return _pm_page(request, pm, status=400)
    action = form.cleaned_data["action"]
    if action == "remove":
        services.remove_why(why=why, actor=request.user, source=SOURCE)
    else:
        count = pm.whys.count()
        target = why.position - 1 if action == "up" else why.position + 1
        if 1 <= target <= count:
            services.update_why(why=why, actor=request.user, source=SOURCE, position=target)
    return _pm_done(request, pm, "whys")


@console_view
@require_POST
def postmortem_factor_add(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = FactorForm(request.POST)
    if not form.is_valid():
        return _pm_page(request, pm, status=400, factor_form=form)
    try:
        services.add_factor(
            postmortem=pm,
            category=form.cleaned_data["category"],
            description=form.cleaned_data["description"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), factor_form=form)
    return _pm_done(request, pm, "factors")


@console_view
@require_POST
def postmortem_factor_remove(request: AuthedRequest, ref: str, factor_id: int) -> HttpResponse:
    pm = _get_pm(request, ref)
    services.remove_factor(
        factor=selectors.get_factor_or_404(pm, factor_id), actor=request.user, source=SOURCE
    )
    return _pm_done(request, pm, "factors")


@console_view
@require_POST
def postmortem_submit(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = SubmitForm(request.POST, team=pm.team)
    if not form.is_valid():
        return _pm_page(request, pm, status=400, submit_form=form)
    try:
        services.submit_postmortem(
            postmortem=pm, reviewers=list(form.cleaned_data["reviewers"]), actor=request.user, source=SOURCE
        )
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), submit_form=form)
    return _pm_done(request, pm, "review")


@console_view
@require_POST
def postmortem_approve(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    services.approve_postmortem(postmortem=pm, actor=request.user, source=SOURCE)
    return _pm_done(request, pm, "review")


@console_view
@require_POST
def postmortem_request_changes(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = RequestChangesForm(request.POST)
    if not form.is_valid():
        return _pm_page(request, pm, status=400, changes_form=form)
    try:
        services.request_changes(
            postmortem=pm, actor=request.user, source=SOURCE, comment=form.cleaned_data["comment"]
        )
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), changes_form=form)
    return _pm_done(request, pm, "review")


@console_view
@require_POST
def postmortem_publish(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    services.publish_postmortem(postmortem=pm, actor=request.user, source=SOURCE)
    if not request.htmx:
        messages.success(request, "Published. The incident's timeline says so.")
    return _pm_done(request, pm)


@console_view
@require_POST
def postmortem_amend(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = AmendForm(request.POST, sections=list(pm.sections.all()))
    if not form.is_valid():
        return _pm_page(request, pm, status=400, amend_form=form)
    data = form.cleaned_data
    try:
        services.amend_postmortem(
            postmortem=pm,
            actor=request.user,
            source=SOURCE,
            reason=data["reason"],
            title=data["title"],
            sections=form.sections(),
            detection_notes=data["detection_notes"],
            response_notes=data["response_notes"],
        )
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), amend_form=form)
    return _pm_done(request, pm, "amendments")


@console_view
@require_POST
def postmortem_comment(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _pm_page(request, pm, status=400, comment_form=form)
    try:
        services.add_comment(postmortem=pm, actor=request.user, source=SOURCE, body=form.cleaned_data["body"])
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), comment_form=form)
    return _pm_done(request, pm, "discussion")


@console_view
@require_POST
def postmortem_action_item(request: AuthedRequest, ref: str) -> HttpResponse:
    pm = _get_pm(request, ref)
    form = ActionItemForm(request.POST, team=pm.team, user=request.user)
    if not form.is_valid():
        return _pm_page(request, pm, status=400, item_form=form)
    try:
        services.create_action_item(actor=request.user, source=SOURCE, postmortem=pm, **form.cleaned_data)
    except ServiceError as exc:
        return _pm_page(request, pm, status=form_error(form, exc), item_form=form)
    return _pm_done(request, pm, "action-items")


# ---------------------------------------------------------------------------------------------------------------
# action items


@console_view
@require_GET
def action_item_list(request: AuthedRequest) -> HttpResponse:
    """Every action item the user may see, across teams, with filters that refresh the table live."""
    user = request.user
    form = ActionItemFilterForm(request.GET, user=user)
    form.is_valid()
    status = form.value("status")
    flt = selectors.ActionItemFilter(
        owner=form.value("owner"),
        status=[status] if status and status != "all" else None,
        open_only=not status,
        overdue=bool(form.value("overdue")),
        team=form.value("team"),
        service=form.value("service"),
        text=form.value("q"),
    )
    rows = selectors.filter_action_items(user, flt)
    paged = _page(request, rows, form)
    context = {
        "form": form,
        "today": selectors.today(),
        "here": request.get_full_path(),
        # "Done" shows only on the items this user may change (an observer sees none): see the selector.
        "changeable": {
            item.pk
            for item in paged["page"].object_list
            if selectors.can_update_action_item_status(user, item)
        },
        **paged,
    }
    partial = request.htmx and not request.htmx.history_restore_request and request.htmx.target == "results"
    return render(
        request, "reviews/_item_results.html" if partial else "reviews/action_item_list.html", context
    )


def _item_context(request: AuthedRequest, item: ActionItem, **bound: forms.Form) -> dict[str, Any]:
    user = request.user
    initial = {
        "title": item.title,
        "owner": item.owner_id,
        "due_date": item.due_date,
        "priority": item.priority,
        "description": item.description,
        "status": item.status,
        "version": item.version,
    }
    context: dict[str, Any] = {
        "item": item,
        "today": selectors.today(),
        "can_edit": selectors.can_edit_action_item(user, item),
        "can_status": selectors.can_update_action_item_status(user, item),
        "form": ActionItemEditForm(initial=initial, team=item.team, user=user),
        "reminders": list(item.reminders.all()[:10]),
    }
    context.update(bound)
    return context


@console_view
@require_http_methods(["GET", "POST"])
def action_item_detail(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = selectors.get_action_item_for_user_or_404(request.user, item_id=item_id)
    if request.method == "GET":
        return render(request, "reviews/action_item_detail.html", _item_context(request, item))
    form = ActionItemEditForm(request.POST, team=item.team, user=request.user)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_action_item(
                item=item,
                actor=request.user,
                source=SOURCE,
                expected_version=data["version"],
                title=data["title"],
                description=data["description"],
                owner=data["owner"],
                due_date=data["due_date"],
                priority=data["priority"],
                status=data["status"],
            )
        except ServiceError as exc:
            status = form_error(form, exc)
        else:
            messages.success(request, "Action item saved.")
            return redirect("web:action-item-detail", item_id=item.pk)
    return render(
        request, "reviews/action_item_detail.html", _item_context(request, item, form=form), status=status
    )


@console_view
@require_POST
def action_item_status(request: AuthedRequest, item_id: int) -> HttpResponse:
    """Mark done, won't do, in progress or open again (list rows and detail page); back to ``next``."""
    item = selectors.get_action_item_for_user_or_404(request.user, item_id=item_id)
    form = ActionItemStatusForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed("choose a status: open, in_progress, done or wont_do", field="status")
    services.update_action_item(
        item=item, actor=request.user, source=SOURCE, status=form.cleaned_data["status"]
    )
    return redirect(_local_next(request, f"/action-items/{item.pk}/"))


# ---------------------------------------------------------------------------------------------------------------
# problems


@console_view
@require_http_methods(["GET", "POST"])
def problem_list(request: AuthedRequest) -> HttpResponse:
    """The problems, with filters; POST opens a new one."""
    user = request.user
    create_form = ProblemForm(request.POST or None, user=user, initial=_one_team(user))
    status = 200
    if request.method == "POST":
        status = 400
        if create_form.is_valid():
            try:
                problem = services.create_problem(actor=user, source=SOURCE, **create_form.cleaned_data)
            except ServiceError as exc:
                status = form_error(create_form, exc)
            else:
                messages.success(request, f"{problem.ref} opened.")
                return redirect("web:problem-detail", ref=problem.ref)
    form = ProblemFilterForm(request.GET, user=user)
    form.is_valid()
    wanted = form.value("status")
    flt = selectors.ProblemFilter(
        status=[wanted] if wanted and wanted != "all" else None,
        open_only=not wanted,
        team=form.value("team"),
        service=form.value("service"),
        known_error=True if form.value("known") else None,
        text=form.value("q"),
    )
    rows = selectors.filter_problems(user, flt).prefetch_related("services")
    context = {
        "form": form,
        "create_form": create_form,
        "create_open": request.method == "POST",
        "can_create": accounts.actionable_teams(user).exists(),
        **_page(request, rows, form),
    }
    partial = request.htmx and not request.htmx.history_restore_request and request.htmx.target == "results"
    template = "reviews/_problem_results.html" if partial else "reviews/problem_list.html"
    return render(request, template, context, status=status)


def _one_team(user: Any) -> dict[str, Any]:
    teams = list(accounts.actionable_teams(user)[:2])
    return {"team": teams[0].pk} if len(teams) == 1 else {}


def _get_problem(request: AuthedRequest, ref: str) -> Problem:
    return selectors.get_problem_for_user_or_404(request.user, ref=ref)


def _problem_context(request: AuthedRequest, problem: Problem, **bound: forms.Form) -> dict[str, Any]:
    user = request.user
    fresh = selectors.visible_problems(user).prefetch_related("services__team").get(pk=problem.pk)
    can_write = selectors.can_write_problem(user, fresh)
    initial = {
        "title": fresh.title,
        "description": fresh.description,
        "services": [s.pk for s in fresh.services.all()],
        "root_cause": fresh.root_cause,
        "workaround": fresh.workaround,
        "owner": fresh.owner_id,
        "version": fresh.version,
    }
    context: dict[str, Any] = {
        "problem": fresh,
        "can_write": can_write and fresh.status != ProblemStatus.CLOSED,
        "can_move": can_write,
        "transitions": [
            {"to": t.value, "label": t.label, "verb": PROBLEM_TRANSITIONS[(ProblemStatus(fresh.status), t)]}
            for t in problem_targets(fresh.status)
        ],
        "incidents": list(selectors.problem_incidents(user, fresh)),
        "action_items": list(selectors.action_items_of(user, problem=fresh)),
        "today": selectors.today(),
        "edit_form": ProblemEditForm(initial=initial, user=user, team=fresh.team),
        "transition_form": ProblemTransitionForm(),
        "link_form": LinkIncidentForm(),
        "item_form": ActionItemForm(team=fresh.team, user=user),
    }
    context.update(bound)
    return context


def _problem_page(
    request: AuthedRequest, problem: Problem, *, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    return render(
        request, "reviews/problem_detail.html", _problem_context(request, problem, **bound), status=status
    )


def _problem_done(request: AuthedRequest, problem: Problem) -> HttpResponse:
    if request.htmx:
        return _problem_page(request, problem)
    return redirect("web:problem-detail", ref=problem.ref)


@console_view
@require_GET
def problem_detail(request: AuthedRequest, ref: str) -> HttpResponse:
    return _problem_page(request, _get_problem(request, ref))


@console_view
@require_POST
def problem_edit(request: AuthedRequest, ref: str) -> HttpResponse:
    problem = _get_problem(request, ref)
    form = ProblemEditForm(request.POST, user=request.user, team=problem.team)
    if not form.is_valid():
        return _problem_page(request, problem, status=400, edit_form=form)
    data = form.cleaned_data
    # Services of teams the user cannot see stay linked: the form never showed them.
    visible = set(catalog.visible_services(request.user).values_list("pk", flat=True))
    kept = [s for s in problem.services.all() if s.pk not in visible]
    try:
        services.update_problem(
            problem=problem,
            actor=request.user,
            source=SOURCE,
            expected_version=data["version"],
            title=data["title"],
            description=data["description"],
            root_cause=data["root_cause"],
            workaround=data["workaround"],
            owner=data["owner"],
            services=[*data["services"], *kept],
        )
    except ServiceError as exc:
        return _problem_page(request, problem, status=form_error(form, exc), edit_form=form)
    return _problem_done(request, problem)


@console_view
@require_POST
def problem_transition(request: AuthedRequest, ref: str) -> HttpResponse:
    problem = _get_problem(request, ref)
    form = ProblemTransitionForm(request.POST)
    if not form.is_valid():
        return _problem_page(request, problem, status=400, transition_form=form)
    try:
        services.transition_problem(
            problem=problem,
            actor=request.user,
            source=SOURCE,
            to=form.cleaned_data["to"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except ServiceError as exc:
        return _problem_page(request, problem, status=form_error(form, exc), transition_form=form)
    return _problem_done(request, problem)


@console_view
@require_POST
def problem_link(request: AuthedRequest, ref: str) -> HttpResponse:
    problem = _get_problem(request, ref)
    form = LinkIncidentForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["ref"]:
        if form.is_valid():
            form.add_error("ref", "name an incident, e.g. INC0001042")
        return _problem_page(request, problem, status=400, link_form=form)
    try:
        incident = incident_selectors.get_incident_for_user_or_404(request.user, ref=form.cleaned_data["ref"])
    except NotFound as exc:
        form.add_error("ref", exc.message)
        return _problem_page(request, problem, status=400, link_form=form)
    try:
        services.link_problem_incident(
            problem=problem,
            incident=incident,
            actor=request.user,
            source=SOURCE,
            linked=form.cleaned_data["action"] == "link",
        )
    except ServiceError as exc:
        return _problem_page(request, problem, status=form_error(form, exc), link_form=form)
    return _problem_done(request, problem)


@console_view
@require_POST
def problem_action_item(request: AuthedRequest, ref: str) -> HttpResponse:
    problem = _get_problem(request, ref)
    form = ActionItemForm(request.POST, team=problem.team, user=request.user)
    if not form.is_valid():
        return _problem_page(request, problem, status=400, item_form=form)
    try:
        services.create_action_item(actor=request.user, source=SOURCE, problem=problem, **form.cleaned_data)
    except ServiceError as exc:
        return _problem_page(request, problem, status=form_error(form, exc), item_form=form)
    return _problem_done(request, problem)


# ---------------------------------------------------------------------------------------------------------------
# settings (organisation admins)


@console_view
@require_http_methods(["GET", "POST"])
def review_settings(request: AuthedRequest) -> HttpResponse:
    """The postmortem policy, the templates and the contributing-factor taxonomy."""
    user = request.user
    current = selectors.policy()
    priorities = [(p.value, p.label) for p in Priority]
    initial = {
        "required_priorities": list(current.required_priorities),
        "template": current.template_id,
        "due_days": current.due_days,
    }
    policy_form = PolicyForm(
        request.POST if request.POST.get("form") == "policy" else None, priorities=priorities, initial=initial
    )
    category_form = CategoryForm(request.POST if request.POST.get("form") == "category" else None)
    status = 200
    if request.method == "POST":
        if not user.is_org_admin:
            raise PermissionDenied("only organisation admins change the postmortem settings")
        status = 400
        try:
            if policy_form.is_bound and policy_form.is_valid():
                services.set_policy(
                    actor=user,
                    source=SOURCE,
                    required_priorities=policy_form.cleaned_data["required_priorities"],
                    template=policy_form.cleaned_data["template"],
                    due_days=policy_form.cleaned_data["due_days"],
                )
                messages.success(request, "Postmortem policy saved.")
                return redirect("web:review-settings")
            if category_form.is_bound and category_form.is_valid():
                services.save_factor_category(actor=user, source=SOURCE, **category_form.cleaned_data)
                messages.success(request, "Category added.")
                return redirect("web:review-settings")
        except ServiceError as exc:
            status = form_error(policy_form if policy_form.is_bound else category_form, exc)
    context = {
        "policy": current,
        "policy_form": policy_form,
        "category_form": category_form,
        "templates": list(selectors.templates()),
        "categories": list(selectors.factor_categories(active_only=False)),
        "can_change": user.is_org_admin,
    }
    return render(request, "reviews/settings.html", context, status=status)


#: known errors the declare form's finder shows at the most
FINDER_MATCHES = 3
#: characters of the title and of the description the finder reads (it searches with their first words anyway)
FINDER_TEXT_MAX = 2000


@console_view
@require_GET
def known_error_suggestions(request: AuthedRequest) -> HttpResponse:
    """The declare form's finder: the known errors the user may see that share words with ``title`` and
    ``description`` or a service with ``services`` (ids), best first; nothing for an empty form. Values that are
    not ids are passed over (the form is still being filled in)."""
    text = " ".join(
        str(request.GET.get(name, ""))[:FINDER_TEXT_MAX] for name in ("title", "description")
    ).strip()
    wanted = {ident for value in request.GET.getlist("services") if (ident := as_id(value)) is not None}
    service_ids = (
        list(catalog.visible_services(request.user).filter(pk__in=wanted).values_list("pk", flat=True))
        if wanted
        else []
    )
    matches = (
        search.match_known_errors(request.user, text=text, service_ids=service_ids, limit=FINDER_MATCHES)
        if text or service_ids
        else []
    )
    return render(request, "reviews/_known_error_suggestions.html", {"known_errors": matches})
