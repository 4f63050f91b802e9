"""The console: the major-incident card on the incident page and its actions (POST only)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.incidents_major.conftest import declare
from warroom.accounts.models import User
from warroom.incidents.models import Incident

ClientFor = Callable[[User], Client]


def test_promote_and_demote_buttons(world: World, client_for: ClientFor) -> None:
    incident = declare(world)
    alice = client_for(world.alice)
    page = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "Promote to major" in page and "Demote" not in page
    response = alice.post(reverse("web:incident-major-promote", args=[incident.ref]), {"note": "Big"})
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).is_major
    page = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert 'id="major-demote"' in page and "Updates every 30 min for P1" in page
    assert alice.post(reverse("web:incident-major-demote", args=[incident.ref])).status_code == 302
    assert not Incident.objects.get(pk=incident.pk).is_major


def test_charlie_404_observer_403_and_get_changes_nothing(world: World, client_for: ClientFor) -> None:
    incident = declare(world)
    url = reverse("web:incident-major-promote", args=[incident.ref])
    assert client_for(world.charlie).post(url).status_code == 404
    assert client_for(world.dave).post(url).status_code == 403
    assert client_for(world.alice).get(url).status_code == 405
    page = client_for(world.dave).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "Promote to major" not in page
    assert not Incident.objects.get(pk=incident.pk).is_major


def test_resolve_offers_to_resolve_the_children(world: World, client_for: ClientFor) -> None:
    parent = declare(world)
    kids = [declare(world, title=f"Child {n}", parent=parent) for n in (1, 2)]
    alice = client_for(world.alice)
    page = alice.get(reverse("web:incident-detail", args=[parent.ref])).content.decode()
    assert "also resolve the 2 children" in page
    url = reverse("web:incident-major-resolve", args=[parent.ref])
    assert alice.post(url, {"resolution_code": "permanent_fix"}).status_code == 400
    response = alice.post(
        url, {"resolution_code": "permanent_fix", "resolution_notes": "Fixed.", "also_children": "1"}
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=parent.pk).state == "resolved"
    assert {Incident.objects.get(pk=k.pk).state for k in kids} == {"resolved"}


def test_resolve_without_the_box_leaves_the_children(world: World, client_for: ClientFor) -> None:
    parent = declare(world)
    kid = declare(world, title="Child", parent=parent)
    response = client_for(world.alice).post(
        reverse("web:incident-major-resolve", args=[parent.ref]),
        {"resolution_code": "permanent_fix", "resolution_notes": "Fixed."},
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=kid.pk).state == "new"


def test_attach_child(world: World, client_for: ClientFor) -> None:
    parent = declare(world)
    kid = declare(world, title="Child")
    other = declare(world, title="Billing", team=world.team_b, actor=world.olivia)
    alice = client_for(world.alice)
    url = reverse("web:incident-major-child", args=[parent.ref])
    assert alice.post(url, {"child": kid.ref}).status_code == 302
    assert Incident.objects.get(pk=kid.pk).parent_id == parent.pk
    assert alice.post(url, {"child": other.ref}).status_code == 400
