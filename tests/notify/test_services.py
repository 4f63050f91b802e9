"""Contact methods, verification, rules and ``enqueue`` through the services (the API tests go through HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from tests.conftest import World
from tests.notify.conftest import pending_code, verified
from tests.notify.receivers import FakeTwilio, Inbox, Receiver
from warroom.audit.models import AuditEvent
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.notify import selectors, services
from warroom.notify.models import Category, ContactMethod, Message, NotificationRule, Status

pytestmark = pytest.mark.django_db


def test_a_new_contact_method_is_unverified_and_gets_a_code(
    world: World, smtp: Inbox, frozen: datetime
) -> None:
    created = services.create_contact_method(
        user=world.bob, kind="email", name="Work", address="Bob@Example.COM", actor=world.bob, source="api"
    )
    method = created.method
    assert method.value == "Bob@example.com" and not method.is_verified
    message = Message.objects.get(contact_method=method)
    assert message.category == Category.VERIFICATION and message.status == Status.PENDING
    code = message.context["code"]
    assert len(code) == 6 and code.isdigit() and code in message.body
    assert method.code_digest and code not in method.code_digest
    assert method.code_expires_at == frozen + timedelta(minutes=15)


def test_verification_code_checks(world: World, smtp: Inbox, frozen: datetime) -> None:
    method = services.create_contact_method(
        user=world.bob, kind="email", name="Work", address="bob@example.com", actor=world.bob, source="api"
    ).method
    code = pending_code(method)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationFailed, match="4 tries left") as caught:
        services.verify_contact_method(method=method, code=wrong, actor=world.bob, source="api")
    assert caught.value.field == "code"
    assert ContactMethod.objects.get(pk=method.pk).code_attempts == 1, "a wrong guess is remembered"
    with pytest.raises(PermissionDenied):
        services.verify_contact_method(method=method, code=code, actor=world.alice, source="api")
    done = services.verify_contact_method(
        method=method, code=f" {code[:3]} {code[3:]} ", actor=world.bob, source="api"
    )
    assert done.verified_at == frozen
    rules = sorted(
        NotificationRule.objects.filter(contact_method=method).values_list("urgency", "delay_minutes")
    )
    assert rules == [("high", 0), ("low", 0)], "a verified method is never silently unused"
    assert AuditEvent.objects.filter(action="contact_method.verify_failed").count() == 1
    assert AuditEvent.objects.filter(action="contact_method.verify", object_id=str(method.pk)).exists()


def test_five_wrong_codes_void_the_code(world: World, smtp: Inbox, frozen: datetime) -> None:
    method = services.create_contact_method(
        user=world.bob, kind="email", name="Work", address="bob@example.com", actor=world.bob, source="api"
    ).method
    code = pending_code(method)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(ValidationFailed, match="tries left"):
            services.verify_contact_method(method=method, code=wrong, actor=world.bob, source="api")
    with pytest.raises(ValidationFailed, match="too many tries"):
        services.verify_contact_method(method=method, code=wrong, actor=world.bob, source="api")
    with pytest.raises(ValidationFailed, match="no code is waiting"):
        services.verify_contact_method(method=method, code=code, actor=world.bob, source="api")


def test_codes_expire_and_resending_is_limited(world: World, smtp: Inbox, frozen: datetime) -> None:
    method = services.create_contact_method(
        user=world.bob, kind="email", name="Work", address="bob@example.com", actor=world.bob, source="api"
    ).method
    first = pending_code(method)
    with pytest.raises(services.TooManyRequests) as caught:
        services.send_verification(method=method, actor=world.bob, source="api")
    assert caught.value.status == 429
    clock.advance(timedelta(minutes=16))
    with pytest.raises(ValidationFailed, match="expired"):
        services.verify_contact_method(method=method, code=first, actor=world.bob, source="api")
    services.send_verification(method=method, actor=world.bob, source="api")
    second = pending_code(method)
    if second != first:
        with pytest.raises(ValidationFailed, match="wrong code"):
            services.verify_contact_method(method=method, code=first, actor=world.bob, source="api")
    assert services.verify_contact_method(
        method=method, code=second, actor=world.bob, source="api"
    ).is_verified
    with pytest.raises(Conflict):
        services.send_verification(method=method, actor=world.bob, source="api")


def test_phones_get_a_high_urgency_rule_only(world: World, twilio: FakeTwilio) -> None:
    method = verified(world.bob, "sms", "+14155550100")
    assert list(NotificationRule.objects.filter(contact_method=method).values_list("urgency", flat=True)) == [
        "high"
    ]


def test_secrets_never_reach_the_audit_log(world: World, receiver: Receiver) -> None:
    created = services.create_contact_method(
        user=world.bob,
        kind="webhook",
        name="Hook",
        address=receiver.url("/hook/secret-path"),
        actor=world.bob,
        source="api",
    )
    assert created.reveal["signing_secret"] == created.method.secret["signing_secret"]
    for event in AuditEvent.objects.filter(object_type="notify.contactmethod"):
        dumped = str(event.before) + str(event.after)
        assert "secret-path" not in dumped and "whsec_" not in dumped


@pytest.mark.parametrize(
    ("kind", "address", "field", "match"),
    [
        ("pager", "x", "kind", "kind must be one of"),
        ("email", "not-an-address", "address", "not an email address"),
        ("sms", "12345", "kind", "not configured"),
        ("webhook", "ftp://example.com/x", "address", "only http and https"),
        ("webhook", "http://169.254.169.254/latest", "address", "link-local"),
    ],
)
def test_bad_contact_methods_are_refused_naming_the_field(
    world: World, smtp: Inbox, kind: str, address: str, field: str, match: str
) -> None:
    with pytest.raises(ValidationFailed, match=match) as caught:
        services.create_contact_method(
            user=world.bob, kind=kind, name="X", address=address, actor=world.bob, source="api"
        )
    assert caught.value.field == field
    assert not ContactMethod.objects.exists()


def test_names_are_unique_per_person(world: World, smtp: Inbox) -> None:
    services.create_contact_method(
        user=world.bob, kind="email", name="Work", address="bob@example.com", actor=world.bob, source="api"
    )
    with pytest.raises(Conflict):
        services.create_contact_method(
            user=world.bob, kind="email", name="Work", address="b2@example.com", actor=world.bob, source="api"
        )
    services.create_contact_method(
        user=world.alice,
        kind="email",
        name="Work",
        address="alice@example.com",
        actor=world.alice,
        source="api",
    )


def test_changing_the_address_needs_verification_again(world: World, smtp: Inbox) -> None:
    method = verified(world.bob, "email", "bob@example.com")
    updated = services.update_contact_method(
        method=method, address="bob@work.example.com", actor=world.bob, source="api"
    ).method
    assert updated.value == "bob@work.example.com" and not updated.is_verified


# -- enqueue -----------------------------------------------------------------------------------------------------


def ladder(world: World, twilio: FakeTwilio, smtp: Inbox) -> dict[str, ContactMethod]:
    """bob: email at 0 min, SMS at 2 min, voice at 5 min (high urgency); email at 30 min (low)."""
    email = verified(world.bob, "email", "bob@example.com", name="Email")
    sms = verified(world.bob, "sms", "+14155550100", name="Phone")
    voice = verified(world.bob, "voice", "+14155550100", name="Call")
    NotificationRule.objects.filter(user=world.bob).delete()
    for method, urgency, delay in (
        (email, "high", 0),
        (sms, "high", 2),
        (voice, "high", 5),
        (email, "low", 30),
    ):
        services.create_rule(
            user=world.bob,
            contact_method=method,
            urgency=urgency,
            delay_minutes=delay,
            actor=world.bob,
            source="api",
        )
    return {"email": email, "sms": sms, "voice": voice}


def page(world: World, key: str = "incident:42:step:1", **kw: Any) -> services.Enqueued:
    values: dict[str, Any] = {
        "user": world.bob,
        "urgency": "high",
        "subject": "INC0000042 Checkout returns 500",
        "body": "Checkout is down.",
        "context": {"url": "https://warroom.example.com/incidents/42/"},
        "dedup_key": key,
        "group": "incident:42",
    }
    values.update(kw)
    return services.enqueue(**values)


def test_enqueue_expands_the_ladder_with_due_times(
    world: World, twilio: FakeTwilio, smtp: Inbox, frozen: datetime
) -> None:
    ladder(world, twilio, smtp)
    result = page(world)
    assert result.reachable and result.skipped == []
    assert [(m.kind, m.due_at - frozen) for m in result.messages] == [
        ("email", timedelta(0)),
        ("sms", timedelta(minutes=2)),
        ("voice", timedelta(minutes=5)),
    ]
    assert all(m.status == Status.PENDING and m.next_attempt_at == m.due_at for m in result.messages)
    assert len({m.delivery_id for m in result.messages}) == 3
    low = page(world, key="incident:43:step:1", urgency="low")
    assert [(m.kind, m.due_at - frozen) for m in low.messages] == [("email", timedelta(minutes=30))]


def test_enqueue_twice_with_one_dedup_key_inserts_once(
    world: World, twilio: FakeTwilio, smtp: Inbox, frozen: datetime
) -> None:
    ladder(world, twilio, smtp)
    first = page(world)
    clock.advance(timedelta(seconds=5))
    again = page(world)
    assert [m.pk for m in again.messages] == [m.pk for m in first.messages]
    assert Message.objects.filter(category=Category.NOTIFICATION).count() == 3


def test_enqueue_belongs_to_the_callers_transaction(world: World, twilio: FakeTwilio, smtp: Inbox) -> None:
    ladder(world, twilio, smtp)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        assert page(world).reachable
        raise Boom
    assert not Message.objects.filter(category=Category.NOTIFICATION).exists()


def test_enqueue_says_who_cannot_be_reached(world: World, smtp: Inbox, twilio: FakeTwilio) -> None:
    nothing = page(world)
    assert not nothing.reachable
    assert nothing.skipped == ["Bob Responder has no high-urgency notification rules"]
    unverified = services.create_contact_method(
        user=world.bob, kind="sms", name="Phone", address="+14155550100", actor=world.bob, source="api"
    ).method
    services.create_rule(
        user=world.bob,
        contact_method=unverified,
        urgency="high",
        delay_minutes=0,
        actor=world.bob,
        source="api",
    )
    email = verified(world.bob, "email", "bob@example.com", name="Email")
    services.update_contact_method(method=email, disabled=True, actor=world.bob, source="api")
    result = page(world, key="k2")
    assert not result.reachable
    assert sorted(result.skipped) == ["Email: disabled (disabled by its owner)", "Phone: not verified"]
    assert selectors.users_without_working_contact_method([world.bob.pk, world.alice.pk]) == {
        world.bob.pk,
        world.alice.pk,
    }
    services.update_contact_method(method=email, disabled=False, actor=world.bob, source="api")
    assert selectors.users_without_working_contact_method([world.bob.pk]) == set()


def test_enqueue_refuses_bad_input(world: World) -> None:
    for kwargs, field in (
        ({"urgency": "urgent"}, "urgency"),
        ({"subject": "  "}, "subject"),
        ({"dedup_key": ""}, "dedup_key"),
        ({"context": {"when": datetime.now()}}, "context"),
        ({"context": {"url": "javascript:alert(1)"}}, "context.url"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            page(world, **kwargs)
        assert caught.value.field == field


def test_cancel_pending_stops_the_later_rungs(
    world: World, twilio: FakeTwilio, smtp: Inbox, frozen: datetime
) -> None:
    ladder(world, twilio, smtp)
    page(world)
    page(world, key="incident:7:step:1", group="incident:7")
    assert services.cancel_pending(group="incident:42", reason="acknowledged by bob") == 3
    statuses = dict(
        Message.objects.filter(category=Category.NOTIFICATION).values_list("group", "status").distinct()
    )
    assert statuses == {"incident:42": Status.CANCELLED, "incident:7": Status.PENDING}
    assert Message.objects.filter(group="incident:42").first().note == "acknowledged by bob"  # type: ignore[union-attr]


def test_deleting_a_contact_method_cancels_its_pending_messages(
    world: World, twilio: FakeTwilio, smtp: Inbox
) -> None:
    methods = ladder(world, twilio, smtp)
    page(world)
    services.delete_contact_method(method=methods["sms"], actor=world.bob, source="api")
    cancelled = Message.objects.get(kind="sms", category=Category.NOTIFICATION)
    assert cancelled.status == Status.CANCELLED and cancelled.contact_method is None
    assert cancelled.target.startswith("+1415555")
    assert not NotificationRule.objects.filter(contact_method_id=methods["sms"].pk).exists()


def test_rules_belong_to_their_owner(world: World, smtp: Inbox) -> None:
    bobs = verified(world.bob, "email", "bob@example.com")
    with pytest.raises(ValidationFailed) as caught:
        services.create_rule(
            user=world.alice,
            contact_method=bobs,
            urgency="high",
            delay_minutes=1,
            actor=world.alice,
            source="api",
        )
    assert caught.value.field == "contact_method"
    with pytest.raises(ValidationFailed, match="delay_minutes"):
        services.create_rule(
            user=world.bob,
            contact_method=bobs,
            urgency="high",
            delay_minutes=2000,
            actor=world.bob,
            source="api",
        )
    with pytest.raises(Conflict):
        services.create_rule(
            user=world.bob,
            contact_method=bobs,
            urgency="high",
            delay_minutes=0,
            actor=world.bob,
            source="api",
        )
