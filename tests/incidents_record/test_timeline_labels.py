"""The incident timeline labels a line by what it is to the reader: the alert engine's and the paging runtime's
lines read "Alert" and "Paging" (they are stored as links, with the field naming which), links between
incidents read as such, the SLA engine's lines read "SLA", and no line an on-call engineer sees is a bare "Link"."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from warroom.accounts.models import User
from warroom.incidents import services
from warroom.incidents.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]


def _labels(html: str) -> dict[str, str]:
    """Each timeline line's text → the label shown beside it."""
    rows = re.findall(
        r'<span class="tl-kind">([^<]*)</span>.*?<div class="tl-text">([^<]*)</div>', html, re.S
    )
    return {text.strip(): label for label, text in rows}


def test_alert_and_paging_lines_are_labelled_as_such(world: World, client_for: ClientFor) -> None:
    incident = services.declare_incident(
        actor=world.alice, source="test", title="Checkout down", team=world.team_a
    )
    other = services.declare_incident(actor=world.alice, source="test", title="Cart slow", team=world.team_a)
    services.record_alert(
        incident=incident, source="engine", message="Alert opened it: HighErrorRate on checkout"
    )
    services.record_paging(incident=incident, source="engine", message="Paged Bob Responder by SMS (step 1)")
    services.link_related(incident=incident, other=other, actor=world.alice, source="test", linked=True)
    assert TimelineEntry.objects.filter(incident=incident, kind=EntryKind.LINK).count() == 3

    html = client_for(world.alice).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    labels = _labels(html)
    assert labels["Alert opened it: HighErrorRate on checkout"] == "Alert"
    assert labels["Paged Bob Responder by SMS (step 1)"] == "Paging"
    assert labels[f"Related to {other.ref}"] == "Related incident"
    assert "Link" not in labels.values()
    assert 'class="tl tl-link tl-link-alert"' in html and 'class="tl tl-link tl-link-paging"' in html


def test_sla_lines_read_sla_and_other_lines_keep_their_kinds_label() -> None:
    assert TimelineEntry(kind=EntryKind.FIELD, field="sla_resolution").label == "SLA"
    assert TimelineEntry(kind=EntryKind.FIELD, field="sla").label == "SLA"
    assert TimelineEntry(kind=EntryKind.FIELD, field="priority").label == "Field changed"
    assert TimelineEntry(kind=EntryKind.LINK, field="something_new").label == "Link"
    assert TimelineEntry(kind=EntryKind.NOTE, field="alert").label == "Note"
