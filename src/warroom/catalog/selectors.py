"""Reads of the service catalog, scoped to the teams a user belongs to."""

from __future__ import annotations

from django.db.models import QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.catalog.models import Service
from warroom.lib.errors import NotFound
from warroom.lib.ids import as_id


def visible_services(user: User) -> QuerySet[Service]:
    qs = Service.objects.select_related("team")
    if user.is_org_admin:
        return qs
    return qs.filter(team_id__in=accounts.team_ids(user))


def get_service_for_user_or_404(user: User, *, key: int | str) -> Service:
    services = visible_services(user)
    service = services.filter(pk=ident).first() if (ident := as_id(key)) is not None else None
    if service is None:  # a slug; an older one may be only digits ("2024"), which is not an id here
        service = services.filter(slug=str(key)).first()
    if service is None:
        raise NotFound(f"service {key!r} not found")
    return service


def dependency_graph(service: Service, user: User) -> tuple[list[Service], list[Service]]:
    """(what ``service`` depends on, what depends on ``service``), limited to what ``user`` may see.

    Dependencies on other teams' services are real but hidden: the count of hidden ones is not leaked.
    """
    visible = visible_services(user)
    upstream = list(visible.filter(dependent_links__service=service).order_by("name"))
    downstream = list(visible.filter(dependency_links__depends_on=service).order_by("name"))
    return upstream, downstream


def hidden_dependencies(service: Service, user: User) -> list[Service]:
    """What ``service`` depends on that ``user`` cannot see (other teams' services). A person who replaces the
    dependencies they can see keeps these: they were never shown, so leaving them out removes nothing."""
    visible = set(visible_services(user).values_list("pk", flat=True))
    return [d for d in service.dependencies.all() if d.pk not in visible]
