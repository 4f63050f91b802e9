"""Prometheus Alertmanager webhook (payload version 4), with bodies exactly as Alertmanager sends them:
a firing group, the same group re-sent, an HA duplicate, then the resolved group."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.alerts.conftest import Hooked, cycle, pd_trigger, post
from tests.conftest import World
from warroom.alerts.models import Alert, IntakeEvent
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock
from warroom.reviews import facts

pytestmark = pytest.mark.django_db

GROUP_KEY = '{}/{team="checkout"}:{alertname="HighErrorRate"}'
NOT_ENDED = "0001-01-01T00:00:00Z"


def am_alert(
    instance: str, fingerprint: str, *, status: str = "firing", ends: str = NOT_ENDED
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": "HighErrorRate",
            "instance": instance,
            "job": "checkout",
            "severity": "critical",
            "team": "checkout",
        },
        "annotations": {
            "summary": f"High 5xx rate on {instance}",
            "description": "More than 5% of requests fail.",
            "runbook_url": "https://runbooks.example.com/high-error-rate",
        },
        "startsAt": "2026-03-02T09:00:00.123456789Z",
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29+%3E+0.05&g0.tab=1",
        "fingerprint": fingerprint,
    }


def am_group(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "receiver": "warroom",
        "status": "firing" if firing else "resolved",
        "alerts": alerts,
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {
            "alertname": "HighErrorRate",
            "job": "checkout",
            "severity": "critical",
            "team": "checkout",
        },
        "commonAnnotations": {"description": "More than 5% of requests fail."},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": GROUP_KEY,
        "truncatedAlerts": 0,
    }


FIRING = am_group([am_alert("web-1:8080", "a1b2c3d4e5f60718"), am_alert("web-2:8080", "0f1e2d3c4b5a6978")])
RESOLVED = am_group(
    [
        am_alert("web-1:8080", "a1b2c3d4e5f60718", status="resolved", ends="2026-03-02T09:20:00.1Z"),
        am_alert("web-2:8080", "0f1e2d3c4b5a6978", status="resolved", ends="2026-03-02T09:21:00.1Z"),
    ]
)


def test_firing_resend_ha_duplicate_then_resolved_group(am: Hooked, world: World) -> None:
    response = post("/integrations/alertmanager", FIRING, key=am.key)
    assert response.status_code == 202
    assert response.json() == {"status": "success", "events": 2}
    events = IntakeEvent.objects.order_by("id")
    assert [(e.action, e.dedup_key, e.group_key) for e in events] == [
        ("trigger", "a1b2c3d4e5f60718", GROUP_KEY),
        ("trigger", "0f1e2d3c4b5a6978", GROUP_KEY),
    ]
    cycle()
    incident = Incident.objects.get()
    assert (incident.impact, incident.urgency, incident.team) == (1, 1, world.team_a)
    assert incident.title == "High 5xx rate on web-1:8080"
    alerts = list(Alert.objects.order_by("id"))
    assert [a.incident for a in alerts] == [incident, incident]
    assert alerts[0].opened_incident and not alerts[1].opened_incident
    assert "same group key" in alerts[1].group_reason
    assert alerts[0].source == "web-1:8080"
    assert alerts[0].links[0]["href"].startswith("http://prometheus:9090/graph")
    assert TimelineEntry.objects.filter(incident=incident, field="alert").count() == 2

    # group_interval re-send, and the HA peer delivering the same notification: idempotent.
    assert post("/integrations/alertmanager", copy.deepcopy(FIRING), key=am.key).status_code == 202
    assert post(f"/integrations/alertmanager/{am.key}", copy.deepcopy(FIRING)).status_code == 202
    cycle()
    assert Incident.objects.count() == 1
    assert Alert.objects.count() == 2
    assert sorted(Alert.objects.values_list("count", flat=True)) == [3, 3]

    # The resolved group, delivered by both HA peers.
    assert post("/integrations/alertmanager", RESOLVED, key=am.key).status_code == 202
    assert post(f"/integrations/alertmanager/{am.key}", RESOLVED).status_code == 202
    cycle()
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}
    incident.refresh_from_db()
    assert incident.state == "resolved"
    assert incident.resolution_code == "resolved_by_caller"
    duplicates = IntakeEvent.objects.filter(action="resolve", status="ignored")
    assert duplicates.count() == 2  # the second peer's resolves find no open alert


def test_partly_resolved_group_keeps_the_incident_open(am: Hooked) -> None:
    post("/integrations/alertmanager", FIRING, key=am.key)
    cycle()
    partly = am_group(
        [
            am_alert("web-1:8080", "a1b2c3d4e5f60718", status="resolved", ends="2026-03-02T09:20:00Z"),
            am_alert("web-2:8080", "0f1e2d3c4b5a6978"),
        ]
    )
    post("/integrations/alertmanager", partly, key=am.key)
    cycle()
    assert sorted(Alert.objects.values_list("status", flat=True)) == ["resolved", "triggered"]
    assert Incident.objects.get().state == "new"


def test_refiring_after_resolve_opens_a_new_alert(am: Hooked) -> None:
    post("/integrations/alertmanager", FIRING, key=am.key)
    post("/integrations/alertmanager", RESOLVED, key=am.key)
    post("/integrations/alertmanager", FIRING, key=am.key)
    cycle()
    assert Alert.objects.count() == 4
    assert Alert.objects.filter(status="triggered").count() == 2
    # The first incident resolved, so the re-fired group opens a new one.
    assert sorted(Incident.objects.values_list("state", flat=True)) == ["new", "resolved"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**FIRING, "version": "3"}, "version"),
        ({**FIRING, "version": 4}, "version"),
        ({**FIRING, "alerts": {}}, "alerts"),
        ({k: v for k, v in FIRING.items() if k != "groupKey"}, "groupKey"),
        ({**FIRING, "alerts": [{**am_alert("x", "f1"), "status": "pending"}]}, "alerts[0].status"),
        ({**FIRING, "alerts": [{**am_alert("x", "f1"), "fingerprint": ""}]}, "alerts[0].fingerprint"),
        ({**FIRING, "alerts": [{**am_alert("x", "f1"), "labels": {"a": 1}}]}, "alerts[0].labels"),
        ({**FIRING, "alerts": [am_alert("x", "f1"), "nope"]}, "alerts[1]"),
    ],
)
def test_invalid_groups_are_refused_whole_and_logged(am: Hooked, body: dict[str, Any], field: str) -> None:
    response = post("/integrations/alertmanager", body, key=am.key)
    assert response.status_code == 400, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    event = IntakeEvent.objects.get()
    assert event.status == "rejected" and event.reason.startswith("HTTP 400")
    cycle()
    assert not Alert.objects.exists()


def test_unknown_severity_label_maps_to_warning(am: Hooked) -> None:
    alert = am_alert("x", "f1")
    alert["labels"]["severity"] = "P5"
    post("/integrations/alertmanager", am_group([alert]), key=am.key)
    cycle()
    assert Alert.objects.get().severity == "warning"
    assert (Incident.objects.get().impact, Incident.objects.get().urgency) == (2, 2)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_an_alert_keeps_when_its_source_says_it_began_and_detection_counts_from_it(
    am: Hooked, pd: Hooked
) -> None:
    """Alertmanager's startsAt (the rule has been firing since then) is the alert's start: the postmortem's
    time to detect is from it to the incident, not the milliseconds from Warroom's receipt. A start time in the
    future (a source clock ahead) is the receipt; Alertmanager's zero time or a week-old one is not believed."""
    now = clock.now()
    began = now - timedelta(minutes=8)
    group = am_group(
        [
            {**am_alert("web-1:8080", "start-8m"), "startsAt": _stamp(began)},
            {**am_alert("web-2:8080", "start-ahead"), "startsAt": _stamp(now + timedelta(hours=1))},
            {**am_alert("web-3:8080", "start-zero"), "startsAt": NOT_ENDED},
            {**am_alert("web-4:8080", "start-old"), "startsAt": _stamp(now - timedelta(days=30))},
        ]
    )
    assert post("/integrations/alertmanager", group, key=am.key).status_code == 202
    event = pd_trigger(pd.key, "pd-start", timestamp=_stamp(now - timedelta(minutes=3)))
    assert post("/v2/enqueue", event).status_code == 202
    cycle()

    alerts = {a.dedup_key: a for a in Alert.objects.all()}
    assert alerts["start-8m"].started_at == began
    assert alerts["start-ahead"].started_at == alerts["start-ahead"].first_seen
    assert alerts["start-zero"].started_at is None and alerts["start-old"].started_at is None
    assert alerts["pd-start"].started_at == now - timedelta(minutes=3), "PagerDuty's payload.timestamp"

    incident = alerts["start-8m"].incident
    assert incident is not None
    detect = facts.gather(incident, covers_children=False, mitigated_at=None).durations.detect
    assert detect is not None and 8 * 60 <= detect < 8 * 60 + 30, detect


def test_each_alerts_raw_event_keeps_the_alert_and_its_group_as_sent(am: Hooked) -> None:
    body = am_group([am_alert("web-1:8080", "a1b2c3d4e5f60718"), am_alert("web-3:8080", "3c4d5e6f70819a2b")])
    body["commonAnnotations"]["description"] = "Plus de 5 % des requêtes échouent — 5xx « durables »"
    body["alerts"][1]["annotations"]["summary"] = "Température > 90 °C sur web-3"
    for _ in range(2):  # the second time the key is known: intake takes its shortest way to the database
        assert post("/integrations/alertmanager", body, key=am.key).status_code == 202
    group = {name: value for name, value in body.items() if name != "alerts"}
    stored = [event.payload for event in IntakeEvent.objects.order_by("id")]
    sent = [{"alert": alert, "group": group} for alert in body["alerts"]]
    assert stored == sent * 2
