"""A small, believable incident desk for the browser tests and the README screenshots."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import PASSWORD, World
from warroom.accounts import services as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import services as catalog
from warroom.catalog.models import Service
from warroom.incidents import selectors, services
from warroom.incidents.models import Incident
from warroom.lib import clock


def _person(email: str, name: str, team: Team, role: str) -> User:
    user = accounts.create_user(email=email, password=PASSWORD, full_name=name, actor=None, source="seed")
    accounts.set_membership(team=team, user=user, role=role, actor=None, source="seed")
    return user


def _service(
    team: Team, name: str, tier: int, description: str, deps: list[Service] | None = None
) -> Service:
    return catalog.create_service(
        team=team,
        name=name,
        tier=tier,
        description=description,
        runbook_url=f"https://runbooks.example.com/{name.lower().replace(' ', '-')}",
        dependencies=deps or [],
        actor=None,
        source="seed",
    )


def seed_realistic_desk(world: World) -> Incident:
    """Teams Payments and Platform (alice in both), six services, eight incidents; returns the featured one."""
    payments = accounts.create_team(name="Payments", actor=None, source="seed")
    platform = accounts.create_team(name="Platform", actor=None, source="seed")
    accounts.set_membership(team=payments, user=world.alice, role="admin", actor=None, source="seed")
    accounts.set_membership(team=platform, user=world.alice, role="responder", actor=None, source="seed")
    priya = _person("priya@example.com", "Priya Natarajan", payments, "responder")
    marcus = _person("marcus@example.com", "Marcus Chen", platform, "manager")
    sofia = _person("sofia@example.com", "Sofia Lindqvist", platform, "responder")
    accounts.set_membership(team=payments, user=marcus, role="responder", actor=None, source="seed")

    postgres = _service(platform, "Postgres primary", 1, "The main OLTP cluster (db-1 … db-3).")
    cdn = _service(platform, "Edge CDN", 2, "Static assets and image resizing at the edge.")
    search = _service(platform, "Search", 3, "Product search (OpenSearch).", [postgres])
    gateway = _service(payments, "Payment Gateway", 1, "Talks to the acquirers.", [postgres])
    checkout = _service(
        payments, "Checkout API", 1, "Cart, pricing and order placement.", [gateway, postgres, cdn]
    )
    _service(platform, "Notifications", 3, "Email and push delivery.")

    now = clock.now()

    def at(minutes_ago: float) -> clock.frozen:  # type: ignore[valid-type]
        return clock.frozen(now - timedelta(minutes=minutes_ago))

    def declare(minutes_ago: float, **fields: object) -> Incident:
        return services.declare_incident(
            actor=fields.pop("by", world.alice),  # type: ignore[arg-type]
            source=str(fields.pop("source", "web")),
            opened_at=now - timedelta(minutes=minutes_ago),
            **fields,  # type: ignore[arg-type]
        )

    def move(incident: Incident, minutes_ago: float, to: str, actor: User, **extra: str) -> None:
        with at(minutes_ago):
            services.transition_incident(incident=incident, actor=actor, source="web", to=to, **extra)

    featured = declare(
        47,
        by=priya,
        title="Checkout API returns 502 for a third of requests",
        description=(
            "Since **14:02 UTC** about 30% of `POST /orders` calls fail with 502 from the load balancer.\n\n"
            "- Started right after the `4.2.1` rollout reached 50% of pods\n"
            "- Card payments and PayPal both affected\n"
            "- Dashboard: error rate 0.2% → 31%"
        ),
        team=payments,
        services=[checkout, gateway],
        impact=1,
        urgency=1,
        is_major=True,
    )
    move(featured, 45, "in_progress", world.alice)
    ic = selectors.get_role_type_or_404("incident-commander")
    comms = selectors.get_role_type_or_404("communications-lead")
    with at(44):
        services.assign_role(
            incident=featured, role_type=ic, user=world.alice, actor=world.alice, source="web"
        )
    with at(43):
        services.update_incident(incident=featured, actor=world.alice, source="web", assignee=priya)
    with at(41):
        services.add_note(
            incident=featured,
            actor=priya,
            source="web",
            text="New pods crash-loop on start: `DATABASE_POOL_SIZE` was renamed in 4.2.1. Rolling back.",
        )
    with at(40):
        rollback = services.add_task(
            incident=featured,
            actor=world.alice,
            source="web",
            title="Roll back checkout-api to 4.2.0",
            owner=priya,
        )
    with at(39):
        services.add_task(
            incident=featured,
            actor=world.alice,
            source="web",
            title="Post a status page update",
            owner=marcus,
        )
    with at(38):
        services.assign_role(incident=featured, role_type=comms, user=marcus, actor=world.alice, source="cli")
    with at(22):
        services.add_note(
            incident=featured,
            actor=priya,
            source="api",
            text="Rollback done on 6/6 pods. Error rate back to 0.4%.",
        )
    with at(21):
        services.update_task(task=rollback, actor=priya, source="web", done=True)

    replication = declare(
        128,
        by=marcus,
        title="Postgres replication lag above 5 minutes on db-2",
        team=platform,
        services=[postgres],
        impact=2,
        urgency=1,
        assignee=marcus,
        source="api",
    )
    move(replication, 120, "in_progress", marcus)
    acquirer = declare(
        310,
        title="Card payments declined by the acquirer (EU region)",
        team=payments,
        services=[gateway],
        impact=1,
        urgency=2,
        assignee=priya,
    )
    move(acquirer, 300, "in_progress", priya)
    move(acquirer, 240, "on_hold", priya, hold_reason="awaiting_vendor")
    declare(
        12,
        title="Search results stale for new products",
        team=platform,
        services=[search],
        impact=2,
        urgency=2,
    )
    declare(
        25, by=sofia, title="Password reset emails delayed by 20 minutes", team=platform, impact=2, urgency=2
    )
    cdn_incident = declare(
        1500,
        title="CDN 5xx spike in ap-southeast",
        team=platform,
        services=[cdn],
        impact=3,
        urgency=2,
        assignee=sofia,
    )
    move(cdn_incident, 1490, "in_progress", sofia)
    invoices = declare(
        2900, title="Invoice PDFs render slowly", team=payments, impact=3, urgency=2, assignee=priya
    )
    move(
        invoices,
        2800,
        "resolved",
        priya,
        resolution_code="permanent_fix",
        resolution_notes="Font cache warmed.",
    )
    declare(4400, title="Nightly export job failed twice", team=platform, impact=3, urgency=3, source="cli")
    return featured
