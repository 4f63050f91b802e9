"""Routes of the status pages (namespace ``statuspages``): the public pages under ``/status/<slug>/`` and the
console under ``/status-pages/``. Every change is a POST; GET never changes anything."""

from django.urls import path

from warroom.comms import page_views as console
from warroom.comms import public_views as public

app_name = "statuspages"

urlpatterns = [
    # public
    path("status/<slug:slug>/", public.page_view, name="public-page"),
    path("status/<slug:slug>/history/", public.history_view, name="public-history"),
    path("status/<slug:slug>/incidents/<str:ref>/", public.incident_view, name="public-incident"),
    path("status/<slug:slug>/summary.json", public.summary_view, name="public-summary"),
    path("status/<slug:slug>/feed.rss", public.rss_view, name="public-rss"),
    path("status/<slug:slug>/feed.atom", public.atom_view, name="public-atom"),
    path("status/<slug:slug>/brand.css", public.brand_css_view, name="public-brand-css"),
    path("status/<slug:slug>/subscribe/", public.subscribe_view, name="subscribe"),
    path("status/<slug:slug>/subscribe/confirm/<str:token>/", public.confirm_view, name="confirm"),
    path("status/<slug:slug>/unsubscribe/<str:token>/", public.unsubscribe_view, name="unsubscribe"),
    # console
    path("status-pages/", console.page_list, name="statuspage-list"),
    path("status-pages/<slug:slug>/", console.page_detail, name="statuspage-detail"),
    path("status-pages/<slug:slug>/edit/", console.page_edit, name="statuspage-edit"),
    path("status-pages/<slug:slug>/secret-link/", console.page_rotate_secret, name="statuspage-secret"),
    path("status-pages/<slug:slug>/delete/", console.page_delete, name="statuspage-delete"),
    path("status-pages/<slug:slug>/groups/", console.group_add, name="statuspage-group-add"),
    path(
        "status-pages/<slug:slug>/groups/<int:group_id>/",
        console.group_action,
        name="statuspage-group-action",
    ),
    path("status-pages/<slug:slug>/components/", console.component_add, name="statuspage-component-add"),
    path(
        "status-pages/<slug:slug>/components/<int:component_id>/",
        console.component_edit,
        name="statuspage-component-edit",
    ),
    path(
        "status-pages/<slug:slug>/components/<int:component_id>/status/",
        console.component_status,
        name="statuspage-component-status",
    ),
    path(
        "status-pages/<slug:slug>/components/<int:component_id>/delete/",
        console.component_delete,
        name="statuspage-component-delete",
    ),
    path("status-pages/<slug:slug>/maintenance/", console.maintenance_add, name="statuspage-maintenance-add"),
    path(
        "status-pages/<slug:slug>/maintenance/<int:maintenance_id>/",
        console.maintenance_edit,
        name="statuspage-maintenance-edit",
    ),
    path(
        "status-pages/<slug:slug>/maintenance/<int:maintenance_id>/cancel/",
        console.maintenance_cancel,
        name="statuspage-maintenance-cancel",
    ),
    path(
        "status-pages/<slug:slug>/maintenance/<int:maintenance_id>/complete/",
        console.maintenance_complete,
        name="statuspage-maintenance-complete",
    ),
    path(
        "status-pages/<slug:slug>/subscribers/<int:subscriber_id>/remove/",
        console.subscriber_remove,
        name="statuspage-subscriber-remove",
    ),
]
