"""A postmortem pre-filled from a scripted incident: an alert opens an incident at 09:00, a person declares the
major incident at 09:04 and makes the first a child, bob starts work at 09:10, alice takes command, the child
resolves at 09:40 and the major incident at 10:04 — which the policy (P1, P2) answers with a draft."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.alerts.conftest import cycle, make_integration, post
from tests.api.conftest import Clients
from tests.conftest import World
from tests.reviews.conftest import T0, declare, resolve
from warroom.alerts.models import Alert
from warroom.incidents import selectors as incident_selectors
from warroom.incidents import services as incidents
from warroom.incidents.models import EntryKind, Incident
from warroom.lib import clock
from warroom.reviews import selectors, services
from warroom.reviews.models import Postmortem, PostmortemPolicy

pytestmark = pytest.mark.django_db


def _script(world: World) -> tuple[Incident, Incident]:
    """(the major incident, its alert-opened child), both resolved; the clock ends at 10:04."""
    hook = make_integration(world, "webhook")
    body = {"summary": "Checkout 5xx above 20%", "severity": "critical", "dedup_key": "checkout-5xx"}
    assert post("/integrations/webhook", body, key=hook.key).status_code == 202
    cycle()
    child = Alert.objects.get().incident
    assert child is not None and child.opened_at == T0
    clock.advance(timedelta(minutes=4))  # 09:04
    major = declare(world, title="Checkout is down for everyone", is_major=True)
    incidents.update_incident(incident=child, actor=world.alice, source="test", parent=major)
    clock.advance(timedelta(minutes=6))  # 09:10
    incidents.transition_incident(incident=major, actor=world.bob, source="test", to="in_progress")
    clock.advance(timedelta(minutes=2))  # 09:12
    commander = incident_selectors.get_role_type_or_404("incident-commander")
    incidents.assign_role(
        incident=major, role_type=commander, user=world.alice, actor=world.alice, source="test"
    )
    clock.advance(timedelta(minutes=28))  # 09:40
    resolve(child, world.bob)
    clock.advance(timedelta(minutes=24))  # 10:04
    resolve(major, world.bob, notes="Rolled back checkout-api to 4.2.0.")
    return major, child


def test_resolving_a_p1_drafts_a_prefilled_postmortem_with_exact_durations(
    world: World, frozen: object
) -> None:
    major, child = _script(world)

    # The policy made exactly one draft: the major incident's, covering its child (which has none of its own).
    pm = Postmortem.objects.get()
    assert (pm.incident_id, pm.status, pm.required, pm.covers_children) == (major.pk, "draft", True, True)
    assert pm.author is None and pm.team_id == world.team_a.pk
    assert pm.due_at == T0 + timedelta(minutes=64) + timedelta(days=5)

    facts = selectors.facts_of(pm)
    times = facts.times
    assert times.first_alert_at == T0
    assert times.opened_at == T0 + timedelta(minutes=4)
    assert times.acknowledged_at == T0 + timedelta(minutes=10)
    assert times.mitigated_at is None
    assert times.resolved_at == T0 + timedelta(minutes=64)
    d = facts.durations
    assert (d.detect, d.acknowledge, d.mitigate, d.resolve, d.impact) == (240, 360, None, 3600, 3840)

    assert [s.name for s in facts.services] == ["Checkout"]
    assert [(a.summary, a.incident) for a in facts.alerts] == [("Checkout 5xx above 20%", child.ref)]
    assert [i.ref for i in facts.incidents] == [major.ref, child.ref]
    roles = {p.name: p.roles for p in facts.people}
    assert roles["Alice Admin"] == ["Incident Commander", "Reporter"]
    assert roles["Bob Responder"] == ["Responder"]
    assert facts.sla is None  # no SLA definitions here: "not tracked"

    # The sections start from the template, the summary and impact from the record.
    sections = {s.key: s for s in pm.sections.all()}
    assert list(sections) == [
        "summary",
        "impact",
        "timeline",
        "root-cause",
        "contributing-factors",
        "went-well",
        "went-badly",
        "lessons",
    ]
    assert sections["summary"].body.startswith("Checkout is down for everyone.")
    assert "**Resolution:** Rolled back checkout-api to 4.2.0." in sections["summary"].body
    assert "- Services: Checkout" in sections["impact"].body
    assert "- Priority: 1 - Critical" in sections["impact"].body

    # Default key events: declarations, the alert opening the child, state changes and the role; not the
    # field change that made it a child.
    texts = [e.text for e in selectors.key_events(pm)]
    assert texts[0].startswith(f"{child.ref}: Declared")
    assert any("opened this incident" in t for t in texts)
    assert any(t.startswith("Declared: Checkout is down for everyone") for t in texts)  # the main incident
    assert any("Incident Commander" in t for t in texts)
    assert any(t.startswith(f"{child.ref}: State:") for t in texts)
    assert texts[-1].startswith("State: In Progress → Resolved")
    assert not any("Parent incident" in t for t in texts)


def test_a_recorded_mitigation_stops_the_impact_clock(world: World, frozen: object) -> None:
    _script(world)
    pm = Postmortem.objects.get()
    pm = services.update_postmortem(
        postmortem=pm, actor=world.bob, source="test", mitigated_at=T0 + timedelta(minutes=34)
    )
    d = selectors.facts_of(pm).durations
    assert (d.detect, d.acknowledge, d.mitigate, d.resolve, d.impact) == (240, 360, 1800, 3600, 2040)


def test_the_api_shows_the_same_facts(world: World, frozen: object, api: Clients) -> None:
    major, _child = _script(world)
    body = api.alice.get(f"/postmortems/{major.ref}").json()
    assert body["facts"]["durations"] == {
        "detect": 240,
        "acknowledge": 360,
        "mitigate": None,
        "resolve": 3600,
        "impact": 3840,
    }
    assert body["facts"]["durations_text"]["resolve"] == "1h 00m"
    assert body["facts"]["sla"] is None
    assert body["required"] is True and body["status"] == "draft"


def test_declared_by_hand_without_alerts(world: World, frozen: object) -> None:
    incident = declare(world, impact=1, urgency=2)  # P2
    clock.advance(timedelta(minutes=3))
    incidents.transition_incident(incident=incident, actor=world.bob, source="test", to="in_progress")
    clock.advance(timedelta(minutes=50))
    resolve(incident, world.bob)
    pm = Postmortem.objects.get(incident=incident)
    d = selectors.facts_of(pm).durations
    assert (d.detect, d.acknowledge, d.resolve, d.impact) == (None, 180, 3180, 3180)
    assert pm.covers_children is False


def test_only_the_policy_priorities_get_a_draft_and_only_once(world: World, frozen: object) -> None:
    p3 = declare(world, impact=2, urgency=2)
    resolve(p3, world.bob)
    assert not Postmortem.objects.filter(incident=p3).exists()

    p2 = declare(world, impact=1, urgency=2)
    resolve(p2, world.bob)
    incidents.transition_incident(incident=p2, actor=world.bob, source="test", to="in_progress")  # reopen
    resolve(p2, world.bob)
    assert Postmortem.objects.filter(incident=p2).count() == 1

    services.set_policy(actor=world.olivia, source="test", required_priorities=[3])
    assert PostmortemPolicy.objects.get().required_priorities == [3]
    other = declare(world, impact=2, urgency=2, title="Search is slow")
    resolve(other, world.bob)
    assert Postmortem.objects.filter(incident=other, required=True).exists()


def test_a_postmortem_started_by_hand_covers_an_open_incident_too(world: World, frozen: object) -> None:
    incident = declare(world, impact=3, urgency=3)
    pm = services.create_postmortem(
        incident=incident, actor=world.bob, source="test", title="  Early   notes "
    )
    assert (pm.title, pm.required, pm.author, pm.due_at) == ("Early notes", False, world.bob, None)
    d = selectors.facts_of(pm).durations
    assert (d.acknowledge, d.resolve) == (None, None)
    assert selectors.key_events(pm)[0].entry is not None
    assert selectors.key_events(pm)[0].entry.kind == EntryKind.CREATED  # type: ignore[union-attr]


def test_the_mitigation_time_must_fall_between_the_impact_start_and_the_resolution(
    world: World, frozen: object, api: Clients
) -> None:
    """The impact began with the first alert (09:00, on the covered child) and the incident resolved at 10:04:
    a mitigation before 09:00 or after 10:04 is refused naming ``mitigated_at``, nothing written; 09:02 —
    before the declaration, after the alert — is a real answer (monitoring saw it, it recovered, then someone
    declared)."""
    major, _child = _script(world)
    pm = Postmortem.objects.get()
    version = pm.version
    for moment, words in (
        (T0 - timedelta(minutes=1), "before the impact began (2026-03-02 09:00:00 UTC, the first alert)"),
        (T0 + timedelta(minutes=65), f"after {major.ref} was resolved (2026-03-02 10:04:00 UTC)"),
    ):
        response = api.bob.patch(f"/postmortems/{major.ref}", {"mitigated_at": moment.isoformat()})
        assert response.status_code == 400, response.content
        problem = response.json()["errors"][0]
        assert problem["field"] == "mitigated_at" and words in problem["message"], problem
    # Without the child, the impact starts at the declaration (09:04): 09:02 is then too early.
    response = api.bob.patch(
        f"/postmortems/{major.ref}",
        {"mitigated_at": (T0 + timedelta(minutes=2)).isoformat(), "covers_children": False},
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "mitigated_at"
    pm.refresh_from_db()
    assert (pm.version, pm.mitigated_at, pm.covers_children) == (version, None, True)

    response = api.bob.patch(
        f"/postmortems/{major.ref}", {"mitigated_at": (T0 + timedelta(minutes=2)).isoformat()}
    )
    assert response.status_code == 200, response.content
    assert selectors.facts_of(Postmortem.objects.get()).durations.impact == 120
