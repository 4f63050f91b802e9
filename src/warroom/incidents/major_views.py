"""Console actions for major incidents: promote, demote, attach a child, and resolve a parent with (or without)
its open children; and the card alone, which the incident page fetches again. Every action is a POST that calls
:mod:`warroom.incidents.major`; another team's incident is a 404, someone who may see it but not change it gets
the 403 page (:func:`console_view`)."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from warroom.incidents import major, selectors
from warroom.incidents.states import ResolutionCode
from warroom.incidents.views import _detail, _done, major_card_context
from warroom.lib.errors import NotFound, ValidationFailed
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


class ChildForm(forms.Form):
    child = forms.CharField(max_length=40, label="Child incident (e.g. INC0001042)")


class ResolveForm(forms.Form):
    resolution_code = forms.ChoiceField(choices=ResolutionCode.choices)
    resolution_notes = forms.CharField(max_length=50_000)
    also_children = forms.BooleanField(required=False)
    version = forms.IntegerField(required=False)


def _refuse(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, field=field)


@console_view
@require_GET
def incident_major_card(request: AuthedRequest, ref: str) -> HttpResponse:
    """The major-incident card alone, its update rhythm as of now. The incident page fetches it again when the
    stakeholder updates card beside it changes (a posted update restarts the rhythm), so the card never goes
    on saying an update is overdue right after one was posted."""
    incident = selectors.get_incident_for_user_or_404(request.user, ref=ref)
    return render(request, "incidents/major/_panel.html", major_card_context(request, incident))


@console_view
@require_POST
def incident_promote(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = selectors.get_incident_for_user_or_404(request.user, ref=ref)
    form = NoteForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    major.promote_to_major(incident=incident, actor=request.user, source=SOURCE, note=note)
    return _done(request, incident)


@console_view
@require_POST
def incident_demote(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = selectors.get_incident_for_user_or_404(request.user, ref=ref)
    form = NoteForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    major.demote(incident=incident, actor=request.user, source=SOURCE, note=note)
    return _done(request, incident)


@console_view
@require_POST
def incident_attach_child(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = selectors.get_incident_for_user_or_404(request.user, ref=ref)
    form = ChildForm(request.POST)
    if not form.is_valid():
        raise _refuse("name the child incident, e.g. INC0001042", "child")
    try:
        child = selectors.get_incident_for_user_or_404(request.user, ref=form.cleaned_data["child"])
    except NotFound as exc:
        raise _refuse(f"child: {exc.message}", "child") from None
    major.attach_child(parent=incident, child=child, actor=request.user, source=SOURCE)
    return _done(request, incident)


@console_view
@require_POST
def incident_resolve(request: AuthedRequest, ref: str) -> HttpResponse:
    """Resolve the incident; with the "also resolve the N children" box ticked, its open children too."""
    incident = selectors.get_incident_for_user_or_404(request.user, ref=ref)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, status=400, major_resolve_form=form)
    data = form.cleaned_data
    try:
        major.resolve_with_children(
            incident=incident,
            actor=request.user,
            source=SOURCE,
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
            also_children=data["also_children"],
            expected_version=data["version"],
        )
    except ValidationFailed as exc:
        return _detail(request, incident, status=form_error(form, exc), major_resolve_form=form)
    return _done(request, incident)
