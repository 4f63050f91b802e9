"""The alert-intake console pages with Django's test client: a service's integrations (the key shown once, with
setup snippets that carry it and the endpoint), the event log with a rejected event's reason, the alert list and
detail with acknowledge/resolve, maintenance windows, and who may see and do what (charlie: 404 everywhere)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.alerts.conftest import CONSOLE_FORM, Hooked, cycle, make_integration, post
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts.models import Alert, Integration, IntegrationKey, MaintenanceWindow
from warroom.alerts.services import create_maintenance_window
from warroom.audit.models import AuditEvent
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
SECRET = re.compile(r"wr_ik_[A-Za-z0-9_\-]{20,}")
BASE = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _urls(settings: object) -> None:
    settings.WARROOM_BASE_URL = BASE  # type: ignore[attr-defined]
    settings.WARROOM_EMAIL_DOMAIN = "alerts.example.com"  # type: ignore[attr-defined]


def _integration_url(hooked: Hooked | Integration, name: str = "web:integration-detail", *extra: int) -> str:
    integration = hooked.integration if isinstance(hooked, Hooked) else hooked
    return reverse(name, args=[integration.service.slug, integration.pk, *extra])


def _create(client: Client, world: World, **fields: str) -> object:
    data = {**CONSOLE_FORM, **fields}
    return client.post(reverse("web:integration-list", args=[world.service_a.slug]), data)


def _fire(hooked: Hooked, summary: str = "Queue depth above 10k", dedup_key: str = "queue/orders") -> Alert:
    body = {"summary": summary, "severity": "error", "dedup_key": dedup_key, "source": "rabbitmq-1"}
    assert post("/integrations/webhook", body, key=hooked.key).status_code == 202
    cycle()
    alert = Alert.objects.filter(dedup_key=dedup_key, integration=hooked.integration).order_by("-id").first()
    assert alert is not None
    return alert


# ---------------------------------------------------------------------------------------------------------------
# integrations, keys, snippets


def test_create_integration_shows_the_key_once_with_snippets(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    created = _create(alice, world)
    assert created.status_code == 302  # type: ignore[attr-defined]  # POST/redirect/GET
    response = alice.get(created["Location"])  # type: ignore[index]
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    integration = Integration.objects.get()
    assert (integration.kind, integration.grouping, integration.service) == (
        "alertmanager",
        "group_key",
        world.service_a,
    )
    secret = SECRET.search(page)
    assert secret is not None
    key = secret.group(0)
    assert f'value="{key}"' in page  # the copy box
    # The Alertmanager receiver, ready to paste: the URL and the key, as Bearer credentials.
    assert f"url: &quot;{BASE}/integrations/alertmanager&quot;" in page
    assert "type: Bearer" in page and f"credentials: &quot;{key}&quot;" in page
    assert "send_resolved: true" in page
    assert f"curl -sS {BASE}/integrations/alertmanager" in page and f"Authorization: Bearer {key}" in page
    # It works: Alertmanager's payload with this key is accepted.
    assert post("/integrations/alertmanager/" + key, {"version": "4"}).status_code == 400  # a known key
    # Never again: the detail page shows the prefix only.
    again = alice.get(_integration_url(integration)).content.decode()
    assert key not in again
    assert IntegrationKey.objects.get().prefix in again
    assert f"{BASE}/integrations/alertmanager" in again


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("pagerduty", ["routing_key", "/v2/enqueue", "Events API URL", "pagerduty_configs"]),
        (
            "grafana",
            ["authorization_credentials", "/integrations/grafana", "Authorization header credentials"],
        ),
        ("opsgenie", ["GenieKey", "/v2/alerts", "opsgenie_configs", "api_key"]),
        ("webhook", ["Authorization: Bearer", "/integrations/webhook", "queue/orders"]),
    ],
)
def test_new_key_snippets_carry_the_key_and_url(
    client_for: ClientFor, world: World, kind: str, expected: list[str]
) -> None:
    hooked = make_integration(world, kind)
    alice = client_for(world.alice)
    made = alice.post(_integration_url(hooked, "web:integration-key-create"))
    assert made.status_code == 302
    page = alice.get(made["Location"]).content.decode()
    new_key = IntegrationKey.objects.filter(integration=hooked.integration).order_by("-id").first()
    assert new_key is not None
    key = SECRET.search(page)
    assert key is not None and key.group(0).startswith(new_key.prefix)
    assert page.count(key.group(0)) >= 3  # the copy box and the snippets
    for text in expected:
        assert text in page, text
    assert BASE in page


def test_heartbeat_and_email_endpoints(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    response = _create(
        alice,
        world,
        kind="heartbeat",
        name="Nightly backup",
        grouping="alert",
        heartbeat_interval_seconds="3600",
        heartbeat_grace_seconds="300",
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    shown = alice.get(response["Location"]).content.decode()  # type: ignore[index]
    key = SECRET.search(shown)
    assert key is not None
    assert f"{BASE}/integrations/heartbeat/{key.group(0)}" in shown
    heartbeat = Integration.objects.get(kind="heartbeat")
    assert heartbeat.heartbeat.interval_seconds == 3600

    email = _create(alice, world, kind="email", name="Legacy mail", grouping="alert")
    assert email.status_code == 302  # type: ignore[attr-defined]
    integration = Integration.objects.get(kind="email")
    assert not IntegrationKey.objects.filter(integration=integration).exists()
    page = alice.get(_integration_url(integration)).content.decode()
    assert f"{integration.email_address}@alerts.example.com" in page
    listing = alice.get(reverse("web:integration-list", args=[world.service_a.slug])).content.decode()
    assert f"{integration.email_address}@alerts.example.com" in listing
    assert "/integrations/heartbeat/wr_ik_..." in listing


def test_refused_input_is_shown_next_to_the_field(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    no_fields = _create(alice, world, grouping="fields", group_fields="")
    assert no_fields.status_code == 400  # type: ignore[attr-defined]
    assert "needs at least one name in “Group by fields”" in no_fields.content.decode()  # type: ignore[attr-defined]
    bad_json = _create(alice, world, kind="webhook", field_mapping="{not json")
    assert bad_json.status_code == 400  # type: ignore[attr-defined]
    assert "not valid JSON" in bad_json.content.decode()  # type: ignore[attr-defined]
    bad_target = _create(alice, world, kind="webhook", field_mapping='{"colour": "a.b"}')
    assert bad_target.status_code == 400  # type: ignore[attr-defined]
    assert "unknown field" in bad_target.content.decode()  # type: ignore[attr-defined]
    no_interval = _create(alice, world, kind="heartbeat", heartbeat_interval_seconds="")
    assert no_interval.status_code == 400  # type: ignore[attr-defined]
    assert not Integration.objects.exists()


def test_edit_integration(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook", signing_secret="s3cret-value")
    alice = client_for(world.alice)
    page = alice.get(_integration_url(hooked)).content.decode()
    assert "s3cret-value" not in page  # never rendered back
    data = {
        "name": "Webhook prod",
        "grouping": "fields",
        "group_fields": "alertname, cluster",
        "window_minutes": "15",
        "severity_critical": "11",
        "severity_error": "11",
        "severity_warning": "22",
        "severity_info": "33",
        "rate_limit_per_minute": "100",
        "field_mapping": '{"summary": "alert.title"}',
    }
    response = alice.post(_integration_url(hooked, "web:integration-edit"), data)
    assert response.status_code == 302
    integration = Integration.objects.get()
    assert integration.name == "Webhook prod"
    assert integration.group_fields == ["alertname", "cluster"]
    assert integration.severity_map["error"] == [1, 1]
    shown = " ".join(alice.get(_integration_url(hooked)).content.decode().split())
    assert "<dt>warning</dt><dd>impact Medium · urgency Medium</dd>" in shown, "in the form's words"
    assert integration.auto_resolve_incident is False  # the box was not ticked
    assert integration.field_mapping == {"summary": "alert.title"}
    assert integration.signing_secret == "s3cret-value"  # blank keeps it
    alice.post(_integration_url(hooked, "web:integration-edit"), {**data, "clear_signing_secret": "on"})
    assert Integration.objects.get().signing_secret == ""
    assert AuditEvent.objects.filter(action="integration.update").count() == 2


def test_revoke_key(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    key = IntegrationKey.objects.get()
    alice = client_for(world.alice)
    revoke = _integration_url(hooked, "web:integration-key-revoke", key.pk)
    assert alice.post(revoke).status_code == 302
    assert IntegrationKey.objects.get().revoked_at is not None
    assert post("/integrations/webhook", {"summary": "x"}, key=hooked.key).status_code == 404
    again = alice.post(revoke)
    assert again.status_code == 409
    assert "already revoked" in again.content.decode()


def test_event_log_shows_a_rejected_events_reason(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    assert post("/integrations/webhook", {"severity": "loud"}, key=hooked.key).status_code == 400
    _fire(hooked)
    bob = client_for(world.bob)
    events = _integration_url(hooked, "web:integration-events")
    page = bob.get(events).content.decode()
    assert "Rejected" in page and "Processed" in page
    assert "summary is required" in page  # the reason
    assert "severity must be one of critical, error, warning, info" in page
    assert "Raw payload" in page and "&quot;loud&quot;" in page  # the payload, escaped, in <details>
    rejected = bob.get(events, {"status": "rejected"}).content.decode()
    assert "summary is required" in rejected and "opened alert" not in rejected
    processed = bob.get(events, {"status": "processed"}).content.decode()
    assert "summary is required" not in processed and "opened alert" in processed
    # the recent events on the integration page too
    assert "summary is required" in bob.get(_integration_url(hooked)).content.decode()


def test_event_log_paginates(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    for n in range(55):
        assert post("/integrations/webhook", {"summary": f"alert {n}"}, key=hooked.key).status_code == 202
    events = _integration_url(hooked, "web:integration-events")
    alice = client_for(world.alice)
    first = alice.get(events).content.decode()
    assert "Page 1 of 2" in first and "55" in first
    second = alice.get(events, {"page": "2"}).content.decode()
    assert "Page 2 of 2" in second


def test_who_may_manage_integrations(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    key = IntegrationKey.objects.get()
    listing = reverse("web:integration-list", args=[world.service_a.slug])
    for person in (world.bob, world.dave):
        client = client_for(person)
        page = client.get(listing).content.decode()
        assert "webhook main" in page and "New integration" not in page
        assert "+ New key" not in client.get(_integration_url(hooked)).content.decode()
        assert _create(client, world).status_code == 403  # type: ignore[attr-defined]
        assert client.post(_integration_url(hooked, "web:integration-key-create")).status_code == 403
        assert client.post(_integration_url(hooked, "web:integration-key-revoke", key.pk)).status_code == 403
        assert client.post(_integration_url(hooked, "web:integration-edit"), {"name": "x"}).status_code == 403
    olivia = client_for(world.olivia)
    assert olivia.post(_integration_url(hooked, "web:integration-key-create")).status_code == 302
    assert IntegrationKey.objects.count() == 2


def test_charlie_gets_404_for_team_a_everywhere(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    alert = _fire(hooked)
    key = IntegrationKey.objects.get()
    window = create_maintenance_window(
        service=world.service_a,
        title="Upgrade",
        starts_at=clock.now() + timedelta(days=1),
        ends_at=clock.now() + timedelta(days=1, hours=1),
        actor=None,
        source="test",
    )
    charlie = client_for(world.charlie)
    slug = world.service_a.slug
    gets = [
        reverse("web:integration-list", args=[slug]),
        _integration_url(hooked),
        _integration_url(hooked, "web:integration-events"),
        reverse("web:maintenance-list", args=[slug]),
        reverse("web:alert-detail", args=[alert.pk]),
    ]
    for url in gets:
        assert charlie.get(url).status_code == 404, url
    posts = [
        reverse("web:integration-list", args=[slug]),
        _integration_url(hooked, "web:integration-edit"),
        _integration_url(hooked, "web:integration-key-create"),
        _integration_url(hooked, "web:integration-key-revoke", key.pk),
        reverse("web:maintenance-list", args=[slug]),
        reverse("web:maintenance-end", args=[slug, window.pk]),
        reverse("web:maintenance-delete", args=[slug, window.pk]),
        reverse("web:alert-acknowledge", args=[alert.pk]),
        reverse("web:alert-resolve", args=[alert.pk]),
    ]
    for url in posts:
        assert charlie.post(url).status_code == 404, url
    # Team B's own integration, reached through team A's URL, is a 404 for alice too.
    other = make_integration(world, "webhook", service=world.service_b)
    wrong = reverse("web:integration-detail", args=[slug, other.integration.pk])
    assert client_for(world.alice).get(wrong).status_code == 404
    # The alert list does not leak team A's alerts to charlie.
    listing = charlie.get(reverse("web:alert-list"), {"status": "all"}).content.decode()
    assert "Queue depth above 10k" not in listing
    assert IntegrationKey.objects.get(pk=key.pk).revoked_at is None
    assert Alert.objects.get().status == "triggered"
    assert MaintenanceWindow.objects.count() == 1


# ---------------------------------------------------------------------------------------------------------------
# alerts


def test_alert_list_filters_and_detail(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    first = _fire(hooked, "Queue depth above 10k", "queue/orders")
    second = _fire(hooked, "Disk full on db-1", "disk/db-1")
    other = make_integration(world, "webhook", service=world.service_b)
    _fire(other, "Billing export failed", "billing/export")
    bob = client_for(world.bob)
    listing = reverse("web:alert-list")
    page = bob.get(listing).content.decode()
    assert "Queue depth above 10k" in page and "Disk full on db-1" in page
    assert "Billing export failed" not in page  # team B's
    assert "Disk full" not in bob.get(listing, {"q": "queue"}).content.decode()
    assert "Queue depth" in bob.get(listing, {"severity": "error", "service": "checkout"}).content.decode()
    assert "No alerts match" in bob.get(listing, {"severity": "critical"}).content.decode()
    assert "No alerts match" in bob.get(listing, {"status": "resolved"}).content.decode()
    assert "Queue depth" in bob.get(listing, {"integration": str(hooked.integration.pk)}).content.decode()
    assert "Queue depth" in bob.get(listing, {"q": str(first.pk)}).content.decode()
    partial = bob.get(listing, {"q": "disk"}, headers={"HX-Request": "true", "HX-Target": "alert-results"})
    assert partial.content.decode().lstrip().startswith('<section id="alert-results"')
    # nonsense filters are ignored, never a 500
    assert bob.get(listing, {"integration": "abc", "page": "x", "status": "nope"}).status_code == 200
    olivia = client_for(world.olivia).get(listing).content.decode()
    assert "Billing export failed" in olivia

    detail = bob.get(reverse("web:alert-detail", args=[second.pk])).content.decode()
    assert second.incident is not None
    assert second.incident.ref in detail  # incident link
    assert "one incident per alert" in detail  # grouping reason
    assert "rabbitmq-1" in detail
    assert "Raw events" in detail and "&quot;dedup_key&quot;: &quot;disk/db-1&quot;" in detail
    assert "Acknowledge" in detail and "Resolve" in detail
    dave = client_for(world.dave).get(reverse("web:alert-detail", args=[second.pk])).content.decode()
    assert "Disk full on db-1" in dave and "Acknowledge</button>" not in dave
    assert "Began (per source)" not in detail  # the sender did not say

    began = (clock.now() - timedelta(minutes=7)).replace(microsecond=0)
    body = {
        "summary": "Replica lag above 30 s",
        "dedup_key": "lag/db-2",
        "details": {"timestamp": began.isoformat().replace("+00:00", "Z")},
    }
    assert post("/integrations/webhook", body, key=hooked.key).status_code == 202
    cycle()
    lagging = Alert.objects.get(dedup_key="lag/db-2")
    detail = bob.get(reverse("web:alert-detail", args=[lagging.pk])).content.decode()
    assert "Began (per source)" in detail and f'datetime="{began.isoformat()}"' in detail


def test_the_alert_list_links_incidents_but_not_private_ones_you_cannot_see(
    client_for: ClientFor, world: World
) -> None:
    hooked = make_integration(world, "webhook")
    shown = _fire(hooked, "Queue depth above 10k", "queue/orders")
    hidden = _fire(hooked, "Suspicious logins", "sec/logins")
    assert shown.incident is not None and hidden.incident is not None
    Incident.objects.filter(pk=hidden.incident.pk).update(is_private=True)
    page = client_for(world.bob).get(reverse("web:alert-list")).content.decode()
    assert f'href="{reverse("web:incident-detail", args=[shown.incident.ref])}"' in page
    assert hidden.incident.ref not in page  # bob is a member, not a participant: he may not see it
    assert "private" in page
    admin = client_for(world.alice).get(reverse("web:alert-list")).content.decode()
    assert f'href="{reverse("web:incident-detail", args=[hidden.incident.ref])}"' in admin


def test_acknowledge_and_resolve_by_hand(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    alert = _fire(hooked)
    incident = alert.incident
    assert incident is not None
    bob = client_for(world.bob)
    assert bob.post(reverse("web:alert-acknowledge", args=[alert.pk])).status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_at is not None
    line = TimelineEntry.objects.filter(incident=incident, field="alert").order_by("-id").first()
    assert line is not None and "acknowledged by Bob Responder (web)" in line.message
    twice = bob.post(reverse("web:alert-acknowledge", args=[alert.pk]))
    assert twice.status_code == 302 and twice["Location"] == reverse("web:alert-detail", args=[alert.pk])
    assert "already acknowledged" in bob.get(twice["Location"]).content.decode()

    assert bob.post(reverse("web:alert-resolve", args=[alert.pk])).status_code == 302
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_at is not None
    # the last alert of an incident that alerts opened: the engine's rule resolves the incident
    assert Incident.objects.get(pk=incident.pk).state == "resolved"
    assert AuditEvent.objects.filter(action__in=["alert.acknowledge", "alert.resolve"]).count() == 2
    # the same dedup key opens a new alert now
    assert _fire(hooked).pk != alert.pk


def test_observer_may_not_acknowledge(client_for: ClientFor, world: World) -> None:
    alert = _fire(make_integration(world, "webhook"))
    dave = client_for(world.dave)
    assert dave.post(reverse("web:alert-acknowledge", args=[alert.pk])).status_code == 403
    assert dave.post(reverse("web:alert-resolve", args=[alert.pk])).status_code == 403
    assert Alert.objects.get().status == "triggered"


def test_incident_page_lists_its_alerts(client_for: ClientFor, world: World) -> None:
    alert = _fire(make_integration(world, "webhook"))
    assert alert.incident is not None
    page = (
        client_for(world.bob).get(reverse("web:incident-detail", args=[alert.incident.ref])).content.decode()
    )
    assert 'id="incident-alerts"' in page
    assert reverse("web:alert-detail", args=[alert.pk]) in page


def test_a_storms_incident_shows_its_first_alerts_and_links_to_all_of_them(
    client_for: ClientFor, world: World
) -> None:
    storm = make_integration(world, "webhook", grouping="window", window_minutes=10)
    for n in range(53):  # more than the panel shows
        body = {"summary": f"disk full on node-{n}", "severity": "error", "dedup_key": f"disk/{n}"}
        assert post("/integrations/webhook", body, key=storm.key).status_code == 202
    lone = _fire(make_integration(world, "webhook", name="other", grouping="alert"), dedup_key="other/1")
    cycle()
    incident = Incident.objects.get(alerts__dedup_key="disk/0")
    assert incident.alerts.count() == 53 and lone.incident_id != incident.pk
    bob = client_for(world.bob)

    page = bob.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "first 10 of 53" in page
    link = re.search(r'href="([^"]+)" id="incident-all-alerts"', page)
    assert link is not None
    listing = bob.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert "<strong>53</strong> alerts" in listing
    assert f'id="incident-filter">Incident {incident.ref}' in listing
    assert "other/1" not in listing and reverse("web:alert-detail", args=[lone.pk]) not in listing

    # a number nobody may see here is refused and said so, never taken as "every alert"
    charlie = client_for(world.charlie).get(reverse("web:alert-list"), {"incident": incident.ref})
    assert "Ignored the incident filter" in charlie.content.decode()
    missing = bob.get(reverse("web:alert-list"), {"incident": "INC9999999"}).content.decode()
    assert "no incident you can see has that number" in missing and 'id="incident-filter"' not in missing


# ---------------------------------------------------------------------------------------------------------------
# maintenance windows, the service page


def test_maintenance_windows(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    url = reverse("web:maintenance-list", args=[world.service_a.slug])
    now = clock.now()
    fmt = "%Y-%m-%dT%H:%M"
    response = alice.post(
        url,
        {
            "title": "Database upgrade",
            "starts_at": (now - timedelta(hours=1)).strftime(fmt),
            "ends_at": (now + timedelta(hours=1)).strftime(fmt),
            "recurrence": "none",
        },
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.created_by == world.alice
    page = alice.get(url).content.decode()
    assert "Database upgrade" in page and "Active now" in page and "End now" in page

    # While it is active, alerts are suppressed and say which window did it.
    alert = _fire(make_integration(world, "webhook"))
    assert alert.suppressed and alert.incident is None
    detail = alice.get(reverse("web:alert-detail", args=[alert.pk])).content.decode()
    assert "Suppressed" in detail and "Database upgrade" in detail
    service_page = alice.get(reverse("web:service-detail", args=[world.service_a.slug])).content.decode()
    assert "Database upgrade" in service_page and "Active" in service_page

    bad = alice.post(
        url,
        {
            "title": "Backwards",
            "starts_at": "2026-03-02T10:00",
            "ends_at": "2026-03-02T09:00",
            "recurrence": "none",
        },
    )
    assert bad.status_code == 400 and "The end must be after the start." in bad.content.decode()

    assert (
        alice.post(reverse("web:maintenance-end", args=[world.service_a.slug, window.pk])).status_code == 302
    )
    window.refresh_from_db()
    assert window.ends_at <= clock.now() and not window.is_active(clock.now())
    assert "Ended" in alice.get(url).content.decode()
    again = alice.post(reverse("web:maintenance-end", args=[world.service_a.slug, window.pk]))
    assert again.status_code == 409

    bob = client_for(world.bob)
    assert "Plan maintenance" not in bob.get(url).content.decode()
    assert bob.post(url, {"title": "x"}).status_code == 403
    assert (
        bob.post(reverse("web:maintenance-delete", args=[world.service_a.slug, window.pk])).status_code == 403
    )
    assert (
        alice.post(reverse("web:maintenance-delete", args=[world.service_a.slug, window.pk])).status_code
        == 302
    )
    assert not MaintenanceWindow.objects.exists()
    assert (
        "a maintenance window that has since been deleted"
        in alice.get(reverse("web:alert-detail", args=[alert.pk])).content.decode()
    )


def test_service_page_links_integrations_and_shows_recent_changes(
    client_for: ClientFor, world: World
) -> None:
    pd = make_integration(world, "pagerduty")
    body = {
        "routing_key": pd.key,
        "payload": {
            "summary": "Deployed checkout 4.2.1",
            "source": "ci",
            "timestamp": "2026-03-02T09:00:00Z",
        },
        "links": [{"href": "https://ci.example.com/builds/42", "text": "Build 42"}],
    }
    assert post("/v2/change/enqueue", body).status_code == 202
    cycle()
    page = (
        client_for(world.dave)
        .get(reverse("web:service-detail", args=[world.service_a.slug]))
        .content.decode()
    )
    assert reverse("web:integration-list", args=[world.service_a.slug]) in page
    assert reverse("web:maintenance-list", args=[world.service_a.slug]) in page
    assert "Recent changes" in page and "Deployed checkout 4.2.1" in page
    assert 'href="https://ci.example.com/builds/42"' in page


def test_nav_has_alerts(client_for: ClientFor, world: World) -> None:
    page = client_for(world.bob).get(reverse("web:alert-list")).content.decode()
    assert f'class="active" href="{reverse("web:alert-list")}">Alerts</a>' in page


def test_anonymous_visitors_are_sent_to_sign_in(world: World) -> None:
    response = Client().get(reverse("web:alert-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
