"""SLA console URLs, mounted at the site root (before the console's own map)."""

from django.urls import path

from warroom.incidents import sla_views

urlpatterns = [
    path("incidents/<str:ref>/sla/", sla_views.incident_sla, name="incident-sla"),
    path("reports/sla/", sla_views.sla_report, name="sla-report"),
    path("reports/sla.csv", sla_views.sla_report_csv, name="sla-report-csv"),
]
