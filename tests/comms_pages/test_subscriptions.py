"""Subscribing to a page: email with double opt-in (a real SMTP inbox receives the confirmation; its link lands
on a page whose POST confirms), one-click unsubscribe (RFC 8058 POST, no cookie), signed webhooks received by a
real HTTP server, and bad input answered with clear 4xx."""

from __future__ import annotations

import re
from email.message import Message

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from tests.comms_pages.conftest import (
    Site,
    declare,
    deliver,
    deliveries,
    echoing,
    is_challenge,
    post,
    verify_signature,
)
from tests.conftest import World
from tests.notify.receivers import Inbox, Receiver, text
from warroom.audit.models import AuditEvent
from warroom.comms import page_services as pages
from warroom.comms.models import Delivery, PageSubscriber
from warroom.lib.errors import ValidationFailed

pytestmark = pytest.mark.django_db

INTERNAL = "Internal only: the vendor's SLA is breached"


def body_of(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def link_in(mail: Message, word: str) -> str:
    found = re.search(rf"{word}: (http\S+)", body_of(mail))
    assert found, body_of(mail)
    return found.group(1).replace("http://testserver", "").replace("http://localhost:8000", "")


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_email_double_opt_in_updates_and_one_click_unsubscribe(world: World, site: Site, smtp: Inbox) -> None:
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/status/acme/subscribe/")
    assert form.status_code == 200
    token = form.cookies["csrftoken"].value
    response = browser.post(
        "/status/acme/subscribe/",
        {"kind": "email", "email": "Pat@Example.COM", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 201
    assert "Check your inbox" in response.content.decode()
    sub = PageSubscriber.objects.get()
    assert sub.address == "Pat@example.com" and sub.confirmed_at is None

    # An update before confirming reaches nobody.
    incident = declare(world, title="Checkout failing")
    post(world, incident, "First public word.", components=[site.checkout])
    deliver()
    assert len(smtp.emails) == 1  # only the confirmation
    confirmation = smtp.emails[0]
    assert confirmation["To"] == "Pat@example.com"
    assert "Confirm your subscription" in confirmation["Subject"]
    confirm = path_of(re.search(r"Confirm: (\S+)", body_of(confirmation)).group(1))  # type: ignore[union-attr]

    # Following the link shows a button; nothing changes on GET (mail scanners follow links).
    landing = browser.get(confirm)
    assert landing.status_code == 200 and "Confirm subscription" in landing.content.decode()
    assert PageSubscriber.objects.get().confirmed_at is None
    confirmed = browser.post(confirm, {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.content.decode()
    assert PageSubscriber.objects.get().confirmed_at is not None

    # Now public updates arrive, internal ones never.
    post(world, incident, INTERNAL, audience="internal")
    post(world, incident, "A fix is rolling out.", status="identified", components=[site.checkout])
    deliver()
    assert len(smtp.emails) == 2
    update = smtp.emails[1]
    assert "Acme" in update["Subject"] and "Checkout failing" in update["Subject"]
    text = body_of(update)
    assert "A fix is rolling out." in text and INTERNAL not in text
    unsubscribe = path_of(re.search(r"Unsubscribe: (\S+)", text).group(1))  # type: ignore[union-attr]
    # the mail client's own unsubscribe button (RFC 8058) points at the same link
    assert path_of(update["List-Unsubscribe"].strip("<>")) == unsubscribe
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "because this address follows it" in text

    # The unsubscribe link lands on a page; a mail client's one-click POST (no cookie, no CSRF token) works.
    assert Client().get(unsubscribe).status_code == 200
    assert PageSubscriber.objects.exists()
    one_click = Client(enforce_csrf_checks=True).post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200
    assert not PageSubscriber.objects.exists()
    post(world, incident, "Resolved.", status="resolved", components=[site.checkout])
    deliver()
    assert len(smtp.emails) == 2


def test_webhook_subscribers_receive_signed_updates(world: World, site: Site, hooks: Receiver) -> None:
    response = Client().post(
        "/status/acme/subscribe/", {"kind": "webhook", "url": hooks.url("/hooks/status")}
    )
    assert response.status_code == 201
    assert "answered the challenge" in response.content.decode()
    secret = re.search(r'id="signing-secret">([^<]+)<', response.content.decode()).group(1)  # type: ignore[union-attr]
    assert [is_challenge(r) for r in hooks.requests] == [True]  # the endpoint proved it wants the updates
    incident = declare(world, title="Checkout failing")
    update = post(
        world, incident, "Investigating.", components=[site.checkout], component_status="major_outage"
    )
    post(world, incident, INTERNAL, audience="internal")
    deliver()
    assert len(deliveries(hooks)) == 1
    request = deliveries(hooks)[0]
    assert request.path == "/hooks/status"
    assert verify_signature(request, secret)
    assert not verify_signature(request, "whsec_not-the-secret")
    document = request.json()
    context = document["context"]
    assert context["event"] == "incident.update"
    assert context["update"]["message"] == "Investigating." and context["update"]["id"] == update.pk
    assert context["update"]["component_status"] == "major_outage"
    assert context["components"] == [site.checkout.pk]
    assert INTERNAL not in request.body.decode()


def test_each_update_reaches_each_subscriber_once(world: World, site: Site, hooks: Receiver) -> None:
    result = pages.subscribe(page=site.page, kind="webhook", address=hooks.url("/a"), source="test")
    incident = declare(world)
    update = post(world, incident, "Investigating.", components=[site.checkout, site.api])
    assert pages.publish_update(update=update, at=update.created_at) == 1  # runs again: nothing new queued
    assert Delivery.objects.filter(address=result.subscriber.address, update=update).count() == 1


def test_a_webhook_that_answers_410_gone_is_unsubscribed(world: World, site: Site, hooks: Receiver) -> None:
    """410 Gone says the endpoint is deleted for good: the subscriber is removed (audited), so the next update
    does not call it again; other subscribers are untouched."""
    gone = pages.subscribe(page=site.page, kind="webhook", address=hooks.url("/gone"), source="test")
    kept = pages.subscribe(page=site.page, kind="webhook", address=hooks.url("/kept"), source="test")
    hooks.respond = echoing(
        lambda request: text(410, "hook deleted") if request.path == "/gone" else text(200)
    )
    incident = declare(world)
    post(world, incident, "Investigating.", components=[site.checkout])
    deliver()
    failed = Delivery.objects.get(address=hooks.url("/gone"))
    assert failed.status == "failed" and "410" in failed.last_error
    assert not PageSubscriber.objects.filter(pk=gone.subscriber.pk).exists()
    assert PageSubscriber.objects.filter(pk=kept.subscriber.pk).exists()
    removal = AuditEvent.objects.get(action="statuspage.subscriber.remove", object_id=str(gone.subscriber.pk))
    assert removal.source == "engine" and failed.delivery_id in removal.after["reason"]

    post(world, incident, "Fixed.", status="resolved", components=[site.checkout])
    deliver()
    assert sorted(r.path for r in deliveries(hooks)) == ["/gone", "/kept", "/kept"]


def test_component_filters(world: World, site: Site, hooks: Receiver) -> None:
    only_cdn = pages.subscribe(
        page=site.page, kind="webhook", address=hooks.url("/cdn"), components=[site.cdn], source="test"
    ).subscriber
    everything = pages.subscribe(
        page=site.page, kind="webhook", address=hooks.url("/all"), source="test"
    ).subscriber
    incident = declare(world)
    update = post(world, incident, "Checkout only.", components=[site.checkout])
    assert not Delivery.objects.filter(update=update, address=only_cdn.address).exists()
    assert Delivery.objects.filter(update=update, address=everything.address).exists()


def test_an_update_without_components_reaches_the_pages_of_the_incident_services(
    world: World, site: Site, hooks: Receiver
) -> None:
    sub = pages.subscribe(page=site.page, kind="webhook", address=hooks.url("/x"), source="test").subscriber
    incident = declare(world)  # on Checkout, linked to the Checkout component
    update = post(world, incident, "No components named.")
    assert Delivery.objects.filter(update=update, address=sub.address).count() == 1


@pytest.mark.parametrize("address", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
def test_bad_emails_are_400_naming_the_field(world: World, site: Site, smtp: Inbox, address: str) -> None:
    response = Client().post("/status/acme/subscribe/", {"kind": "email", "email": address})
    assert response.status_code == 400
    assert 'class="sp-error"' in response.content.decode()
    with pytest.raises(ValidationFailed) as caught:
        pages.subscribe(page=site.page, kind="email", address=address, source="test")
    assert caught.value.field == "email"
    assert not PageSubscriber.objects.exists()


def test_duplicate_subscriptions_are_409(world: World, site: Site, smtp: Inbox, hooks: Receiver) -> None:
    first = Client().post("/status/acme/subscribe/", {"kind": "email", "email": "pat@example.com"})
    assert first.status_code == 201 and "Check your inbox" in first.content.decode()
    again = Client().post("/status/acme/subscribe/", {"kind": "email", "email": "pat@example.com"})
    assert again.status_code == 409
    assert "within the last hour" in again.content.decode()
    pages.confirm_subscription(token=pages.confirm_token(PageSubscriber.objects.get()), source="test")
    confirmed = Client().post("/status/acme/subscribe/", {"kind": "email", "email": "pat@example.com"})
    assert confirmed.status_code == 409 and "subscribed to this page already" in confirmed.content.decode()
    Client().post("/status/acme/subscribe/", {"kind": "webhook", "url": hooks.url("/h")})
    hook_again = Client().post("/status/acme/subscribe/", {"kind": "webhook", "url": hooks.url("/h")})
    assert hook_again.status_code == 409
    assert len(hooks.requests) == 1  # a known endpoint is not challenged again
    assert PageSubscriber.objects.count() == 2


def test_unknown_components_in_a_subscription_are_400(world: World, site: Site, smtp: Inbox) -> None:
    response = Client().post(
        "/status/acme/subscribe/", {"kind": "email", "email": "pat@example.com", "components": ["999999"]}
    )
    assert response.status_code == 400 and "999999" in response.content.decode()
    assert not PageSubscriber.objects.exists()


def test_forged_and_foreign_tokens_are_refused(world: World, site: Site, smtp: Inbox) -> None:
    sub = pages.subscribe(page=site.page, kind="email", address="pat@example.com", source="test").subscriber
    good = pages.unsubscribe_token(sub)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for path in (f"/status/acme/unsubscribe/{forged}/", "/status/acme/unsubscribe/garbage/"):
        assert Client().get(path).status_code == 400
        assert Client().post(path).status_code == 400
    # a confirmation token is not an unsubscribe token, nor the other way round
    assert Client().post(f"/status/acme/unsubscribe/{pages.confirm_token(sub)}/").status_code == 400
    assert Client().post(f"/status/acme/subscribe/confirm/{good}/").status_code in (400, 403)
    assert PageSubscriber.objects.filter(pk=sub.pk, confirmed_at__isnull=True).exists()
    # a token of a subscriber that is gone
    Client().post(f"/status/acme/unsubscribe/{good}/")
    assert Client().post(f"/status/acme/unsubscribe/{good}/").status_code == 404


def test_webhook_urls_are_checked(world: World, site: Site) -> None:
    response = Client().post("/status/acme/subscribe/", {"kind": "webhook", "url": "ftp://example.com/x"})
    assert response.status_code == 400
    response = Client().post("/status/acme/subscribe/", {"kind": "webhook", "url": "http://10.0.0.5/hook"})
    assert response.status_code == 400 and "refused" in response.content.decode()


def test_an_email_address_in_another_case_is_the_same_subscriber(
    world: World, site: Site, smtp: Inbox
) -> None:
    """``Ops@Example.com`` and ``ops@example.com`` are one person: one subscription (kept as typed), one email
    per update, and its confirmation and unsubscribe links work."""
    assert (
        Client().post("/status/acme/subscribe/", {"kind": "email", "email": "Ops@Example.com"}).status_code
        == 201
    )
    sub = PageSubscriber.objects.get()
    assert sub.address == "Ops@example.com"
    again = Client().post("/status/acme/subscribe/", {"kind": "email", "email": "ops@example.com"})
    assert again.status_code == 409 and "within the last hour" in again.content.decode()  # not a second one
    confirm = f"/status/acme/subscribe/confirm/{pages.confirm_token(sub)}/"
    assert Client().post(confirm).status_code == 200
    for other in ("ops@example.com", "OPS@EXAMPLE.COM"):
        response = Client().post("/status/acme/subscribe/", {"kind": "email", "email": other})
        assert response.status_code == 409 and "subscribed to this page already" in response.content.decode()
    assert PageSubscriber.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database holds to it
        PageSubscriber.objects.create(
            page=site.page, kind="email", address="ops@EXAMPLE.com", created_at=sub.created_at
        )

    incident = declare(world, title="Checkout failing")
    post(world, incident, "Investigating.", components=[site.checkout])
    deliver()
    updates = [m for m in smtp.emails if "Checkout failing" in m["Subject"]]
    assert [m["To"] for m in updates] == ["Ops@example.com"]
    unsubscribe = link_in(updates[0], "Unsubscribe")
    assert Client().post(unsubscribe).status_code == 200
    assert not PageSubscriber.objects.exists()


def test_an_update_reaches_every_page_that_shows_it_once_per_person(
    world: World, site: Site, smtp: Inbox
) -> None:
    """An update naming Acme's Checkout also shows on the Shop page (its Payments component follows the same
    service): Shop's subscribers hear about it too, and someone following both pages (in any case) hears once."""
    shop = pages.create_page(
        team=world.team_a, name="Shop", slug="shop", actor=world.alice, source="test"
    ).page
    pages.create_component(
        page=shop, name="Payments", services=[world.service_a], actor=world.alice, source="test"
    )
    for page, address in (
        (site.page, "pat@example.com"),
        (shop, "kim@example.com"),
        (shop, "PAT@example.com"),
    ):
        sub = pages.subscribe(page=page, kind="email", address=address, source="test").subscriber
        pages.confirm_subscription(token=pages.confirm_token(sub), source="test")
    incident = declare(world, title="Checkout failing")
    post(world, incident, "Card payments fail.", components=[site.checkout])
    assert "Card payments fail." in Client().get("/status/shop/").content.decode()  # Shop shows it
    deliver()
    updates = [m for m in smtp.emails if "Checkout failing" in m["Subject"]]
    assert sorted(m["To"] for m in updates) == ["kim@example.com", "pat@example.com"]
    kim = next(m for m in updates if m["To"] == "kim@example.com")
    assert "[Shop]" in kim["Subject"] and "Affected: Payments" in body_of(kim)
