"""One person, one contact method per address: ``Ops@x.com`` and ``ops@x.com`` are one mailbox, so a second
method for it is refused (through the services, the API and the console), and two such methods made before
this was refused page once, not twice."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.conftest import client_with_token
from tests.conftest import World
from tests.notify.conftest import verified
from tests.notify.receivers import Inbox
from warroom.lib.errors import Conflict
from warroom.notify import services
from warroom.notify.models import Category, ContactMethod, Message, NotificationRule

pytestmark = pytest.mark.django_db


def test_a_second_method_for_the_same_address_is_refused_whatever_its_case(world: World, smtp: Inbox) -> None:
    services.create_contact_method(
        user=world.bob, kind="email", name="Ops", address="ops@x.com", actor=world.bob, source="api"
    )
    with pytest.raises(Conflict, match=r"Ops@x\.com is already your contact method 'Ops'") as caught:
        services.create_contact_method(
            user=world.bob, kind="email", name="Ops 2", address="Ops@X.com", actor=world.bob, source="api"
        )
    assert caught.value.field == "address"
    assert ContactMethod.objects.filter(user=world.bob).count() == 1
    # another person may have it; another kind of address is another place
    services.create_contact_method(
        user=world.alice, kind="email", name="Ops", address="ops@x.com", actor=world.alice, source="api"
    )
    other = services.create_contact_method(
        user=world.bob, kind="email", name="Home", address="bob@home.example", actor=world.bob, source="api"
    ).method
    with pytest.raises(Conflict, match="already your contact method 'Ops'"):
        services.update_contact_method(method=other, address="OPS@x.com", actor=world.bob, source="api")


def test_the_api_and_the_console_say_which_method_has_the_address(world: World, smtp: Inbox) -> None:
    api = client_with_token(world.bob)
    body = {"kind": "email", "name": "Ops", "address": "ops@x.com"}
    assert api.post("/me/contact-methods", body).status_code == 201
    twice = api.post("/me/contact-methods", {**body, "name": "Ops again", "address": "Ops@x.com"})
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["field"] == "address"
    assert "is already your contact method 'Ops'" in twice.json()["detail"]
    console = Client()
    console.force_login(world.bob)
    page = console.post(
        "/settings/notifications/methods/", {"kind": "email", "name": "Ops 3", "address": "OPS@X.COM"}
    )
    assert page.status_code == 409
    assert "is already your contact method" in page.content.decode()
    assert ContactMethod.objects.filter(user=world.bob).count() == 1


def test_duplicates_made_before_are_paged_once(world: World, smtp: Inbox) -> None:
    first = verified(world.bob, "email", "ops@x.com", name="Ops")
    second = verified(world.bob, "email", "bob@example.com", name="Ops upper")
    ContactMethod.objects.filter(pk=second.pk).update(value="Ops@x.com", display="Ops@x.com")
    assert NotificationRule.objects.filter(user=world.bob, urgency="high").count() == 2
    result = services.enqueue(
        user=world.bob, urgency="high", subject="INC0000042 Checkout returns 500", dedup_key="incident:42:1"
    )
    assert result.reachable and result.skipped == []
    sent = Message.objects.filter(user=world.bob, category=Category.NOTIFICATION)
    assert [m.contact_method_id for m in sent] == [first.pk]
    batch = services.Batch()
    queued = batch.add(user=world.bob, urgency="high", subject="INC0000043 Search is slow", dedup_key="i:43")
    assert queued.rows == 1
