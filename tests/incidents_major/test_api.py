"""The REST routes: promote/demote, children, resolve with children, settings; charlie 404, dave 403."""

from __future__ import annotations

from tests.api.conftest import Clients
from tests.conftest import World
from tests.incidents_major.conftest import declare, messages, webhook
from warroom.incidents.models import Incident


def test_promote_and_demote(world: World, api: Clients) -> None:
    webhook(world.olivia)
    assert (
        api.olivia.put("/major-incidents/settings", {"group_users": [world.olivia.email]}).status_code == 200
    )
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/major", {"note": "Shop down"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_major"] is True and body["rhythm"]["every_minutes"] == 30
    assert body["rhythm"]["overdue"] is False
    assert messages(f"major:{incident.pk}:promote", world.olivia)
    assert api.bob.post(f"/incidents/{incident.ref}/major", {}).status_code == 409
    response = api.bob.delete(f"/incidents/{incident.ref}/major")
    assert response.status_code == 200 and response.json()["is_major"] is False
    assert messages(f"major:{incident.pk}:demote", world.olivia)


def test_charlie_gets_404_and_observer_403(world: World, api: Clients) -> None:
    incident = declare(world)
    assert api.charlie.post(f"/incidents/{incident.ref}/major", {}).status_code == 404
    assert api.charlie.get(f"/incidents/{incident.ref}/major").status_code == 404
    assert api.charlie.delete(f"/incidents/{incident.ref}/major").status_code == 404
    assert api.dave.get(f"/incidents/{incident.ref}/major").status_code == 200
    assert api.dave.post(f"/incidents/{incident.ref}/major", {}).status_code == 403
    child = declare(world, title="Child")
    assert api.dave.post(f"/incidents/{incident.ref}/children/{child.ref}").status_code == 403
    assert api.charlie.post(f"/incidents/{incident.ref}/children/{child.ref}").status_code == 404
    assert not Incident.objects.get(pk=incident.pk).is_major


def test_children_and_resolve_with_children(world: World, api: Clients) -> None:
    parent = declare(world)
    kids = [declare(world, title=f"Child {n}") for n in (1, 2)]
    for kid in kids:
        assert api.alice.post(f"/incidents/{parent.ref}/children/{kid.ref}").status_code == 200
    body = api.alice.get(f"/incidents/{parent.ref}/major").json()
    assert body["open_children"] == 2 and body["rhythm"] is None
    response = api.alice.post(
        f"/incidents/{parent.ref}/resolve-with-children",
        {"resolution_code": "permanent_fix", "resolution_notes": "Fixed.", "also_children": True},
    )
    assert response.status_code == 200, response.content
    assert {c["ref"] for c in response.json()["resolved_children"]} == {k.ref for k in kids}
    assert {Incident.objects.get(pk=k.pk).state for k in kids} == {"resolved"}


def test_resolve_without_children_and_bad_input(world: World, api: Clients) -> None:
    parent = declare(world)
    kid = declare(world, title="Child", parent=parent)
    bad = api.alice.post(
        f"/incidents/{parent.ref}/resolve-with-children",
        {"resolution_code": "nope", "resolution_notes": "Fixed."},
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "resolution_code"
    response = api.alice.post(
        f"/incidents/{parent.ref}/resolve-with-children",
        {"resolution_code": "permanent_fix", "resolution_notes": "Fixed."},
    )
    assert response.status_code == 200 and response.json()["resolved_children"] == []
    assert Incident.objects.get(pk=kid.pk).state == "new"


def test_settings_only_org_admins_write(world: World, api: Clients) -> None:
    assert api.bob.get("/major-incidents/settings").json()["update_minutes"] == {"1": 30, "2": 60}
    assert api.alice.put("/major-incidents/settings", {"update_minutes": {"1": 15}}).status_code == 403
    bad = api.olivia.put("/major-incidents/settings", {"update_minutes": {"9": 15}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "update_minutes"
    ok = api.olivia.put("/major-incidents/settings", {"group_team": "team-a", "update_minutes": {"1": 15}})
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"group_team": "team-a", "group_users": [], "update_minutes": {"1": 15}}
