"""The incident record through its services: numbering, fields, timeline, audit, roles, tasks, tenancy."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from tests.conftest import World
from warroom.accounts import services as accounts_services
from warroom.audit.models import AuditEvent
from warroom.catalog import services as catalog_services
from warroom.incidents import selectors, services
from warroom.incidents.models import Category, Incident, RoleType, TimelineEntry
from warroom.lib import clock
from warroom.lib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

T0 = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)


def _declare(world: World, **kwargs: object) -> Incident:
    fields: dict[str, object] = {"title": "Checkout errors", "team": world.team_a}
    fields.update(kwargs)
    return services.declare_incident(actor=world.bob, source="web", **fields)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_numbers_are_human_and_increasing(world: World) -> None:
    first, second = _declare(world), _declare(world)
    assert first.ref.startswith("INC") and len(first.ref) == 10
    assert second.number == first.number + 1
    assert selectors.get_incident_for_user_or_404(world.bob, ref=first.ref.lower()).pk == first.pk
    assert selectors.get_incident_for_user_or_404(world.bob, ref=str(second.number)).pk == second.pk


@pytest.mark.django_db
def test_declare_writes_timeline_and_audit(world: World) -> None:
    with clock.frozen(T0):
        incident = _declare(world, services=[world.service_a], impact=1, urgency=1, assignee=world.bob)
    assert incident.priority == 1 and incident.state == "new" and incident.opened_at == T0
    entry = TimelineEntry.objects.get(incident=incident)
    assert entry.kind == "created" and entry.actor == world.bob and entry.source == "web"
    assert "1 - Critical" in entry.message and "Checkout" in entry.message
    audit = AuditEvent.objects.get(action="incident.declare", object_id=str(incident.pk))
    assert audit.after is not None and audit.after["priority"] == 1


@pytest.mark.django_db
def test_update_writes_one_entry_per_changed_field_with_from_and_to(world: World) -> None:
    incident = _declare(world)
    category = Category.objects.get(name="Database")
    sub = category.subcategories.get(name="Replication")
    updated = services.update_incident(
        incident=incident,
        actor=world.alice,
        source="api",
        impact=1,
        category=category,
        subcategory=sub,
        assignee=world.bob,
        title="Checkout errors (replica lag)",
    )
    assert updated.version == incident.version + 1
    entries = {e.field: e for e in TimelineEntry.objects.filter(incident=incident, kind="field")}
    assert set(entries) == {"impact", "priority", "category", "subcategory", "assignee", "title"}
    assert (entries["priority"].old_value, entries["priority"].new_value) == ("3 - Moderate", "2 - High")
    assert entries["assignee"].new_value == "Bob Responder"
    assert entries["title"].old_value == "Checkout errors"
    audit = AuditEvent.objects.filter(action="incident.update").latest("id")
    assert audit.before is not None and audit.after is not None
    assert audit.before["impact"] == 2 and audit.after["impact"] == 1
    # Nothing changed → nothing written.
    again = services.update_incident(incident=updated, actor=world.alice, source="api", impact=1)
    assert again.version == updated.version
    assert TimelineEntry.objects.filter(incident=incident, kind="field").count() == 6


@pytest.mark.django_db
def test_stale_version_is_refused(world: World) -> None:
    incident = _declare(world)
    services.update_incident(incident=incident, actor=world.alice, source="web", urgency=1)
    with pytest.raises(Conflict) as stale:
        services.update_incident(
            incident=incident, actor=world.bob, source="web", urgency=3, expected_version=incident.version
        )
    assert "changed by someone else" in stale.value.message
    assert Incident.objects.get(pk=incident.pk).urgency == 1


@pytest.mark.django_db
def test_assignee_must_be_a_responder_of_the_group_and_moving_group_clears_it(world: World) -> None:
    with pytest.raises(ValidationFailed) as outsider:
        _declare(world, assignee=world.charlie)
    assert outsider.value.field == "assignee"
    with pytest.raises(ValidationFailed):
        _declare(world, assignee=world.dave)  # an observer cannot be assigned
    incident = _declare(world, assignee=world.bob)
    moved = services.update_incident(incident=incident, actor=world.olivia, source="web", team=world.team_b)
    assert moved.team == world.team_b and moved.assignee is None
    fields = set(
        TimelineEntry.objects.filter(incident=incident, kind="field").values_list("field", flat=True)
    )
    assert fields == {"team", "assignee"}


@pytest.mark.django_db
def test_subcategory_must_match_category(world: World) -> None:
    database = Category.objects.get(name="Database")
    network = Category.objects.get(name="Infrastructure").subcategories.get(name="Network")
    with pytest.raises(ValidationFailed) as wrong:
        _declare(world, category=database, subcategory=network)
    assert wrong.value.field == "subcategory"


@pytest.mark.django_db
def test_closed_incidents_are_read_only_but_accept_notes(world: World) -> None:
    incident = _declare(world)
    services.transition_incident(
        incident=incident,
        actor=world.bob,
        source="web",
        to="resolved",
        resolution_code="duplicate",
        resolution_notes="Same as the other one.",
    )
    services.transition_incident(incident=incident, actor=world.bob, source="web", to="closed")
    with pytest.raises(Conflict):
        services.update_incident(incident=incident, actor=world.bob, source="web", title="Renamed")
    note = services.add_note(incident=incident, actor=world.bob, source="web", text="Post-close remark")
    assert note.kind == "note"


@pytest.mark.django_db
def test_roles_one_holder_claim_and_replace(world: World) -> None:
    incident = _declare(world)
    commander = RoleType.objects.get(slug="incident-commander")
    services.assign_role(
        incident=incident, role_type=commander, user=world.bob, actor=world.bob, source="web"
    )
    with pytest.raises(Conflict) as taken:
        services.assign_role(
            incident=incident, role_type=commander, user=world.alice, actor=world.alice, source="web"
        )
    assert "already held by Bob Responder" in taken.value.message
    services.assign_role(
        incident=incident,
        role_type=commander,
        user=world.alice,
        actor=world.alice,
        source="web",
        replace=True,
    )
    assert incident.roles.get().user == world.alice
    services.release_role(incident=incident, role_type=commander, actor=world.alice, source="web")
    assert not incident.roles.exists()
    messages = list(
        TimelineEntry.objects.filter(incident=incident, kind="role").values_list("message", flat=True)
    )
    assert messages == [
        "Incident Commander: — → Bob Responder",
        "Incident Commander: Bob Responder → Alice Admin",
        "Incident Commander: Alice Admin stepped down",
    ]


@pytest.mark.django_db
def test_tasks_and_watchers_make_participants(world: World) -> None:
    incident = _declare(world)
    task = services.add_task(
        incident=incident, actor=world.bob, source="web", title="Check replica lag", owner=world.charlie
    )
    # charlie is in team B but owns a task: the incident becomes visible to them, and they may tick it.
    assert selectors.get_incident_for_user_or_404(world.charlie, ref=incident.number).pk == incident.pk
    done = services.update_task(task=task, actor=world.charlie, source="web", done=True)
    assert done.is_done and done.done_by == world.charlie
    with pytest.raises(PermissionDenied):
        services.update_incident(incident=incident, actor=world.charlie, source="web", title="nope")
    assert services.set_watching(
        incident=incident, user=world.alice, watching=True, actor=world.alice, source="web"
    )
    assert not services.set_watching(
        incident=incident, user=world.alice, watching=True, actor=world.alice, source="web"
    )
    # A task owner from another team may write notes; an observer who merely watches may not.
    services.add_note(incident=incident, actor=world.charlie, source="web", text="Replica lag is 0 now")
    services.set_watching(incident=incident, user=world.dave, watching=True, actor=world.dave, source="web")
    with pytest.raises(PermissionDenied):
        services.add_note(incident=incident, actor=world.dave, source="web", text="I am only watching")


@pytest.mark.django_db
def test_tenancy_and_private_incidents(world: World) -> None:
    public = _declare(world)
    private = _declare(world, title="Credential leak", is_private=True)
    for user in (world.alice, world.bob, world.dave, world.olivia):
        assert selectors.get_incident_for_user_or_404(user, ref=public.number)
    with pytest.raises(NotFound):
        selectors.get_incident_for_user_or_404(world.charlie, ref=public.number)
    # Private: the reporter (bob), the team's admin (alice) and org admins; not dave the observer.
    for user in (world.bob, world.alice, world.olivia):
        assert selectors.get_incident_for_user_or_404(user, ref=private.number)
    for user in (world.dave, world.charlie):
        with pytest.raises(NotFound):
            selectors.get_incident_for_user_or_404(user, ref=private.number)
    assert set(selectors.visible_incidents(world.charlie)) == set()
    assert not selectors.can_edit(world.dave, public)
    with pytest.raises(PermissionDenied):
        services.transition_incident(incident=public, actor=world.dave, source="web", to="in_progress")


@pytest.mark.django_db
def test_parent_cycles_and_related_links(world: World) -> None:
    parent, child = _declare(world, title="Major outage", is_major=True), _declare(world, title="Child")
    services.update_incident(incident=child, actor=world.bob, source="web", parent=parent)
    with pytest.raises(ValidationFailed) as cycle:
        services.update_incident(incident=parent, actor=world.bob, source="web", parent=child)
    assert cycle.value.field == "parent"
    other = _declare(world, title="Related")
    services.link_related(incident=parent, other=other, actor=world.bob, source="web")
    assert list(other.related.all()) == [parent]
    assert (
        TimelineEntry.objects.filter(incident=other, kind="link").get().message == f"Related to {parent.ref}"
    )


@pytest.mark.django_db
def test_title_and_description_limits(world: World) -> None:
    with pytest.raises(ValidationFailed) as empty:
        _declare(world, title="   ")
    assert empty.value.field == "title"
    with pytest.raises(ValidationFailed) as long_title:
        _declare(world, title="x" * 201)
    assert "at most 200" in long_title.value.message
    with pytest.raises(ValidationFailed) as long_text:
        _declare(world, description="y" * 50_001)
    assert long_text.value.field == "description"
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_timeline_entries_are_immutable(world: World) -> None:
    entry = TimelineEntry.objects.get(incident=_declare(world))
    entry.message = "rewritten history"
    with pytest.raises(ValueError, match="immutable"):
        entry.save()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_resolving_at_once_get_one_winner(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races are exercised on PostgreSQL (SQLite serialises every writer)")
    incident = _declare(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def resolve(actor_email: str) -> None:
        actor = world.alice if actor_email == world.alice.email else world.bob
        try:
            barrier.wait()
            services.transition_incident(
                incident=incident,
                actor=actor,
                source="api",
                to="resolved",
                resolution_code="permanent_fix",
                resolution_notes=f"fixed by {actor_email}",
            )
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=resolve, args=(u.email,)) for u in (world.alice, world.bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[1] == "won" and outcomes.count("won") == 1
    assert "already Resolved" in sorted(outcomes)[0]
    assert TimelineEntry.objects.filter(incident=incident, kind="state").count() == 1


@pytest.mark.django_db
def test_clock_drives_timestamps(world: World) -> None:
    with clock.frozen(T0):
        incident = _declare(world)
    with clock.frozen(T0 + timedelta(minutes=7)):
        started = services.transition_incident(
            incident=incident, actor=world.bob, source="web", to="in_progress"
        )
    assert started.acknowledged_at == T0 + timedelta(minutes=7)


@pytest.mark.django_db
def test_filters_return_each_incident_once(world: World) -> None:
    other = catalog_services.create_service(team=world.team_a, name="Orders", actor=world.alice, source="web")
    both = _declare(world, services=[world.service_a, other], title="Checkout and orders down")
    _declare(world, title="Unrelated")
    by_slug = selectors.filter_incidents(world.bob, selectors.IncidentFilter(service="checkout"))
    assert list(by_slug) == [both]
    by_id = selectors.filter_incidents(world.bob, selectors.IncidentFilter(service=str(other.pk)))
    assert list(by_id) == [both]
    by_text = selectors.filter_incidents(world.bob, selectors.IncidentFilter(text=both.ref))
    assert list(by_text) == [both]
    assert selectors.filter_incidents(world.bob, selectors.IncidentFilter(open_only=True)).count() == 2


@pytest.mark.django_db
def test_a_role_holder_from_another_team_may_edit_but_not_move_the_incident(world: World) -> None:
    incident = _declare(world)
    commander = RoleType.objects.get(slug="incident-commander")
    services.assign_role(
        incident=incident, role_type=commander, user=world.charlie, actor=world.alice, source="web"
    )
    # The console sends every field back, the unchanged team included: that is not a move.
    edited = services.update_incident(
        incident=incident,
        actor=world.charlie,
        source="web",
        team=world.team_a,
        title="Checkout errors (EU only)",
    )
    assert edited.title == "Checkout errors (EU only)"
    team_c = accounts_services.create_team(name="Team C", actor=None, source="system")
    with pytest.raises(PermissionDenied) as moved:
        services.update_incident(incident=incident, actor=world.charlie, source="web", team=team_c)
    assert moved.value.field == "team"
    assert Incident.objects.get(pk=incident.pk).team == world.team_a
