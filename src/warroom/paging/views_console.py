"""The incident page's paging actions: acknowledge, escalate now, reassign (a person or a policy) and snooze.

Each is a POST from the "Escalation" card (``{% incident_escalation incident %}``) that calls the paging service
with ``source="web"`` and lands back on the incident page. Another team's incident is a 404; someone who may
see it but not work it (an observer) gets the 403 page from the service's refusal; a refused action (nothing
to snooze, an unknown person, a person who may not be on call for the incident's team) is a 4xx page or, for
htmx, an alert in the page's flash area.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from warroom.accounts import selectors as accounts
from warroom.accounts.schemas import lookup
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.lib.ids import as_id
from warroom.oncall import selectors as oncall
from warroom.paging import services
from warroom.paging.templatetags.paging_console import SNOOZE_CHOICES
from warroom.web.console import SOURCE, AuthedRequest, console_view


class ReassignForm(forms.Form):
    to = forms.CharField(max_length=40)


class SnoozeForm(forms.Form):
    minutes = forms.TypedChoiceField(choices=[(m, label) for m, label in SNOOZE_CHOICES], coerce=int)


def _incident(request: AuthedRequest, ref: str) -> Incident:
    return incident_selectors.get_incident_for_user_or_404(request.user, ref=ref)


def _back(incident: Incident) -> HttpResponse:
    return redirect("web:incident-detail", ref=incident.ref)


@console_view
@require_POST
def acknowledge(request: AuthedRequest, ref: str) -> HttpResponse:
    """Acknowledge the page: stops escalation (a New incident moves to In Progress)."""
    incident = _incident(request, ref)
    services.acknowledge_page(incident=incident, actor=request.user, source=SOURCE)
    messages.success(request, f"{incident.ref} acknowledged: paging stopped.")
    return _back(incident)


@console_view
@require_POST
def escalate_now(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _incident(request, ref)
    services.escalate_now(incident=incident, actor=request.user, source=SOURCE)
    messages.success(request, "Escalated: the next step is being paged.")
    return _back(incident)


@console_view
@require_POST
def reassign(request: AuthedRequest, ref: str) -> HttpResponse:
    """``to`` is ``user:<id>`` (page that person every 15 minutes until acknowledged) or ``policy:<id>`` (run it
    from step 1)."""
    incident = _incident(request, ref)
    form = ReassignForm(request.POST)
    kind, _, key = (form.data.get("to") or "").partition(":")
    if not form.is_valid() or kind not in ("user", "policy") or as_id(key) is None:
        raise ValidationFailed("choose a person or a policy to page instead", field="to")
    if kind == "user":
        person = lookup("to", partial(accounts.get_user_for_user_or_404, request.user, key=int(key)))
        services.reassign(incident=incident, actor=request.user, source=SOURCE, user=person)
        messages.success(request, f"Paging {person.display_name} instead.")
    else:
        policy = lookup("to", partial(oncall.get_policy_for_user_or_404, request.user, key=int(key)))
        services.reassign(incident=incident, actor=request.user, source=SOURCE, policy=policy)
        messages.success(request, f"Paging through {policy.name} instead, from step 1.")
    return _back(incident)


@console_view
@require_POST
def snooze(request: AuthedRequest, ref: str) -> HttpResponse:
    """Pause paging for 15 minutes, an hour or four hours; then the last step pages again."""
    incident = _incident(request, ref)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed("snooze for 15 minutes, 1 hour or 4 hours", field="minutes")
    minutes = form.cleaned_data["minutes"]
    until = clock.now() + timedelta(minutes=minutes)
    services.snooze(incident=incident, actor=request.user, source=SOURCE, until=until)
    label = dict(SNOOZE_CHOICES)[minutes]
    messages.success(request, f"Paging snoozed for {label}.")
    return _back(incident)
