"""Console pages for alert intake: a service's integrations (endpoint, keys, setup snippets, event log), its
maintenance windows, and the alerts of every visible service with their raw events.

Reads go through :mod:`warroom.alerts.selectors` and the catalog selectors (another team's service,
integration, alert or window is a 404), writes through :mod:`warroom.alerts.services` and
:mod:`warroom.alerts.actions` with ``source="web"``. A refused write re-renders the page with the message next
to the field it names (and in a summary at the top of the form), at the error's status, with the form's labels
in place of the API's field names; someone who may see but not change gets the 403 page.

Every POST that succeeds answers with a redirect (POST/redirect/GET), so reloading the page never repeats it;
so does a refused acknowledge or resolve, with the reason as a message on the alert's page.

A new key's secret is on exactly one response: the POST that made it keeps it in the session and the integration
page it redirects to shows it (:mod:`warroom.web.shown_once`), with the setup snippets rendered around it;
afterwards only its prefix is shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts.models import User
from warroom.alerts import actions, selectors, services, snippets
from warroom.alerts.forms import (
    NO_SUCH_INCIDENT,
    AlertFilterForm,
    EventFilterForm,
    IntegrationForm,
    WindowForm,
    labelled,
)
from warroom.alerts.models import Alert, Integration, Kind, MaintenanceWindow, Recurrence, Severity
from warroom.alerts.services import NewKey
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import NotFound, PermissionDenied, ServiceError
from warroom.web import shown_once
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error, query_string

PAGE_SIZE = 25
#: An alert's summary (up to 1024 characters) is cut to this in the page's heading; the whole is under Details.
HEADING_MAX = 200
EVENT_PAGE_SIZE = 50
RECENT_EVENTS = 5

MAY_NOT_MANAGE = "only the team's admins and managers manage integrations and maintenance windows"
MAY_NOT_ACT = "only the team's responders, managers and admins acknowledge or resolve its alerts"
MAY_NOT_TEST = "only the team's responders, managers and admins send test alerts"

#: Where a new key waits, sealed, for the page that shows it (:mod:`warroom.web.shown_once`).
NEW_KEY_SESSION = "warroom.alerts.new_key"


def _service(request: AuthedRequest, slug: str) -> Service:
    return catalog.get_service_for_user_or_404(request.user, key=slug)


def _integration(request: AuthedRequest, slug: str, integration_id: int) -> Integration:
    """The integration, if the user may see it and it belongs to the service in the URL."""
    integration = selectors.get_integration_for_user_or_404(request.user, integration_id=integration_id)
    if integration.service.slug != slug:
        raise NotFound(f"integration {integration_id} not found")
    return integration


def _window(request: AuthedRequest, slug: str, window_id: int) -> MaintenanceWindow:
    window = selectors.get_window_for_user_or_404(request.user, window_id=window_id)
    if window.service.slug != slug:
        raise NotFound(f"maintenance window {window_id} not found")
    return window


def _integration_url(integration: Integration, name: str = "web:integration-detail") -> str:
    return reverse(name, kwargs={"slug": integration.service.slug, "integration_id": integration.pk})


def _require_manage(request: AuthedRequest, service: Service) -> None:
    if not selectors.can_manage_service(request.user, service):
        raise PermissionDenied(MAY_NOT_MANAGE)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _integration_form_error(form: IntegrationForm, exc: ServiceError) -> int:
    """:func:`form_error` with the form's labels in the message in place of the API's field names."""
    exc.message = labelled(exc.message, form)
    return form_error(form, exc)


def _hand_over(request: AuthedRequest, new_key: NewKey) -> HttpResponse:
    """Keep the new key's secret for the integration page; redirect there (it shows it once)."""
    key = new_key.key
    shown_once.hold(request, NEW_KEY_SESSION, shown_once.Held(key.integration_id, key.pk, new_key.secret))
    return _no_store(redirect(_integration_url(key.integration)))


def _take_new_key(request: AuthedRequest, integration: Integration) -> NewKey | None:
    """The key made for ``integration`` on this session's last POST (see :mod:`warroom.web.shown_once`); None
    when there is none, it waited too long, or it was revoked since."""
    held = shown_once.take(request, NEW_KEY_SESSION, owner=integration.pk)
    if held is None:
        return None
    key = selectors.keys_of(integration).filter(pk=held.ref, revoked_at__isnull=True).first()
    if key is None or not held.secret.startswith(key.prefix):
        return None
    return NewKey(key=key, secret=held.secret)


# ---------------------------------------------------------------------------------------------------------------
# a service's integrations


