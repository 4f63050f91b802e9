"""The incident page's "Reassign…" pages only someone who may be on call for the incident's team: the picker
offers its admins, managers and responders (not its observers), and a hand-made request for anyone else is a 400
that says who cannot be paged and why, with paging left as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.paging.conftest import declare
from warroom.incidents.models import Incident
from warroom.paging.models import IncidentEscalation

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(world: World) -> Incident:
    return declare(world)


def _offered(html: str) -> list[str]:
    picker = re.search(r'<select name="to" id="reassign-to".*?</select>', html, re.S)
    assert picker is not None, "the Reassign picker is on the page"
    return re.findall(r'<option value="user:\d+">([^<]+)</option>', picker.group(0))


def test_the_picker_offers_only_people_who_may_be_on_call(
    client_for: Callable[..., Client], world: World, incident: Incident
) -> None:
    html = client_for(world.alice).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    offered = _offered(html)
    assert offered == ["Alice Admin", "Bob Responder"], "Dave is an observer: he cannot be paged"


@pytest.mark.parametrize(
    ("actor", "person", "why"),
    [
        ("alice", "dave", "Dave Observer is an observer of Team A and cannot be paged for {ref}"),
        ("olivia", "charlie", "Charlie Other is not a member of Team A and cannot be paged for {ref}"),
    ],
)
def test_paging_someone_who_may_not_be_on_call_is_refused_saying_why(
    client_for: Callable[..., Client], world: World, incident: Incident, actor: str, person: str, why: str
) -> None:
    before = list(
        IncidentEscalation.objects.filter(incident=incident).values("user_id", "policy_id", "epoch")
    )
    client = client_for(getattr(world, actor))
    target: Any = getattr(world, person)
    response = client.post(reverse("paging:reassign", args=[incident.ref]), {"to": f"user:{target.pk}"})
    assert response.status_code == 400
    assert why.format(ref=incident.ref) in response.content.decode()
    after = list(IncidentEscalation.objects.filter(incident=incident).values("user_id", "policy_id", "epoch"))
    assert after == before, "paging is left as it was"


def test_a_responder_can_still_be_paged_instead(
    client_for: Callable[..., Client], world: World, incident: Incident
) -> None:
    response = client_for(world.alice).post(
        reverse("paging:reassign", args=[incident.ref]), {"to": f"user:{world.bob.pk}"}
    )
    assert response.status_code == 302
    assert IncidentEscalation.objects.get(incident=incident).user == world.bob
