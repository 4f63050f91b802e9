"""A refusal of an htmx action that no form shows (here: promoting an incident that is already major) lands in
the page's flash area, at the top of the page: the answer tells htmx to scroll it into view, and it is an
alert (announced by screen readers), so the user who clicked far down the page sees why nothing changed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from warroom.incidents import major
from warroom.incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_a_refused_htmx_action_flashes_an_alert_scrolled_into_view(alice: Client, incident: Incident) -> None:
    major.promote_to_major(incident=incident, actor=None, source="test")
    response = alice.post(
        reverse("web:incident-major-promote", args=[incident.ref]),
        headers={"HX-Request": "true", "HX-Target": "incident-main"},
    )
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#flash"
    assert response["HX-Reswap"] == "outerHTML show:#flash:top"
    html = response.content.decode()
    assert '<div id="flash"' in html and 'role="alert"' in html and "already a major incident" in html
