"""What the demo organisation is made of: teams, people, services and the incidents they lived through.

Pure data; :mod:`warroom.demo.seed` turns it into rows through the services. In incident texts, ``[[key]]``
is replaced by the number of the incident with that key (e.g. ``INC0001012``).
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    description: str


@dataclass(frozen=True)
class PersonSpec:
    key: str
    full_name: str
    email: str
    team: str = ""  # team key; "" for the organisation admin
    role: str = "responder"
    shares_demo_password: bool = False  # gets the admin's password so visitors can sign in as them


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    team: str
    tier: int
    description: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentSpec:
    """One incident's story. ``outcome`` is the state it ends in."""

    key: str
    team: str
    title: str
    description: str
    services: tuple[str, ...]
    category: str
    subcategory: str
    impact: int
    urgency: int
    days_ago: float
    outcome: str
    notes: tuple[str, ...] = ()
    resolution: tuple[str, str] = ("", "")  # (resolution code, notes), or the cancel note
    hold: str = ""  # a hold reason: the incident goes on hold (and, unless the outcome is on_hold, resumes)
    hold_note: str = ""
    major: bool = False
    private: bool = False
    parent: str = ""  # declared as a child of this incident
    attach_to: str = ""  # declared on its own, made a child of this incident later
    related: tuple[str, ...] = ()  # linked to these earlier incidents
    tasks: tuple[str, ...] = ()
    reopen: str = ""  # a reopen note: resolved, reopened with it, resolved again
    escalate: tuple[int, int] | None = None  # (impact, urgency) set after the first look
    reassign_to: str = ""  # team key
    source: str = "web"
    autoclose: bool = False  # closed by the engine after the resolution period, not by a person
    cancel_after_start: bool = False


TEAMS = (
    TeamSpec(
        "platform",
        "Platform",
        "Runs the Kubernetes clusters, the PostgreSQL fleet, the edge and the delivery pipeline.",
    ),
    TeamSpec(
        "payments",
        "Payments",
        "Checkout, the Payments API, billing and the payment-provider integrations.",
    ),
    TeamSpec("identity", "Identity", "Sign-in, single sign-on, customer accounts and access control."),
)

PEOPLE = (
    PersonSpec("morgan", "Morgan Avery", ADMIN_EMAIL),
    PersonSpec("priya", "Priya Raman", "priya.raman@example.com", "platform", "admin"),
    PersonSpec("marcus", "Marcus Chen", "marcus.chen@example.com", "platform", "manager"),
    PersonSpec("sofia", "Sofia Lindqvist", "sofia.lindqvist@example.com", "platform"),
    PersonSpec("tomas", "Tomás Herrera", "tomas.herrera@example.com", "platform"),
    PersonSpec("elena", "Elena García", "elena.garcia@example.com", "payments", "manager"),
    PersonSpec("daniel", "Daniel Okafor", "daniel.okafor@example.com", "payments", shares_demo_password=True),
    PersonSpec("hannah", "Hannah Weber", "hannah.weber@example.com", "payments"),
    PersonSpec(
        "ravi", "Ravi Patel", "ravi.patel@example.com", "payments", "observer", shares_demo_password=True
    ),
    PersonSpec("aisha", "Aisha Bello", "aisha.bello@example.com", "identity", "manager"),
    PersonSpec("lukas", "Lukas Schmidt", "lukas.schmidt@example.com", "identity"),
    PersonSpec("mei", "Mei Tanaka", "mei.tanaka@example.com", "identity"),
)

SERVICES = (
    ServiceSpec(
        "Postgres cluster",
        "platform",
        1,
        "The primary **PostgreSQL 16** cluster: three nodes managed by Patroni, behind PgBouncer. "
        "Holds payments, accounts and billing data.",
    ),
    ServiceSpec(
        "Kubernetes platform",
        "platform",
        1,
        "The production Kubernetes clusters (eu-west and us-east), ingress controllers and CoreDNS.",
    ),
    ServiceSpec(
        "Edge & CDN",
        "platform",
        1,
        "Public load balancers, TLS termination, WAF rules and the CDN in front of every public host.",
    ),
    ServiceSpec(
        "CI/CD pipeline",
        "platform",
        3,
        "Build runners, the container registry and the deploy pipeline.",
        ("Kubernetes platform",),
    ),
    ServiceSpec(
        "Observability stack",
        "platform",
        2,
        "Prometheus, Alertmanager, Grafana and Loki: metrics, alerts, dashboards and logs.",
        ("Kubernetes platform",),
    ),
    ServiceSpec(
        "Identity API",
        "identity",
        1,
        "Sign-in, sessions, password reset and two-factor authentication for customers and staff.",
        ("Postgres cluster", "Kubernetes platform"),
    ),
    ServiceSpec(
        "SSO gateway",
        "identity",
        2,
        "SAML and OIDC single sign-on for enterprise customers, and SCIM provisioning.",
        ("Identity API",),
    ),
    ServiceSpec(
        "Payments API",
        "payments",
        1,
        "Authorises, captures and refunds card payments through our two acquirers; sends payment webhooks.",
        ("Postgres cluster", "Kubernetes platform"),
    ),
    ServiceSpec(
        "Checkout",
        "payments",
        1,
        "The customer-facing checkout: basket, promo codes, 3-D Secure and the order confirmation.",
        ("Payments API", "Identity API", "Edge & CDN"),
    ),
    ServiceSpec(
        "Billing & invoicing",
        "payments",
        2,
        "Subscriptions, the monthly billing run, invoice PDFs and receipt emails.",
        ("Payments API", "Postgres cluster"),
    ),
)


