"""The error answers of an OpenAPI document, declared for every operation from what the operation is.

django-ninja documents only the answers an endpoint declares in ``response=``, so the API's document showed no
error at all, though every operation answers some: a client generator or a contract tester (schemathesis) then
calls each 4xx "undocumented". :func:`declare_errors` adds them to a generated document, all with the one error
body the API answers, by rules that follow from the operation itself:

=======  ============================================================================================
status   declared on
=======  ============================================================================================
400      every operation (a value refused, a body that is not JSON, a NUL character in the query)
401      every operation that needs credentials (``security``)
403      every change (``POST``/``PUT``/``PATCH``/``DELETE``: roles, read-only tokens, the console's CSRF
         check), and the reads listed as role-checked
404      every operation with a path parameter (unknown, or not visible: the same answer), and the single
         resources listed (``GET /me/working-hours`` when none are set)
409      every change (an illegal transition, already done, a name taken, a concurrent change)
413      every operation with a request body (over 1 MB)
422      every operation with parameters or a body (it does not match the schema)
429      the operations listed as rate-limited
500      every operation (a bug: logged, answered in the same shape)
=======  ============================================================================================

An answer an endpoint declares itself is left as it is. Pure: no I/O, only the document's dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: the component the error answers refer to
ERROR_COMPONENT = "Error"

#: what each declared error status means, as the document says it
DESCRIPTIONS = {
    400: "A value was refused (out of range, an unknown reference or filter value, a number for a date); "
    "`errors` names the field.",
    401: "No token, a wrong, expired or revoked one (`unauthenticated`, `token_expired`).",
    403: "You may see this but not do this: your role, a read-only token, or the console's CSRF check.",
    404: "Unknown, or not visible to you (the same answer).",
    409: "Not allowed from the current state, already done, or someone changed it first.",
    413: "The request body is over 1 MB.",
    422: "The request does not match the schema: a missing field, a wrong type, an unknown field; "
    "`errors` names the field.",
    429: "Asked again too soon; the message says when to retry.",
    500: "An unexpected error (a bug), logged on the server; read the current state before you retry a change.",
}

CHANGES = frozenset({"post", "put", "patch", "delete"})
METHODS = frozenset({"get", "head", "options", "trace", *CHANGES})


def error_statuses(
    method: str,
    path: str,
    operation: dict[str, Any],
    *,
    role_checked: frozenset[tuple[str, str]] = frozenset(),
    single_resources: frozenset[tuple[str, str]] = frozenset(),
    rate_limited: frozenset[tuple[str, str]] = frozenset(),
) -> list[int]:
    """The error statuses ``operation`` (``method`` on ``path``, as the document has them) may answer, by the
    rules of the module; ``role_checked``, ``single_resources`` and ``rate_limited`` hold ``("GET", path)``
    pairs."""
    key = (method.upper(), path)
    change = method.lower() in CHANGES
    statuses = [400]
    if operation.get("security"):
        statuses.append(401)
        if change or key in role_checked:
            statuses.append(403)
    if "{" in path or key in single_resources:
        statuses.append(404)
    if change:
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(413)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append(422)
    if key in rate_limited:
        statuses.append(429)
    statuses.append(500)
    return sorted(statuses)


def _error_response(status: int, media_type: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}},
    }


def declare_errors(
    document: dict[str, Any],
    *,
    error_schema: dict[str, Any],
    path_prefix: str = "",
    role_checked: Iterable[tuple[str, str]] = (),
    single_resources: Iterable[tuple[str, str]] = (),
    rate_limited: Iterable[tuple[str, str]] = (),
    media_type: str = "application/json",
) -> dict[str, Any]:
    """``document`` with the error answers of every operation declared (changed in place, and returned).

    ``error_schema`` is the JSON schema of the error body, with its nested schemas under ``$defs`` (pydantic's
    ``model_json_schema(ref_template="#/components/schemas/{model}")``): it becomes the :data:`ERROR_COMPONENT`
    component, its ``$defs`` components of their own. ``role_checked``, ``single_resources`` and
    ``rate_limited`` name operations as ``("GET", "/audit")``: the method and the path without ``path_prefix``."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    body = dict(error_schema)
    schemas.update(body.pop("$defs", {}))
    schemas[ERROR_COMPONENT] = body
    prefix = path_prefix.rstrip("/")
    roles, single, limited = (
        frozenset((m.upper(), prefix + p) for m, p in pairs)
        for pairs in (role_checked, single_resources, rate_limited)
    )
    for path, operations in document.get("paths", {}).items():
        for method, operation in list(operations.items()):
            if method not in METHODS:
                continue
            # one operation serving several methods shares its dict between them: give each its own
            own = operations[method] = dict(operation)
            responses = own["responses"] = {str(k): v for k, v in operation.get("responses", {}).items()}
            statuses = error_statuses(
                method, path, own, role_checked=roles, single_resources=single, rate_limited=limited
            )
            for status in statuses:
                responses.setdefault(str(status), _error_response(status, media_type))
    return document
