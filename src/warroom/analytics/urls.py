"""Console URLs of the reports, mounted at the site root (after the SLA report's ``reports/sla/``)."""

from django.urls import path

from warroom.analytics import views

urlpatterns = [
    path("reports/", views.report, name="report"),
    path("reports/<slug:key>/", views.report, name="report-tab"),
    path("reports/<slug:key>/<slug:table>.csv", views.report_csv, name="report-csv"),
]
