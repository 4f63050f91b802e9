"""Updates reach internal subscribers through the outbox: real mail in an aiosmtpd inbox, real signed webhooks
on an HTTPS receiver, each update once per address, redelivered with the same delivery id after a crash."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api.conftest import declare
from tests.comms.conftest import deliver, https_url, verify_signature
from tests.conftest import World
from tests.notify.receivers import Inbox, Receiver, text
from warroom.accounts import services as accounts
from warroom.audit.models import AuditEvent
from warroom.comms import outbox, services
from warroom.comms.models import Delivery, DeliveryStatus, StatusUpdate, Subscription
from warroom.incidents.models import Incident
from warroom.lib import clock


def subscribe(world: World, address: str, *, by: Any = None, kind: str = "email", **target: Any) -> Any:
    return services.create_subscription(
        kind=kind, address=address, actor=by or world.bob, source="web", **target
    )


def post(
    incident: Incident, world: World, message: str = "Checkout is failing for some card payments.", **kw: Any
) -> StatusUpdate:
    values: dict[str, Any] = {"status": "investigating", "audience": "internal"}
    values.update(kw)
    return services.post_update(incident=incident, message=message, actor=world.alice, source="web", **values)


def test_an_email_subscriber_receives_the_update_text(
    world: World, incident: Incident, smtp: Inbox, frozen: datetime
) -> None:
    subscribe(world, "stakeholders@example.com", service=world.service_a)
    post(incident, world, "Card payments fail at checkout; we are on it.")
    assert smtp.emails == []  # nothing goes out before the engine runs
    deliver()
    assert len(smtp.messages) == 1
    envelope, email = smtp.messages[0]
    assert envelope.rcpt_tos == ["stakeholders@example.com"]
    assert email["Subject"] == f"[Warroom] {incident.ref} Investigating: Checkout returns 500"
    text_body = email.get_payload(decode=True).decode()
    assert "Card payments fail at checkout; we are on it." in text_body
    assert f"/incidents/{incident.ref}/" in text_body
    assert "follows service Checkout" in text_body
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.SENT and row.attempts == 1
    assert email["X-Warroom-Delivery-Id"] == row.delivery_id


def test_a_webhook_subscriber_receives_a_signed_request(
    world: World, incident: Incident, https_receiver: Receiver, frozen: datetime
) -> None:
    created = subscribe(world, https_url(https_receiver), kind="webhook", team=world.team_a)
    secret = created.reveal["signing_secret"]
    update = post(incident, world, "Payments are failing.", status="identified")
    deliver()
    assert len(https_receiver.requests) == 1
    request = https_receiver.requests[0]
    assert verify_signature(request, secret)
    assert not verify_signature(request, secret + "x")
    assert not verify_signature(request, secret, now=clock.now() + timedelta(minutes=6))
    document = request.json()
    assert document["type"] == "warroom.stakeholder_update"
    assert document["subject"] == f"{incident.ref} Identified: Checkout returns 500"
    context = document["context"]
    assert context["event"] == "incident.update_posted"
    assert context["update"]["id"] == update.pk
    assert context["update"]["status"] == "identified"
    assert context["update"]["message"] == "Payments are failing."
    assert context["incident"]["ref"] == incident.ref
    assert context["subscription"]["follows"] == ["team Team A"]
    assert request.headers["warroom-delivery-id"] == Delivery.objects.get().delivery_id


def test_each_update_reaches_an_address_once_even_when_it_matches_several_ways(
    world: World, incident: Incident, smtp: Inbox, https_receiver: Receiver, frozen: datetime
) -> None:
    subscribe(world, "ops@example.com", service=world.service_a)
    subscribe(world, "ops@example.com", team=world.team_a, by=world.alice)
    subscribe(world, "OPS@example.com", incident=incident)
    hook = https_url(https_receiver)
    subscribe(world, hook, kind="webhook", service=world.service_a)
    subscribe(world, hook, kind="webhook", incident=incident)
    post(incident, world)
    assert Delivery.objects.count() == 2
    deliver()
    deliver()  # the module running again (or a second engine) sends nothing more
    assert [e.rcpt_tos for e, _m in smtp.messages] == [["ops@example.com"]]
    assert len(https_receiver.requests) == 1
    follows = https_receiver.requests[0].json()["context"]["subscription"]["follows"]
    assert follows == ["service Checkout", f"incident {incident.ref}"]
    post(incident, world, "Still investigating.")  # a second update is a second message
    deliver()
    assert len(smtp.messages) == 2 and len(https_receiver.requests) == 2


def test_producing_twice_inserts_once(world: World, incident: Incident, frozen: datetime) -> None:
    update = post(incident, world)
    first = outbox.enqueue(
        kind="email",
        address="a@example.com",
        secret={},
        subject="s",
        body="b",
        context={},
        dedup_key="k1",
        update=update,
    )
    again = outbox.enqueue(
        kind="email", address="a@example.com", secret={}, subject="s", body="b", context={}, dedup_key="k1"
    )
    assert first is not None and first.delivery_id.startswith("wrd_")
    assert again is None
    assert Delivery.objects.filter(dedup_key="k1").count() == 1


def test_a_crashed_sender_is_redelivered_with_the_same_delivery_id(
    world: World, incident: Incident, https_receiver: Receiver, frozen: datetime
) -> None:
    subscribe(world, https_url(https_receiver), kind="webhook", incident=incident)
    post(incident, world)
    leased = outbox.lease(clock.now())
    assert len(leased) == 1
    outbox.call_channel(leased[0])  # the request goes out, then the sender dies before recording it
    assert Delivery.objects.get().status == DeliveryStatus.SENDING
    deliver()  # the lease still runs: nobody touches it
    assert len(https_receiver.requests) == 1
    clock.advance(outbox.LEASE + timedelta(seconds=1))
    deliver()
    ids = [r.headers["warroom-delivery-id"] for r in https_receiver.requests]
    assert len(ids) == 2 and ids[0] == ids[1] == Delivery.objects.get().delivery_id
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    deliver()
    assert len(https_receiver.requests) == 2


def test_transient_errors_retry_with_backoff_and_the_same_id_permanent_ones_fail(
    world: World, incident: Incident, https_receiver: Receiver, frozen: datetime
) -> None:
    subscribe(world, https_url(https_receiver, "/flaky"), kind="webhook", incident=incident)
    subscribe(world, https_url(https_receiver, "/gone"), kind="webhook", team=world.team_a)
    flaky_answers = [text(503, "busy"), text(500, "oops")]
    https_receiver.respond = lambda r: (
        text(400, "no such hook")
        if r.path == "/gone"
        else (flaky_answers.pop(0) if flaky_answers else text(200))
    )
    post(incident, world)
    deliver()
    flaky = Delivery.objects.get(address__endswith="/flaky")
    gone = Delivery.objects.get(address__endswith="/gone")
    assert gone.status == DeliveryStatus.FAILED and "answered 400" in gone.last_error
    assert flaky.status == DeliveryStatus.PENDING and "503" in flaky.last_error
    assert flaky.next_attempt_at == clock.now() + timedelta(seconds=30)
    deliver()
    assert Delivery.objects.get(pk=flaky.pk).attempts == 1  # not due yet
    clock.advance(timedelta(seconds=30))
    deliver()
    assert Delivery.objects.get(pk=flaky.pk).next_attempt_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    deliver()
    flaky.refresh_from_db()
    assert flaky.status == DeliveryStatus.SENT and flaky.attempts == 3 and flaky.last_error == ""
    flaky_ids = {r.headers["warroom-delivery-id"] for r in https_receiver.requests if r.path == "/flaky"}
    assert flaky_ids == {flaky.delivery_id}
    assert len([r for r in https_receiver.requests if r.path == "/gone"]) == 1


def test_a_webhook_that_answers_410_gone_loses_its_subscriptions(
    world: World, incident: Incident, https_receiver: Receiver, frozen: datetime
) -> None:
    """410 Gone: every subscription to that URL is removed (audited, source engine); the others stay."""
    subscribe(world, https_url(https_receiver, "/deleted"), kind="webhook", incident=incident)
    subscribe(world, https_url(https_receiver, "/deleted"), kind="webhook", team=world.team_a)
    subscribe(world, https_url(https_receiver, "/alive"), kind="webhook", team=world.team_a)
    https_receiver.respond = lambda r: text(410, "deleted") if r.path == "/deleted" else text(200)
    post(incident, world)
    deliver()
    assert Delivery.objects.get(address__endswith="/deleted").status == DeliveryStatus.FAILED
    assert [s.address.rsplit("/", 1)[1] for s in Subscription.objects.all()] == ["alive"]
    removed = AuditEvent.objects.filter(action="comms.subscription.delete", source="engine")
    assert removed.count() == 2 and all("410" in event.after["reason"] for event in removed)


def test_internal_updates_reach_subscribers_public_only_ones_do_not(
    world: World, incident: Incident, smtp: Inbox, frozen: datetime
) -> None:
    subscribe(world, "ops@example.com", team=world.team_a)
    post(incident, world, "Public words only.", audience="public")
    deliver()
    assert smtp.messages == [] and Delivery.objects.count() == 0
    post(incident, world, "For everyone.", audience="both")
    post(incident, world, "Between us.", audience="internal")
    deliver()
    bodies = sorted(m.get_payload(decode=True).decode() for m in smtp.emails)
    assert len(bodies) == 2
    assert "Between us." in bodies[0] + bodies[1] and "For everyone." in bodies[0] + bodies[1]
    assert all("Public words only." not in b for b in bodies)


def test_private_incidents_reach_only_their_own_subscribers_who_can_see_them(
    world: World, smtp: Inbox, frozen: datetime
) -> None:
    secret = declare(world, title="Suspected breach", is_private=True)
    subscribe(world, "team-list@example.com", team=world.team_a, by=world.alice)
    subscribe(world, "service-list@example.com", service=world.service_a, by=world.alice)
    subscribe(world, "alice@example.com", incident=secret, by=world.alice)  # alice (team admin) sees it
    services.post_update(
        incident=secret,
        status="investigating",
        message="Quiet please.",
        audience="internal",
        actor=world.alice,
        source="web",
    )
    deliver()
    assert [e.rcpt_tos for e, _m in smtp.messages] == [["alice@example.com"]]


def test_a_subscription_stops_when_its_maker_can_no_longer_see_the_incident(
    world: World, incident: Incident, smtp: Inbox, frozen: datetime
) -> None:
    subscribe(world, "bob-home@example.com", team=world.team_a, by=world.bob)
    accounts.remove_membership(team=world.team_a, user=world.bob, actor=None, source="system")
    post(incident, world)
    deliver()
    assert smtp.messages == []
    assert Subscription.objects.filter(address="bob-home@example.com").exists()
