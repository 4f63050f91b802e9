"""The REST API root: ``/api/v1/``.

Authentication: ``Authorization: Bearer <api token>``, or the console's session (with its CSRF token) so the
browsable docs at ``/api/v1/docs`` work for a signed-in user.

Every error is JSON of one shape::

    {"detail": "<what went wrong>", "code": "<machine code>", "errors": [{"field": "title", "message": "..."}]}

400 bad input a service refused, a filter value the API cannot match (an unknown choice, an object the caller
cannot see) or a number for a date or a time (:mod:`warroom.lib.apitypes`) · 401 no or bad credentials · 403 may
see but not change · 404 unknown or not visible (in the path) · 409 conflicts with the current state or a
concurrent change · 413 body too large · 422 the body or query does not match the schema: a missing field, a
wrong type, a field the endpoint does not know ("unknown field"), or ``true``/``false`` where a number is
expected · 429 asked again too soon · 500 a bug. The OpenAPI document declares them for every operation
(:class:`WarroomAPI`).
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.log import log_response
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer, SessionAuth
from ninja.types import DictStrAny
from pydantic import ConfigDict

import warroom
from warroom.accounts.api import router as accounts_router
from warroom.accounts.models import User
from warroom.accounts.services import authenticate_token
from warroom.alerts.api import router as alerts_router
from warroom.catalog.api import router as catalog_router
from warroom.incidents.api import router as incidents_router
from warroom.lib import apitypes, jsontext, openapi
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


class FieldError(Schema):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        description="The field or query parameter; dotted inside a body: `steps.0.delay_minutes`."
    )
    message: str


class ErrorOut(Schema):
    """The body of every error answer."""

    model_config = ConfigDict(extra="forbid", title="Error")

    detail: str = Field(description="What went wrong, in words.")
    code: str = Field(
        description="invalid, unauthenticated, token_expired, forbidden, not_found, conflict, too_large, "
        "throttled, server_error (or error, for a status without a code of its own)."
    )
    errors: list[FieldError] = Field(description="One per field at fault; empty when no field is.")


#: reads that check the caller's role, so a GET may answer 403 (every change may: see warroom.lib.openapi)
ROLE_CHECKED_READS = frozenset(
    {
        ("GET", "/audit"),
        ("GET", "/audit.csv"),
        ("GET", "/users/{user_id}/contact-methods"),
        ("GET", "/users/{user_id}/notification-rules"),
        ("GET", "/status-pages/{key}/subscribers"),
    }
)
#: operations without a path parameter that may answer 404 (every one with a path parameter may)
SINGLE_RESOURCES = frozenset({("GET", "/me/working-hours")})
#: operations that answer 429 when asked again too soon
RATE_LIMITED = frozenset({("POST", "/me/contact-methods/{method_id}/send-verification")})


class WarroomAPI(NinjaAPI):
    """The API, whose OpenAPI document declares the error answers of every operation (:mod:`warroom.lib.openapi`)
    with the one body they all have (:class:`ErrorOut`)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: DictStrAny | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        root = self.get_root_path(path_params or {}) if path_prefix is None else path_prefix
        openapi.declare_errors(
            document,
            error_schema=ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"),
            path_prefix="/" + root.strip("/"),
            role_checked=ROLE_CHECKED_READS,
            single_resources=SINGLE_RESOURCES,
            rate_limited=RATE_LIMITED,
        )
        return document


api = WarroomAPI(
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


#: pydantic's error types for a value a ``Literal`` (or an enum) does not have
CHOICE_ERRORS = frozenset({"literal_error", "enum"})


def _unknown_choice(error: dict[str, Any]) -> bool:
    """Whether ``error`` is a query parameter's value that is not one of its fixed choices (``?state=bogus``)."""
    loc = error.get("loc", ())
    return error.get("type") in CHOICE_ERRORS and bool(loc) and loc[0] == "query"


def _refused(error: dict[str, Any]) -> bool:
    """Whether ``error`` is a value of a readable type that the API refuses (a 400, not a 422): a number for a
    date or a time (:mod:`warroom.lib.apitypes`), or a filter value that is not one of its choices."""
    return error.get("type") in apitypes.REFUSED_ERRORS or _unknown_choice(error)


def _query_value(request: HttpRequest, loc: list[Any] | tuple[Any, ...]) -> str | None:
    """The value a query parameter's error is about (ninja leaves pydantic's ``input`` out of its errors)."""
    names = [p for p in loc[1:] if isinstance(p, str)]  # ("query", <argument>, <parameter>, <position>)
    if not names:
        return None
    values = request.GET.getlist(names[-1])
    index = next((p for p in loc if isinstance(p, int)), 0)
    return values[index] if 0 <= index < len(values) else None


def _one_error(request: HttpRequest, error: dict[str, Any]) -> dict[str, str]:
    loc = error.get("loc", ())
    if _unknown_choice(error) or error.get("type") == apitypes.UNKNOWN_CHOICE:
        # the parameter, not the position of a repeated one (``state``, not ``state.1``), and its choices
        field = _field_name([p for p in loc if not isinstance(p, int)])
        ctx = error.get("ctx") or {}
        choices = ctx.get("expected") or ctx.get("allowed")
        value = _query_value(request, loc) if loc and loc[0] == "query" else None
        message = f"{value!r} is not one of {choices}" if value is not None else f"choose one of {choices}"
        return {"field": field, "message": message}
    field = _field_name(loc)
    return {"field": field, "message": _message(error, field)}


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A request that does not match the schema: 422 naming each field, or 400 when every error is a value the
    API refuses on purpose (:func:`_refused`)."""
    errors = [_one_error(request, e) for e in exc.errors]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    status = 400 if exc.errors and all(_refused(e) for e in exc.errors) else 422
    return api.create_response(request, error_body(summary, "invalid", errors), status=status)


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
    if isinstance(
        exc.__cause__, BodyRefused
    ):  # ninja wraps the parser's error in "Cannot parse request body"
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
api.add_router("", "warroom.automation.api.router")
