"""The alert-intake console as a person reads it: a service's integrations listed in alphabetical order whatever
their case (on SQLite too), and the maintenance window form speaking in its own labels and help texts, never
the API's field names (``ends_at``, ``repeat_until``)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from tests.alerts.conftest import make_integration
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts.forms import WindowForm
from warroom.alerts.models import MaintenanceWindow
from warroom.lib.errors import ValidationFailed
from warroom.web.console import form_error

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
API_NAMES = re.compile(r"\b(starts_at|ends_at|repeat_until|recurrence)\b")


def _visible_text(html: str) -> str:
    """The page without tags and attribute values: what a person reads."""
    return re.sub(r"<[^>]*>", " ", html)


def test_integrations_are_listed_alphabetically_ignoring_case(client_for: ClientFor, world: World) -> None:
    for name in ("Zabbix", "alertmanager prod", "Grafana prod"):
        make_integration(world, "webhook", name=name)
    page = client_for(world.alice).get(reverse("web:integration-list", args=[world.service_a.slug]))
    html = page.content.decode()
    text = html[html.index('<table class="table integrations">') :]
    positions = [text.index(name) for name in ("alertmanager prod", "Grafana prod", "Zabbix")]
    assert positions == sorted(positions), positions


def test_the_window_form_has_labels_and_help_not_api_names(client_for: ClientFor, world: World) -> None:
    page = client_for(world.alice).get(reverse("web:maintenance-list", args=[world.service_a.slug]))
    html = page.content.decode()
    form = html[html.index('id="new-window"') : html.index("</form>", html.index('id="new-window"'))]
    for label in ("Title", "Starts", "Ends", "Time zone", "Repeats", "Repeat until"):
        assert f">{label}" in form, label
    assert "Date and time in the chosen time zone." in form
    assert "For a repeating window only." in form
    assert not API_NAMES.search(_visible_text(form))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"ends_at": "2026-03-02T09:00"}, "ends_at", "The end must be after the start."),
        ({"repeat_until": "2026-03-09T09:00"}, "repeat_until", "Only for a repeating window"),
        (
            {"recurrence": "daily", "repeat_until": "2026-03-01T09:00"},
            "repeat_until",
            "Repeats must end after the first start.",
        ),
        ({"ends_at": "2027-12-02T09:00"}, "ends_at", "a maintenance window lasts at most 366 days"),
    ],
)
def test_a_refused_window_says_why_in_the_forms_words(
    client_for: ClientFor, world: World, fields: dict[str, str], field: str, message: str
) -> None:
    data = {
        "title": "Database upgrade",
        "starts_at": "2026-03-02T10:00",
        "ends_at": "2026-03-02T12:00",
        "recurrence": "none",
        **fields,
    }
    response = client_for(world.alice).post(
        reverse("web:maintenance-list", args=[world.service_a.slug]), data
    )
    assert response.status_code == 400
    html = response.content.decode()
    # the message sits with its field, and is the one the field's aria-describedby points to
    assert re.search(rf'id="id_{field}_error"[^>]*>\s*<p class="error"[^>]*>[^<]*{re.escape(message)}', html)
    assert not API_NAMES.search(_visible_text(html[html.index('id="new-window"') :]))
    assert not MaintenanceWindow.objects.exists()


def test_a_service_refusal_shown_on_the_form_names_its_labels() -> None:
    """What the view does with a refusal only the service knows about (``form_error``): it reads with the
    form's labels, as the service names the API's fields."""
    form = WindowForm(
        {"title": "x", "starts_at": "2026-03-02T10:00", "ends_at": "2026-03-02T12:00", "recurrence": "daily"}
    )
    assert form.is_valid()
    form_error(form, ValidationFailed("repeat_until must be after starts_at", field="repeat_until"))
    assert form.errors["repeat_until"] == ["“Repeat until” must be after “Starts”"]
