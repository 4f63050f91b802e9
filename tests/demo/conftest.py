"""The demo organisation, seeded once for the package (``warroom_demo --if-empty`` into the test database)
inside a transaction that is rolled back at the end; each test nests its own."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("warroom_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="package")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="package")
def seeded(django_db_setup: None, django_db_blocker: Any, demo_dir: Path) -> Iterator[str]:
    """What ``warroom_demo --if-empty`` printed. The seed runs once for the package."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the root conftest does per test
    with (
        django_db_blocker.unblock(),
        override_settings(DATA_DIR=demo_dir, PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        yield run_demo("--if-empty")
        transaction.set_rollback(True)
