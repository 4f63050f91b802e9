"""Console pages for the service catalog: the list and each service with what it depends on."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from warroom.catalog import selectors
from warroom.catalog.models import Tier
from warroom.incidents import selectors as incidents
from warroom.web.console import AuthedRequest, console_view

RECENT_INCIDENTS = 10


@console_view
@require_GET
def service_list(request: AuthedRequest) -> HttpResponse:
    services = (
        selectors.visible_services(request.user).prefetch_related("dependencies").order_by("tier", "name")
    )
    open_counts = incidents.open_incident_counts_by_service(request.user)
    rows = [{"service": s, "open": open_counts.get(s.pk, 0)} for s in services]
    return render(request, "catalog/service_list.html", {"rows": rows, "tiers": Tier})


@console_view
@require_GET
def service_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    service = selectors.get_service_for_user_or_404(request.user, key=slug)
    upstream, downstream = selectors.dependency_graph(service, request.user)
    recent = incidents.filter_incidents(request.user, incidents.IncidentFilter(service=str(service.pk)))[
        :RECENT_INCIDENTS
    ]
    context = {"service": service, "upstream": upstream, "downstream": downstream, "incidents": recent}
    return render(request, "catalog/service_detail.html", context)