def _list_page(
    request: AuthedRequest, service: Service, *, form: IntegrationForm | None = None, status: int = 200
) -> HttpResponse:
    can_manage = selectors.can_manage_service(request.user, service)
    rows = [
        {
            "integration": integration,
            "endpoint": snippets.endpoint(integration),
            "active_keys": [k for k in integration.keys.all() if k.is_active],
        }
        for integration in selectors.integrations_of(request.user, service)
    ]
    if form is None and can_manage:
        form = IntegrationForm()
    context = {"service": service, "rows": rows, "form": form, "can_manage": can_manage}
    return render(request, "alerts/integration_list.html", context, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def integration_list(request: AuthedRequest, slug: str) -> HttpResponse:
    """The service's integrations; a POST adds one and shows its first key once."""
    service = _service(request, slug)
    if request.method == "GET":
        return _list_page(request, service)
    _require_manage(request, service)
    form = IntegrationForm(request.POST)
    if not form.is_valid():
        return _list_page(request, service, form=form, status=400)
    try:
        integration, new_key = actions.create_integration_with_key(
            service=service,
            kind=form.cleaned_data["kind"],
            actor=request.user,
            source=SOURCE,
            **form.options(),
        )
    except ServiceError as exc:
        return _list_page(request, service, form=form, status=_integration_form_error(form, exc))
    messages.success(request, f"Integration {integration.name} created on {service.name}.")
    if new_key is None:
        return redirect(_integration_url(integration))
    return _hand_over(request, new_key)


def _detail_page(
    request: AuthedRequest,
    integration: Integration,
    *,
    form: IntegrationForm | None = None,
    new_key: NewKey | None = None,
    status: int = 200,
) -> HttpResponse:
    can_manage = selectors.can_manage_service(request.user, integration.service)
    if form is None and can_manage:
        form = IntegrationForm(integration=integration)
    secret = new_key.secret if new_key is not None else None
    monitor = getattr(integration, "heartbeat", None) if integration.kind == Kind.HEARTBEAT else None
    context: dict[str, Any] = {
        "integration": integration,
        "service": integration.service,
        "endpoint": snippets.endpoint(integration, secret),
        # A heartbeat's ping URL carries its key: without the key it is a template, not a URL to copy.
        "ping_url_prefix": (
            snippets.ping_url_prefix(integration) if integration.kind == Kind.HEARTBEAT and not secret else ""
        ),
        "key_hint": snippets.key_hint(integration),
        "uses_keys": integration.kind != Kind.EMAIL,
        "keys": selectors.keys_of(integration),
        "new_key": new_key,
        "secret": secret,
        "snippets": snippets.snippets(
            integration, secret, heartbeat_interval=monitor.interval_seconds if monitor else None
        ),
        "events": selectors.events_of(integration)[:RECENT_EVENTS],
        "open_alerts": selectors.filter_alerts(
            request.user, selectors.AlertFilter(integration=integration.pk, open_only=True)
        ).count(),
        "form": form,
        "can_manage": can_manage,
        "can_test": selectors.can_act_on_service(request.user, integration.service),
        "severities": Severity.choices,
        "monitor": monitor,
    }
    response = render(request, "alerts/integration_detail.html", context, status=status)
    return _no_store(response) if secret else response


@console_view
@require_GET
def integration_detail(request: AuthedRequest, slug: str, integration_id: int) -> HttpResponse:
    """The integration; right after a key was made (the redirect of that POST), with the key, once."""
    integration = _integration(request, slug, integration_id)
    return _detail_page(request, integration, new_key=_take_new_key(request, integration))


@console_view
@require_POST
def integration_edit(request: AuthedRequest, slug: str, integration_id: int) -> HttpResponse:
    integration = _integration(request, slug, integration_id)
    _require_manage(request, integration.service)
    form = IntegrationForm(request.POST, integration=integration)
    if not form.is_valid():
        return _detail_page(request, integration, form=form, status=400)
    try:
        updated = services.update_integration(
            integration=integration, actor=request.user, source=SOURCE, **form.options()
        )
    except ServiceError as exc:
        return _detail_page(request, integration, form=form, status=_integration_form_error(form, exc))
    messages.success(request, f"Integration {updated.name} saved.")
    return redirect(_integration_url(integration))


@console_view
@require_POST
def integration_key_create(request: AuthedRequest, slug: str, integration_id: int) -> HttpResponse:
    """Make a key; the integration page this redirects to shows it, with the snippets, once."""
    integration = _integration(request, slug, integration_id)
    _require_manage(request, integration.service)
    new_key = services.create_integration_key(integration=integration, actor=request.user, source=SOURCE)
    return _hand_over(request, new_key)


@console_view
@require_POST
def integration_key_revoke(
    request: AuthedRequest, slug: str, integration_id: int, key_id: int
) -> HttpResponse:
    integration = _integration(request, slug, integration_id)
    key = selectors.get_key_or_404(integration, key_id=key_id)
    _require_manage(request, integration.service)
    services.revoke_integration_key(key=key, actor=request.user, source=SOURCE)
    messages.success(request, f"Key {key.prefix}… revoked. Requests with it are refused from now on.")
    return redirect(_integration_url(integration))


@console_view
@require_POST
def integration_test_alert(request: AuthedRequest, slug: str, integration_id: int) -> HttpResponse:
    """Send a test alert through the integration (:func:`warroom.alerts.actions.send_test_alert`), then back to
    the integration's page, where its event shows at the top of Recent events. An unknown severity is the 400
    page naming it."""
    integration = _integration(request, slug, integration_id)
    if not selectors.can_act_on_service(request.user, integration.service):
        raise PermissionDenied(MAY_NOT_TEST)
    event = actions.send_test_alert(
        integration=integration,
        actor=request.user,
        source=SOURCE,
        severity=request.POST.get("severity") or Severity.CRITICAL,
    )
    messages.success(
        request,
        f"Test alert sent as event #{event.pk}: within seconds it opens a test incident and pages whoever is on "
        "call, marked [TEST]. Follow it under Recent events.",
    )
    return redirect(_integration_url(integration) + "#recent-events")


@console_view
@require_GET
def integration_events(request: AuthedRequest, slug: str, integration_id: int) -> HttpResponse:
    """The integration's event log, newest first: what arrived, and what became of it (or why not)."""
    integration = _integration(request, slug, integration_id)
    form = EventFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = Paginator(selectors.events_of(integration, status=status or None), EVENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = {"status": status}
    context = {
        "integration": integration,
        "service": integration.service,
        "form": form,
        "page": page,
        **_page_links(params, page),
    }
    return render(request, "alerts/event_log.html", context)


def _page_links(params: dict[str, Any], page: Any) -> dict[str, str]:
    return {
        "qs_prev": query_string(params, page=page.previous_page_number()) if page.has_previous() else "",
        "qs_next": query_string(params, page=page.next_page_number()) if page.has_next() else "",
    }


# ---------------------------------------------------------------------------------------------------------------
# alerts


def _alert_filter(form: AlertFilterForm, incident: Incident | None = None) -> selectors.AlertFilter:
    status = form.value("status")
    severity = form.value("severity")
    return selectors.AlertFilter(
        status=[status] if status and status != "all" else None,
        open_only=not status,
        severity=[severity] if severity else None,
        service=form.value("service"),
        integration=form.value("integration"),
        incident=incident,
        text=form.value("q"),
    )


def _filter_incident(user: User, form: AlertFilterForm) -> Incident | None:
    """The incident the ``incident`` filter names, if the user can see it; else the filter is refused (and the
    list says so) rather than showing every alert as if it were that incident's."""
    ref = form.value("incident")
    if not ref:
        return None
    try:
        return incident_selectors.get_incident_for_user_or_404(user, ref=ref)
    except NotFound:
        form.add_error("incident", NO_SUCH_INCIDENT)
        return None


@console_view
@require_GET
def alert_list(request: AuthedRequest) -> HttpResponse:
    """Alerts of every service the user can see, newest first, with filters."""
    user = request.user
    form = AlertFilterForm(
        request.GET,
        services=list(catalog.visible_services(user).order_by("name")),
        integrations=list(selectors.visible_integrations(user)),
    )
    form.is_valid()
    incident = _filter_incident(user, form)
    alerts = selectors.filter_alerts(user, _alert_filter(form, incident))
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    params = {name: request.GET.get(name, "") for name in form.fields if form.value(name) is not None}
    context = {
        "form": form,
        "filter_problems": form.problems(),
        "page": page,
        "incidents_shown": selectors.visible_incident_ids(user, page.object_list),
        "incident": incident,
        "params": params,
        "filtered": bool(params),
        **_page_links(params, page),
    }
    partial = (
        request.htmx and not request.htmx.history_restore_request and request.htmx.target == "alert-results"
    )
    template = "alerts/_alert_results.html" if partial else "alerts/alert_list.html"
    return render(request, template, context)


def _clamped(text: str) -> str:
    return text if len(text) <= HEADING_MAX else text[: HEADING_MAX - 1] + "…"


def _alert_page(request: AuthedRequest, alert: Alert, *, status: int = 200) -> HttpResponse:
    user = request.user
    context = {
        "alert": alert,
        "heading": _clamped(alert.summary),
        "service": alert.service,
        "events": selectors.alert_events(alert),
        "incident_visible": selectors.incident_visible(user, alert.incident_id),
        "can_act": selectors.can_act_on_service(user, alert.service),
    }
    return render(request, "alerts/alert_detail.html", context, status=status)


@console_view
@require_GET
def alert_detail(request: AuthedRequest, alert_id: int) -> HttpResponse:
    return _alert_page(request, selectors.get_alert_for_user_or_404(request.user, alert_id=alert_id))


def _alert_action(request: AuthedRequest, alert_id: int, verb: str) -> HttpResponse:
    """Acknowledge or resolve, then back to the alert's page, whether it worked or not (the reason as a
    message): reloading that page repeats nothing."""
    alert = selectors.get_alert_for_user_or_404(request.user, alert_id=alert_id)
    if not selectors.can_act_on_service(request.user, alert.service):
        raise PermissionDenied(MAY_NOT_ACT)
    act = actions.acknowledge_alert if verb == "acknowledge" else actions.resolve_alert
    try:
        act(alert=alert, actor=request.user, source=SOURCE)
    except ServiceError as exc:
        messages.error(request, f"Not {verb}d: {exc.message}.")
    else:
        messages.success(request, f"Alert {alert.pk} {verb}d.")
    return redirect("web:alert-detail", alert_id=alert.pk)


@console_view
@require_POST
def alert_acknowledge(request: AuthedRequest, alert_id: int) -> HttpResponse:
    return _alert_action(request, alert_id, "acknowledge")


@console_view
@require_POST
def alert_resolve(request: AuthedRequest, alert_id: int) -> HttpResponse:
    return _alert_action(request, alert_id, "resolve")


# ---------------------------------------------------------------------------------------------------------------
# maintenance windows


def window_state(window: MaintenanceWindow) -> str:
    """``active``, ``scheduled`` (not started, or recurring between occurrences) or ``ended``."""
    now = clock.now()
    if window.is_active(now):
        return "active"
    if window.starts_at > now:
        return "scheduled"
    if window.recurrence != Recurrence.NONE and (window.repeat_until is None or window.repeat_until > now):
        return "scheduled"
    return "ended"


def _windows_page(
    request: AuthedRequest, service: Service, *, form: WindowForm | None = None, status: int = 200
) -> HttpResponse:
    can_manage = selectors.can_manage_service(request.user, service)
    now = clock.now()
    rows = []
    for window in selectors.windows_of(request.user, service):
        state = window_state(window)
        rows.append(
            {
                "window": window,
                "state": state,
                "can_end": state != "ended" and window.starts_at <= now,
                # a recurring window's occurrence under way, else its next one (in the window's zone)
                "next": window.current_or_next(now) if window.recurrence != Recurrence.NONE else None,
            }
        )
    if form is None and can_manage:
        form = WindowForm(default_zone=request.user.time_zone or "UTC")
    context = {
        "service": service,
        "rows": rows,
        "form": form,
        "can_manage": can_manage,
        "zone": request.user.time_zone or "UTC",
    }
    return render(request, "alerts/maintenance.html", context, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def maintenance_list(request: AuthedRequest, slug: str) -> HttpResponse:
    """The service's maintenance windows; a POST plans one."""
    service = _service(request, slug)
    if request.method == "GET":
        return _windows_page(request, service)
    _require_manage(request, service)
    form = WindowForm(request.POST, default_zone=request.user.time_zone or "UTC")
    if not form.is_valid():
        return _windows_page(request, service, form=form, status=400)
    data = form.cleaned_data
    try:
        window = services.create_maintenance_window(
            service=service,
            title=data["title"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            recurrence=data["recurrence"],
            repeat_until=data["repeat_until"],
            time_zone=data["time_zone"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _windows_page(request, service, form=form, status=form_error(form, exc))
    messages.success(request, f"Maintenance window {window.title} planned.")
    return redirect("web:maintenance-list", slug=service.slug)


def _window_action(request: AuthedRequest, slug: str, window_id: int, verb: str) -> HttpResponse:
    window = _window(request, slug, window_id)
    service = window.service
    _require_manage(request, service)
    try:
        if verb == "end":
            actions.end_maintenance_window(window=window, actor=request.user, source=SOURCE)
            messages.success(request, f"Maintenance window {window.title} ended.")
        else:
            services.delete_maintenance_window(window=window, actor=request.user, source=SOURCE)
            messages.success(request, f"Maintenance window {window.title} deleted.")
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _windows_page(request, service, status=exc.status)
    return redirect("web:maintenance-list", slug=service.slug)


@console_view
@require_POST
def maintenance_end(request: AuthedRequest, slug: str, window_id: int) -> HttpResponse:
    return _window_action(request, slug, window_id, "end")


@console_view
@require_POST
def maintenance_delete(request: AuthedRequest, slug: str, window_id: int) -> HttpResponse:
    return _window_action(request, slug, window_id, "delete")
