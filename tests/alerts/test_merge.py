"""Merging a duplicate incident into another: its alerts move with it, later events follow them, the duplicate is
canceled and says where it went, and nothing else is lost (children, watchers)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, make_integration, post
from tests.api.conftest import client_with_token
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts.models import Alert
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident, TimelineEntry, Watcher
from warroom.incidents.states import State
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed


def _fire(hooked: Hooked, dedup_key: str, summary: str = "Checkout 5xx above 2 %") -> Alert:
    body = {"summary": summary, "severity": "error", "dedup_key": dedup_key, "source": "lb-1"}
    assert post("/integrations/webhook", body, key=hooked.key).status_code == 202
    cycle()
    return Alert.objects.filter(dedup_key=dedup_key).latest("pk")


def _incident(alert: Alert) -> Incident:
    assert alert.incident_id is not None
    return Incident.objects.get(pk=alert.incident_id)


def _lines(incident: Incident) -> str:
    return "\n".join(TimelineEntry.objects.filter(incident=incident).values_list("message", flat=True))


@pytest.fixture
def hook(world: World) -> Hooked:
    return make_integration(world, "webhook")  # one incident per alert


def test_merging_moves_the_alerts_and_later_events_follow_them(world: World, hook: Hooked) -> None:
    first, second = _fire(hook, "web/5xx"), _fire(hook, "lb/5xx", "Load balancer 5xx on lb-1")
    keep, dup = _incident(first), _incident(second)
    assert keep != dup

    merged = incidents.merge_incident(incident=dup, into=keep, actor=world.bob, source="web")

    assert merged.pk == keep.pk
    dup.refresh_from_db()
    assert dup.state == State.CANCELED and dup.merged_into_id == keep.pk
    second.refresh_from_db()
    assert second.incident_id == keep.pk and second.status == "triggered"
    assert not second.opened_incident
    assert second.group_reason.startswith(f"moved here when {dup.ref} was merged into {keep.ref}")
    assert second.group_reason.endswith("one incident per alert")
    assert f"{dup.ref} was merged into this incident by Bob Responder (1 alert moved: {second.pk})" in (
        _lines(keep)
    )
    assert f"Merged into {keep.ref} by Bob Responder (1 alert moved: {second.pk})" in _lines(dup)

    # the source repeats: the alert (now in keep) counts it, no new incident opens
    again = _fire(hook, "lb/5xx", "Load balancer 5xx on lb-1")
    assert again.pk == second.pk and again.count == 2 and again.incident_id == keep.pk
    assert Incident.objects.count() == 2

    # keep was opened by an alert: it resolves when all its alerts, the moved one included, resolve
    post("/integrations/webhook", {"action": "resolve", "dedup_key": "web/5xx"}, key=hook.key)
    cycle()
    keep.refresh_from_db()
    assert keep.state == State.NEW
    post("/integrations/webhook", {"action": "resolve", "dedup_key": "lb/5xx"}, key=hook.key)
    cycle()
    keep.refresh_from_db()
    assert keep.state == State.RESOLVED


def test_alerts_merged_into_an_acknowledged_incident_are_acknowledged(world: World, hook: Hooked) -> None:
    keep, dup = _incident(_fire(hook, "a")), _incident(_fire(hook, "b"))
    incidents.transition_incident(incident=keep, actor=world.bob, source="web", to=State.IN_PROGRESS)

    incidents.merge_incident(incident=dup, into=keep, actor=world.bob, source="web")

    assert set(Alert.objects.filter(incident=keep).values_list("status", flat=True)) == {"acknowledged"}


def test_children_and_watchers_of_the_duplicate_move_to_the_incident_it_joins(
    world: World, hook: Hooked
) -> None:
    keep, dup, child = (_incident(_fire(hook, key)) for key in ("a", "b", "c"))
    incidents.update_incident(incident=child, actor=world.bob, source="web", parent=dup)
    incidents.set_watching(incident=dup, user=world.dave, watching=True, actor=world.dave, source="web")
    # charlie is in another team: he may not see keep, so he does not start watching it
    incidents.set_watching(incident=dup, user=world.charlie, watching=True, actor=None, source="web")

    incidents.merge_incident(incident=dup, into=keep, actor=world.alice, source="api")

    child.refresh_from_db()
    assert child.parent_id == keep.pk
    assert f"Parent: {dup.ref} → {keep.ref}" in _lines(child)
    assert set(Watcher.objects.filter(incident=keep).values_list("user__email", flat=True)) == {
        "dave@example.com"
    }


def test_a_child_absorbing_its_parent_takes_the_parents_place(world: World, hook: Hooked) -> None:
    top, parent, child = (_incident(_fire(hook, key)) for key in ("a", "b", "c"))
    incidents.update_incident(incident=parent, actor=world.bob, source="web", parent=top)
    incidents.update_incident(incident=child, actor=world.bob, source="web", parent=parent)

    incidents.merge_incident(incident=parent, into=child, actor=world.bob, source="web")

    child.refresh_from_db()
    assert child.parent_id == top.pk


def test_what_cannot_be_merged_is_refused_and_nothing_moves(world: World, hook: Hooked) -> None:
    keep, dup = _incident(_fire(hook, "a")), _incident(_fire(hook, "b"))
    other = _incident(_fire(make_integration(world, "webhook", service=world.service_b), "c"))

    with pytest.raises(ValidationFailed, match="cannot be merged into itself"):
        incidents.merge_incident(incident=dup, into=dup, actor=world.bob, source="web")
    with pytest.raises(PermissionDenied):  # an observer
        incidents.merge_incident(incident=dup, into=keep, actor=world.dave, source="web")
    with pytest.raises(PermissionDenied):  # bob may not change team B's incident
        incidents.merge_incident(incident=dup, into=other, actor=world.bob, source="web")
    incidents.transition_incident(
        incident=keep,
        actor=world.bob,
        source="web",
        to=State.RESOLVED,
        resolution_code="permanent_fix",
        resolution_notes="fixed",
    )
    with pytest.raises(Conflict, match=f"{keep.ref} is Resolved; only open incidents are merged"):
        incidents.merge_incident(incident=dup, into=keep, actor=world.bob, source="web")

    dup.refresh_from_db()
    assert dup.state == State.NEW and dup.merged_into_id is None
    assert Alert.objects.get(dedup_key="b").incident_id == dup.pk


# ---------------------------------------------------------------------------------------------------------------
# the console


def test_merging_from_the_incident_page(
    client_for: Callable[[User], Client], world: World, hook: Hooked
) -> None:
    keep, dup = _incident(_fire(hook, "a")), _incident(_fire(hook, "b", "Load balancer 5xx on lb-1"))
    bob = client_for(world.bob)
    page = bob.get(f"/incidents/{dup.ref}/").content.decode()
    assert "Merge into another incident…" in page and f"Merge and cancel {dup.ref}" in page

    unknown = bob.post(f"/incidents/{dup.ref}/merge/", {"into": "INC0999999"})
    assert unknown.status_code == 400 and "incident INC0999999 not found" in unknown.content.decode()
    itself = bob.post(f"/incidents/{dup.ref}/merge/", {"into": dup.ref})
    assert itself.status_code == 400 and "cannot be merged into itself" in itself.content.decode()
    dup.refresh_from_db()
    assert dup.state == State.NEW

    done = bob.post(f"/incidents/{dup.ref}/merge/", {"into": keep.ref}, follow=True)
    kept = done.content.decode()
    assert done.redirect_chain[-1][0] == f"/incidents/{keep.ref}/"
    assert f"{dup.ref} was merged into {keep.ref} and canceled." in kept
    assert 'id="merged-here"' in kept and "Load balancer 5xx on lb-1" in kept
    merged = bob.get(f"/incidents/{dup.ref}/").content.decode()
    assert 'id="merged-into"' in merged and keep.ref in merged
    assert "Merge into another incident…" not in merged  # canceled: nothing more to merge
    assert Alert.objects.get(dedup_key="b").incident_id == keep.pk

    # an observer sees the merge but is not offered it
    dave = client_for(world.dave).get(f"/incidents/{keep.ref}/").content.decode()
    assert 'id="merged-here"' in dave and "Merge into another incident…" not in dave


def test_a_merge_into_an_incident_you_cannot_see_does_not_name_it(
    client_for: Callable[[User], Client], world: World, hook: Hooked
) -> None:
    keep, dup = _incident(_fire(hook, "a")), _incident(_fire(hook, "b"))
    incidents.merge_incident(incident=dup, into=keep, actor=world.alice, source="web")
    incidents.update_incident(incident=keep, actor=world.alice, source="web", is_private=True)
    incidents.set_watching(incident=dup, user=world.dave, watching=True, actor=world.alice, source="web")
    Watcher.objects.filter(incident=keep, user=world.dave).delete()  # not a participant of keep any more

    page = client_for(world.dave).get(f"/incidents/{dup.ref}/").content.decode()
    assert 'id="merged-into"' not in page
    assert keep.ref not in page and "Merged into an incident you cannot see" in page


# ---------------------------------------------------------------------------------------------------------------
# the API


def test_merging_through_the_api(world: World, hook: Hooked) -> None:
    keep, dup = _incident(_fire(hook, "a")), _incident(_fire(hook, "b"))
    bob, dave = client_with_token(world.bob), client_with_token(world.dave)

    assert dave.post(f"/incidents/{dup.ref}/merge", {"into": keep.ref}).status_code == 403
    unknown = bob.post(f"/incidents/{dup.ref}/merge", {"into": "INC0999999"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "into"
    assert bob.post(f"/incidents/{dup.ref}/merge", {}).status_code == 422
    assert bob.post("/incidents/INC0999999/merge", {"into": keep.ref}).status_code == 404

    answer = bob.post(f"/incidents/{dup.number}/merge", {"into": keep.number})
    assert answer.status_code == 200, answer.content
    kept = answer.json()
    assert kept["ref"] == keep.ref and [m["ref"] for m in kept["merged"]] == [dup.ref]
    merged = bob.get(f"/incidents/{dup.ref}").json()
    assert merged["state"] == "canceled" and merged["merged_into"]["ref"] == keep.ref
    again = bob.post(f"/incidents/{dup.ref}/merge", {"into": keep.ref})
    assert again.status_code == 409 and "only open incidents are merged" in again.json()["detail"]
