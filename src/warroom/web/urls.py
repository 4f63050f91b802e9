"""The console's URL map (namespace ``web``). Every action is a POST; GET never changes anything."""

from django.urls import path

from warroom.accounts import views as accounts
from warroom.catalog import views as catalog
from warroom.incidents import views as incidents
from warroom.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # incidents
    path("incidents/", incidents.incident_list, name="incident-list"),
    path("incidents/declare/", incidents.incident_declare, name="incident-declare"),
    path("incidents/priority-preview/", incidents.priority_preview, name="incident-priority-preview"),
    path("incidents/<str:ref>/", incidents.incident_detail, name="incident-detail"),
    path("incidents/<str:ref>/timeline/", incidents.incident_timeline, name="incident-timeline"),
    path("incidents/<str:ref>/edit/", incidents.incident_edit, name="incident-edit"),
    path("incidents/<str:ref>/transition/", incidents.incident_transition, name="incident-transition"),
    path("incidents/<str:ref>/note/", incidents.incident_note, name="incident-note"),
    path("incidents/<str:ref>/role/", incidents.incident_role, name="incident-role"),
    path("incidents/<str:ref>/tasks/", incidents.incident_task_add, name="incident-task-add"),
    path(
        "incidents/<str:ref>/tasks/<int:task_id>/",
        incidents.incident_task_update,
        name="incident-task-update",
    ),
    path("incidents/<str:ref>/watch/", incidents.incident_watch, name="incident-watch"),
    path("incidents/<str:ref>/relate/", incidents.incident_relate, name="incident-relate"),
    # catalog
    path("services/", catalog.service_list, name="service-list"),
    path("services/<slug:slug>/", catalog.service_detail, name="service-detail"),
    path("services/<slug:slug>/edit/", catalog.service_edit, name="service-edit"),
    # teams and tokens
    path("teams/", accounts.team_list, name="team-list"),
    path("teams/<slug:slug>/", accounts.team_detail, name="team-detail"),
    path("teams/<slug:slug>/members/", accounts.team_member_add, name="team-member-add"),
    path("teams/<slug:slug>/members/<int:user_id>/role/", accounts.team_member_role, name="team-member-role"),
    path(
        "teams/<slug:slug>/members/<int:user_id>/remove/",
        accounts.team_member_remove,
        name="team-member-remove",
    ),
    path("settings/tokens/", accounts.token_list, name="token-list"),
    path("settings/tokens/<int:token_id>/revoke/", accounts.token_revoke, name="token-revoke"),
    path("priority-matrix/", views.priority_matrix, name="priority-matrix"),
]
