"""Intake URLs, mounted at the site root (PagerDuty-compatible paths must be exactly ``/v2/enqueue``).

An Opsgenie alias may hold a slash (``web/01``, sent as ``web%2F01``; the path the view sees is decoded), so the
identifier is a ``path``, not a ``str``."""

from django.urls import path, re_path

from warroom.alerts import heartbeat, intake

urlpatterns = [
    path("v2/enqueue", intake.pagerduty_enqueue, name="alerts-pagerduty-enqueue"),
    path("v2/change/enqueue", intake.pagerduty_change, name="alerts-pagerduty-change"),
    path("integrations/alertmanager", intake.alertmanager, name="alerts-alertmanager"),
    path("integrations/alertmanager/<str:key>", intake.alertmanager, name="alerts-alertmanager-key"),
    path("integrations/grafana", intake.grafana, name="alerts-grafana"),
    path("integrations/grafana/<str:key>", intake.grafana, name="alerts-grafana-key"),
    path("v2/alerts", intake.opsgenie_create, name="alerts-opsgenie-create"),
    path("v2/alerts/<path:identifier>/close", intake.opsgenie_close, name="alerts-opsgenie-close"),
    path(
        "v2/alerts/<path:identifier>/acknowledge",
        intake.opsgenie_acknowledge,
        name="alerts-opsgenie-acknowledge",
    ),
    path("integrations/webhook", intake.webhook, name="alerts-webhook"),
    path("integrations/webhook/<str:key>", intake.webhook, name="alerts-webhook-key"),
    path("api/v2/generic/incoming", intake.goalert_generic, name="alerts-goalert"),
    path("integrations/heartbeat", heartbeat.heartbeat_ping, name="alerts-heartbeat"),
    path("integrations/heartbeat/fail", heartbeat.heartbeat_fail, name="alerts-heartbeat-fail"),
    path("integrations/heartbeat/<str:key>", heartbeat.heartbeat_ping, name="alerts-heartbeat-key"),
    path("integrations/heartbeat/<str:key>/fail", heartbeat.heartbeat_fail, name="alerts-heartbeat-key-fail"),
    # Last: any other path under these prefixes (a trailing slash, a typo) gets a JSON 404, not the console's page.
    re_path(r"^(?:v2|integrations)/", intake.no_endpoint, name="alerts-no-endpoint"),
]
