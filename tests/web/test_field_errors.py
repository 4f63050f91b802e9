"""Console forms that come back with errors: each field's error (and help text) sits under the id the field's
``aria-describedby`` names, so a screen reader reads the error with the field; the field says it is invalid."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from warroom.incidents.models import Incident

pytestmark = pytest.mark.django_db


def _described_ids_resolve(html: str) -> list[str]:
    """Every id that an ``aria-describedby`` in ``html`` names; fails if one names no element."""
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    named = [token for value in re.findall(r'aria-describedby="([^"]*)"', html) for token in value.split()]
    missing = [token for token in named if token not in ids]
    assert not missing, f"aria-describedby names ids not in the page: {missing}"
    return named


def _widget(html: str, field_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{field_id}"[^>]*>', html)
    assert match is not None, field_id
    return match.group(0)


def test_incident_edit_errors_are_read_with_their_fields(alice: Client, incident: Incident) -> None:
    data = {"version": incident.version, "title": "", "impact": "9", "urgency": "2", "team": incident.team_id}
    response = alice.post(reverse("web:incident-edit", args=[incident.ref]), data)
    assert response.status_code == 400
    html = response.content.decode()
    named = _described_ids_resolve(html)
    assert "id_title_error" in named
    widget = _widget(html, "id_title")
    assert 'aria-invalid="true"' in widget and "id_title_error" in widget
    assert re.search(r'id="id_title_error"[^>]*>\s*<p class="error"[^>]*>This field is required\.', html)
    assert re.search(r'id="id_impact_error"[^>]*>\s*<p class="error"[^>]*>Select a valid choice', html)


def test_declare_form_errors_and_help_are_read_with_their_fields(alice: Client, world: World) -> None:
    response = alice.post(reverse("web:incident-declare"), {"title": "", "impact": "2", "urgency": "2"})
    assert response.status_code == 400
    html = response.content.decode()
    named = _described_ids_resolve(html)
    assert "id_title_error" in named


def test_a_group_of_checkboxes_is_a_fieldset_named_by_its_legend(alice: Client, world: World) -> None:
    """A label cannot name a group of checkboxes: the declare form's services are a fieldset whose legend says
    what they are, and a refused choice marks the group and is read with it."""
    html = alice.get(reverse("web:incident-declare")).content.decode()
    group = re.search(r'<fieldset class="field choices[^"]*"[^>]*>\s*<legend>Services', html)
    assert group is not None
    assert '<label for="">' not in html and '<label for="id_services">' not in html

    data = {
        "title": "Disk full",
        "impact": "2",
        "urgency": "2",
        "team": world.team_a.pk,
        "services": ["999999"],
    }
    refused = alice.post(reverse("web:incident-declare"), data)
    assert refused.status_code == 400
    html = refused.content.decode()
    fieldset = re.search(r'<fieldset class="field choices has-error[^"]*"([^>]*)>', html)
    assert fieldset is not None and 'aria-invalid="true"' in fieldset.group(1)
    assert "id_services_error" in fieldset.group(1) and "id_services_error" in _described_ids_resolve(html)


def test_the_resolve_form_marks_the_refused_field(alice: Client, incident: Incident) -> None:
    """The incident page's own resolve form (not Django-rendered): the refused field points at the summary."""
    url = reverse("web:incident-transition", args=[incident.ref])
    response = alice.post(
        url, {"to": "resolved", "version": incident.version, "resolution_notes": "Rolled back"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    _described_ids_resolve(html)
    widget = _widget(html, "resolution-code")
    assert 'aria-invalid="true"' in widget and 'aria-describedby="form-problem"' in widget


def test_no_template_comment_leaks_into_a_page(alice: Client, incident: Incident) -> None:
    html = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "{#" not in html and "#}" not in html and "{% comment" not in html


def test_every_id_on_the_incident_page_is_unique(alice: Client, incident: Incident) -> None:
    """A label or aria-describedby names one element: the task form and the edit form both have a title."""
    html = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert [i for i in set(ids) if ids.count(i) > 1] == []
    assert 'for="task_title"' in html and 'id="task_title"' in html
