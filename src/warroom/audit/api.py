"""REST routes of the audit log: ``GET /audit`` (paged JSON) and ``GET /audit.csv`` (the same rows as CSV).

Organisation admins read every row; a team's admins the rows about their team's objects (403 for anyone else;
see :mod:`warroom.audit.selectors`).
Filters in the query string: ``actor`` (id or email), ``action`` (prefix), ``source``, ``object_type``,
``object_id``, ``since`` (included) and ``before`` (excluded) as ISO 8601 times with an offset. A bad time, a
``since`` not before ``before`` or an unknown source is a 400 naming the field; an unknown source is answered as
every filter with fixed choices answers one (``'email' is not one of 'web', 'api', …``, docs/api.md "Filters").
Newest first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import BeforeValidator

from warroom.accounts.schemas import Page, Paging, TeamRef, caller, paginate, team_ref
from warroom.audit import export, selectors
from warroom.audit.models import AuditEvent

router = Router(tags=["audit"])

#: the values of :class:`warroom.audit.models.Source`, as the filter's fixed choices (a test keeps them equal)
SourceName = Literal["web", "api", "cli", "engine", "system"]


def _blank_is_any(value: Any) -> Any:
    """``?source=`` (an empty form field) filters nothing, and surrounding spaces are not part of the value."""
    if isinstance(value, str):
        return value.strip() or None
    return value


#: an unknown value is pydantic's ``literal_error``, which ``warroom.api`` answers as every filter with fixed
#: choices: a 400 naming ``source``, the value and the choices
QuerySource = Annotated[SourceName | None, BeforeValidator(_blank_is_any)]


class AuditFilterQuery(Schema):
    actor: str | None = Field(None, description="A user id, or the actor's email address (any case).")
    action: str | None = Field(None, description="Actions starting with this, e.g. `incident.`.")
    source: QuerySource = Field(None, description="web, api, cli, engine or system.")
    object_type: str | None = Field(None, description="The object's model, e.g. `incidents.incident`.")
    object_id: str | None = Field(None, description="The object's id.")
    since: str | None = Field(None, description="From this time, included: ISO 8601 with offset.")
    before: str | None = Field(None, description="Up to this time, excluded: ISO 8601 with offset.")


class AuditQuery(Paging, AuditFilterQuery):
    pass


class ActorOut(Schema):
    id: int | None = Field(description="Null for the system, or a user that no longer exists.")
    email: str = Field(description="As it was when the row was written.")
    name: str


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor: ActorOut | None = Field(description="Null when the system acted (engine, setup).")
    source: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    request_id: str
    team: TeamRef | None = Field(description="The team of the object, whose admins may read this row.")


def event_json(event: AuditEvent) -> dict[str, Any]:
    has_actor = event.actor_id is not None or bool(event.actor_email)
    return {
        "id": event.pk,
        "at": event.at,
        "actor": {"id": event.actor_id, "email": event.actor_email, "name": event.actor_name}
        if has_actor
        else None,
        "source": event.source,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "team": team_ref(event.team) if event.team is not None else None,
    }


def _rows(request: HttpRequest, query: AuditFilterQuery) -> Any:
    flt = selectors.make_filter(**query.dict(exclude={"limit", "offset"}))
    return selectors.filter_events(caller(request), flt).select_related("team")


@router.get("/audit", response=Page[AuditEventOut], summary="Read the audit log")
def list_audit(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    """Every write, newest first, narrowed by the filters. Organisation admins see every row; team admins the
    rows about their teams' objects (``team`` says which)."""
    return paginate(_rows(request, query), query, event_json)


@router.get("/audit.csv", summary="Export the audit log as CSV")
def export_audit(request: HttpRequest, query: Query[AuditFilterQuery]) -> StreamingHttpResponse:
    """The rows `GET /audit` lists for the same filters, newest first, at most 100,000 (narrow `since`/`before`
    for more). Columns: id, at, actor_id, actor_email, actor_name, source, action, object_type, object_id,
    before, after (compact JSON), request_id."""
    return export.csv_response(_rows(request, query))
