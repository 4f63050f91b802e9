"""On-call URLs mounted at the site root: the console pages (sign-in required: schedules, escalation policies,
a service's policy) and the secret calendar feeds (no sign-in: the secret is the credential)."""

from django.urls import path

from warroom.oncall import feeds, schedule_edit, views

urlpatterns = [
    path("oncall/", views.schedule_list, name="oncall-schedule-list"),
    path("oncall/schedules/new/", schedule_edit.schedule_create, name="oncall-schedule-create"),
    path("oncall/schedules/<int:schedule_id>/", views.schedule_detail, name="oncall-schedule-detail"),
    path(
        "oncall/schedules/<int:schedule_id>/edit/", schedule_edit.schedule_edit, name="oncall-schedule-edit"
    ),
    path(
        "oncall/schedules/<int:schedule_id>/delete/",
        schedule_edit.schedule_delete,
        name="oncall-schedule-delete",
    ),
    path(
        "oncall/schedules/<int:schedule_id>/layers/new/",
        schedule_edit.layer_create,
        name="oncall-layer-create",
    ),
    path(
        "oncall/schedules/<int:schedule_id>/layers/<int:layer_id>/edit/",
        schedule_edit.layer_edit,
        name="oncall-layer-edit",
    ),
    path(
        "oncall/schedules/<int:schedule_id>/layers/<int:layer_id>/delete/",
        schedule_edit.layer_delete,
        name="oncall-layer-delete",
    ),
    path("oncall/schedules/<int:schedule_id>/feeds/", schedule_edit.feed_create, name="oncall-feed-create"),
    path(
        "oncall/schedules/<int:schedule_id>/feeds/<int:feed_id>/revoke/",
        schedule_edit.feed_revoke,
        name="oncall-feed-revoke",
    ),
    path(
        "oncall/schedules/<int:schedule_id>/overrides/", views.override_create, name="oncall-override-create"
    ),
    path(
        "oncall/schedules/<int:schedule_id>/overrides/<int:override_id>/delete/",
        views.override_delete,
        name="oncall-override-delete",
    ),
    path("oncall/policies/", views.policy_list, name="oncall-policy-list"),
    path("oncall/policies/<int:policy_id>/", views.policy_detail, name="oncall-policy-detail"),
    path("oncall/policies/<int:policy_id>/edit/", views.policy_edit, name="oncall-policy-edit"),
    path("oncall/policies/<int:policy_id>/delete/", views.policy_delete, name="oncall-policy-delete"),
    path("oncall/policies/<int:policy_id>/steps/", views.policy_step_add, name="oncall-policy-step-add"),
    path(
        "oncall/policies/<int:policy_id>/steps/edit/", views.policy_step_edit, name="oncall-policy-step-edit"
    ),
    path("services/<slug:slug>/escalation-policy/", views.service_policy, name="oncall-service-policy"),
    path("oncall/calendar/<str:secret>.ics", feeds.calendar_feed, name="oncall-calendar-feed"),
]
