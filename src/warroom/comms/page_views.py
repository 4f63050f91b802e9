"""Console pages of the status pages (``/status-pages/``): list and create pages, and on a page's own console
page its settings, secret link, groups, components (services, status mode, a status set by hand), maintenance
and subscribers.

Reads go through :mod:`warroom.comms.page_selectors` (another team's page is a 404), writes through
:mod:`warroom.comms.page_services` with ``source="web"``. Every change is a POST that redirects back to the
page's console; a refused change re-renders it with the message next to the form, at the error's status. A
secret link is shown once, in the answer to the POST that made it (never stored in a message or cookie).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from warroom.accounts import selectors as accounts
from warroom.catalog import selectors as catalog
from warroom.comms import page_selectors as selectors
from warroom.comms import page_services as services
from warroom.comms.models import ComponentGroup, ComponentStatus, MaintenanceState, StatusPage
from warroom.comms.page_forms import (
    ComponentForm,
    GroupForm,
    MaintenanceForm,
    PageForm,
    StatusForm,
    footer_links_text,
)
from warroom.lib.errors import ServiceError, ValidationFailed
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error


def _detail_url(page: StatusPage) -> str:
    return reverse("statuspages:statuspage-detail", args=[page.slug])


def _page_or_404(request: AuthedRequest, slug: str) -> StatusPage:
    return selectors.get_page_for_user_or_404(request.user, key=slug)


def _page_form_initial(page: StatusPage) -> dict[str, Any]:
    return {
        "name": page.name,
        "slug": page.slug,
        "description": page.description,
        "visibility": page.visibility,
        "logo_url": page.logo_url,
        "brand_color": page.brand_color,
        "footer_links": footer_links_text(page.footer_links),
        "history_days": page.history_days,
    }


def _forms_for(request: AuthedRequest, page: StatusPage) -> dict[str, forms.Form]:
    return {
        "settings_form": PageForm(
            initial=_page_form_initial(page), teams=accounts.managed_teams(request.user), editing=True
        ),
        "group_form": GroupForm(),
        "component_form": ComponentForm(
            groups=ComponentGroup.objects.filter(page=page),
            services=catalog.visible_services(request.user),
        ),
        "maintenance_form": MaintenanceForm(components=page.components.all()),
    }


def _detail(
    request: AuthedRequest,
    page: StatusPage,
    *,
    status: int = 200,
    secret: str | None = None,
    **overrides: Any,
) -> HttpResponse:
    components = list(selectors.page_components(page))
    can_manage = selectors.can_manage_page(request.user, page)
    context = {
        "page": page,
        "can_manage": can_manage,
        "groups": list(ComponentGroup.objects.filter(page=page)),
        "components": components,
        "maintenances": list(selectors.page_maintenances(page).order_by("-scheduled_start", "-id")[:50]),
        "subscribers": list(selectors.page_subscribers_for(request.user, page)[:200]) if can_manage else [],
        "subscriber_count": selectors.page_subscribers(page).count(),
        "status_form": StatusForm(),
        "secret": secret,
        "public_url": services.page_url(page),
        "open_states": [MaintenanceState.SCHEDULED, MaintenanceState.IN_PROGRESS],
        **_forms_for(request, page),
        **overrides,
    }
    return render(request, "comms/status/console/detail.html", context, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def page_list(request: AuthedRequest) -> HttpResponse:
    teams = accounts.managed_teams(request.user)
    form = PageForm(request.POST or None, teams=teams)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.create_page(
                    team=data["team"],
                    name=data["name"],
                    slug=data["slug"],
                    description=data["description"],
                    visibility=data["visibility"],
                    logo_url=data["logo_url"],
                    brand_color=data["brand_color"],
                    footer_links=data["footer_links"],
                    history_days=data["history_days"],
                    actor=request.user,
                    source=SOURCE,
                )
            except ServiceError as exc:
                status = form_error(form, exc)
            else:
                if result.secret:
                    return _detail(request, result.page, status=201, secret=result.secret)
                messages.success(request, f"Status page {result.page.name} created.")
                return redirect(_detail_url(result.page))
        else:
            status = 400
    pages = selectors.visible_pages(request.user).order_by("name", "id")
    context = {"pages": pages, "form": form, "can_create": teams.exists()}
    return render(request, "comms/status/console/list.html", context, status=status)


@console_view
@require_GET
def page_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    return _detail(request, _page_or_404(request, slug))


@console_view
@require_POST
def page_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    page = _page_or_404(request, slug)
    form = PageForm(request.POST, teams=accounts.managed_teams(request.user), editing=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = services.update_page(
                page=page,
                actor=request.user,
                source=SOURCE,
                name=data["name"],
                slug=data["slug"] or page.slug,
                description=data["description"],
                visibility=data["visibility"],
                logo_url=data["logo_url"],
                brand_color=data["brand_color"],
                footer_links=data["footer_links"],
                history_days=data["history_days"],
            )
        except ServiceError as exc:
            return _detail(request, page, status=form_error(form, exc), settings_form=form)
        if result.secret:
            return _detail(request, result.page, secret=result.secret)
        messages.success(request, "Settings saved.")
        return redirect(_detail_url(result.page))
    return _detail(request, page, status=400, settings_form=form)


@console_view
@require_POST
def page_rotate_secret(request: AuthedRequest, slug: str) -> HttpResponse:
    page = _page_or_404(request, slug)
    secret = services.rotate_secret_link(page=page, actor=request.user, source=SOURCE)
    return _detail(request, page, secret=secret)


@console_view
@require_POST
def page_delete(request: AuthedRequest, slug: str) -> HttpResponse:
    page = _page_or_404(request, slug)
    if request.POST.get("confirm") != page.slug:
        messages.error(request, f"Type the page's slug ({page.slug}) to delete it.")
        return redirect(_detail_url(page))
    services.delete_page(page=page, actor=request.user, source=SOURCE)
    messages.success(request, f"Status page {page.name} deleted.")
    return redirect("statuspages:statuspage-list")


@console_view
@require_POST
def group_add(request: AuthedRequest, slug: str) -> HttpResponse:
    page = _page_or_404(request, slug)
    form = GroupForm(request.POST)
    if not form.is_valid():
        return _detail(request, page, status=400, group_form=form)
    try:
        services.create_group(page=page, name=form.cleaned_data["name"], actor=request.user, source=SOURCE)
    except ServiceError as exc:
        return _detail(request, page, status=form_error(form, exc), group_form=form)
    return redirect(_detail_url(page) + "#groups")


@console_view
@require_POST
def group_action(request: AuthedRequest, slug: str, group_id: int) -> HttpResponse:
    """Rename (``name``) or delete (``action=delete``) a group."""
    page = _page_or_404(request, slug)
    group = selectors.get_group_or_404(page, group_id)
    if request.POST.get("action") == "delete":
        services.delete_group(group=group, actor=request.user, source=SOURCE)
    else:
        form = GroupForm(request.POST)
        if not form.is_valid():
            return _detail(request, page, status=400, group_form=form)
        try:
            services.update_group(
                group=group, name=form.cleaned_data["name"], actor=request.user, source=SOURCE
            )
        except ServiceError as exc:
            return _detail(request, page, status=form_error(form, exc), group_form=form)
    return redirect(_detail_url(page) + "#groups")


def _component_form(request: AuthedRequest, page: StatusPage, *args: Any, **kwargs: Any) -> ComponentForm:
    return ComponentForm(
        *args,
        groups=ComponentGroup.objects.filter(page=page),
        services=catalog.visible_services(request.user),
        **kwargs,
    )


@console_view
@require_POST
def component_add(request: AuthedRequest, slug: str) -> HttpResponse:
    page = _page_or_404(request, slug)
    form = _component_form(request, page, request.POST)
    if not form.is_valid():
        return _detail(request, page, status=400, component_form=form)
    data = form.cleaned_data
    try:
        services.create_component(
            page=page,
            name=data["name"],
            description=data["description"],
            group=data["group"],
            services=data["services"],
            status_mode=data["status_mode"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _detail(request, page, status=form_error(form, exc), component_form=form)
    return redirect(_detail_url(page) + "#components")


@console_view
@require_http_methods(["GET", "POST"])
def component_edit(request: AuthedRequest, slug: str, component_id: int) -> HttpResponse:
    page = _page_or_404(request, slug)
    component = selectors.get_component_or_404(page, component_id)
    initial = {
        "name": component.name,
        "description": component.description,
        "group": component.group,
        "status_mode": component.status_mode,
        "services": list(component.services.all()),
    }
    form = _component_form(request, page, request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_component(
                    component=component,
                    name=data["name"],
                    description=data["description"],
                    group=data["group"],
                    services=data["services"],
                    status_mode=data["status_mode"],
                    actor=request.user,
                    source=SOURCE,
                )
            except ServiceError as exc:
                status = form_error(form, exc)
            else:
                messages.success(request, f"{data['name']} saved.")
                return redirect(_detail_url(page) + "#components")
        else:
            status = 400
    context = {"page": page, "component": component, "form": form}
    return render(request, "comms/status/console/component_edit.html", context, status=status)


@console_view
@require_POST
def component_status(request: AuthedRequest, slug: str, component_id: int) -> HttpResponse:
    page = _page_or_404(request, slug)
    component = selectors.get_component_or_404(page, component_id)
    form = StatusForm(request.POST)
    if not form.is_valid():  # the select offers only valid statuses: a hand-made request, told what is valid
        valid = ", ".join(ComponentStatus.values)
        raise ValidationFailed(f"set {component.name} to one of: {valid}", field="status")
    services.set_component_status(
        component=component, status=form.cleaned_data["status"], actor=request.user, source=SOURCE
    )
    messages.success(request, f"{component.name} is now set by hand.")
    return redirect(_detail_url(page) + "#components")


@console_view
@require_POST
def component_delete(request: AuthedRequest, slug: str, component_id: int) -> HttpResponse:
    page = _page_or_404(request, slug)
    component = selectors.get_component_or_404(page, component_id)
    services.delete_component(component=component, actor=request.user, source=SOURCE)
    messages.success(request, f"{component.name} removed.")
    return redirect(_detail_url(page) + "#components")


@console_view
@require_POST
def maintenance_add(request: AuthedRequest, slug: str) -> HttpResponse:
    page = _page_or_404(request, slug)
    form = MaintenanceForm(request.POST, components=page.components.all())
    if not form.is_valid():
        return _detail(request, page, status=400, maintenance_form=form)
    data = form.cleaned_data
    try:
        services.create_maintenance(
            page=page,
            title=data["title"],
            message=data["message"],
            scheduled_start=data["scheduled_start"],
            scheduled_end=data["scheduled_end"],
            components=data["components"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _detail(request, page, status=form_error(form, exc), maintenance_form=form)
    messages.success(request, "Maintenance announced.")
    return redirect(_detail_url(page) + "#maintenance")


@console_view
@require_http_methods(["GET", "POST"])
def maintenance_edit(request: AuthedRequest, slug: str, maintenance_id: int) -> HttpResponse:
    page = _page_or_404(request, slug)
    m = selectors.get_maintenance_or_404(page, maintenance_id)
    form = MaintenanceForm(
        request.POST or None, components=page.components.all(), initial=MaintenanceForm.initial_for(m)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_maintenance(
                    maintenance=m,
                    title=data["title"],
                    message=data["message"],
                    scheduled_start=data["scheduled_start"],
                    scheduled_end=data["scheduled_end"],
                    components=data["components"],
                    actor=request.user,
                    source=SOURCE,
                )
            except ServiceError as exc:
                status = form_error(form, exc)
            else:
                messages.success(request, "Maintenance saved.")
                return redirect(_detail_url(page) + "#maintenance")
        else:
            status = 400
    context = {"page": page, "maintenance": m, "form": form}
    return render(request, "comms/status/console/maintenance_edit.html", context, status=status)


@console_view
@require_POST
def maintenance_cancel(request: AuthedRequest, slug: str, maintenance_id: int) -> HttpResponse:
    page = _page_or_404(request, slug)
    m = selectors.get_maintenance_or_404(page, maintenance_id)
    services.cancel_maintenance(maintenance=m, actor=request.user, source=SOURCE)
    messages.success(request, f"{m.title} cancelled.")
    return redirect(_detail_url(page) + "#maintenance")


@console_view
@require_POST
def maintenance_complete(request: AuthedRequest, slug: str, maintenance_id: int) -> HttpResponse:
    page = _page_or_404(request, slug)
    m = selectors.get_maintenance_or_404(page, maintenance_id)
    services.complete_maintenance(maintenance=m, actor=request.user, source=SOURCE)
    messages.success(request, f"{m.title} completed.")
    return redirect(_detail_url(page) + "#maintenance")


@console_view
@require_POST
def subscriber_remove(request: AuthedRequest, slug: str, subscriber_id: int) -> HttpResponse:
    page = _page_or_404(request, slug)
    sub = selectors.get_subscriber_or_404(page, subscriber_id)
    services.remove_subscriber(subscriber=sub, actor=request.user, source=SOURCE)
    messages.success(request, f"{sub.address} removed.")
    return redirect(_detail_url(page) + "#subscribers")
