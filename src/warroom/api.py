"""The REST API root: ``/api/v1/``.

Authentication: ``Authorization: Bearer <api token>``, or the console's session (with its CSRF token) so the
browsable docs at ``/api/v1/docs`` work for a signed-in user.

Every error is JSON of one shape::

    {"detail": "<what went wrong>", "code": "<machine code>", "errors": [{"field": "title", "message": "..."}]}

400 bad input a service refused · 401 no or bad credentials · 403 may see but not change · 404 unknown or not
visible · 409 conflicts with the current state or a concurrent change · 413 body too large · 422 the body does
not match the schema: a missing field, a wrong type, a field the endpoint does not know ("unknown field"), or
``true``/``false`` where a number is expected.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.log import log_response
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer, SessionAuth
from ninja.types import DictStrAny

import warroom
from warroom.accounts.api import router as accounts_router
from warroom.accounts.models import User
from warroom.accounts.services import authenticate_token
from warroom.alerts.api import router as alerts_router
from warroom.catalog.api import router as catalog_router
from warroom.incidents.api import router as incidents_router
from warroom.lib import jsontext
from warroom.lib.errors import ServiceError
from warroom.notify.api import router as notify_router
from warroom.oncall.api import router as oncall_router
from warroom.paging.api import router as paging_router


class BodyRefused(ValueError):
    """A request body the API cannot take, with the reason the answer gives (400)."""


class JsonParser(Parser):
    """Ninja's JSON parsing, refusing with a reason what the databases cannot store: invalid UTF-8, a NUL
    character or an unpaired surrogate (``\u0000`` in a title was a 500 on PostgreSQL). Paths and query strings
    with a NUL are refused before (:mod:`warroom.lib.nul_guard`)."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyRefused(f"the body is not valid UTF-8 (byte {exc.start})") from None
        try:
            data = jsontext.loads(text)
        except (ValueError, RecursionError) as exc:
            raise BodyRefused(f"the body is not valid JSON: {exc}") from None
        refused = jsontext.unstorable(text, data)
        if refused:
            raise BodyRefused(refused)
        return cast(DictStrAny, data)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer wr_at_...``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = authenticate_token(token, method=request.method)
        if user is not None:
            request.user = user
        return user


class ConsoleSession(SessionAuth):
    """The console's session, with its CSRF check, for a request that comes with a session cookie and no
    ``Authorization`` header. A request that sent a token is judged by the token alone: a wrong or revoked one
    is a 401, not the 403 "CSRF check Failed" that falling back to the (absent) session would answer."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if "Authorization" in request.headers or self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return super().authenticate(request, key) if key is not None else None


_session_auth: APIKeyCookie = ConsoleSession()

api = NinjaAPI(
    title="Warroom API",
    version=warroom.__version__,
    description=(
        "Incidents, alerts and integrations, services, teams and tokens. "
        "Authenticate with `Authorization: Bearer <token>`."
    ),
    urls_namespace="api-v1",
    auth=[TokenAuth(), _session_auth],
    parser=JsonParser(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_body(detail: str, code: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "errors": errors or []}


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
    return api.create_response(request, error_body(exc.message, exc.code, errors), status=exc.status)


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "header", "form", "cookie")]
    return ".".join(parts) or "body"


#: pydantic's words for a field the schema does not have (request bodies forbid them: warroom.lib.schema)
PYDANTIC_EXTRA_MESSAGE = "Extra inputs are not permitted"
UNKNOWN_FIELD_MESSAGE = "unknown field: this endpoint does not take it (/api/v1/docs lists those it takes)"


def _message(error: dict[str, Any], field: str) -> str:
    """What a 422 says about one schema error: pydantic's message, in our words where they say more."""
    message = str(error.get("msg", "invalid"))
    kind = error.get("type")
    if kind == "extra_forbidden" and message == PYDANTIC_EXTRA_MESSAGE:
        return UNKNOWN_FIELD_MESSAGE  # (incident PATCH words its own: read-only fields say where they change)
    if kind == "object_type" and field == "body":
        return f"the body {message}"
    return message


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for e in exc.errors:
        field = _field_name(e.get("loc", ()))
        errors.append({"field": field, "message": _message(e, field)})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return api.create_response(request, error_body(summary, "invalid", errors), status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        error_body("authentication required: send Authorization: Bearer <api token>", "unauthenticated"),
        status=401,
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body(str(exc) or "not found", "not_found"), status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Errors ninja raises itself: malformed JSON (400), a failed CSRF check under session auth (403)..."""
    codes = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 413: "too_large"}
    if isinstance(exc.__cause__, BodyRefused):  # ninja wraps the parser's error in "Cannot parse request body"
        reason = str(exc.__cause__)
        return api.create_response(
            request, error_body(reason, "invalid", [{"field": "body", "message": reason}]), status=400
        )
    return api.create_response(
        request, error_body(str(exc), codes.get(exc.status_code, "error")), status=exc.status_code
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(
        request, error_body("request body too large (limit 1 MB)", "too_large"), status=413
    )


#: what a 500 says: the error is logged, but a request may have saved part of its work before it (one service
#: call commits before the next fails), so the answer does not promise that nothing changed
SERVER_ERROR_MESSAGE = (
    "internal server error: Warroom hit an unexpected error and logged it; check the current state before "
    "you retry a change"
)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Anything else an endpoint raises (a bug): a JSON 500 of the usual shape instead of the console's HTML
    page, logged with its traceback as Django logs an unhandled exception (``django.request``). Django's own
    refusals keep the status Django gives them."""
    if isinstance(exc, DjangoPermissionDenied):
        return api.create_response(request, error_body(str(exc) or "forbidden", "forbidden"), status=403)
    if isinstance(exc, BadRequest | SuspiciousOperation):
        return api.create_response(request, error_body(str(exc) or "bad request", "invalid"), status=400)
    response = api.create_response(request, error_body(SERVER_ERROR_MESSAGE, "server_error"), status=500)
    log_response(
        "%s: %s", "Internal Server Error", request.path, response=response, request=request, exception=exc
    )
    return response


# The routers of the apps, mounted at /api/v1/.
api.add_router("", accounts_router)
api.add_router("", catalog_router)
api.add_router("", incidents_router)
api.add_router("", alerts_router)
api.add_router("", notify_router)
api.add_router("", oncall_router)
api.add_router("", paging_router)
api.add_router("", "warroom.incidents.sla_api.router")
api.add_router("", "warroom.reviews.api.router")
api.add_router("", "warroom.incidents.major_api.router")
api.add_router("", "warroom.analytics.api.router")
api.add_router("", "warroom.comms.api.router")
api.add_router("", "warroom.comms.page_api.router")
api.add_router("", "warroom.audit.api.router")
