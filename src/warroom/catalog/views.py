"""Console pages for the service catalog: the list (with "New service") and each service with what it
depends on (with "Edit" for the people who manage its team).

Reads go through :mod:`warroom.catalog.selectors` (another team's service is a 404), writes through
:mod:`warroom.catalog.services` with ``source="web"``. A refused write re-renders the page with the message
next to the field it names, at the error's status (400, 409); someone who may see a service but not change it
gets the 403 page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.catalog import selectors, services
from warroom.catalog.forms import ServiceForm, service_initial
from warroom.catalog.models import Service, Tier
from warroom.incidents import selectors as incidents
from warroom.lib.errors import PermissionDenied, ServiceError
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error

RECENT_INCIDENTS = 10

# The services' own refusals, raised before a form is read so that a person who may not write gets the 403
# page rather than a form that cannot offer them any team.
MAY_NOT_ADD = "only team admins and managers add services"
MAY_NOT_CHANGE = "only the team's admins and managers change its services"

# ---------------------------------------------------------------------------------------------------------------
# list and "New service"


def _list_page(request: AuthedRequest, *, form: ServiceForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    services_qs = selectors.visible_services(user).prefetch_related("dependencies").order_by("tier", "name")
    open_counts = incidents.open_incident_counts_by_service(user)
    rows = [{"service": s, "open": open_counts.get(s.pk, 0)} for s in services_qs]
    if form is None and accounts.managed_teams(user).exists():
        teams = list(accounts.managed_teams(user)[:2])
        form = ServiceForm(user=user, initial={"team": teams[0].pk} if len(teams) == 1 else {})
    context = {"rows": rows, "tiers": Tier, "form": form}
    return render(request, "catalog/service_list.html", context, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def service_list(request: AuthedRequest) -> HttpResponse:
    """The catalog; a POST adds a service to one of the teams the user manages."""
    if request.method == "GET":
        return _list_page(request)
    if not accounts.managed_teams(request.user).exists():
        raise PermissionDenied(MAY_NOT_ADD)
    form = ServiceForm(request.POST, user=request.user)
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    try:
        service = services.create_service(
            team=form.cleaned_data["team"],
            actor=request.user,
            source=SOURCE,
            dependencies=form.cleaned_data["dependencies"],
            **form.service_fields(),
        )
    except ServiceError as exc:
        return _list_page(request, form=form, status=form_error(form, exc))
    messages.success(request, f"{service.name} is in the catalog, owned by {service.team.name}.")
    return redirect("web:service-detail", slug=service.slug)


# ---------------------------------------------------------------------------------------------------------------
# detail and "Edit"


def _detail(
    request: AuthedRequest, service: Service, *, status: int = 200, edit_form: ServiceForm | None = None
) -> HttpResponse:
    user = request.user
    upstream, downstream = selectors.dependency_graph(service, user)
    recent = incidents.filter_incidents(user, incidents.IncidentFilter(service=str(service.pk)))[
        :RECENT_INCIDENTS
    ]
    can_manage = accounts.can_manage_team(user, service.team_id)
    if edit_form is None and can_manage:
        initial = service_initial(service, [d.pk for d in upstream])
        edit_form = ServiceForm(user=user, service=service, initial=initial)
    context = {
        "service": service,
        "upstream": upstream,
        "downstream": downstream,
        "incidents": recent,
        "can_manage": can_manage,
        "edit_form": edit_form,
    }
    return render(request, "catalog/service_detail.html", context, status=status)


@console_view
@require_GET
def service_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    return _detail(request, selectors.get_service_for_user_or_404(request.user, key=slug))


@console_view
@require_POST
def service_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    """Change a service of a team the user manages; it may move to another team they manage."""
    service = selectors.get_service_for_user_or_404(request.user, key=slug)
    if not accounts.can_manage_team(request.user, service.team_id):
        raise PermissionDenied(MAY_NOT_CHANGE)
    form = ServiceForm(request.POST, user=request.user, service=service)
    if not form.is_valid():
        return _detail(request, service, status=400, edit_form=form)
    # Dependencies on services the user cannot see stay: the form never showed them.
    kept = selectors.hidden_dependencies(service, request.user)
    team = form.cleaned_data["team"]
    try:
        updated = services.update_service(
            service=service,
            actor=request.user,
            source=SOURCE,
            team=team if team.pk != service.team_id else None,
            dependencies=[*form.cleaned_data["dependencies"], *kept],
            **form.service_fields(),
        )
    except ServiceError as exc:
        return _detail(request, service, status=form_error(form, exc), edit_form=form)
    messages.success(request, f"{updated.name} saved.")
    return redirect("web:service-detail", slug=updated.slug)
