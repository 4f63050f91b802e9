"""Errors raised by services and mapped to clear 4xx answers by every interface (API, console, CLI)."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out as asked. ``status`` is the HTTP status it maps to."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(ServiceError):
    status = 400
    code = "invalid"


class PermissionDenied(ServiceError):
    """The actor may see the object but not change it this way."""

    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """Someone else changed the object first, or the change is not allowed from its current state."""

    status = 409
    code = "conflict"
