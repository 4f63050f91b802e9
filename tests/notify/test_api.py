"""``/api/v1/me/contact-methods``, ``/me/notification-rules``, ``/me/notifications`` and the read-only view team
admins have of their members' contact methods. Secrets never come back."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.notify.conftest import pending_code
from tests.notify.receivers import FakeTwilio, Inbox, Receiver
from warroom.notify.models import ContactMethod, Message, NotificationRule

pytestmark = pytest.mark.django_db


def test_add_verify_and_list_a_contact_method(
    api: Clients, world: World, smtp: Inbox, frozen: datetime
) -> None:
    created = api.bob.post(
        "/me/contact-methods", {"kind": "email", "name": "Work", "address": "bob@example.com"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["verified"] is False and body["display"] == "bob@example.com"
    assert body["delivery"] == "at_least_once" and body["throttle"] == "5 per minute, 30 per hour"
    method = ContactMethod.objects.get(pk=body["id"])
    wrong = api.bob.post(f"/me/contact-methods/{method.pk}/verify", {"code": "12"})
    assert wrong.status_code == 400 and error(wrong)["errors"][0]["field"] == "code"
    again = api.bob.post(f"/me/contact-methods/{method.pk}/send-verification")
    assert again.status_code == 429 and error(again)["code"] == "throttled"
    ok = api.bob.post(f"/me/contact-methods/{method.pk}/verify", {"code": pending_code(method)})
    assert ok.status_code == 200 and ok.json()["verified"] is True
    listed = api.bob.get("/me/contact-methods").json()
    assert [m["id"] for m in listed] == [method.pk]
    rules = api.bob.get("/me/notification-rules").json()
    assert sorted((r["urgency"], r["delay_minutes"]) for r in rules) == [("high", 0), ("low", 0)]
    test = api.bob.post(f"/me/contact-methods/{method.pk}/test")
    assert test.status_code == 202 and test.json()["category"] == "test"
    log = api.bob.get("/me/notifications").json()
    assert [m["category"] for m in log["items"]] == ["test", "verification"]


def test_secrets_are_write_only(api: Clients, world: World, receiver: Receiver) -> None:
    url = receiver.url("/hooks/very-secret-path")
    created = api.bob.post(
        "/me/contact-methods", {"kind": "webhook", "name": "Hook", "address": url, "send_code": False}
    )
    assert created.status_code == 201
    secret = created.json()["signing_secret"]
    assert secret.startswith("whsec_")
    assert "very-secret-path" not in created.content.decode()
    method_id = created.json()["id"]
    ntfy = api.bob.post(
        "/me/contact-methods",
        {
            "kind": "ntfy",
            "name": "Push",
            "address": receiver.url("/bob-topic-x1"),
            "token": "tk_secret1",
            "send_code": False,
        },
    )
    assert (ntfy.status_code == 201 and "signing_secret" not in ntfy.json()) or ntfy.json()[
        "signing_secret"
    ] is None
    for path in (
        "/me/contact-methods",
        f"/me/contact-methods/{method_id}",
        f"/users/{world.bob.pk}/contact-methods",
    ):
        for client in (api.bob, api.alice):
            response = client.get(path)
            if response.status_code == 404:
                continue
            text = response.content.decode()
            assert response.status_code == 200
            for leaked in ("very-secret-path", secret, "tk_secret1", "bob-topic-x1"):
                assert leaked not in text, (path, leaked)


def test_team_admins_see_members_methods_others_do_not(
    api: Clients, world: World, smtp: Inbox, twilio: FakeTwilio
) -> None:
    api.bob.post("/me/contact-methods", {"kind": "sms", "name": "Phone", "address": "+14155550100"})
    path = f"/users/{world.bob.pk}/contact-methods"
    assert [m["display"] for m in api.alice.get(path).json()] == ["+1415555••••"]
    assert api.olivia.get(path).status_code == 200
    assert api.alice.get(f"/users/{world.bob.pk}/notification-rules").status_code == 200
    observer = api.dave.get(path)
    assert observer.status_code == 403 and error(observer)["code"] == "forbidden"
    assert api.charlie.get(path).status_code == 404, "another team's person is not even there"
    assert api.charlie.get(f"/users/{world.bob.pk}/notification-rules").status_code == 404


def test_people_manage_only_their_own(api: Clients, world: World, smtp: Inbox) -> None:
    created = api.bob.post(
        "/me/contact-methods", {"kind": "email", "name": "Work", "address": "bob@example.com"}
    )
    method_id = created.json()["id"]
    for call in (
        lambda: api.alice.get(f"/me/contact-methods/{method_id}"),
        lambda: api.alice.patch(f"/me/contact-methods/{method_id}", {"name": "Mine"}),
        lambda: api.alice.delete(f"/me/contact-methods/{method_id}"),
        lambda: api.alice.post(f"/me/contact-methods/{method_id}/verify", {"code": "123456"}),
        lambda: api.olivia.post(f"/me/contact-methods/{method_id}/send-verification"),
    ):
        response = call()
        assert response.status_code == 404, response.content
    rule = api.alice.post("/me/notification-rules", {"contact_method": method_id, "urgency": "high"})
    assert rule.status_code == 400 and error(rule)["errors"][0]["field"] == "contact_method"
    assert ContactMethod.objects.get(pk=method_id).name == "Work"


def test_rules_crud(api: Clients, world: World, smtp: Inbox, twilio: FakeTwilio) -> None:
    email = api.bob.post(
        "/me/contact-methods", {"kind": "email", "name": "Email", "address": "bob@example.com"}
    )
    sms = api.bob.post("/me/contact-methods", {"kind": "sms", "name": "Phone", "address": "+14155550100"})
    created = api.bob.post(
        "/me/notification-rules", {"contact_method": sms.json()["id"], "urgency": "high", "delay_minutes": 2}
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert created.json()["kind"] == "sms" and created.json()["delay_minutes"] == 2
    changed = api.bob.patch(
        f"/me/notification-rules/{rule_id}", {"delay_minutes": 5, "contact_method": email.json()["id"]}
    )
    assert (
        changed.status_code == 200
        and changed.json()["kind"] == "email"
        and changed.json()["delay_minutes"] == 5
    )
    for body, field in (
        ({"contact_method": sms.json()["id"], "urgency": "urgent"}, "urgency"),
        ({"contact_method": sms.json()["id"], "urgency": "high", "delay_minutes": 99999}, "delay_minutes"),
        ({"contact_method": 99999, "urgency": "high"}, "contact_method"),
    ):
        bad = api.bob.post("/me/notification-rules", body)
        assert bad.status_code == 400 and error(bad)["errors"][0]["field"] == field
    duplicate = api.bob.post(
        "/me/notification-rules",
        {"contact_method": email.json()["id"], "urgency": "high", "delay_minutes": 5},
    )
    assert duplicate.status_code == 409
    assert api.alice.delete(f"/me/notification-rules/{rule_id}").status_code == 404
    assert api.bob.delete(f"/me/notification-rules/{rule_id}").status_code == 204
    assert not NotificationRule.objects.filter(pk=rule_id).exists()


def test_bad_input_names_the_field(api: Clients, world: World, smtp: Inbox) -> None:
    for body, field in (
        ({"kind": "fax", "name": "Fax", "address": "1"}, "kind"),
        ({"kind": "email", "name": "", "address": "bob@example.com"}, "name"),
        ({"kind": "email", "name": "X", "address": "bob"}, "address"),
        (
            {"kind": "sms", "name": "Phone", "address": "+14155550100"},
            "kind",
        ),  # Twilio is not configured here
        ({"kind": "webhook", "name": "Hook", "address": "http://10.0.0.1/x"}, "address"),
    ):
        response = api.bob.post("/me/contact-methods", body)
        assert response.status_code == 400, (body, response.content)
        assert error(response)["errors"][0]["field"] == field
    missing = api.bob.post("/me/contact-methods", {"kind": "email"})
    assert missing.status_code == 422
    garbled = api.bob.call("POST", "/me/contact-methods", raw="{not json")
    assert garbled.status_code == 400


def test_disable_rename_and_delete(api: Clients, world: World, smtp: Inbox) -> None:
    method_id = api.bob.post(
        "/me/contact-methods", {"kind": "email", "name": "Work", "address": "bob@example.com"}
    ).json()["id"]
    disabled = api.bob.patch(f"/me/contact-methods/{method_id}", {"disabled": True, "name": "Old work"})
    assert (
        disabled.status_code == 200
        and disabled.json()["disabled"] is True
        and disabled.json()["name"] == "Old work"
    )
    assert api.bob.delete(f"/me/contact-methods/{method_id}").status_code == 204
    assert Message.objects.get(category="verification").status == "cancelled"
    assert api.bob.get(f"/me/contact-methods/{method_id}").status_code == 404


def test_the_channel_list_says_what_the_server_can_send(api: Clients, world: World, smtp: Inbox) -> None:
    channels = {c["kind"]: c for c in api.bob.get("/notification-channels").json()}
    assert channels["email"]["configured"] is True and channels["sms"]["configured"] is False
    assert channels["voice"]["delivery"] == "at_most_once" and channels["webhook"]["throttle"] == "no limit"
    assert json.dumps(channels)
