"""URL map: the console at /, the REST API at /api/v1/, health at /healthz, admin at /admin/."""

from django.contrib import admin
from django.urls import include, path

from warroom.api import api
from warroom.web import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("warroom.alerts.urls")),
    path("", include("warroom.oncall.urls")),
    path("", include("warroom.paging.urls")),
    path("", include("warroom.notify.urls")),
    path("", include("warroom.incidents.sla_urls")),
    path("", include("warroom.analytics.urls")),
    path("", include("warroom.comms.urls")),
    path("", include("warroom.comms.page_urls")),  # status pages: /status/<slug>/ and /status-pages/
    path("", include("warroom.web.urls")),
]
