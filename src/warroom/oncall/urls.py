"""On-call URLs mounted at the site root: the console pages (sign-in required) and the secret calendar feeds
(no sign-in: the secret is the credential)."""

from django.urls import path

from warroom.oncall import feeds, views

urlpatterns = [
    path("oncall/", views.schedule_list, name="oncall-schedule-list"),
    path("oncall/schedules/<int:schedule_id>/", views.schedule_detail, name="oncall-schedule-detail"),
    path(
        "oncall/schedules/<int:schedule_id>/overrides/", views.override_create, name="oncall-override-create"
    ),
    path(
        "oncall/schedules/<int:schedule_id>/overrides/<int:override_id>/delete/",
        views.override_delete,
        name="oncall-override-delete",
    ),
    path("oncall/calendar/<str:secret>.ics", feeds.calendar_feed, name="oncall-calendar-feed"),
]