def _desc(impact: str, symptoms: list[str], extra: str = "") -> str:
    lines = [f"**Impact:** {impact}", "", "**What we see**", "", *[f"- {s}" for s in symptoms]]
    if extra:
        lines += ["", extra]
    return "\n".join(lines)


INCIDENTS = (
    # -- the past major incident: a database failover, 18 days ago ------------------------------------------
    IncidentSpec(
        key="pg-failover",
        team="platform",
        title="Primary database failover: writes failing across all services",
        description=_desc(
            "every service that writes to the main cluster: checkout, sign-in, billing.",
            [
                "Patroni promoted `pg-2` after `pg-1` stopped answering health checks",
                "PgBouncer kept sending writes to the old primary: `ERROR: cannot execute INSERT in a "
                "read-only transaction`",
                "5xx rate on the Payments API at 38 %",
            ],
            "Dashboard: [Postgres overview](https://grafana.example.com/d/postgres)",
        ),
        services=("Postgres cluster",),
        category="Database",
        subcategory="Availability",
        impact=1,
        urgency=1,
        days_ago=18.4,
        outcome="closed",
        major=True,
        notes=(
            "PgBouncer still points at `pg-1`. Reloading its config with the new primary.",
            "Writes recovering: 5xx down to 2 % and falling.",
            "All services green for 15 minutes. Watching replication before we stand down.",
        ),
        tasks=(
            "Reload PgBouncer with the new primary",
            "Post a status page update",
            "Check replication on pg-3",
            "Schedule the postmortem",
        ),
        resolution=(
            "permanent_fix",
            "PgBouncer now follows the Patroni leader key through the consul template; failover tested "
            "twice in staging. Writes failed for 11 minutes.",
        ),
    ),
    IncidentSpec(
        key="pg-failover-checkout",
        team="payments",
        title="Checkout unavailable during the database failover",
        description=_desc(
            "all customers: no orders could be placed for 11 minutes.",
            ["Checkout returned HTTP 503 on `POST /orders`", "Basket pages still loaded (read replicas)"],
        ),
        services=("Checkout", "Payments API"),
        category="Application",
        subcategory="Error rate",
        impact=1,
        urgency=1,
        days_ago=18.39,
        outcome="closed",
        parent="pg-failover",
        notes=("No payment was captured twice: the idempotency keys held.",),
        resolution=("permanent_fix", "Recovered with the database; see [[pg-failover]]."),
    ),
    IncidentSpec(
        key="pg-failover-login",
        team="identity",
        title="Sign-ins failing with HTTP 503",
        description=_desc(
            "customers who were not already signed in.",
            ["`/login` returns 503 in all regions", "Session refreshes fail for about a third of clients"],
        ),
        services=("Identity API",),
        category="Application",
        subcategory="Error rate",
        impact=1,
        urgency=2,
        days_ago=18.38,
        outcome="closed",
        attach_to="pg-failover",
        notes=("Same root cause as the database failover; attaching it there.",),
        resolution=("permanent_fix", "Recovered when PgBouncer followed the new primary."),
    ),
    IncidentSpec(
        key="synthetic-eu",
        team="payments",
        title="Synthetic checkout check failing from eu-west",
        description=_desc(
            "unknown yet: the synthetic monitor fails from one region.",
            ["`checkout-eu-west` synthetic check red for 3 runs in a row"],
        ),
        services=("Checkout",),
        category="Application",
        subcategory="Error rate",
        impact=2,
        urgency=1,
        days_ago=18.37,
        outcome="closed",
        related=("pg-failover",),
        source="api",
        resolution=("duplicate", "Same cause as [[pg-failover]]."),
    ),
    IncidentSpec(
        key="disk-wal",
        team="platform",
        title="WAL volume on pg-2 keeps growing after the failover",
        description=_desc(
            "none yet; the volume would fill in about 10 days at this rate.",
            ["`pg_wal` on pg-2 grows 6 GB a day", "An inactive replication slot from the old primary"],
        ),
        services=("Postgres cluster",),
        category="Database",
        subcategory="Capacity",
        impact=2,
        urgency=3,
        days_ago=9.2,
        outcome="on_hold",
        related=("pg-failover",),
        hold="awaiting_problem",
        hold_note="Dropped the stale slot as a stop-gap. Root cause is tracked in the failover problem record; "
        "waiting on it before we change slot management.",
        notes=("Found slot `patroni_pg1` inactive since the failover.",),
    ),
    # -- the current major incident: card payments failing ------------------------------------------------------
    IncidentSpec(
        key="checkout-cards",
        team="payments",
        title="Card payments failing at checkout for about 30 % of customers",
        description=_desc(
            "about 30 % of card payments are declined with `acquirer_unavailable`; revenue impact.",
            [
                "Declines started suddenly, only on the primary acquirer",
                "Wallet payments are unaffected",
                "Support has 40+ tickets and counting",
            ],
            "Runbook: [Acquirer failover](https://wiki.example.com/runbooks/acquirer-failover)",
        ),
        services=("Checkout", "Payments API"),
        category="Third party",
        subcategory="Payment provider",
        impact=1,
        urgency=1,
        days_ago=0.09,
        outcome="in_progress",
        major=True,
        notes=(
            "Acquirer status page is green, but their API answers 502 on 30 % of authorisations.",
            "P1 ticket open with the acquirer. Preparing to route Visa to the secondary acquirer.",
            "Routed 50 % of Visa traffic to the secondary: declines down from 30 % to 12 %.",
        ),
        tasks=(
            "Open a P1 ticket with the acquirer",
            "Post a status page update every 30 minutes",
            "Route card traffic to the secondary acquirer",
            "Tell Support which message to send customers",
        ),
    ),
    IncidentSpec(
        key="checkout-webhooks",
        team="payments",
        title="Payment confirmation webhooks delayed by up to 15 minutes",
        description=_desc(
            "merchants see orders as pending for up to 15 minutes.",
            ["`webhook_outbox` backlog at 18 000 rows", "Retry storm against the acquirer callback endpoint"],
        ),
        services=("Payments API",),
        category="Application",
        subcategory="Performance",
        impact=2,
        urgency=1,
        days_ago=0.08,
        outcome="in_progress",
        parent="checkout-cards",
        notes=("Raised the sender's concurrency from 8 to 32; backlog falling slowly.",),
    ),
    IncidentSpec(
        key="checkout-3ds",
        team="payments",
        title="3-D Secure challenge page times out on mobile",
        description=_desc(
            "some mobile customers cannot complete the 3-D Secure step.",
            ["Reports from the iOS app only", "Might be a symptom of the acquirer problem"],
        ),
        services=("Checkout",),
        category="Application",
        subcategory="Error rate",
        impact=2,
        urgency=2,
        days_ago=0.05,
        outcome="new",
        parent="checkout-cards",
    ),
    IncidentSpec(
        key="checkout-alert-dup",
        team="payments",
        title="Checkout error-rate alert firing",
        description="Alertmanager: `CheckoutErrorRateHigh` firing (error rate 28 %).",
        services=("Checkout",),
        category="Application",
        subcategory="Error rate",
        impact=2,
        urgency=1,
        days_ago=0.085,
        outcome="canceled",
        related=("checkout-cards",),
        source="api",
        resolution=("", "Duplicate of [[checkout-cards]]; following it there."),
    ),
    # -- other open work ----------------------------------------------------------------------------------------
    IncidentSpec(
        key="grafana-slow",
        team="platform",
        title="Grafana dashboards take over 20 s to load",
        description=_desc(
            "on-call engineers; slows down every investigation.",
            ["The Payments overview board times out", "Prometheus query duration p99 at 18 s"],
        ),
        services=("Observability stack",),
        category="Application",
        subcategory="Performance",
        impact=3,
        urgency=3,
        days_ago=0.3,
        outcome="new",
    ),
    IncidentSpec(
        key="sso-cert-expiry",
        team="identity",
        title="Okta SAML signing certificate expires in 14 days",
        description=_desc(
            "none yet; SSO sign-ins for 12 enterprise customers stop when it expires.",
            ["Certificate monitor: `okta-saml-signing` expires in 14 days"],
        ),
        services=("SSO gateway",),
        category="Infrastructure",
        subcategory="Certificates",
        impact=2,
        urgency=3,
        days_ago=0.6,
        outcome="new",
        source="api",
    ),
    IncidentSpec(
        key="billing-vat",
        team="payments",
        title="Invoice PDFs show the wrong VAT rate for Norwegian customers",
        description=_desc(
            "about 140 invoices issued this month show 20 % VAT instead of 25 %.",
            ["Reported by a customer's finance team", "Totals are right; only the printed rate is wrong"],
        ),
        services=("Billing & invoicing",),
        category="Application",
        subcategory="Bug",
        impact=3,
        urgency=2,
        days_ago=0.9,
        outcome="new",
        notes=("Support has a list of the affected invoices.",),
    ),
    IncidentSpec(
        key="k8s-evictions",
        team="platform",
        title="Memory-pressure evictions on the batch node pool",
        description=_desc(
            "batch jobs (exports, reports) restart and run late.",
            ["62 pods evicted in the last hour", "Node pool `batch-m5` at 94 % memory"],
        ),
        services=("Kubernetes platform",),
        category="Infrastructure",
        subcategory="Compute",
        impact=2,
        urgency=2,
        days_ago=0.4,
        outcome="in_progress",
        notes=(
            "The nightly export job lost its memory limit in last week's chart upgrade.",
            "Added two nodes to the pool while we restore the limit.",
        ),
    ),
    IncidentSpec(
        key="login-latency",
        team="identity",
        title="Sign-in p95 latency above 2 s since this morning's deploy",
        description=_desc(
            "every sign-in is slow; no errors yet.",
            [
                "p95 of `POST /login` went from 350 ms to 2.3 s",
                "Started with release 7.42.0 of the Identity API",
            ],
        ),
        services=("Identity API",),
        category="Application",
        subcategory="Performance",
        impact=2,
        urgency=1,
        days_ago=0.2,
        outcome="in_progress",
        tasks=("Compare query plans before and after 7.42.0", "Prepare a rollback to 7.41.2"),
        notes=("The new audit query does a sequential scan on `login_events`.",),
    ),
    IncidentSpec(
        key="ci-queue",
        team="platform",
        title="CI runners queueing for 25+ minutes",
        description=_desc(
            "every team's builds; hotfixes wait too.",
            ["Queue depth 140 jobs", "Autoscaler stuck at 12 runners"],
        ),
        services=("CI/CD pipeline",),
        category="Infrastructure",
        subcategory="Compute",
        impact=3,
        urgency=2,
        days_ago=1.2,
        outcome="in_progress",
        escalate=(2, 2),
        notes=(
            "Raising impact: the Payments hotfix for the refund bug is stuck in the queue.",
            "The autoscaler's cloud credentials expired; rotated them, runners scaling up.",
        ),
    ),
    IncidentSpec(
        key="pg-replica-lag",
        team="platform",
        title="Replica lag spikes to 40 s during the nightly vacuum",
        description=_desc(
            "reports and read-only API calls show stale data at night.",
            [
                "`pg_replication_lag_seconds` peaks at 41 s around 02:00 UTC",
                "Coincides with `VACUUM` on `events`",
            ],
        ),
        services=("Postgres cluster",),
        category="Database",
        subcategory="Replication",
        impact=2,
        urgency=2,
        days_ago=6.3,
        outcome="on_hold",
        hold="awaiting_change",
        hold_note="Autovacuum tuning is in change CHG0004411, scheduled for Thursday's window.",
        notes=("Confirmed: lag follows the vacuum of the `events` table every night.",),
    ),
    IncidentSpec(
        key="receipt-bounces",
        team="payments",
        title="Receipt emails bouncing for outlook.com recipients",
        description=_desc(
            "customers with Outlook addresses get no payment receipts.",
            [
                "Bounce rate 100 % for `outlook.com` and `hotmail.com`",
                "SMTP 550 5.7.1 from the receiving side",
            ],
        ),
        services=("Billing & invoicing",),
        category="Third party",
        subcategory="Email delivery",
        impact=3,
        urgency=2,
        days_ago=3.1,
        outcome="on_hold",
        hold="awaiting_vendor",
        hold_note="Our email provider is delisting the shared IP range with Microsoft; they expect 48 hours.",
    ),
    IncidentSpec(
        key="2fa-phone-change",
        team="identity",
        title="Customer's two-factor codes rejected after a phone change",
        description=_desc(
            "one customer cannot sign in.",
            ["TOTP codes rejected since they moved to a new phone", "Account is on the Enterprise plan"],
        ),
        services=("Identity API",),
        category="Security",
        subcategory="Access",
        impact=3,
        urgency=3,
        days_ago=2.2,
        outcome="on_hold",
        hold="awaiting_caller",
        hold_note="Asked the customer to confirm their identity through their account owner.",
    ),
    IncidentSpec(
        key="entra-sso",
        team="identity",
        title="Entra ID single sign-on fails for one enterprise customer",
        description=_desc(
            "about 300 staff of one customer cannot use SSO; password sign-in still works.",
            ["`AADSTS50011`: reply URL mismatch", "Started after the customer's tenant migration"],
        ),
        services=("SSO gateway",),
        category="Third party",
        subcategory="Vendor outage",
        impact=2,
        urgency=2,
        days_ago=4.1,
        outcome="on_hold",
        hold="awaiting_vendor",
        hold_note="Microsoft support case opened; the customer's tenant shows an old reply URL we cannot change.",
        notes=("Our SAML metadata has not changed for months; the mismatch is on the tenant side.",),
    ),
    # -- recently resolved ----------------------------------------------------------------------------------------
    IncidentSpec(
        key="edge-tls",
        team="platform",
        title="TLS handshake failures on api.example.com after certificate rotation",
        description=_desc(
            "API clients with older TLS stacks (about 8 % of traffic) cannot connect.",
            [
                "`SSL_ERROR_HANDSHAKE_FAILURE_ALERT` from Java 8 clients",
                "Started with this morning's rotation",
            ],
        ),
        services=("Edge & CDN",),
        category="Infrastructure",
        subcategory="Certificates",
        impact=1,
        urgency=1,
        days_ago=1.25,
        outcome="resolved",
        tasks=("Serve the RSA certificate alongside ECDSA", "Tell affected API customers"),
        notes=("The new certificate is ECDSA-only; old clients do not support it.",),
        resolution=(
            "permanent_fix",
            "The edge now serves both an RSA and an ECDSA certificate; handshake errors back to zero.",
        ),
    ),
    IncidentSpec(
        key="refund-500",
        team="payments",
        title="Refund endpoint returns 500 after release 4.18.0",
        description=_desc(
            "support cannot issue refunds from the back office.",
            ["`POST /refunds` → 500 `KeyError: 'currency_exponent'`"],
        ),
        services=("Payments API",),
        category="Application",
        subcategory="Deployment",
        impact=2,
        urgency=1,
        days_ago=0.9,
        outcome="resolved",
        related=("ci-queue",),
        notes=("Rolling back to 4.17.2.",),
        resolution=("workaround", "Rolled back to 4.17.2. The fix ships with 4.18.1."),
    ),
    IncidentSpec(
        key="coredns-timeouts",
        team="platform",
        title="Intermittent DNS timeouts inside the cluster",
        description=_desc(
            "random 5 s delays on service-to-service calls.",
            ["CoreDNS `SERVFAIL` spikes every few minutes", "conntrack table close to its limit"],
        ),
        services=("Kubernetes platform",),
        category="Infrastructure",
        subcategory="DNS",
        impact=2,
        urgency=2,
        days_ago=1.1,
        outcome="resolved",
        notes=("Raised `nf_conntrack_max`; testing NodeLocal DNSCache on one node pool.",),
        resolution=("permanent_fix", "NodeLocal DNSCache rolled out to every node pool; no timeouts since."),
    ),
    IncidentSpec(
        key="reset-links",
        team="identity",
        title="Password reset links expire after 5 minutes instead of 60",
        description=_desc(
            "customers who do not click the link at once must ask again.",
            ["Support tickets mention expired links", "`RESET_TOKEN_TTL` shows 300 in the running config"],
        ),
        services=("Identity API",),
        category="Application",
        subcategory="Bug",
        impact=3,
        urgency=2,
        days_ago=1.55,
        outcome="resolved",
        reopen="Links still expire early for customers on the EU cluster: its config map was not updated.",
        resolution=("permanent_fix", "`RESET_TOKEN_TTL` is back to 3600 s in every cluster's config."),
    ),
    IncidentSpec(
        key="billing-duplicates",
        team="payments",
        title="Duplicate invoices generated for annual plans",
        description=_desc(
            "37 customers on annual plans received two invoices for the same period.",
            ["Both invoices have the same period and amount", "Only plans renewed on the 1st"],
        ),
        services=("Billing & invoicing",),
        category="Application",
        subcategory="Bug",
        impact=2,
        urgency=2,
        days_ago=2.2,
        outcome="resolved",
        hold="awaiting_caller",
        hold_note="Asked Finance to confirm which of the two invoices they have already booked.",
        resolution=(
            "permanent_fix",
            "Voided the second invoice for all 37 customers; the renewal job now takes a lock per plan.",
        ),
    ),
    # -- canceled ----------------------------------------------------------------------------------------------------
    IncidentSpec(
        key="prometheus-disk",
        team="platform",
        title="Disk usage alert on prometheus-0",
        description="`NodeDiskUsageHigh` for `prometheus-0`: 92 % used.",
        services=("Observability stack",),
        category="Infrastructure",
        subcategory="Storage",
        impact=3,
        urgency=2,
        days_ago=12.3,
        outcome="canceled",
        cancel_after_start=True,
        source="api",
        resolution=("", "False positive: the alert rule watched the root volume, not the data volume."),
    ),
    IncidentSpec(
        key="onboarding-test",
        team="identity",
        title="Test incident from the on-call onboarding session",
        description="Practice run for Lukas and Mei's first on-call week. Please ignore.",
        services=("Identity API",),
        category="Request",
        subcategory="Information",
        impact=3,
        urgency=3,
        days_ago=30.2,
        outcome="canceled",
        resolution=("", "Training exercise finished."),
    ),
    IncidentSpec(
        key="sandbox-503",
        team="payments",
        title="Acquirer sandbox returning 503",
        description="Integration tests against the acquirer sandbox fail with 503.",
        services=("Payments API",),
        category="Third party",
        subcategory="Payment provider",
        impact=3,
        urgency=2,
        days_ago=20.4,
        outcome="canceled",
        cancel_after_start=True,
        resolution=("", "Announced sandbox maintenance; not an incident."),
    ),
    # -- closed ---------------------------------------------------------------------------------------------------------
    IncidentSpec(
        key="sso-cert-expired",
        team="identity",
        title="SSO gateway certificate expired: SAML sign-ins failing",
        description=_desc(
            "all enterprise customers using SAML.",
            [
                "`certificate has expired` in the gateway log",
                "The renewal job had been failing silently for weeks",
            ],
        ),
        services=("SSO gateway",),
        category="Infrastructure",
        subcategory="Certificates",
        impact=2,
        urgency=1,
        days_ago=41.3,
        outcome="closed",
        tasks=("Renew and deploy the certificate", "Alert on certificate expiry 30 days ahead"),
        notes=("New certificate deployed to one gateway pod; SAML works there.",),
        resolution=("permanent_fix", "Certificate renewed; expiry alerts now fire 30, 14 and 3 days ahead."),
    ),
    IncidentSpec(
        key="ingress-crashloop",
        team="platform",
        title="Ingress controller crash-looping after the Kubernetes 1.31 upgrade",
        description=_desc(
            "eu-west: about half of the ingress pods down; requests retried by the load balancer.",
            ["`ingress-nginx` pods in CrashLoopBackOff", "Error: unknown annotation `configuration-snippet`"],
        ),
        services=("Kubernetes platform", "Edge & CDN"),
        category="Application",
        subcategory="Deployment",
        impact=2,
        urgency=1,
        days_ago=33.1,
        outcome="closed",
        tasks=("Pin the previous controller chart", "Remove snippet annotations from the ingresses"),
        notes=("Pinned the previous chart version; pods are healthy.",),
        resolution=("workaround", "Pinned ingress-nginx 4.10 until the snippet annotations are gone."),
    ),
    IncidentSpec(
        key="payments-slow-queries",
        team="payments",
        title="Slow queries on payments.transactions after an index was dropped",
        description=_desc(
            "Payments API p95 at 4 s; some authorisations time out.",
            ["Sequential scans on `transactions` since migration 0142"],
        ),
        services=("Payments API", "Postgres cluster"),
        category="Database",
        subcategory="Performance",
        impact=2,
        urgency=1,
        days_ago=25.2,
        outcome="closed",
        reassign_to="platform",
        notes=(
            "Handing over to Platform: the index needs to be rebuilt concurrently on the primary.",
            "Index rebuilt; p95 back to 180 ms.",
        ),
        resolution=(
            "permanent_fix",
            "Restored `transactions_merchant_created_idx`; migration 0142 reverted.",
        ),
    ),
    IncidentSpec(
        key="card-testing",
        team="payments",
        title="Card-testing attack: 4 000 small authorisations from one network",
        description=_desc(
            "acquirer fees and a risk of our merchant account being flagged.",
            ["4 000 authorisations of €1 in 20 minutes", "All from one ASN, rotating IP addresses"],
        ),
        services=("Checkout", "Payments API"),
        category="Security",
        subcategory="Suspicious activity",
        impact=2,
        urgency=1,
        days_ago=14.2,
        outcome="closed",
        private=True,
        tasks=("Block the ASN at the WAF", "Notify the acquirer's risk team", "Add a velocity rule"),
        notes=("ASN blocked at the WAF; authorisation attempts back to normal.",),
        resolution=("permanent_fix", "WAF block plus a velocity rule on authorisations under €2."),
    ),
    IncidentSpec(
        key="leaked-token",
        team="identity",
        title="Internal API token committed to a public repository",
        description=_desc(
            "a token with read access to user profiles was public for about 40 minutes.",
            ["Secret scanning alert on a public fork", "Token belonged to the support tooling"],
        ),
        services=("Identity API",),
        category="Security",
        subcategory="Access",
        impact=1,
        urgency=2,
        days_ago=22.1,
        outcome="closed",
        private=True,
        tasks=("Revoke the token", "Review access logs for the exposure window", "Tell the DPO"),
        notes=("Token revoked. No use of it from outside our network in the access logs.",),
        resolution=(
            "permanent_fix",
            "Token revoked; no access during exposure; pre-commit secret scan added.",
        ),
    ),
    IncidentSpec(
        key="cdn-stale-js",
        team="platform",
        title="Stale JavaScript served from the CDN after a release",
        description=_desc(
            "checkout buttons broken for visitors served by two CDN regions.",
            ["`app.js` from the previous release with the new HTML", "Cache purge job reported success"],
        ),
        services=("Edge & CDN", "Checkout"),
        category="Infrastructure",
        subcategory="Network",
        impact=2,
        urgency=1,
        days_ago=8.2,
        outcome="closed",
        notes=("Manual purge of `/static/*` in every region.",),
        resolution=("permanent_fix", "Assets now have content-hashed names; no purge needed on release."),
    ),
    IncidentSpec(
        key="backup-failed",
        team="platform",
        title="Nightly base backup failed two nights in a row",
        description=_desc(
            "no customer impact; our recovery point is 48 hours old.",
            ["`pgbackrest` exit code 82: archive timeout"],
        ),
        services=("Postgres cluster",),
        category="Database",
        subcategory="Availability",
        impact=3,
        urgency=1,
        days_ago=27.3,
        outcome="closed",
        notes=("Archive command was pointing at the old bucket after the storage migration.",),
        resolution=("permanent_fix", "Archive target fixed; manual backup taken and restored in staging."),
    ),
    IncidentSpec(
        key="billing-run-late",
        team="payments",
        title="Monthly billing run 6 hours late",
        description=_desc(
            "customers get invoices late; no double charges.",
            ["The run stalls at the currency-conversion step"],
        ),
        services=("Billing & invoicing",),
        category="Application",
        subcategory="Performance",
        impact=2,
        urgency=2,
        days_ago=31.2,
        outcome="closed",
        hold="awaiting_change",
        hold_note="Waiting for the emergency change to raise the FX provider's rate limit.",
        resolution=("workaround", "Ran the remaining batches with the higher rate limit; all invoices sent."),
    ),
    IncidentSpec(
        key="sms-codes-delayed",
        team="identity",
        title="SMS one-time codes delayed 5-10 minutes",
        description=_desc(
            "customers using SMS two-factor cannot sign in quickly.",
            ["Delivery receipts arrive 5-10 minutes late", "SMS provider status page: degraded in EU"],
        ),
        services=("Identity API",),
        category="Third party",
        subcategory="Vendor outage",
        impact=2,
        urgency=1,
        days_ago=36.2,
        outcome="closed",
        hold="awaiting_vendor",
        hold_note="The SMS provider confirms a carrier problem in the EU; no ETA yet.",
        resolution=(
            "resolved_by_caller",
            "The provider fixed the carrier route; codes arrive in seconds again.",
        ),
    ),
    IncidentSpec(
        key="runner-cve",
        team="platform",
        title="Critical OpenSSH vulnerability in the CI runner base image",
        description=_desc(
            "runners are not reachable from outside, but the image is also used for bastion hosts.",
            ["Scanner flags the runner image as critical"],
        ),
        services=("CI/CD pipeline",),
        category="Security",
        subcategory="Vulnerability",
        impact=2,
        urgency=2,
        days_ago=45.1,
        outcome="closed",
        tasks=("Rebuild the runner image", "Rebuild the bastion image", "Rotate the runners"),
        resolution=("permanent_fix", "All images rebuilt on the patched base; runners rotated."),
    ),
    IncidentSpec(
        key="loki-disk",
        team="platform",
        title="Loki ingesters out of disk: logs missing for 40 minutes",
        description=_desc(
            "no logs for any service for 40 minutes overnight.",
            ["Ingester volumes at 100 %", "Compactor had been failing for three days"],
        ),
        services=("Observability stack",),
        category="Infrastructure",
        subcategory="Storage",
        impact=3,
        urgency=2,
        days_ago=50.2,
        outcome="closed",
        autoclose=True,
        resolution=("permanent_fix", "Compactor fixed and volumes grown by 50 %; disk alerts at 80 %."),
    ),
    IncidentSpec(
        key="promo-codes",
        team="payments",
        title="Promo codes rejected at checkout for baskets above €500",
        description=_desc(
            "high-value orders lose their discount; some customers abandon the basket.",
            ["`PROMO_LIMIT_EXCEEDED` for baskets above €500", "Started with the new promotions engine"],
        ),
        services=("Checkout",),
        category="Application",
        subcategory="Bug",
        impact=2,
        urgency=1,
        days_ago=38.3,
        outcome="closed",
        notes=("The limit is compared in cents on one side and euros on the other.",),
        resolution=("permanent_fix", "Unit mismatch fixed in promotions 2.3.1; affected orders refunded."),
    ),
    IncidentSpec(
        key="scim-apostrophes",
        team="identity",
        title="SCIM group sync drops users with apostrophes in their names",
        description=_desc(
            "a handful of enterprise users lose group-based access after each sync.",
            ["Sync log: `invalid filter` for names such as O'Brien"],
        ),
        services=("SSO gateway",),
        category="Application",
        subcategory="Bug",
        impact=3,
        urgency=3,
        days_ago=53.2,
        outcome="closed",
        autoclose=True,
        resolution=("permanent_fix", "Filter values are now quoted and escaped."),
    ),
    IncidentSpec(
        key="dns-isp",
        team="platform",
        title="api.example.com not resolving from some ISPs",
        description=_desc(
            "customers on two large ISPs cannot reach the site or the API.",
            ["`SERVFAIL` from the ISPs' resolvers", "DNSSEC validation fails after the key rollover"],
        ),
        services=("Edge & CDN",),
        category="Infrastructure",
        subcategory="DNS",
        impact=1,
        urgency=1,
        days_ago=57.1,
        outcome="closed",
        tasks=("Roll back the DS record", "Ask the ISPs to flush their caches"),
        notes=("The new DS record was published before the new key: validators reject us.",),
        resolution=("permanent_fix", "DS record rolled back, key rollover redone in the right order."),
    ),
    IncidentSpec(
        key="jpy-refunds",
        team="payments",
        title="Rounding error on JPY refunds",
        description=_desc(
            "refunds in yen are off by one yen.",
            ["Zero-decimal currencies divided by 100 twice"],
        ),
        services=("Payments API",),
        category="Application",
        subcategory="Bug",
        impact=3,
        urgency=2,
        days_ago=47.2,
        outcome="closed",
        reopen="Partial refunds in KRW have the same problem.",
        resolution=("permanent_fix", "All zero-decimal currencies now use the currency's own exponent."),
    ),
    IncidentSpec(
        key="lockouts",
        team="identity",
        title="Users locked out after one failed sign-in attempt",
        description=_desc(
            "any customer who mistypes their password once is locked out for 15 minutes.",
            ["Support queue doubled in an hour", "Rate limiter threshold shows 1 instead of 10"],
        ),
        services=("Identity API",),
        category="Application",
        subcategory="Error rate",
        impact=2,
        urgency=1,
        days_ago=16.2,
        outcome="closed",
        escalate=(1, 1),
        notes=("Raising to Critical: the lockouts hit every region.",),
        resolution=("workaround", "Threshold set back to 10 by hand; the config validation fix follows."),
    ),
    IncidentSpec(
        key="readonly-disk",
        team="platform",
        title="Node kube-worker-14 disk went read-only",
        description=_desc(
            "pods on one node fail to write; the scheduler keeps placing pods there.",
            ["`EXT4-fs error` in the kernel log"],
        ),
        services=("Kubernetes platform",),
        category="Infrastructure",
        subcategory="Storage",
        impact=3,
        urgency=3,
        days_ago=5.1,
        outcome="closed",
        resolution=("permanent_fix", "Node drained and replaced; the cloud volume was faulty."),
    ),
    IncidentSpec(
        key="invoice-question",
        team="payments",
        title="Customer asks why an invoice shows two lines for one seat",
        description="A customer's finance team reports two line items for one seat on invoice INV-2231.",
        services=("Billing & invoicing",),
        category="Request",
        subcategory="Information",
        impact=3,
        urgency=3,
        days_ago=11.2,
        outcome="closed",
        resolution=("resolved_by_caller", "Proration after a mid-month upgrade; the customer is satisfied."),
    ),
    IncidentSpec(
        key="arm-flaky",
        team="platform",
        title="Flaky integration tests on ARM runners",
        description="About 5 % of integration runs on ARM runners time out in the browser tests.",
        services=("CI/CD pipeline",),
        category="Application",
        subcategory="Performance",
        impact=3,
        urgency=3,
        days_ago=40.2,
        outcome="closed",
        resolution=("too_costly", "ARM runners are retired next quarter; not worth fixing. Retries enabled."),
    ),
    IncidentSpec(
        key="token-refresh-401",
        team="identity",
        title="Occasional 401 on token refresh reported by the mobile team",
        description="The Android app sees a 401 on about 1 in 10 000 token refreshes.",
        services=("Identity API",),
        category="Application",
        subcategory="Bug",
        impact=3,
        urgency=2,
        days_ago=28.1,
        outcome="closed",
        autoclose=True,
        resolution=(
            "not_reproducible",
            "No 401 in 3 days of server logs at debug level; the app team will "
            "reopen with a trace if it comes back.",
        ),
    ),
)
