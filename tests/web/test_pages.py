"""Every console page renders for alice; anonymous visitors are sent to sign in; GET never writes."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, World
from tests.web.conftest import ClientFor
from warroom.audit.models import AuditEvent
from warroom.incidents import services
from warroom.incidents.models import Incident, TimelineEntry


def _pages(world: World, incident: Incident) -> list[str]:
    return [
        reverse("web:incident-list"),
        reverse("web:incident-list") + "?state=all&priority=2&assignee=none&q=checkout",
        reverse("web:incident-declare"),
        reverse("web:incident-priority-preview") + "?impact=1&urgency=1",
        reverse("web:incident-detail", args=[incident.ref]),
        reverse("web:incident-timeline", args=[incident.ref]),
        reverse("web:service-list"),
        reverse("web:service-detail", args=[world.service_a.slug]),
        reverse("web:team-list"),
        reverse("web:team-detail", args=[world.team_a.slug]),
        reverse("web:token-list"),
        reverse("web:priority-matrix"),
    ]


@pytest.mark.django_db
def test_every_page_renders_for_alice(alice: Client, world: World, incident: Incident) -> None:
    for url in _pages(world, incident):
        response = alice.get(url)
        assert response.status_code == 200, url
        assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_pages_show_their_content(alice: Client, world: World, incident: Incident) -> None:
    listing = alice.get(reverse("web:incident-list")).content.decode()
    assert incident.ref in listing and "Checkout returns 502" in listing and "P2" in listing
    detail = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert "<strong>4.2.1</strong>" in detail  # the description went through the markdown renderer
    assert "Declared: Checkout returns 502" in detail  # the timeline
    assert 'name="version" value="1"' in detail
    preview = alice.get(reverse("web:incident-priority-preview") + "?impact=1&urgency=1").content.decode()
    assert "P1" in preview and "Critical" in preview
    services = alice.get(reverse("web:service-list")).content.decode()
    assert "Checkout" in services and "1 open" in services
    team = alice.get(reverse("web:team-detail", args=[world.team_a.slug])).content.decode()
    assert "Bob Responder" in team and "Dave Observer" in team


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, world: World, incident: Incident) -> None:
    for url in _pages(world, incident):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("web:login"))
    assert client.get(reverse("web:login")).status_code == 200


@pytest.mark.django_db
def test_sign_in_and_out(client: Client, world: World) -> None:
    bad = client.post(reverse("web:login"), {"username": "alice@example.com", "password": "wrong"})
    assert bad.status_code == 200
    assert "do not match an active account" in bad.content.decode()
    good = client.post(reverse("web:login"), {"username": "alice@example.com", "password": PASSWORD})
    assert good.status_code == 302
    assert client.get(reverse("web:incident-list")).status_code == 200
    assert client.get(reverse("web:logout")).status_code == 405  # signing out is a POST
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get(reverse("web:incident-list")).status_code == 302


@pytest.mark.django_db
def test_home_redirects_to_the_incident_list(alice: Client) -> None:
    response = alice.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("web:incident-list")


@pytest.mark.django_db
def test_friendly_404_page(alice: Client) -> None:
    response = alice.get(reverse("web:incident-detail", args=["INC9999999"]))
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()
    assert alice.get("/no/such/page/").status_code == 404


def test_500_template_renders_without_a_request() -> None:
    html = render_to_string("500.html")
    assert "Something went wrong" in html


@pytest.mark.django_db
def test_get_never_changes_state(alice: Client, world: World, incident: Incident) -> None:
    before = (TimelineEntry.objects.count(), AuditEvent.objects.count(), incident.version)
    for url in _pages(world, incident):
        alice.get(url)
    actions = ["edit", "transition", "note", "role", "task-add", "watch", "relate"]
    for action in actions:
        response = alice.get(reverse(f"web:incident-{action}", args=[incident.ref]))
        assert response.status_code == 405, action
    for url in [
        reverse("web:team-member-add", args=[world.team_a.slug]),
        reverse("web:team-member-remove", args=[world.team_a.slug, world.bob.pk]),
        reverse("web:team-member-role", args=[world.team_a.slug, world.bob.pk]),
        reverse("web:token-revoke", args=[1]),
    ]:
        assert alice.get(url).status_code == 405, url
    incident.refresh_from_db()
    assert (TimelineEntry.objects.count(), AuditEvent.objects.count(), incident.version) == before


@pytest.mark.django_db
def test_every_post_needs_the_csrf_token(world: World, incident: Incident) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.alice)
    page = strict.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    match = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page)
    assert match, "the body carries the CSRF header for htmx"
    url = reverse("web:incident-note", args=[incident.ref])
    assert strict.post(url, {"text": "no token"}).status_code == 403
    assert (
        strict.post(url, {"text": "with token"}, headers={"X-CSRFToken": match.group(1)}).status_code == 302
    )
    assert TimelineEntry.objects.filter(message="with token").exists()
    assert not TimelineEntry.objects.filter(message="no token").exists()


@pytest.mark.django_db
def test_pages_carry_no_inline_script_or_style(alice: Client, world: World, incident: Incident) -> None:
    """CSP allows scripts from 'self' with the nonce and styles from 'self' only."""
    for url in _pages(world, incident):
        html = alice.get(url).content.decode()
        assert " style=" not in html, url
        assert "<style" not in html, url
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag and "nonce=" in tag, (url, tag)


@pytest.mark.django_db
def test_list_filters(client_for: ClientFor, world: World, incident: Incident) -> None:
    other = services.declare_incident(
        actor=world.alice, source="test", title="Slow search", team=world.team_a, impact=3, urgency=3
    )
    services.update_incident(incident=other, actor=world.alice, source="test", assignee=world.bob)
    alice = client_for(world.alice)
    url = reverse("web:incident-list")

    def refs(query: str) -> set[str]:
        html = alice.get(url + query).content.decode()
        return set(re.findall(r'class="ref" href="[^"]+">(INC\d+)<', html))

    assert refs("") == {incident.ref, other.ref}
    assert refs("?priority=5") == {other.ref}
    assert refs("?assignee=none") == {incident.ref}
    assert refs(f"?assignee={world.bob.pk}") == {other.ref}
    assert refs("?q=502") == {incident.ref}
    assert refs(f"?q={incident.ref}") == {incident.ref}
    assert refs(f"?service={world.service_a.slug}") == {incident.ref}
    assert refs("?state=resolved") == set()
    assert refs("?state=all&team=team-a") == {incident.ref, other.ref}
    assert refs("?priority=banana&state=nonsense&page=zz") == {incident.ref, other.ref}  # ignored, not a 500


@pytest.mark.django_db
def test_list_htmx_refresh_returns_only_the_results(alice: Client, incident: Incident) -> None:
    response = alice.get(
        reverse("web:incident-list") + "?q=502", headers={"HX-Request": "true", "HX-Target": "results"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html and incident.ref in html
    assert 'hx-trigger="every 15s"' in html


@pytest.mark.django_db
def test_list_paginates(alice: Client, world: World) -> None:
    for n in range(30):
        services.declare_incident(actor=world.alice, source="test", title=f"Disk full {n}", team=world.team_a)
    first = alice.get(reverse("web:incident-list")).content.decode()
    assert "Page 1 of 2" in first and "Disk full 29" in first and "Disk full 0<" not in first
    second = alice.get(reverse("web:incident-list") + "?page=2").content.decode()
    assert "Page 2 of 2" in second and "Disk full 0" in second


def test_the_incident_page_says_which_zone_its_times_are_in(
    client_for: ClientFor, world: World, incident: Incident
) -> None:
    """Times show in the reader's zone, and the page says which: Times, Timeline and SLA name it."""
    world.bob.time_zone = "America/Chicago"
    world.bob.save(update_fields=["time_zone"])
    html = client_for(world.bob).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    times = re.search(r'<h2>Times</h2><span class="muted small">in <span class="zone">([^<]+)</span>', html)
    assert times is not None and times.group(1) == "America/Chicago"
    assert 'live · times in <span class="zone">America/Chicago</span>' in html
    opened = incident.opened_at.astimezone(ZoneInfo("America/Chicago"))
    assert f"<dt>Opened</dt><dd>{opened:%b} {opened.day}, {opened:%H:%M}</dd>" in html


def test_the_resolve_form_warns_of_open_tasks_and_no_assignee(
    alice: Client, world: World, incident: Incident
) -> None:
    services.add_task(incident=incident, actor=world.alice, source="test", title="Roll back 4.2.1")
    services.add_task(incident=incident, actor=world.alice, source="test", title="Tell support")
    services.transition_incident(incident=incident, actor=world.alice, source="test", to="in_progress")
    html = " ".join(alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode().split())
    assert "2 tasks still open: they stay open after the incident is resolved." in html
    assert "Nobody is assigned: the resolution will have no owner." in html

    done = Incident.objects.get(pk=incident.pk)
    for task in done.tasks.all():
        services.update_task(task=task, actor=world.alice, source="test", done=True)
    services.update_incident(incident=done, actor=world.alice, source="test", assignee=world.bob)
    html = alice.get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert 'id="resolve-warning"' not in html
