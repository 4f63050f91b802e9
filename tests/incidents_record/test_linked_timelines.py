"""Timeline lines that name another incident (parent, child, related): every change of a parent writes on the
parent's timeline too, and a line never shows the number or title of an incident its reader may not see."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Clients, declare
from tests.conftest import World
from warroom.incidents.models import Incident
from warroom.incidents.selectors import HIDDEN_INCIDENT


def texts(api_client: Any, incident: Incident) -> str:
    """Everything the API's timeline of ``incident`` says to this client, as one text."""
    response = api_client.get(f"/incidents/{incident.ref}/timeline", limit=500)
    assert response.status_code == 200, response.content
    return " | ".join(
        f"{e['message']} [{e['old_value']} → {e['new_value']}]" for e in response.json()["items"]
    )


def link_lines(api_client: Any, incident: Incident) -> list[str]:
    items = api_client.get(f"/incidents/{incident.ref}/timeline", limit=500).json()["items"]
    return [e["message"] for e in items if e["field"] in ("parent", "child", "related")]


def test_a_private_incident_linked_to_a_public_one_stays_hidden(
    api: Clients, world: World, client_for: Any
) -> None:
    public = declare(world, title="Checkout returns 500")
    child = declare(world, title="Payments slow")
    secret = declare(world, title="Credential leak at the payment provider", is_private=True)
    # alice (team admin) sees all three and links them; bob (responder) sees only the public two.
    assert api.alice.post(f"/incidents/{public.ref}/related/{secret.ref}").status_code == 200
    assert api.alice.post(f"/incidents/{public.ref}/children/{secret.ref}").status_code == 200
    assert api.alice.patch(f"/incidents/{child.ref}", {"parent": secret.ref}).status_code == 200
    assert api.bob.get(f"/incidents/{secret.ref}").status_code == 404

    for incident in (public, child):
        seen_by_bob = texts(api.bob, incident)
        assert secret.ref not in seen_by_bob, seen_by_bob
        assert "Credential leak" not in seen_by_bob, seen_by_bob
        assert secret.ref in texts(api.alice, incident)
    assert link_lines(api.bob, public) == [
        f"Related to {HIDDEN_INCIDENT}",
        f"Child incident attached: {HIDDEN_INCIDENT}",
    ]
    assert link_lines(api.alice, public) == [
        f"Related to {secret.ref}",
        f"Child incident attached: {secret.ref} Credential leak at the payment provider",
    ]
    assert link_lines(api.bob, child) == [f"Parent incident: — → {HIDDEN_INCIDENT}"]

    # The incident page (and the timeline it polls) reads the same per viewer.
    for path in (f"/incidents/{public.ref}/", f"/incidents/{public.ref}/timeline/"):
        bobs = client_for(world.bob).get(path).content.decode()
        assert secret.ref not in bobs and "Credential leak" not in bobs, path
        assert HIDDEN_INCIDENT in bobs, path
        assert secret.ref in client_for(world.alice).get(path).content.decode(), path

    # Once the incident is no longer private, bob reads its number where it was hidden.
    assert api.alice.patch(f"/incidents/{secret.ref}", {"is_private": False}).status_code == 200
    assert link_lines(api.bob, public)[0] == f"Related to {secret.ref}"


def test_another_teams_incident_is_hidden_too(api: Clients, world: World) -> None:
    """Olivia (organisation admin) relates team A's incident to one of team B's: team A reads a neutral line."""
    ours = declare(world)
    theirs = declare(
        world,
        title="Billing export stuck",
        team=world.team_b,
        services=[world.service_b],
        actor=world.charlie,
    )
    assert api.olivia.post(f"/incidents/{ours.ref}/related/{theirs.ref}").status_code == 200
    assert link_lines(api.bob, ours) == [f"Related to {HIDDEN_INCIDENT}"]
    assert link_lines(api.charlie, theirs) == [f"Related to {HIDDEN_INCIDENT}"]
    assert link_lines(api.olivia, ours) == [f"Related to {theirs.ref}"]


def test_setting_a_parent_writes_on_the_parents_timeline(api: Clients, world: World) -> None:
    parent = declare(world, title="Datacenter power loss")
    other = declare(world, title="Network partition")
    child = declare(world, title="Checkout returns 500")

    assert api.bob.patch(f"/incidents/{child.ref}", {"parent": parent.ref}).status_code == 200
    assert link_lines(api.bob, parent) == [f"Child incident attached: {child.ref} Checkout returns 500"]
    # Moving it to another parent: the old one says it left, the new one says it came.
    assert api.bob.patch(f"/incidents/{child.ref}", {"parent": other.ref}).status_code == 200
    assert link_lines(api.bob, parent)[-1] == f"Child incident detached: {child.ref} Checkout returns 500"
    assert link_lines(api.bob, other) == [f"Child incident attached: {child.ref} Checkout returns 500"]
    assert link_lines(api.bob, child) == [
        f"Parent incident: — → {parent.ref}",
        f"Parent incident: {parent.ref} → {other.ref}",
    ]
    assert api.bob.patch(f"/incidents/{child.ref}", {"parent": None}).status_code == 200
    assert link_lines(api.bob, other)[-1] == f"Child incident detached: {child.ref} Checkout returns 500"

    # Declaring an incident with a parent says so on the parent too.
    declared = api.bob.post("/incidents", {"title": "Search is down", "team": "team-a", "parent": parent.ref})
    assert declared.status_code == 201, declared.content
    assert (
        link_lines(api.bob, parent)[-1] == f"Child incident attached: {declared.json()['ref']} Search is down"
    )

    # Attaching a child through the major-incident route writes the parent's line once, not twice.
    lonely = declare(world, title="Login slow")
    assert api.bob.post(f"/incidents/{parent.ref}/children/{lonely.ref}").status_code == 200
    attached = [line for line in link_lines(api.bob, parent) if lonely.ref in line]
    assert attached == [f"Child incident attached: {lonely.ref} Login slow"]


def test_children_resolved_with_a_private_parent_do_not_name_it(api: Clients, world: World) -> None:
    parent = declare(world, title="Credential leak", is_private=True)
    child = declare(world, title="Payments failing", parent=parent)
    resolved = api.alice.post(
        f"/incidents/{parent.ref}/resolve-with-children",
        {"resolution_code": "workaround", "resolution_notes": "Keys rotated.", "also_children": True},
    )
    assert resolved.status_code == 200, resolved.content
    seen_by_bob = texts(api.bob, child)
    assert "Resolved together with its parent" in seen_by_bob
    assert parent.ref not in seen_by_bob
    assert f"Resolved together with its parent {parent.ref}." in texts(api.alice, child)
    assert api.bob.get(f"/incidents/{child.ref}").json()["resolution_notes"] == "Keys rotated."
