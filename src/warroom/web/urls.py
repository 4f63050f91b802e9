"""The console's URL map (namespace ``web``). Every action is a POST; GET never changes anything."""

from django.urls import include, path

from warroom.accounts import views as accounts
from warroom.alerts import views as alerts
from warroom.audit import views as audit
from warroom.automation import views as automation
from warroom.catalog import views as catalog
from warroom.incidents import views as incidents
from warroom.reviews.urls import console_patterns as reviews_patterns
from warroom.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    # browsers ask for /favicon.ico whatever the page's <link rel="icon"> says: answer with the icon, not a 404
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/sso/", views.sso_start, name="login-sso"),
    path("login/sso/callback/", views.sso_callback, name="login-sso-callback"),
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
    path("incidents/<str:ref>/merge/", incidents.incident_merge, name="incident-merge"),
    # catalog
    path("services/", catalog.service_list, name="service-list"),
    path("services/<slug:slug>/", catalog.service_detail, name="service-detail"),
    path("services/<slug:slug>/edit/", catalog.service_edit, name="service-edit"),
    # alert intake: a service's integrations (keys, event log) and maintenance windows; alerts
    path("services/<slug:slug>/integrations/", alerts.integration_list, name="integration-list"),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/",
        alerts.integration_detail,
        name="integration-detail",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/edit/",
        alerts.integration_edit,
        name="integration-edit",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/events/",
        alerts.integration_events,
        name="integration-events",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/test-alert/",
        alerts.integration_test_alert,
        name="integration-test-alert",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/keys/",
        alerts.integration_key_create,
        name="integration-key-create",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/keys/<int:key_id>/revoke/",
        alerts.integration_key_revoke,
        name="integration-key-revoke",
    ),
    path("services/<slug:slug>/maintenance/", alerts.maintenance_list, name="maintenance-list"),
    path(
        "services/<slug:slug>/maintenance/<int:window_id>/end/",
        alerts.maintenance_end,
        name="maintenance-end",
    ),
    path(
        "services/<slug:slug>/maintenance/<int:window_id>/delete/",
        alerts.maintenance_delete,
        name="maintenance-delete",
    ),
    path("alerts/", alerts.alert_list, name="alert-list"),
    path("alerts/<int:alert_id>/", alerts.alert_detail, name="alert-detail"),
    path("alerts/<int:alert_id>/acknowledge/", alerts.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:alert_id>/resolve/", alerts.alert_resolve, name="alert-resolve"),
    # teams, profile and tokens
    path("teams/", accounts.team_list, name="team-list"),
    path("teams/<slug:slug>/", accounts.team_detail, name="team-detail"),
    path("teams/<slug:slug>/members/", accounts.team_member_add, name="team-member-add"),
    path("teams/<slug:slug>/members/<int:user_id>/role/", accounts.team_member_role, name="team-member-role"),
    path(
        "teams/<slug:slug>/members/<int:user_id>/remove/",
        accounts.team_member_remove,
        name="team-member-remove",
    ),
    # workflows (warroom.automation)
    path("workflows/", automation.workflow_list, name="workflow-list"),
    path("workflows/new/", automation.workflow_new, name="workflow-new"),
    path("workflows/<int:workflow_id>/", automation.workflow_detail, name="workflow-detail"),
    path("workflows/<int:workflow_id>/delete/", automation.workflow_delete, name="workflow-delete"),
    path(
        "workflows/<int:workflow_id>/webhook/test/",
        automation.workflow_webhook_test,
        name="workflow-webhook-test",
    ),
    path("settings/profile/", accounts.profile, name="profile"),
    path("settings/password/", accounts.password, name="password"),
    path("settings/tokens/", accounts.token_list, name="token-list"),
    path("settings/tokens/<int:token_id>/revoke/", accounts.token_revoke, name="token-revoke"),
    path("settings/audit/", audit.audit_log, name="audit-log"),
    path("settings/audit/export.csv", audit.audit_export, name="audit-export"),
    path("priority-matrix/", views.priority_matrix, name="priority-matrix"),
    # postmortems, action items, problems and known errors (warroom.reviews)
    *reviews_patterns,
    path("", include("warroom.incidents.major_urls")),  # major incidents (warroom.incidents.major_views)
]
