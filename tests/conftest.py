"""The standard world of DESIGN.md: alice (admin of team A), bob (responder in A), charlie (team B),
plus olivia, an organisation admin, and a service owned by each team."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import settings

from warroom.accounts import services as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import services as catalog
from warroom.catalog.models import Service
from warroom.comms.public_views import SUBSCRIBE_LIMITER

PASSWORD = "correct-horse-battery-staple"

# Property tests explore new examples on every developer run; CI (.ci/run sets HYPOTHESIS_PROFILE=ci) replays
# the same examples each time, so a submission is judged on its code, not on the dice. A counterexample found
# locally goes into the test as an @example.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# Tests that run `warroom` as a process on a SQLite data dir of their own (a migrated or demo copy, or a fresh
# tmp dir): the suite's database plays no part in them, so the PostgreSQL run of the suite leaves them to the
# SQLite run instead of doing the same work twice. Their PostgreSQL counterparts (tests/alerts/test_crash.py,
# the live-server CLI tests) are marked otherwise and run there.
OWN_SQLITE_FIXTURES = {"migrated_data_dir", "demo_data_dir"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not os.environ.get("WARROOM_DATABASE_URL", "").startswith("postgres"):
        return
    leave = pytest.mark.skip(reason="runs warroom on a SQLite data dir of its own: the SQLite run covers it")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("own_sqlite") or fixtures & OWN_SQLITE_FIXTURES:
            item.add_marker(leave)


@dataclass
class World:
    alice: User
    bob: User
    charlie: User
    olivia: User
    dave: User
    team_a: Team
    team_b: Team
    service_a: Service
    service_b: Service


def make_world() -> World:
    team_a = accounts.create_team(name="Team A", actor=None, source="system")
    team_b = accounts.create_team(name="Team B", actor=None, source="system")

    def person(email: str, name: str, *, org_admin: bool = False) -> User:
        return accounts.create_user(
            email=email,
            password=PASSWORD,
            full_name=name,
            is_org_admin=org_admin,
            actor=None,
            source="system",
        )

    alice = person("alice@example.com", "Alice Admin")
    bob = person("bob@example.com", "Bob Responder")
    charlie = person("charlie@example.com", "Charlie Other")
    olivia = person("olivia@example.com", "Olivia Org", org_admin=True)
    dave = person("dave@example.com", "Dave Observer")
    accounts.set_membership(team=team_a, user=alice, role="admin", actor=None, source="system")
    accounts.set_membership(team=team_a, user=bob, role="responder", actor=None, source="system")
    accounts.set_membership(team=team_a, user=dave, role="observer", actor=None, source="system")
    accounts.set_membership(team=team_b, user=charlie, role="admin", actor=None, source="system")
    service_a = catalog.create_service(team=team_a, name="Checkout", tier=1, actor=None, source="system")
    service_b = catalog.create_service(team=team_b, name="Billing", tier=2, actor=None, source="system")
    return World(alice, bob, charlie, olivia, dave, team_a, team_b, service_a, service_b)


@pytest.fixture
def world(db: None) -> World:
    return make_world()


@pytest.fixture
def client_for() -> Iterator[object]:
    """``client_for(user)`` → a Django test client signed in as ``user``."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    yield make


@pytest.fixture(autouse=True)
def _fresh_subscribe_limits() -> None:
    """Every test subscribes to status pages from 127.0.0.1 as if it were the first client of the minute."""
    SUBSCRIBE_LIMITER.reset()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """Argon2 is deliberately slow; the suite uses MD5 except where a test checks the real hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------------
# Data dirs for tests that run `warroom` as a process. Migrating a new SQLite database takes ~25 s (Django renders
# the migration state of every model), so the run migrates one once, and each such test starts from a copy of it,
# as an operator's second start would. tests/smoke/test_serve.py still starts on a truly empty data dir.

WARROOM_COMMAND = Path(sys.executable).with_name("warroom")


def _prepared_data_dir(factory: pytest.TempPathFactory, name: str, *commands: str) -> Path:
    data_dir = factory.mktemp(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = str(data_dir)
    for command in commands:
        done = subprocess.run(
            [str(WARROOM_COMMAND), command], env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, f"warroom {command} failed:\n{done.stdout}\n{done.stderr}"
    return data_dir


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _prepared_data_dir(tmp_path_factory, "migrated-template", "migrate")


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _prepared_data_dir(tmp_path_factory, "demo-template", "demo")


@pytest.fixture
def migrated_data_dir(tmp_path: Path, _migrated_template: Path) -> Path:
    """A data dir whose SQLite database has every migration applied and nothing else (``tmp_path/data``)."""
    return Path(shutil.copytree(_migrated_template, tmp_path / "data"))


@pytest.fixture
def demo_data_dir(tmp_path: Path, _demo_template: Path) -> Path:
    """A data dir holding the demo organisation, as ``warroom demo`` leaves it (``tmp_path/data``)."""
    return Path(shutil.copytree(_demo_template, tmp_path / "data"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """On SQLite the test database is a file in the data dir, not Django's default in-memory database.

    With an in-memory database Django hands the live server's request threads and the test thread one shared
    connection, and two of them using it at once fail at random ("bad parameter or other API misuse"): Chromium
    loads a page while an earlier page's requests are still running. With a file, every thread has its own
    connection and SQLite's locking (WAL, busy timeout) orders them, as in production."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(os.environ.get("WARROOM_DATA_DIR") or ".pytest-data") / "test-database.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name.resolve())
