"""The "Profile" settings page: a person sets their display name and time zone, and from then on the console
shows times in that zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.web.conftest import ClientFor
from warroom.accounts.models import User
from warroom.audit.models import AuditEvent
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock

pytestmark = pytest.mark.django_db

URL = "/settings/profile/"
#: 15:04 UTC on 2 March 2026 is 09:04 in Chicago (CST, UTC-6) and 20:34 in Kolkata (IST, UTC+5:30)
OPENED = datetime(2026, 3, 2, 15, 4, tzinfo=UTC)


@pytest.fixture
def opened(world: World) -> Incident:
    with clock.frozen(OPENED):
        return incidents.declare_incident(
            actor=world.alice,
            source="test",
            title="Checkout is slow",
            team=world.team_a,
            services=[world.service_a],
        )


def test_the_page_is_linked_and_shows_the_current_values(client_for: ClientFor, world: World) -> None:
    bob = client_for(world.bob)
    assert reverse("web:profile") == URL
    assert f'href="{URL}"' in bob.get(reverse("web:incident-list")).content.decode()
    page = bob.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Bob Responder"' in html and "bob@example.com" in html
    assert re.search(r'<option value="UTC" selected>', html)
    assert '<option value="America/Chicago">' in html and '<option value="Europe/London">' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert " style=" not in html and "<style" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag and "nonce=" in tag


def test_saving_shows_a_message_and_the_times_follow_the_zone(
    client_for: ClientFor, world: World, opened: Incident
) -> None:
    bob = client_for(world.bob)
    detail = reverse("web:incident-detail", args=[opened.ref])
    assert "Mar 2, 15:04" in bob.get(detail).content.decode()  # UTC to begin with

    saved = bob.post(URL, {"full_name": "Bob from Chicago", "time_zone": "America/Chicago"}, follow=True)
    assert saved.redirect_chain == [(URL, 302)]
    html = saved.content.decode()
    assert "Profile saved. Times are shown in America/Chicago." in html
    assert re.search(r'<option value="America/Chicago" selected>', html)
    assert "Bob from Chicago" in html  # the sidebar says who is signed in
    bob_now = User.objects.get(pk=world.bob.pk)
    assert (bob_now.full_name, bob_now.time_zone) == ("Bob from Chicago", "America/Chicago")

    page = bob.get(detail).content.decode()
    assert "Mar 2, 09:04" in page and "Mar 2, 15:04" not in page
    listing = bob.get(reverse("web:incident-list")).content.decode()
    assert "2026-03-02 09:04 CST" in listing

    # alice kept UTC: the same incident, her own zone
    assert "Mar 2, 15:04" in client_for(world.alice).get(detail).content.decode()

    row = AuditEvent.objects.get(action="user.profile.update")
    assert (row.actor, row.source) == (world.bob, "web")
    assert row.after == {"full_name": "Bob from Chicago", "time_zone": "America/Chicago"}


def test_a_half_hour_zone(client_for: ClientFor, world: World, opened: Incident) -> None:
    bob = client_for(world.bob)
    assert bob.post(URL, {"full_name": "Bob Responder", "time_zone": "Asia/Kolkata"}).status_code == 302
    page = bob.get(reverse("web:incident-detail", args=[opened.ref])).content.decode()
    assert "Mar 2, 20:34" in page


def test_an_unknown_zone_is_shown_next_to_the_field_and_nothing_changes(
    client_for: ClientFor, world: World
) -> None:
    bob = client_for(world.bob)
    for zone in ["Mars/Olympus", "localtime", "../../etc/passwd", ""]:
        refused = bob.post(URL, {"full_name": "Not saved", "time_zone": zone})
        assert refused.status_code == 400, zone
        html = refused.content.decode()
        field = html.split('for="id_time_zone"', 1)[0].rsplit('<div class="field', 1)[1]
        assert field.startswith(" has-error"), zone
        assert 'class="error" role="alert"' in html.split('for="id_time_zone"', 1)[1].split("</div>", 1)[0]
        assert 'value="Not saved"' in html  # what was typed is kept
    too_long = bob.post(URL, {"full_name": "x" * 151, "time_zone": "UTC"})
    assert too_long.status_code == 400
    bob_now = User.objects.get(pk=world.bob.pk)
    assert (bob_now.full_name, bob_now.time_zone) == ("Bob Responder", "UTC")
    assert not AuditEvent.objects.filter(action="user.profile.update").exists()


def test_a_zone_set_through_the_api_outside_the_list_still_shows(client_for: ClientFor, world: World) -> None:
    User.objects.filter(pk=world.bob.pk).update(time_zone="EST")
    html = client_for(world.bob).get(URL).content.decode()
    assert '<option value="EST" selected>' in html


def test_each_person_changes_only_their_own_profile(client_for: ClientFor, world: World) -> None:
    """The page has no way to name another person: charlie's POST changes charlie."""
    assert (
        client_for(world.charlie).post(URL, {"full_name": "C", "time_zone": "Europe/London"}).status_code
        == 302
    )
    assert User.objects.get(pk=world.charlie.pk).time_zone == "Europe/London"
    assert set(User.objects.exclude(pk=world.charlie.pk).values_list("time_zone", flat=True)) == {"UTC"}


def test_get_never_writes_and_post_needs_csrf(world: World, client: Client) -> None:
    assert client.get(URL).status_code == 302  # sign in first
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.bob)
    before = AuditEvent.objects.count()
    assert strict.get(URL).status_code == 200
    assert strict.post(URL, {"full_name": "No token", "time_zone": "Europe/London"}).status_code == 403
    assert AuditEvent.objects.count() == before
    assert User.objects.get(pk=world.bob.pk).time_zone == "UTC"
