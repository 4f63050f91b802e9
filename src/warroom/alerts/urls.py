"""Intake URLs, mounted at the site root (PagerDuty-compatible paths must be exactly ``/v2/enqueue``)."""

from django.urls import path

from warroom.alerts import intake

urlpatterns = [
    path("v2/enqueue", intake.pagerduty_enqueue, name="alerts-pagerduty-enqueue"),
    path("v2/change/enqueue", intake.pagerduty_change, name="alerts-pagerduty-change"),
    path("integrations/alertmanager", intake.alertmanager, name="alerts-alertmanager"),
    path("integrations/alertmanager/<str:key>", intake.alertmanager, name="alerts-alertmanager-key"),
    path("integrations/webhook", intake.webhook, name="alerts-webhook"),
    path("integrations/webhook/<str:key>", intake.webhook, name="alerts-webhook-key"),
]
