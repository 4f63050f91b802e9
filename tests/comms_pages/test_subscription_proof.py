"""A public subscription has to prove itself before it counts. A webhook endpoint answers a signed challenge
(a real HTTP server on 127.0.0.1 that echoes it, does not, fails, is slow or redirects): only an echo
subscribes it, and then it receives real updates; otherwise nothing is stored and the form says why. An email
subscription on a server that sends no email is refused (its confirmation could never arrive), and the page
offers no email option there — also from the cache and the fast path."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
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
from tests.notify.receivers import Inbox, Received, Receiver, as_json, running, text
from warroom.audit.models import AuditEvent
from warroom.comms import page_services as pages
from warroom.comms.models import Delivery, PageSubscriber
from warroom.comms.public_views import SUBSCRIBE_RATE
from warroom.lib.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_mail(settings: Any) -> None:
    """A server without email (``WARROOM_SMTP_HOST`` unset)."""
    settings.MAILERS = {k: v for k, v in settings.MAILERS.items() if k != "notifications"}


@pytest.fixture
def endpoint(loopback_allowed: None) -> Iterator[Receiver]:
    """A webhook endpoint whose answer each test scripts (``respond``)."""
    with running(Receiver()) as server:
        yield server


def said(response: Any) -> str:
    return " ".join(response.content.decode().split())


def subscribe_form(url: str, **extra: str) -> Any:
    return Client().post("/status/acme/subscribe/", {"kind": "webhook", "url": url, **extra})


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: as_json(200, {"challenge": r.json()["challenge"]}),
        lambda r: text(200, r.json()["challenge"] + "\n"),
        lambda r: as_json(201, {"challenge": r.json()["challenge"], "ok": True}),
    ],
    ids=["json", "bare-text", "201-with-more-json"],
)
def test_an_endpoint_that_echoes_the_challenge_is_subscribed_and_hears_updates(
    world: World, site: Site, endpoint: Receiver, answer: Any
) -> None:
    endpoint.respond = lambda r: answer(r) if is_challenge(r) else text(200)
    response = subscribe_form(endpoint.url("/hooks/status"), components=str(site.checkout.pk))
    assert response.status_code == 201, said(response)
    secret = re.search(r'id="signing-secret">([^<]+)<', response.content.decode()).group(1)  # type: ignore[union-attr]

    (challenge,) = endpoint.requests
    document = challenge.json()
    assert document["type"] == "subscription.verify" and len(document["challenge"]) >= 32
    assert document["page"]["slug"] == "acme" and document["url"] == endpoint.url("/hooks/status")
    assert challenge.headers["warroom-delivery-id"].startswith("wrd_")
    assert verify_signature(challenge, secret)  # signed like every webhook, with the secret shown once
    sub = PageSubscriber.objects.get()
    assert sub.kind == "webhook" and sub.confirmed_at is not None
    assert AuditEvent.objects.get(action="statuspage.subscribe").after["verified"] == "challenge answered"

    incident = declare(world, title="Checkout failing")
    post(world, incident, "Card payments fail.", components=[site.checkout])
    deliver()
    (update,) = deliveries(endpoint)
    assert update.json()["context"]["update"]["message"] == "Card payments fail."
    assert verify_signature(update, secret)


def slow(request: Received) -> Any:
    time.sleep(6)
    return text(200, request.json()["challenge"])


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda r: text(200, "ok"), "the endpoint answered 200 but did not echo the challenge"),
        (lambda r: as_json(200, {"challenge": "something else"}), "did not echo the challenge"),
        (lambda r: text(500, "boom"), "the endpoint answered 500, not 2xx with the challenge"),
        (lambda r: text(404, "no such hook"), "the endpoint answered 404"),
        (
            lambda r: text(302, "", Location="http://127.0.0.1:9/elsewhere"),
            "the endpoint answered 302 (a redirect); Warroom does not follow redirects",
        ),
        (slow, "timed out after 5 s"),
    ],
    ids=["no-echo", "wrong-echo", "500", "404", "redirect", "slow"],
)
def test_an_endpoint_that_does_not_echo_is_not_subscribed_and_the_form_says_why(
    world: World, site: Site, endpoint: Receiver, answer: Any, says: str
) -> None:
    endpoint.respond = answer
    started = time.monotonic()
    response = subscribe_form(endpoint.url("/hook"))
    assert time.monotonic() - started < 9  # the challenge waits 5 s at most
    assert response.status_code == 400
    assert says in said(response)
    assert 'class="sp-error"' in response.content.decode()
    assert "signing-secret" not in response.content.decode()  # no secret handed out for nothing
    assert len(endpoint.requests) == 1  # asked once; a redirect is not followed
    assert not PageSubscriber.objects.exists()
    assert not AuditEvent.objects.filter(action="statuspage.subscribe").exists()
    # ...and an update reaches nobody
    post(world, declare(world), "Investigating.", components=[site.checkout])
    assert not Delivery.objects.exists()


def test_a_private_address_is_refused_before_anything_is_sent(world: World, site: Site) -> None:
    """No administrator allowed loopback here: the challenge is never sent."""
    with running(Receiver(echoing())) as server:
        response = subscribe_form(server.url("/hook"))
        assert response.status_code == 400
        assert "127.0.0.1 is a loopback address" in said(response)
        assert server.requests == []
    assert not PageSubscriber.objects.exists()


def test_an_endpoint_can_bring_its_own_secret_to_check_the_challenge(
    world: World, site: Site, endpoint: Receiver
) -> None:
    """A receiver that checks every signature (the challenge too) gives its own secret; none is revealed."""
    own = "my-own-signing-secret-0123456789"

    def strict(request: Received) -> Any:
        if not verify_signature(request, own):
            return text(401, "bad signature")
        return (
            as_json(200, {"challenge": request.json()["challenge"]}) if is_challenge(request) else text(200)
        )

    endpoint.respond = strict
    response = subscribe_form(endpoint.url("/strict"), signing_secret=own)
    assert response.status_code == 201, said(response)
    assert "signing-secret" not in response.content.decode()
    wrong = subscribe_form(endpoint.url("/strict-2"), signing_secret="someone-elses-secret-0123")
    assert wrong.status_code == 400 and "the endpoint answered 401" in said(wrong)
    short = subscribe_form(endpoint.url("/strict-3"), signing_secret="short")
    assert short.status_code == 400 and "16 to 200 characters" in said(short)
    assert [s.address for s in PageSubscriber.objects.all()] == [endpoint.url("/strict")]


def test_an_unconfirmed_webhook_subscriber_hears_nothing(world: World, site: Site, hooks: Receiver) -> None:
    """A row without confirmation (as no subscribe path stores one now) gets no update; a confirmed one does."""
    PageSubscriber.objects.create(
        page=site.page,
        kind="webhook",
        address=hooks.url("/unproven"),
        secret={"url": hooks.url("/unproven"), "signing_secret": "whsec_unproven-0123456789"},
        created_at=site.page.created_at,
    )
    pages.subscribe(page=site.page, kind="webhook", address=hooks.url("/proven"), source="test")
    post(world, declare(world), "Investigating.", components=[site.checkout])
    deliver()
    assert [r.path for r in deliveries(hooks)] == ["/proven"]


def test_email_is_refused_and_not_offered_on_a_server_without_mail(
    world: World, site: Site, no_mail: None
) -> None:
    form = Client().get("/status/acme/subscribe/").content.decode()
    assert 'value="email"' not in form and 'name="email"' not in form
    assert 'value="webhook"' in form and "this server sends no email" in form
    assert "Email or webhook" not in form
    refused = Client().post("/status/acme/subscribe/", {"kind": "email", "email": "pat@example.com"})
    assert refused.status_code == 400
    assert "this server sends no email, so an email subscription could never be confirmed" in said(refused)
    assert not PageSubscriber.objects.exists()
    with pytest.raises(ValidationFailed) as caught:
        pages.subscribe(page=site.page, kind="email", address="pat@example.com", source="test")
    assert caught.value.field == "kind" and caught.value.status == 400
    page = Client().get("/status/acme/").content.decode()
    assert ">Webhook</a>" in page and "Email or webhook" not in page


def test_the_cached_page_follows_whether_the_server_sends_email(
    world: World, site: Site, settings: Any, smtp: Inbox
) -> None:
    """The page (cached per version) offers what the server can do now, not what it could when cached."""
    assert "Email or webhook" in Client().get("/status/acme/").content.decode()
    mailers = dict(settings.MAILERS)
    settings.MAILERS = {k: v for k, v in mailers.items() if k != "notifications"}
    assert "Email or webhook" not in Client().get("/status/acme/").content.decode()
    settings.MAILERS = mailers
    assert "Email or webhook" in Client().get("/status/acme/").content.decode()
    form = Client().get("/status/acme/subscribe/").content.decode()
    assert 'value="email"' in form and 'name="email"' in form


def test_one_address_cannot_make_warroom_send_challenges_without_end(
    world: World, site: Site, endpoint: Receiver
) -> None:
    """Each attempt sends a request to a URL of the sender's choosing: one client address gets a few a minute,
    then a 429 that says when to try again, and nothing goes out."""
    endpoint.respond = lambda r: text(404, "no such hook")
    answers = [subscribe_form(endpoint.url(f"/hook/{n}")) for n in range(SUBSCRIBE_RATE)]
    assert [a.status_code for a in answers] == [400] * SUBSCRIBE_RATE
    refused = subscribe_form(endpoint.url("/hook/again"))
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many subscription attempts from your address: try again in" in said(refused)
    assert len(endpoint.requests) == SUBSCRIBE_RATE  # the refused attempt sent nothing
    other = Client(REMOTE_ADDR="192.0.2.7").post(
        "/status/acme/subscribe/", {"kind": "webhook", "url": endpoint.url("/hook/other")}
    )
    assert other.status_code == 400  # another client is not held back
