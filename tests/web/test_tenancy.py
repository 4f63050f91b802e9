"""The tenancy matrix on every team-owned page: alice and bob (Team A) see Team A's incident, service and team
pages; charlie (Team B) gets the 404 page, for reads and writes alike; dave (observer in A) sees everything but
gets no action buttons, and a POST from him is a 403 page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.urls import reverse

from tests.conftest import World
from tests.web.conftest import ClientFor
from warroom.audit.models import AuditEvent
from warroom.incidents import services
from warroom.incidents.models import Incident, Task, TimelineEntry

Pages = Callable[[World, Incident], list[str]]


def _team_a_pages(world: World, incident: Incident) -> list[str]:
    return [
        reverse("web:incident-detail", args=[incident.ref]),
        reverse("web:incident-timeline", args=[incident.ref]),
        reverse("web:service-detail", args=[world.service_a.slug]),
        reverse("web:team-detail", args=[world.team_a.slug]),
    ]


def _actions(world: World, incident: Incident, task: Task) -> list[tuple[str, dict[str, object]]]:
    ref = incident.ref
    incident.refresh_from_db()
    return [
        (
            reverse("web:incident-edit", args=[ref]),
            {
                "title": "hijacked",
                "team": world.team_a.pk,
                "impact": 1,
                "urgency": 1,
                "version": incident.version,
            },
        ),
        (reverse("web:incident-transition", args=[ref]), {"to": "canceled", "version": incident.version}),
        (reverse("web:incident-note", args=[ref]), {"text": "hello"}),
        (reverse("web:incident-role", args=[ref]), {"role": "incident-commander", "action": "claim"}),
        (reverse("web:incident-task-add", args=[ref]), {"title": "do a thing"}),
        (reverse("web:incident-task-update", args=[ref, task.pk]), {"done": "1"}),
        (reverse("web:incident-relate", args=[ref]), {"ref": task.title.split()[-1], "action": "link"}),
    ]


@pytest.fixture
def task(world: World, incident: Incident) -> Task:
    """A task on the incident, named after a second Team A incident (the target of the "relate" action)."""
    other = services.declare_incident(
        actor=world.alice, source="test", title="Slow search", team=world.team_a
    )
    return services.add_task(
        incident=incident, actor=world.alice, source="test", title=f"Roll back {other.ref}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "bob", "dave", "olivia"])
def test_team_a_people_see_team_a_pages(
    client_for: ClientFor, world: World, incident: Incident, who: str
) -> None:
    client = client_for(getattr(world, who))
    for url in _team_a_pages(world, incident):
        assert client.get(url).status_code == 200, (who, url)
    listing = client.get(reverse("web:incident-list")).content.decode()
    assert incident.ref in listing


@pytest.mark.django_db
def test_charlie_gets_404_on_every_team_a_page(
    client_for: ClientFor, world: World, incident: Incident
) -> None:
    charlie = client_for(world.charlie)
    for url in _team_a_pages(world, incident):
        response = charlie.get(url)
        assert response.status_code == 404, url
        html = response.content.decode()
        assert "Nothing here" in html and incident.title not in html

    # ... and the same page as for something that does not exist at all
    def normalised(ref: str) -> str:
        html = charlie.get(reverse("web:incident-detail", args=[ref])).content.decode()
        return re.sub(r'(nonce="|X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', "", html).replace(
            ref, "REF"
        )

    assert normalised("INC0999999") == normalised(incident.ref)
    lists = [
        charlie.get(reverse("web:incident-list") + "?state=all").content.decode(),
        charlie.get(reverse("web:service-list")).content.decode(),
        charlie.get(reverse("web:team-list")).content.decode(),
    ]
    assert all(incident.ref not in html and "Checkout" not in html and "Team A" not in html for html in lists)


@pytest.mark.django_db
def test_charlie_gets_404_on_every_team_a_action(
    client_for: ClientFor, world: World, incident: Incident, task: Task
) -> None:
    charlie = client_for(world.charlie)
    before = (TimelineEntry.objects.count(), AuditEvent.objects.count())
    for url, data in _actions(world, incident, task):
        assert charlie.post(url, data).status_code == 404, url
    for url in [
        reverse("web:team-member-add", args=[world.team_a.slug]),
        reverse("web:team-member-remove", args=[world.team_a.slug, world.bob.pk]),
        reverse("web:team-member-role", args=[world.team_a.slug, world.bob.pk]),
    ]:
        assert charlie.post(url, {"email": "charlie@example.com", "role": "admin"}).status_code == 404, url
    assert (TimelineEntry.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_charlie_cannot_link_to_a_team_a_incident(
    client_for: ClientFor, world: World, incident: Incident
) -> None:
    own = services.declare_incident(
        actor=world.charlie, source="test", title="Invoices late", team=world.team_b
    )
    response = client_for(world.charlie).post(
        reverse("web:incident-relate", args=[own.ref]), {"ref": incident.ref, "action": "link"}
    )
    assert response.status_code == 400
    assert f"incident {incident.ref} not found" in response.content.decode()
    assert not own.related.exists()


ACTION_MARKERS = [
    "Edit fields",
    "Start work",
    "Put on hold…",
    "Resolve…",
    "Add note",
    "Add task",
    "Claim",
    'action="/incidents/',  # no form posts anywhere but the watch button
]


@pytest.mark.django_db
def test_dave_sees_the_incident_read_only(
    client_for: ClientFor, world: World, incident: Incident, task: Task
) -> None:
    html = client_for(world.dave).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
    assert incident.title in html and "Roll back" in html and "Declared:" in html
    without_watch = html.replace(f'action="{reverse("web:incident-watch", args=[incident.ref])}"', "")
    for marker in ACTION_MARKERS:
        assert marker not in without_watch, marker
    team = client_for(world.dave).get(reverse("web:team-detail", args=[world.team_a.slug])).content.decode()
    assert "Add member" not in team and "Remove" not in team


@pytest.mark.django_db
def test_dave_posting_anyway_gets_a_403_page(
    client_for: ClientFor, world: World, incident: Incident, task: Task
) -> None:
    dave = client_for(world.dave)
    incident.refresh_from_db()
    before = (TimelineEntry.objects.count(), AuditEvent.objects.count(), incident.version)
    for url, data in _actions(world, incident, task):
        response = dave.post(url, data)
        assert response.status_code == 403, url
        html = response.content.decode()
        assert "Not allowed" in html and "but not" in html, url
    incident.refresh_from_db()
    assert (TimelineEntry.objects.count(), AuditEvent.objects.count(), incident.version) == before


@pytest.mark.django_db
def test_dave_403_over_htmx_lands_in_the_flash_area(
    client_for: ClientFor, world: World, incident: Incident
) -> None:
    response = client_for(world.dave).post(
        reverse("web:incident-transition", args=[incident.ref]),
        {"to": "canceled", "version": incident.version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#flash"
    assert "but not change it" in response.content.decode()


@pytest.mark.django_db
def test_private_incident_is_a_404_for_a_plain_member(client_for: ClientFor, world: World) -> None:
    secret = services.declare_incident(
        actor=world.alice, source="test", title="Leaked credentials", team=world.team_a, is_private=True
    )
    url = reverse("web:incident-detail", args=[secret.ref])
    assert client_for(world.alice).get(url).status_code == 200
    assert client_for(world.bob).get(url).status_code == 404
    assert client_for(world.olivia).get(url).status_code == 200
    assert secret.ref not in client_for(world.bob).get(reverse("web:incident-list")).content.decode()
