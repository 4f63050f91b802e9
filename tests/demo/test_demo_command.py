"""``warroom_demo`` against a database that is not empty, and with a sign-in kept from an earlier seed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from warroom.accounts.models import User
from warroom.demo import credentials
from warroom.demo.data import ADMIN_EMAIL
from warroom.incidents.models import Incident

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
