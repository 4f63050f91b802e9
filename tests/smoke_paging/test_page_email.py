"""The paging email as the person paged reads it, received by a real SMTP server: what the incident is (number,
title, priority, service, team, since when), why they are paged, and links that work on the configured address:
the incident page, the acknowledge link, and the footer's notification settings."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.conftest import World
from tests.smoke_paging.conftest import declare, policy
from tests.smoke_paging.harness import Harness
from warroom.accounts.models import User
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec

pytestmark = pytest.mark.django_db

BASE = "https://warroom.example.com"


def _links(text: str) -> dict[str, str]:
    return {label: url for label, url in re.findall(r"^(Open|Acknowledge): (\S+)$", text, re.MULTILINE)}


def test_the_page_email_says_what_a_paged_person_needs(h: Harness, world: World, settings: Any) -> None:
    settings.WARROOM_BASE_URL = BASE
    User.objects.filter(pk=world.bob.pk).update(time_zone="Europe/Paris")
    h.ladder(world.bob, "high", ("email", 0))
    schedule = oncall.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="Europe/Paris", actor=None, source="system"
    )
    oncall.create_override(
        schedule=schedule,
        user=world.bob,
        start=clock.now(),
        end=clock.now() + timedelta(hours=8),
        actor=None,
        source="system",
    )
    policy(world, [StepSpec(5, [TargetSpec("schedule", schedule.pk)])])
    incident = declare(world)
    h.cycle()
    text = h.expect("email", world.bob)[0].text.replace("\r\n", "\n")
    assert text.startswith(f"[Warroom] {incident.ref} Checkout returns 500\n"), text
    assert f"{incident.ref} P1 (Critical): Checkout returns 500" in text
    assert "Service: Checkout · Team: Team A" in text
    assert "Opened: 2026-03-02 10:00 Europe/Paris · State: New" in text, "in bob's own zone"
    assert "You are paged by step 1 of Primary: you are on call on Checkout primary." in text
    links = _links(text)
    assert links["Open"] == f"{BASE}/incidents/{incident.ref}/"
    assert links["Acknowledge"].startswith(f"{BASE}/ack/")
    footer = text.rsplit("-- \n", 1)[1]
    assert footer.strip() == f"Sent by Warroom. Manage your notifications: {BASE}/settings/notifications/"
    # every link opens what it says, for bob
    browser = Client()
    browser.force_login(world.bob)
    opened = browser.get(urlsplit(links["Open"]).path)
    assert opened.status_code == 200 and b"Checkout returns 500" in opened.content
    settings_page = browser.get(urlsplit(footer.split(": ", 1)[1].strip()).path)
    assert settings_page.status_code == 200 and b"Contact methods" in settings_page.content
    assert Client().post(urlsplit(links["Acknowledge"]).path).status_code == 200
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is not None
