"""``warroom_demo`` against a database that is not empty, and with a sign-in kept from an earlier seed."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from warroom.accounts.models import User
from warroom.alerts.models import Alert
from warroom.demo import credentials, seed
from warroom.demo.data import ADMIN_EMAIL
from warroom.incidents.models import Incident, SlaClock
from warroom.oncall.models import Override
from warroom.paging.models import Page
from warroom.reviews.models import Postmortem

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("warroom_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def data_dir(settings: object, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    return tmp_path


def test_if_empty_leaves_an_existing_install_alone(data_dir: Path) -> None:
    User.objects.create_user("someone@example.com", "a-long-enough-password")
    output = run_demo("--if-empty")
    assert "not seeding" in output
    assert Incident.objects.count() == 0 and User.objects.count() == 1
    assert not (data_dir / credentials.FILENAME).exists()


def test_a_stored_password_is_reused_for_a_fresh_database(data_dir: Path) -> None:
    credentials.write(credentials.Credentials(email=ADMIN_EMAIL, password="kept-from-last-time-42"))
    output = run_demo("--if-empty")
    assert "password    kept-from-last-time-42" in output
    assert Client().login(email=ADMIN_EMAIL, password="kept-from-last-time-42")


def _story_of_the_seed() -> list[object]:
    """What a visitor would see of a seed: incidents with their state, priority and alerts, pages, clocks."""
    return [
        sorted(
            Incident.objects.values_list("number", "title", "state", "priority", "opened_at", "resolved_at")
        ),
        sorted(Alert.objects.values_list("dedup_key", "first_seen", "count", "status", "incident__number")),
        sorted(Page.objects.values_list("incident__number", "user__email", "at")),
        sorted(SlaClock.objects.values_list("incident__number", "kind", "state", "stopped_at")),
        sorted(Override.objects.values_list("user__email", "start", "end")),
        sorted(Postmortem.objects.values_list("incident__number", "status")),
    ]


def test_the_same_seed_tells_the_same_story(data_dir: Path) -> None:
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    told = []
    for _ in range(2):
        with transaction.atomic():
            seed.seed_demo(password="the-same-password-twice", seed=7, now=now)
            told.append(_story_of_the_seed())
            transaction.set_rollback(True)
    assert told[0] == told[1]
    assert len(told[0][0]) >= 47 and told[0][2]
