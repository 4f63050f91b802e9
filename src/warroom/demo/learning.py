"""The demo's SLAs and what the organisation learnt, through the SLA and reviews services.

SLA definitions exist before the first incident, so every incident carries its clocks from its declaration and
they stop (met or breached) as the stories acknowledge and resolve. The postmortem policy drafts a postmortem for
every resolved P1/P2 on its own; here people fill two of them in (one all the way to published, with its root
cause analysis), give them action items, and open two problem records, one of them a known error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.demo.world import World
from warroom.incidents import sla_services as sla
from warroom.reviews import services as reviews
from warroom.reviews.models import ActionItem, FactorCategory, Postmortem, Problem
from warroom.reviews.states import ActionItemPriority, ActionItemStatus, ProblemStatus

Action = Callable[[], None]

OFFICE = {day: [["09:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@dataclass(frozen=True)
class SlaSpec:
    priority: int
    name: str
    response: int
    resolution: int
    business_hours: bool = False
    pause_on: tuple[str, ...] = ()


SLAS = (
    SlaSpec(1, "P1 Critical: 24×7", 15, 120),
    SlaSpec(2, "P2 High: 24×7", 30, 240, pause_on=("awaiting_vendor",)),
    SlaSpec(3, "P3 Moderate: office hours", 120, 3 * 510, True, ("awaiting_caller", "awaiting_vendor")),
    SlaSpec(
        4,
        "P4 Low: office hours",
        480,
        5 * 510,
        True,
        ("awaiting_caller", "awaiting_change", "awaiting_problem", "awaiting_vendor"),
    ),
)


def create_slas(world: World) -> None:
    admin = world.people["morgan"]
    office = sla.create_calendar(
        actor=admin,
        source="web",
        name="London office hours",
        time_zone="Europe/London",
        working_hours=OFFICE,
        holiday_country="GB",
        holiday_subdivision="ENG",
    )
    for spec in SLAS:
        sla.create_definition(
            actor=admin,
            source="web",
            name=spec.name,
            priority=spec.priority,
            response_minutes=spec.response,
            resolution_minutes=spec.resolution,
            calendar=office if spec.business_hours else None,
            pause_on=list(spec.pause_on),
            warning_thresholds=[50, 75, 90],
        )


# ---------------------------------------------------------------------------------------------------------------
# postmortems, action items and problems: planned at times after the incidents they are about


PG_SECTIONS = {
    "summary": (
        "The primary PostgreSQL node `pg-1` stopped answering health checks and Patroni promoted `pg-2`. "
        "PgBouncer kept its server connections to `pg-1`, now a read-only replica, so every write failed "
        "for 11 minutes until the pool was reloaded with the new primary by hand."
    ),
    "impact": (
        "Checkout, sign-in and billing could not write: about 38 % of Payments API requests failed, 2 900 "
        "card payments were declined and sign-ins failed with HTTP 503."
    ),
    "timeline": (
        "Alertmanager paged the on-call engineer the minute `pg-1` went down; the failover had already happened. "
        "The read-only errors pointed at PgBouncer a few minutes later, and reloading it restored writes."
    ),
    "root-cause": (
        "PgBouncer's `host=` pointed at the node name, not at the Patroni leader endpoint, and nothing told it "
        "to reconnect after a failover."
    ),
    "contributing-factors": "A configuration left behind by a migration, a monitoring gap and a runbook "
    "nobody owned: see the factors below.",
    "went-well": "The failover itself took 14 seconds; the major incident roles were filled within minutes.",
    "went-badly": "No alert said *why* writes failed: we found the read-only errors in the logs.",
    "lessons": "A failover is only as good as the clients that follow it: test the whole path, not the database.",
}
PG_WHYS = (
    ("Why did writes fail?", "PgBouncer sent them to pg-1, which had become a read-only replica."),
    ("Why did PgBouncer use pg-1?", "Its backend host is the node name, fixed when the pool was set up."),
    (
        "Why was it not switched to the leader endpoint?",
        "The Patroni migration left PgBouncer's config alone.",
    ),
    ("Why did nobody notice?", "Failovers were tested against the database only, never through PgBouncer."),
    ("Why only the database?", "Our failover runbook predates PgBouncer; nobody owned updating it."),
)
PG_FACTORS = (
    ("configuration", "PgBouncer pointed at a node name instead of the Patroni leader endpoint."),
    ("monitoring-gap", "No alert on PgBouncer server errors; read-only errors were found in the logs."),
    ("process", "The failover runbook and game day did not include the connection poolers."),
)
PG_ITEMS = (
    (
        "Point PgBouncer at the Patroni leader endpoint",
        "sofia",
        10,
        ActionItemStatus.DONE,
        ActionItemPriority.HIGH,
    ),
    (
        "Alert on PgBouncer server errors per backend",
        "tomas",
        7,
        ActionItemStatus.OPEN,
        ActionItemPriority.HIGH,
    ),
    (
        "Add the poolers to the quarterly failover game day",
        "marcus",
        30,
        ActionItemStatus.IN_PROGRESS,
        ActionItemPriority.MEDIUM,
    ),
)
EDGE_SECTIONS = {
    "summary": (
        "The certificate rotation on the edge load balancers installed the new leaf certificate without its "
        "intermediate; clients that do not fetch missing intermediates failed the TLS handshake."
    ),
    "impact": "API clients on older Android and Java runtimes could not connect for about an hour.",
}


def _postmortem(world: World, key: str) -> Postmortem:
    return Postmortem.objects.get(incident_id=world.incident_pks[key])


def _write_pg_postmortem(world: World) -> Action:
    def run() -> None:
        author = world.people["priya"]
        pm = _postmortem(world, "pg-failover")
        reviews.update_postmortem(
            postmortem=pm,
            actor=author,
            source="web",
            sections=PG_SECTIONS,
            detection_notes="Alertmanager paged within a minute of pg-1 going down.",
            response_notes="Major incident declared within minutes; writes restored after 11 minutes.",
            mitigated_at=pm.incident.opened_at + timedelta(minutes=11),
        )
        for question, answer in PG_WHYS:
            reviews.add_why(postmortem=pm, question=question, answer=answer, actor=author, source="web")
        for slug, text in PG_FACTORS:
            category = FactorCategory.objects.get(slug=slug)
            reviews.add_factor(postmortem=pm, category=category, description=text, actor=author, source="web")

    return run


def _action_items(world: World, opened: datetime) -> Action:
    def run() -> None:
        pm = _postmortem(world, "pg-failover")
        for title, owner, days, _status, priority in PG_ITEMS:
            reviews.create_action_item(
                actor=world.people["priya"],
                source="web",
                title=title,
                owner=world.people[owner],
                due_date=(opened + timedelta(days=days)).date(),
                priority=priority,
                postmortem=pm,
            )

    return run


def _item_status(world: World, title: str, owner: str, status: str) -> Action:
    def run() -> None:
        item = ActionItem.objects.get(title=title)
        reviews.update_action_item(item=item, actor=world.people[owner], source="web", status=status)

    return run


def _submit(world: World, key: str, author: str, reviewer: str) -> Action:
    def run() -> None:
        reviews.submit_postmortem(
            postmortem=_postmortem(world, key),
            reviewers=[world.people[reviewer]],
            actor=world.people[author],
            source="web",
        )

    return run


def _approve_and_publish(world: World, key: str, reviewer: str, publisher: str) -> tuple[Action, Action]:
    def approve() -> None:
        reviews.approve_postmortem(
            postmortem=_postmortem(world, key), actor=world.people[reviewer], source="web"
        )

    def publish() -> None:
        reviews.publish_postmortem(
            postmortem=_postmortem(world, key), actor=world.people[publisher], source="web"
        )

    return approve, publish


def _draft_edge(world: World) -> Action:
    def run() -> None:
        author = world.people["marcus"]
        pm = _postmortem(world, "edge-tls")
        reviews.update_postmortem(postmortem=pm, actor=author, source="web", sections=EDGE_SECTIONS)
        reviews.add_why(
            postmortem=pm,
            question="Why was the intermediate missing?",
            answer="The new bundle was uploaded as the leaf certificate only.",
            actor=author,
            source="web",
        )

    return run


PG_PROBLEM = "PgBouncer keeps routing writes to a demoted primary after a Patroni failover"
SSO_PROBLEM = "SAML signing certificates are rotated by hand and expire unnoticed"


def _pg_problem(world: World) -> Action:
    def run() -> None:
        owner = world.people["priya"]
        problem = reviews.create_problem(
            actor=owner,
            source="web",
            title=PG_PROBLEM,
            team=world.teams["platform"],
            description="Every Patroni failover so far needed a manual PgBouncer reload before writes worked.",
            services=[world.services["Postgres cluster"]],
            incidents=[
                world.incident(k) for k in ("pg-failover", "pg-failover-checkout", "pg-failover-login")
            ],
            owner=owner,
        )
        for to in (ProblemStatus.ASSESSED, ProblemStatus.ROOT_CAUSE_ANALYSIS):
            problem = reviews.transition_problem(problem=problem, actor=owner, source="web", to=to)

    return run


def _pg_problem_fix(world: World) -> Action:
    def run() -> None:
        owner = world.people["priya"]
        problem = Problem.objects.get(title=PG_PROBLEM)
        problem = reviews.update_problem(
            problem=problem,
            actor=owner,
            source="web",
            root_cause=PG_SECTIONS["root-cause"],
        )
        reviews.transition_problem(
            problem=problem,
            actor=owner,
            source="web",
            to=ProblemStatus.FIX_IN_PROGRESS,
            note="PgBouncer now follows the leader endpoint in staging; production next week.",
        )
        reviews.link_problem_incident(
            problem=problem, incident=world.incident("disk-wal"), actor=owner, source="web"
        )

    return run


def _sso_problem(world: World) -> Action:
    def run() -> None:
        owner = world.people["aisha"]
        problem = reviews.create_problem(
            actor=owner,
            source="web",
            title=SSO_PROBLEM,
            team=world.teams["identity"],
            description="Each enterprise IdP certificate is renewed by hand from a calendar reminder.",
            services=[world.services["SSO gateway"]],
            incidents=[world.incident("sso-cert-expired")],
            workaround=(
                "The certificate checker warns 14 days ahead; rotate with the runbook "
                "https://wiki.example.com/runbooks/sso-gateway#certificates and upload the metadata to the IdP."
            ),
            owner=owner,
        )
        reviews.transition_problem(problem=problem, actor=owner, source="web", to=ProblemStatus.ASSESSED)
        reviews.create_action_item(
            actor=owner,
            source="web",
            title="Automate SAML certificate rotation",
            owner=world.people["lukas"],
            due_date=(problem.created_at + timedelta(days=45)).date(),
            problem=problem,
        )

    return run


def _link_sso(world: World) -> Action:
    def run() -> None:
        problem = Problem.objects.get(title=SSO_PROBLEM)
        reviews.link_problem_incident(
            problem=problem,
            incident=world.incident("sso-cert-expiry"),
            actor=world.people["aisha"],
            source="web",
        )

    return run


def plan_learning(world: World, opened: dict[str, datetime], now: datetime) -> list[tuple[datetime, Action]]:
    """(when, action) for the learning steps, each after the incidents it is about and before ``now``."""
    pg, edge, sso = opened["pg-failover"], opened["edge-tls"], opened["sso-cert-expired"]
    approve, publish = _approve_and_publish(world, "pg-failover", "marcus", "morgan")
    day = timedelta(days=1)
    first_item, second_item, third_item = (item[0] for item in PG_ITEMS)
    planned: list[tuple[datetime, Action]] = [
        (pg + 1.2 * day, _write_pg_postmortem(world)),
        (pg + 1.3 * day, _action_items(world, pg)),
        (pg + 1.4 * day, _pg_problem(world)),
        (pg + 2.1 * day, _submit(world, "pg-failover", "priya", "marcus")),
        (pg + 2.9 * day, approve),
        (pg + 3.1 * day, publish),
        (pg + 6.2 * day, _item_status(world, first_item, "sofia", ActionItemStatus.DONE)),
        (pg + 4.0 * day, _item_status(world, third_item, "marcus", ActionItemStatus.IN_PROGRESS)),
        (pg + 9.5 * day, _pg_problem_fix(world)),
        (sso + 3.2 * day, _sso_problem(world)),
        (opened["sso-cert-expiry"] + timedelta(hours=2), _link_sso(world)),
        (min(edge + 0.6 * day, now - timedelta(minutes=30)), _draft_edge(world)),
    ]
    del second_item  # left open: it falls overdue a week after the failover
    return planned
