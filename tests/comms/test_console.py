"""The console: the "Updates" card of the incident page (post, template pre-fill, badges, delivery counts,
follow the incident), an update's deliveries, the Subscriptions page and the update templates page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from django.test import Client
from django.urls import reverse

from tests.comms.conftest import deliver, https_url
from tests.conftest import World
from tests.notify.receivers import Inbox, Receiver
from warroom.accounts.models import User
from warroom.comms import services
from warroom.comms.models import StatusUpdate, Subscription, UpdateTemplate
from warroom.comms.selectors import BUILTIN_TEMPLATES
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident, TimelineEntry

ClientFor = Callable[[User], Client]
HTMX = {"HX-Request": "true"}


def page(client: Client, incident: Incident, query: str = "") -> str:
    response = client.get(reverse("web:incident-detail", args=[incident.ref]) + query)
    assert response.status_code == 200
    return response.content.decode()


def card(html: str) -> str:
    start = html.index('id="incident-updates"')
    return html[start : html.index("</section>", start)]


def selected(html: str, name: str) -> str:
    block = html[html.index(f'name="{name}"') :]
    found = re.search(r'<option value="([^"]*)" selected>', block[: block.index("</select>")])
    assert found is not None
    return found.group(1)


def message_field(html: str) -> str:
    found = re.search(r'<textarea name="message"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert found is not None
    return found.group(1)


def test_the_card_offers_a_form_pre_filled_with_the_default_template(
    world: World, incident: Incident, client_for: ClientFor
) -> None:
    html = card(page(client_for(world.bob), incident))
    assert selected(html, "status") == "investigating"
    assert message_field(html).startswith(BUILTIN_TEMPLATES["investigating"][:40])
    assert "<script" not in html and "style=" not in html  # strict CSP: no inline script or style


def test_a_template_picked_by_get_pre_fills_the_form_without_javascript(
    world: World, incident: Incident, client_for: ClientFor
) -> None:
    template = services.create_update_template(
        team=world.team_a,
        status="identified",
        name="Bad deploy",
        body="A bad deploy; rolling back.",
        actor=world.alice,
        source="web",
    )
    client = client_for(world.bob)
    html = card(page(client, incident, f"?update_template={template.pk}"))
    assert selected(html, "status") == "identified"
    assert message_field(html) == "A bad deploy; rolling back."
    partial = client.get(
        reverse("comms-update-form", args=[incident.ref]) + "?update_template=builtin:monitoring",
        headers=HTMX,
    )
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith("<section") and "<html" not in body
    assert selected(body, "status") == "monitoring"
    assert message_field(body) == BUILTIN_TEMPLATES["monitoring"]


def test_a_resolved_incident_defaults_to_a_resolved_update(
    world: World, incident: Incident, client_for: ClientFor
) -> None:
    incidents.transition_incident(
        incident=incident,
        actor=world.alice,
        source="web",
        to="resolved",
        resolution_code="workaround",
        resolution_notes="Restarted.",
    )
    html = card(page(client_for(world.bob), incident))
    assert selected(html, "status") == "resolved"
    assert message_field(html) == BUILTIN_TEMPLATES["resolved"]


def test_posting_an_update_from_the_page(
    world: World, incident: Incident, client_for: ClientFor, smtp: Inbox, frozen: datetime
) -> None:
    services.create_subscription(
        kind="email", address="ops@example.com", team=world.team_a, actor=world.bob, source="web"
    )
    client = client_for(world.bob)
    response = client.post(
        reverse("comms-update-post", args=[incident.ref]),
        {"status": "identified", "audience": "both", "message": "Found it: a bad certificate."},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:incident-detail", args=[incident.ref]) + "#incident-updates"
    html = page(client, incident)
    assert "Identified update posted; 1 subscriber will be told." in html
    updates = card(html)
    assert "Found it: a bad certificate." in updates and "Internal and public" in updates
    assert "0/1 delivered · 1 pending" in updates
    assert "Update posted: Identified, internal and public" in html  # the timeline
    deliver()
    assert "1/1 delivered" in card(page(client, incident))


def test_posting_with_htmx_swaps_the_card_and_bad_input_stays_in_the_form(
    world: World, incident: Incident, client_for: ClientFor
) -> None:
    client = client_for(world.alice)
    url = reverse("comms-update-post", args=[incident.ref])
    bad = client.post(url, {"status": "identified", "audience": "internal", "message": "  "}, headers=HTMX)
    assert bad.status_code == 400
    assert "This field is required." in bad.content.decode()
    bad_component = client.post(
        url,
        {"status": "identified", "audience": "internal", "message": "x", "components": ["77"]},
        headers=HTMX,
    )
    assert bad_component.status_code == 400
    assert "Select a valid choice" in bad_component.content.decode()
    assert StatusUpdate.objects.count() == 0
    good = client.post(
        url, {"status": "monitoring", "audience": "internal", "message": "Watching."}, headers=HTMX
    )
    assert good.status_code == 200
    body = good.content.decode()
    assert 'id="incident-updates"' in body and "Watching." in body and "Monitoring update posted." in body


def test_a_private_incident_refuses_a_public_update_in_the_form(world: World, client_for: ClientFor) -> None:
    secret = incidents.declare_incident(
        actor=world.alice, source="web", title="Breach", team=world.team_a, is_private=True
    )
    response = client_for(world.alice).post(
        reverse("comms-update-post", args=[secret.ref]),
        {"status": "investigating", "audience": "public", "message": "Hello world"},
    )
    assert response.status_code == 400
    assert "is private: its updates are internal only" in response.content.decode()
    assert not TimelineEntry.objects.filter(field="status_update").exists()


def test_other_teams_get_404_and_observers_read_only(
    world: World, incident: Incident, client_for: ClientFor
) -> None:
    update = services.post_update(
        incident=incident,
        status="investigating",
        message="Hi",
        audience="internal",
        actor=world.alice,
        source="web",
    )
    charlie = client_for(world.charlie)
    assert charlie.get(reverse("web:incident-detail", args=[incident.ref])).status_code == 404
    assert charlie.get(reverse("comms-update-form", args=[incident.ref])).status_code == 404
    assert charlie.get(reverse("comms-update-detail", args=[incident.ref, update.pk])).status_code == 404
    post = {"status": "investigating", "audience": "internal", "message": "x"}
    assert charlie.post(reverse("comms-update-post", args=[incident.ref]), post).status_code == 404
    dave = client_for(world.dave)
    html = card(page(dave, incident))
    assert "Hi" in html and 'name="message"' not in html
    assert dave.post(reverse("comms-update-post", args=[incident.ref]), post).status_code == 403
    assert StatusUpdate.objects.count() == 1


def test_the_deliveries_of_an_update(
    world: World,
    incident: Incident,
    client_for: ClientFor,
    smtp: Inbox,
    https_receiver: Receiver,
    frozen: datetime,
) -> None:
    services.create_subscription(
        kind="email", address="ops@example.com", incident=incident, actor=world.bob, source="web"
    )
    services.create_subscription(
        kind="webhook",
        address=https_url(https_receiver, "/secret-path"),
        team=world.team_a,
        actor=world.bob,
        source="web",
    )
    update = services.post_update(
        incident=incident,
        status="investigating",
        message="Hi",
        audience="internal",
        actor=world.alice,
        source="web",
    )
    deliver()
    html = (
        client_for(world.dave)
        .get(reverse("comms-update-detail", args=[incident.ref, update.pk]))
        .content.decode()
    )
    assert "ops@example.com" in html
    assert f"https://127.0.0.1:{https_receiver.port}/…" in html and "secret-path" not in html
    assert html.count(">Sent<") == 2


def test_subscriptions_page_webhook_secret_shown_once_then_delete(
    world: World, client_for: ClientFor, https_receiver: Receiver
) -> None:
    client = client_for(world.bob)
    url = https_url(https_receiver)
    response = client.post(
        reverse("comms-subscription-create"), {"kind": "webhook", "address": url, "team": world.team_a.pk}
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    subscription = Subscription.objects.get()
    secret = subscription.secret["signing_secret"]
    assert secret in response.content.decode()
    again = client.get(reverse("comms-subscriptions")).content.decode()
    assert url in again and secret not in again
    duplicate = client.post(
        reverse("comms-subscription-create"), {"kind": "webhook", "address": url, "team": world.team_a.pk}
    )
    assert duplicate.status_code == 409
    assert "already follows this team" in duplicate.content.decode()
    deleted = client.post(reverse("comms-subscription-delete", args=[subscription.pk]))
    assert deleted.status_code == 302 and not Subscription.objects.exists()


def test_following_an_incident_from_its_page(
    world: World, incident: Incident, client_for: ClientFor, smtp: Inbox
) -> None:
    client = client_for(world.bob)
    response = client.post(
        reverse("comms-subscription-create"),
        {"kind": "email", "address": "me@example.com", "incident": incident.ref},
    )
    assert response.status_code == 302
    html = card(page(client, incident))
    assert "Follow this incident (1)" in html and "me@example.com" in html
    refused = client_for(world.charlie).post(
        reverse("comms-subscription-create"),
        {"kind": "email", "address": "c@example.com", "incident": incident.ref},
    )
    assert refused.status_code == 404
    assert f"incident {incident.ref} not found" in refused.content.decode()
    bad = client.post(
        reverse("comms-subscription-create"), {"kind": "email", "address": "nope", "incident": incident.ref}
    )
    assert bad.status_code == 400 and "is not an email address" in bad.content.decode()
    assert Subscription.objects.count() == 1


def test_team_admins_manage_their_templates_on_the_templates_page(
    world: World, client_for: ClientFor
) -> None:
    alice = client_for(world.alice)
    made = alice.post(
        reverse("comms-template-create"),
        {"team": world.team_a.pk, "status": "investigating", "name": "DB", "body": "The database is slow."},
    )
    assert made.status_code == 302
    template = UpdateTemplate.objects.get()
    bob_view = client_for(world.bob).get(reverse("comms-templates")).content.decode()
    assert "The database is slow." in bob_view
    assert reverse("comms-template-delete", args=[template.pk]) not in bob_view
    assert client_for(world.bob).post(reverse("comms-template-delete", args=[template.pk])).status_code == 403
    assert (
        client_for(world.charlie).post(reverse("comms-template-delete", args=[template.pk])).status_code
        == 404
    )
    edited = alice.post(
        reverse("comms-template-edit", args=[template.pk]),
        {
            f"t{template.pk}-status": "investigating",
            f"t{template.pk}-name": "DB",
            f"t{template.pk}-body": "Slow DB.",
        },
    )
    assert edited.status_code == 302
    template.refresh_from_db()
    assert template.body == "Slow DB."
    duplicate = alice.post(
        reverse("comms-template-create"),
        {"team": world.team_a.pk, "status": "investigating", "name": "DB", "body": "Again."},
    )
    assert duplicate.status_code == 409
    assert alice.post(reverse("comms-template-delete", args=[template.pk])).status_code == 302
    assert not UpdateTemplate.objects.exists()
