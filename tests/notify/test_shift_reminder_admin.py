"""Organisation admins see everyone's shift reminder setting in the admin site, next to the other notification
settings; it is read-only there, since people set their own (audited, through the console or the API)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import World
from warroom.audit.models import AuditEvent
from warroom.notify import services as notify
from warroom.notify.models import ShiftReminderSetting

pytestmark = pytest.mark.django_db

LIST = "/admin/notify/shiftremindersetting/"


@pytest.fixture
def olivia(world: World) -> Client:
    assert world.olivia.is_superuser and world.olivia.is_staff
    client = Client()
    client.force_login(world.olivia)
    return client


def test_the_setting_is_listed_in_the_admin(world: World, olivia: Client) -> None:
    notify.set_shift_reminder(user=world.bob, minutes_before=60, actor=world.bob, source="api")

    listed = olivia.get(LIST)

    assert listed.status_code == 200
    page = listed.content.decode()
    assert "Bob Responder" in page and "1 hour before" in page
    assert olivia.get(LIST, {"q": "bob@example.com"}).status_code == 200
    home = olivia.get("/admin/notify/").content.decode()
    assert LIST in home


def test_it_is_read_only_there(world: World, olivia: Client) -> None:
    notify.set_shift_reminder(user=world.bob, minutes_before=60, actor=world.bob, source="api")
    change = f"{LIST}{world.bob.pk}/change/"

    assert olivia.get(change).status_code == 200
    assert 'name="minutes_before"' not in olivia.get(change).content.decode()
    olivia.post(change, {"minutes_before": "1440"})
    assert olivia.get(f"{LIST}add/").status_code == 403
    assert olivia.post(f"{LIST}{world.bob.pk}/delete/", {"post": "yes"}).status_code == 403

    assert ShiftReminderSetting.objects.get(user=world.bob).minutes_before == 60
    assert AuditEvent.objects.filter(action="shift_reminder.set").count() == 1


def test_people_who_are_not_staff_are_sent_to_log_in(world: World, client_for: object) -> None:
    response = client_for(world.alice).get(LIST)  # type: ignore[operator]
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
