"""The "Notifications" page: a person adds contact methods (each kind with what it needs), verifies them with
the code sent to them, tests, disables and deletes them, and builds their ladder of rules per urgency. Secrets
are never shown back; other people's methods and rules are a 404; the page warns when no high-urgency page
would reach the person."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.conftest import World
from tests.notify.conftest import pending_code, smtp, verified  # noqa: F401 (smtp: a fixture)
from tests.web.conftest import ClientFor
from warroom.config import Twilio
from warroom.notify.models import Category, ContactMethod, Message, NotificationRule, Status

pytestmark = pytest.mark.django_db

URL = "/settings/notifications/"
SLACK_HOOK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXSECRETXXXXXXXX"


@pytest.fixture(autouse=True)
def mail(settings: Any) -> None:
    """Email configured (nothing is sent here: no engine runs)."""
    settings.MAILERS = {
        **settings.MAILERS,
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }


@pytest.fixture
def twilio(settings: Any) -> None:
    settings.WARROOM_TWILIO = Twilio(
        account_sid="AC" + "0" * 32,
        auth_token="t" * 32,
        from_="+14155550000",
        base_url="https://api.twilio.com",
    )


def test_page_link_and_warning(client_for: ClientFor, world: World) -> None:
    bob = client_for(world.bob)
    home = bob.get(reverse("web:incident-list")).content.decode()
    assert f'href="{URL}"' in home
    page = bob.get(URL).content.decode()
    assert 'id="unreachable-warning"' in page and "You cannot be paged" in page
    assert "No contact methods yet." in page and 'id="channel-help"' in page


def test_add_verify_test_disable_delete_email(client_for: ClientFor, world: World) -> None:
    bob = client_for(world.bob)
    response = bob.post(
        reverse("notify-method-create"), {"kind": "email", "name": "Work mail", "address": "bob@example.com"}
    )
    assert response.status_code == 302
    method = ContactMethod.objects.get(user=world.bob, name="Work mail")
    assert method.verified_at is None
    page = bob.get(URL).content.decode()
    assert "Not verified" in page and "Verify Work mail" in page and 'id="unreachable-warning"' in page
    # a wrong code is shown next to the method's code field
    response = bob.post(reverse("notify-method-verify", args=[method.pk]), {"code": "000000"})
    assert response.status_code == 400 and "wrong code" in response.content.decode()
    # asking again within a minute is refused
    assert bob.post(reverse("notify-method-send-code", args=[method.pk])).status_code == 429
    code = pending_code(method)
    assert bob.post(reverse("notify-method-verify", args=[method.pk]), {"code": code}).status_code == 302
    page = bob.get(URL).content.decode()
    assert "Verified" in page and 'id="unreachable-warning"' not in page
    assert NotificationRule.objects.filter(user=world.bob, contact_method=method).count() == 2
    assert bob.post(reverse("notify-method-test", args=[method.pk])).status_code == 302
    assert Message.objects.filter(
        contact_method=method, category=Category.TEST, status=Status.PENDING
    ).exists()
    assert bob.post(reverse("notify-method-disable", args=[method.pk]), {"disabled": "1"}).status_code == 302
    method.refresh_from_db()
    assert method.disabled
    page = bob.get(URL).content.decode()
    assert "Disabled" in page and 'id="unreachable-warning"' in page and "disabled: skipped" in page
    bob.post(reverse("notify-method-disable", args=[method.pk]), {"disabled": ""})
    method.refresh_from_db()
    assert not method.disabled
    assert bob.post(reverse("notify-method-delete", args=[method.pk])).status_code == 302
    assert not ContactMethod.objects.filter(pk=method.pk).exists()


def test_secrets_are_never_shown_back(client_for: ClientFor, world: World) -> None:
    bob = client_for(world.bob)
    response = bob.post(
        reverse("notify-method-create"), {"kind": "slack", "name": "Slack", "address": SLACK_HOOK}
    )
    assert response.status_code == 302
    page = bob.get(URL).content.decode()
    assert "SECRET" not in page and "hooks.slack.com/…" in page
    # a webhook's signing secret: shown once, in the answer to the POST that made it
    response = bob.post(
        reverse("notify-method-create"),
        {"kind": "webhook", "name": "Hook", "address": "https://hooks.example.com/warroom/abc123"},
    )
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    first = response.content.decode()
    assert 'id="reveal"' in first and "never show it again" in first
    method = ContactMethod.objects.get(user=world.bob, name="Hook")
    secret = method.secret["signing_secret"]
    assert secret in first
    later = bob.get(URL).content.decode()
    assert 'id="reveal"' not in later and "abc123" not in later and secret not in later


def test_form_errors(client_for: ClientFor, world: World, twilio: None) -> None:
    bob = client_for(world.bob)
    response = bob.post(
        reverse("notify-method-create"), {"kind": "sms", "name": "Phone", "address": "not a number"}
    )
    page = response.content.decode()
    assert response.status_code == 400 and 'class="field has-error' in page and 'id="new-method" open' in page
    response = bob.post(reverse("notify-method-create"), {"kind": "fax", "name": "", "address": ""})
    page = response.content.decode()
    assert (
        response.status_code == 400 and "Select a valid choice" in page and "This field is required." in page
    )
    verified(world.bob, "email", "bob@example.com", name="Mail")
    response = bob.post(
        reverse("notify-method-create"), {"kind": "email", "name": "Mail", "address": "b@example.com"}
    )
    assert response.status_code == 409 and "already have a contact method named" in response.content.decode()
    method = ContactMethod.objects.get(user=world.bob, name="Mail")
    response = bob.post(
        reverse("notify-rule-create"), {"urgency": "high", "delay_minutes": 0, "contact_method": method.pk}
    )
    assert response.status_code == 409 and "that rule exists already" in response.content.decode()
    response = bob.post(
        reverse("notify-rule-create"), {"urgency": "high", "delay_minutes": 5000, "contact_method": ""}
    )
    page = response.content.decode()
    assert (
        response.status_code == 400
        and "less than or equal to 1440" in page
        and "This field is required." in page
    )


def test_rule_ladder(client_for: ClientFor, world: World, twilio: None) -> None:
    bob = client_for(world.bob)
    mail = verified(world.bob, "email", "bob@example.com", name="Mail")
    sms = verified(world.bob, "sms", "+14155550100", name="Phone")
    response = bob.post(
        reverse("notify-rule-create"), {"urgency": "high", "delay_minutes": 2, "contact_method": sms.pk}
    )
    assert response.status_code == 302
    page = bob.get(URL).content.decode()
    high = page.split('id="ladder-high"')[1].split("</ol>")[0]
    assert high.index("At <strong>0 min</strong> via Mail") < high.index(
        "At <strong>2 min</strong> via Phone"
    )
    assert "+1415555••••" in page or "+14155550100" not in page
    rule = NotificationRule.objects.get(contact_method=sms, delay_minutes=2)
    assert bob.post(reverse("notify-rule-delete", args=[rule.pk])).status_code == 302
    assert not NotificationRule.objects.filter(pk=rule.pk).exists()
    assert mail.rules.count() == 2


def test_other_peoples_methods_and_rules_are_404(client_for: ClientFor, world: World) -> None:
    method = verified(world.bob, "email", "bob@example.com", name="Mail")
    rule = NotificationRule.objects.filter(contact_method=method).first()
    assert rule is not None
    alice = client_for(world.alice)
    assert "bob@example.com" not in alice.get(URL).content.decode()
    for name in (
        "notify-method-send-code",
        "notify-method-verify",
        "notify-method-disable",
        "notify-method-test",
        "notify-method-delete",
    ):
        assert (
            alice.post(reverse(name, args=[method.pk]), {"code": "1", "disabled": "1"}).status_code == 404
        ), name
    assert alice.post(reverse("notify-rule-delete", args=[rule.pk])).status_code == 404
    response = alice.post(
        reverse("notify-rule-create"), {"urgency": "high", "delay_minutes": 1, "contact_method": method.pk}
    )
    assert response.status_code == 400
    method.refresh_from_db()
    assert not method.disabled and NotificationRule.objects.filter(pk=rule.pk).exists()


def test_sign_in_required(client: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_contact_method_this_server_cannot_send_through_says_so(
    client_for: ClientFor, world: World, settings: Any
) -> None:
    """Email without WARROOM_SMTP_HOST: the verified method says nothing is sent to it and that its rules page
    nobody, and its Test button says the test cannot reach it instead of "on its way"."""
    without = {k: v for k, v in settings.MAILERS.items() if k != "notifications"}
    settings.MAILERS = {
        **without,
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }
    method = verified(world.bob, "email", "bob@example.com", name="Work mail")
    settings.MAILERS = without  # then the administrator took the mail server away
    bob = client_for(world.bob)
    page = " ".join(bob.get(URL).content.decode().split())
    assert (
        "Email is not set up on this server: nothing is sent to it, so 2 of your rules page nobody." in page
    )
    tested = bob.post(reverse("notify-method-test", args=[method.pk]), follow=True)
    said = " ".join(tested.content.decode().split())
    assert "Email is not set up on this server, so the test cannot reach Work mail" in said
    assert "on its way" not in said


@pytest.mark.usefixtures("smtp")
def test_a_contact_method_the_server_sends_through_has_no_such_note(
    client_for: ClientFor, world: World
) -> None:
    method = verified(world.bob, "email", "bob@example.com", name="Work mail")
    bob = client_for(world.bob)
    assert "is not set up on this server" not in bob.get(URL).content.decode()
    tested = bob.post(reverse("notify-method-test", args=[method.pk]), follow=True)
    assert "A test message is on its way to Work mail." in tested.content.decode()


def test_a_rule_is_changed_in_place(client_for: ClientFor, world: World, twilio: None) -> None:
    bob = client_for(world.bob)
    verified(world.bob, "email", "bob@example.com", name="Mail")
    sms = verified(world.bob, "sms", "+14155550100", name="Phone")
    rule = NotificationRule.objects.get(contact_method__name="Mail", urgency="low")
    prefix = f"rule-{rule.pk}"
    page = bob.get(URL).content.decode()
    edit = page.split(f'id="edit-rule-{rule.pk}"')[1].split("</details>")[0]
    assert f'action="{reverse("notify-rule-edit", args=[rule.pk])}"' in edit
    assert f'name="{prefix}-delay_minutes"' in edit and 'value="0"' in edit  # the rule as it is

    changed = {
        f"{prefix}-urgency": "low",
        f"{prefix}-delay_minutes": "15",
        f"{prefix}-contact_method": str(sms.pk),
        f"{prefix}-working_hours_only": "on",
    }
    assert bob.post(reverse("notify-rule-edit", args=[rule.pk]), changed).status_code == 302
    rule.refresh_from_db()
    assert (rule.delay_minutes, rule.contact_method_id, rule.working_hours_only) == (15, sms.pk, True)
    low = bob.get(URL).content.decode().split('id="ladder-low"')[1].split("</ol>")[0]
    assert "At <strong>15 min</strong> via Phone" in low

    # refused: shown in that rule's own form, open, and nothing changes
    refused = bob.post(
        reverse("notify-rule-edit", args=[rule.pk]), {**changed, f"{prefix}-delay_minutes": "-5"}
    )
    assert refused.status_code == 400
    form = refused.content.decode().split(f'id="edit-rule-{rule.pk}"')[1].split("</details>")[0]
    assert form.startswith(" open") and "greater than or equal to 0" in form
    # the same as another rule of the ladder: a 409, said on the form
    high_mail = NotificationRule.objects.get(contact_method__name="Mail", urgency="high")
    clash = {**changed, f"{prefix}-urgency": "high", f"{prefix}-delay_minutes": str(high_mail.delay_minutes)}
    clash[f"{prefix}-contact_method"] = str(high_mail.contact_method_id)
    clash.pop(f"{prefix}-working_hours_only")
    answer = bob.post(reverse("notify-rule-edit", args=[rule.pk]), clash)
    assert answer.status_code == 409
    assert "that rule exists already" in answer.content.decode().split(f'id="edit-rule-{rule.pk}"')[1]
    rule.refresh_from_db()
    assert (rule.urgency, rule.delay_minutes) == ("low", 15)
    # someone else's rule is a 404
    assert (
        client_for(world.alice).post(reverse("notify-rule-edit", args=[rule.pk]), changed).status_code == 404
    )
