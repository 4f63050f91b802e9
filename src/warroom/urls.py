"""URL map: the console at /, the REST API at /api/v1/, health at /healthz, admin at /admin/."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from warroom.api import SERVER_ERROR_MESSAGE, api, error_body
from warroom.web import health, metrics


@csrf_exempt  # it changes nothing: any other method is a JSON 405, not the CSRF failure page
def api_index(request: HttpRequest) -> JsonResponse:
    """``/api/v1/``: where the API describes itself."""
    if request.method not in ("GET", "HEAD"):
        detail = f"{request.method} is not allowed on /api/v1/; the endpoints are listed at /api/v1/docs"
        response = JsonResponse(error_body(detail, "method_not_allowed"), status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return JsonResponse({"docs": "/api/v1/docs", "openapi": "/api/v1/openapi.json"})


@csrf_exempt  # nothing is changed; a POST is answered like a GET
def api_no_endpoint(request: HttpRequest) -> JsonResponse:
    """A path under /api/v1/ that no endpoint serves: the API's JSON 404, not the console's HTML page."""
    detail = f"no endpoint {request.method} {request.path}; the endpoints are listed at /api/v1/docs"
    return JsonResponse(error_body(detail, "not_found"), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """An exception no view handled (the API's own are answered by its handler): under /api/v1/ the API's JSON
    500, anywhere else the console's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(SERVER_ERROR_MESSAGE, "server_error"), status=500)
    return defaults.server_error(request)


handler500 = server_error

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/", api_index),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/", api_no_endpoint),
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
