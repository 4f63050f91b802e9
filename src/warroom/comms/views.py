"""Console pages of stakeholder updates: the "Updates" card of the incident page (post an update, pre-filled
from a template; the updates with their audience and delivery counts; follow the incident), an update's
deliveries, the signed-in person's subscriptions, and the teams' update templates.

Every change goes through :mod:`warroom.comms.services` with ``source="web"``; incidents are fetched through
the incident selectors, so another team's incident is a 404. Forms work without JavaScript (POST → redirect);
with htmx the card swaps in place (``#incident-updates``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from warroom.accounts.models import User
from warroom.comms import selectors, services
from warroom.comms.forms import SubscriptionForm, TemplateEditForm, TemplateForm, TemplatePickForm, UpdateForm
from warroom.comms.models import DeliveryStatus, RecipientKind, UpdateStatus
from warroom.incidents import selectors as incidents
from warroom.incidents.models import Incident
from warroom.lib.errors import NotFound, ServiceError
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error

RECENT_UPDATES = 50


def _incident(request: AuthedRequest, ref: str) -> Incident:
    return incidents.get_incident_for_user_or_404(request.user, ref=ref)


def _update_form(incident: Incident, key: str) -> tuple[UpdateForm, str]:
    """A fresh update form, pre-filled from the template ``key`` or, by default, the template of the status
    the form starts on (``resolved`` once the incident is resolved). Returns (form, the template's key)."""
    status = selectors.default_update_status(incident)
    choice = selectors.template_choice(incident.team, key=key) if key else None
    if choice is None:
        choice = selectors.template_choice(incident.team, status=status)
    else:
        status = choice.status
    form = UpdateForm(initial={"status": status, "message": choice.body if choice else ""})
    return form, choice.key if choice else ""


def card_context(
    user: User,
    incident: Incident,
    *,
    form: UpdateForm | None = None,
    template_key: str = "",
    posted: bool = False,
) -> dict[str, Any]:
    """What ``comms/updates/_card.html`` shows: also used by the ``{% incident_updates %}`` tag."""
    can_post = selectors.can_post_update(user, incident)
    picked = template_key
    if form is None and can_post:
        form, picked = _update_form(incident, template_key)
    return {
        "incident": incident,
        "can_post": can_post,
        "updates": list(selectors.updates_of(incident)[:RECENT_UPDATES]),
        "form": form,
        "pick_form": TemplatePickForm(team=incident.team, initial={"update_template": picked})
        if can_post
        else None,
        "following": selectors.my_subscription_to(user, incident=incident),
        "kinds": RecipientKind.choices,
        "posted": posted,
    }


def _card(request: AuthedRequest, incident: Incident, *, status: int = 200, **kwargs: Any) -> HttpResponse:
    """The card alone for htmx (it swaps ``#incident-updates``), else a page around it."""
    context = card_context(request.user, incident, **kwargs)
    template = "comms/updates/_card.html" if request.htmx else "comms/updates/post.html"
    return render(request, template, context, status=status)


@console_view
@require_GET
def update_form(request: AuthedRequest, ref: str) -> HttpResponse:
    """The card with its form pre-filled from ``?update_template=<key>`` (the template picker's GET)."""
    incident = _incident(request, ref)
    return _card(request, incident, template_key=request.GET.get("update_template", ""))


@console_view
@require_POST
def update_post(request: AuthedRequest, ref: str) -> HttpResponse:
    incident = _incident(request, ref)
    form = UpdateForm(request.POST)
    if not form.is_valid():
        return _card(request, incident, status=400, form=form)
    data = form.cleaned_data
    try:
        update = services.post_update(
            incident=incident,
            status=data["status"],
            message=data["message"],
            audience=data["audience"],
            components=data["components"],
            component_status=data["component_status"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _card(request, incident, status=form_error(form, exc), form=form)
    queued = update.deliveries.count()
    messages.success(
        request,
        f"{UpdateStatus(update.status).label} update posted"
        + (f"; {queued} subscriber{'s' if queued != 1 else ''} will be told." if queued else "."),
    )
    if request.htmx:
        return _card(request, incident, posted=True)
    return redirect(reverse("web:incident-detail", args=[incident.ref]) + "#incident-updates")


@console_view
@require_GET
def update_detail(request: AuthedRequest, ref: str, update_id: int) -> HttpResponse:
    """One update and its deliveries: who it went to, in what state, after how many attempts."""
    incident = _incident(request, ref)
    update = selectors.get_update_or_404(incident, update_id)
    deliveries = [{"row": d, "address": selectors.shown_address(d)} for d in selectors.deliveries_of(update)]
    return render(
        request,
        "comms/updates/detail.html",
        {"incident": incident, "update": update, "deliveries": deliveries, "statuses": DeliveryStatus},
    )


# ---------------------------------------------------------------------------------------------------------------
# subscriptions


def _subscriptions_page(
    request: AuthedRequest,
    *,
    status: int = 200,
    form: SubscriptionForm | None = None,
    reveal: dict[str, str] | None = None,
) -> HttpResponse:
    user = request.user
    rows = [
        {"row": s, "target": selectors.subscription_target(s), "address": s.address}
        for s in selectors.subscriptions_of(user)
    ]
    response = render(
        request,
        "comms/updates/subscriptions.html",
        {"subscriptions": rows, "form": form or SubscriptionForm(user=user), "reveal": reveal or {}},
        status=status,
    )
    if reveal:
        response["Cache-Control"] = "no-store"
    return response


@console_view
@require_GET
def subscriptions(request: AuthedRequest) -> HttpResponse:
    return _subscriptions_page(request)


@console_view
@require_POST
def subscription_create(request: AuthedRequest) -> HttpResponse:
    """Follow a service, a team or an incident. A webhook's signing secret is shown in this answer only."""
    user = request.user
    form = SubscriptionForm(request.POST, user=user)
    if not form.is_valid():
        return _subscriptions_page(request, status=400, form=form)
    data = form.cleaned_data
    try:
        incident = None
        if data["incident"]:
            try:
                incident = incidents.get_incident_for_user_or_404(user, ref=data["incident"])
            except NotFound as exc:
                raise NotFound(exc.message, field="incident") from None
        created = services.create_subscription(
            kind=data["kind"],
            address=data["address"],
            service=data["service"],
            team=data["team"],
            incident=incident,
            actor=user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _subscriptions_page(request, status=form_error(form, exc), form=form)
    target = selectors.subscription_target(created.subscription)
    messages.success(request, f"{created.subscription.address} now follows {target}.")
    if created.reveal:
        return _subscriptions_page(request, status=201, reveal=created.reveal)
    return redirect("comms-subscriptions")


@console_view
@require_POST
def subscription_delete(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = selectors.get_own_subscription_or_404(request.user, subscription_id)
    target = selectors.subscription_target(subscription)
    services.delete_subscription(subscription=subscription, actor=request.user, source=SOURCE)
    messages.success(request, f"{subscription.address} no longer follows {target}.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("comms-subscriptions")


# ---------------------------------------------------------------------------------------------------------------
# update templates


def _templates_page(
    request: AuthedRequest,
    *,
    status: int = 200,
    form: TemplateForm | None = None,
    edit_id: int | None = None,
    edit_form: TemplateEditForm | None = None,
) -> HttpResponse:
    user = request.user
    rows = [
        {
            "row": t,
            "can_manage": selectors.can_manage_template(user, t.team_id),
            "form": edit_form
            if edit_id == t.pk and edit_form is not None
            else TemplateEditForm(
                initial={"status": t.status, "name": t.name, "body": t.body}, prefix=f"t{t.pk}"
            ),
            "editing": edit_id == t.pk,
        }
        for t in selectors.templates_visible_to(user).order_by("team__name", "status", "name", "id")
    ]
    builtin = [
        {"status": UpdateStatus(s).label, "body": body} for s, body in selectors.BUILTIN_TEMPLATES.items()
    ]
    create_form = form or TemplateForm(user=user)
    can_create = user.is_org_admin or create_form.fields["team"].queryset.exists()  # type: ignore[attr-defined]
    return render(
        request,
        "comms/updates/templates.html",
        {"templates": rows, "builtin": builtin, "form": create_form, "can_create": can_create},
        status=status,
    )


@console_view
@require_GET
def update_templates(request: AuthedRequest) -> HttpResponse:
    return _templates_page(request)


@console_view
@require_POST
def template_create(request: AuthedRequest) -> HttpResponse:
    form = TemplateForm(request.POST, user=request.user)
    if not form.is_valid():
        return _templates_page(request, status=400, form=form)
    data = form.cleaned_data
    try:
        template = services.create_update_template(
            team=data["team"],
            status=data["status"],
            name=data["name"],
            body=data["body"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _templates_page(request, status=form_error(form, exc), form=form)
    messages.success(request, f"Template {template.name!r} saved.")
    return redirect("comms-templates")


@console_view
@require_POST
def template_edit(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = selectors.get_template_for_user_or_404(request.user, template_id)
    form = TemplateEditForm(request.POST, prefix=f"t{template.pk}")
    if not form.is_valid():
        return _templates_page(request, status=400, edit_id=template.pk, edit_form=form)
    data = form.cleaned_data
    try:
        services.update_update_template(
            template=template,
            status=data["status"],
            name=data["name"],
            body=data["body"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        status = form_error(form, exc)
        return _templates_page(request, status=status, edit_id=template.pk, edit_form=form)
    messages.success(request, f"Template {template.name!r} saved.")
    return redirect("comms-templates")


@console_view
@require_POST
def template_delete(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = selectors.get_template_for_user_or_404(request.user, template_id)
    services.delete_update_template(template=template, actor=request.user, source=SOURCE)
    messages.success(request, f"Template {template.name!r} deleted.")
    return redirect("comms-templates")
