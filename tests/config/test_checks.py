"""Warroom's system checks: each fires on the unsafe setting and stays quiet on a safe one."""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest
from django.core import checks as django_checks

from warroom.web import checks

PUBLIC_HTTPS = "https://warroom.example.com"
PUBLIC_HTTP = "http://warroom.example.com"
LOOPBACK = "http://127.0.0.1:8000"
GOOD_KEY = "x7-Yq2mP9vR4tL8wK3nB6cJ1hF5gD0sA-zE2uI7oN4pX9bM3kT6yW1rQ8"


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


@pytest.fixture
def safe(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A safe production configuration: https, PostgreSQL, explicit hosts, a strong key, no debug."""
    settings.WARROOM_BASE_URL = PUBLIC_HTTPS
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["warroom.example.com"]
    settings.SECRET_KEY = GOOD_KEY
    settings.WARROOM_SECRET_KEY_GENERATED = False
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.postgresql")
    return settings


ALL_CHECKS = [
    checks.check_debug,
    checks.check_allowed_hosts,
    checks.check_secret_key,
    checks.check_https,
    checks.check_sqlite_in_production,
    checks.check_deploy_base_url,
    checks.check_deploy_shared_secret,
]


def test_a_safe_production_configuration_passes_every_check(safe: Any) -> None:
    assert [m for check in ALL_CHECKS for m in check()] == []


def test_embedded_defaults_pass_the_plain_checks(safe: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    safe.WARROOM_BASE_URL = LOOPBACK
    safe.DEBUG = True
    safe.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    safe.WARROOM_SECRET_KEY_GENERATED = True
    monkeypatch.setitem(safe.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    plain = ALL_CHECKS[:5]
    assert [m for check in plain for m in check()] == []


# -- E001 debug -------------------------------------------------------------------------------------------------


def test_e001_debug_on_a_public_url(safe: Any) -> None:
    safe.DEBUG = True
    errors = checks.check_debug()
    assert ids(errors) == ["warroom.E001"]
    assert isinstance(errors[0], django_checks.Error)
    assert "WARROOM_DEBUG" in errors[0].msg


@pytest.mark.parametrize(
    "url", [LOOPBACK, "http://localhost:8000", "http://[::1]:8000", "http://app.localhost"]
)
def test_e001_debug_on_loopback_is_fine(safe: Any, url: str) -> None:
    safe.DEBUG = True
    safe.WARROOM_BASE_URL = url
    assert checks.check_debug() == []


def test_e001_no_debug_is_fine(safe: Any) -> None:
    assert checks.check_debug() == []


# -- E002 allowed hosts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hosts", [["*"], ["warroom.example.com", "*"]])
def test_e002_wildcard_host(safe: Any, hosts: list[str]) -> None:
    safe.ALLOWED_HOSTS = hosts
    errors = checks.check_allowed_hosts()
    assert ids(errors) == ["warroom.E002"] and isinstance(errors[0], django_checks.Error)


@pytest.mark.parametrize("hosts", [["warroom.example.com"], [".example.com", "127.0.0.1"]])
def test_e002_named_hosts_are_fine(safe: Any, hosts: list[str]) -> None:
    safe.ALLOWED_HOSTS = hosts
    assert checks.check_allowed_hosts() == []


# -- E003 secret key ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "too-short-but-varied-0123456789",  # 31 characters
        "G" * 49 + "x",  # long enough, 2 distinct
        "abcd" * 20,  # long enough, 4 distinct
    ],
)
def test_e003_weak_secret_key(safe: Any, key: str) -> None:
    safe.SECRET_KEY = key
    errors = checks.check_secret_key()
    assert ids(errors) == ["warroom.E003"] and isinstance(errors[0], django_checks.Error)


@pytest.mark.parametrize("key", [GOOD_KEY, "abcde" * 10])
def test_e003_strong_enough_secret_key(safe: Any, key: str) -> None:
    safe.SECRET_KEY = key
    assert checks.check_secret_key() == []


# -- W001 plain http --------------------------------------------------------------------------------------------------


def test_w001_plain_http_on_a_public_host(safe: Any) -> None:
    safe.WARROOM_BASE_URL = PUBLIC_HTTP
    warnings = checks.check_https()
    assert ids(warnings) == ["warroom.W001"] and isinstance(warnings[0], django_checks.Warning)


@pytest.mark.parametrize("url", [PUBLIC_HTTPS, LOOPBACK, "http://127.0.0.2:8000"])
def test_w001_https_or_loopback_is_fine(safe: Any, url: str) -> None:
    safe.WARROOM_BASE_URL = url
    assert checks.check_https() == []


# -- W002 SQLite in production -----------------------------------------------------------------------------------------


def test_w002_sqlite_on_a_public_url(safe: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(safe.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    warnings = checks.check_sqlite_in_production()
    assert ids(warnings) == ["warroom.W002"] and isinstance(warnings[0], django_checks.Warning)
    assert "PostgreSQL" in (warnings[0].hint or "")


def test_w002_sqlite_on_loopback_and_postgres_anywhere_are_fine(
    safe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert checks.check_sqlite_in_production() == []  # PostgreSQL on a public URL
    monkeypatch.setitem(safe.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    safe.WARROOM_BASE_URL = LOOPBACK
    assert checks.check_sqlite_in_production() == []


# -- deploy-only checks ----------------------------------------------------------------------------------------------------


def test_w003_deploy_check_with_a_loopback_base_url(safe: Any) -> None:
    safe.WARROOM_BASE_URL = LOOPBACK
    assert ids(checks.check_deploy_base_url()) == ["warroom.W003"]


def test_w004_generated_key_with_postgres(safe: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    safe.WARROOM_SECRET_KEY_GENERATED = True
    assert ids(checks.check_deploy_shared_secret()) == ["warroom.W004"]
    monkeypatch.setitem(safe.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    assert checks.check_deploy_shared_secret() == []


# -- registration -------------------------------------------------------------------------------------------------------


def test_checks_are_registered_and_deploy_ones_only_run_on_deploy(safe: Any) -> None:
    safe.DEBUG = True
    safe.ALLOWED_HOSTS = ["*"]
    safe.SECRET_KEY = "weak"
    safe.WARROOM_BASE_URL = PUBLIC_HTTP
    safe.WARROOM_SECRET_KEY_GENERATED = True
    plain = set(ids(django_checks.run_checks(tags=[django_checks.Tags.security])))
    assert {"warroom.E001", "warroom.E002", "warroom.E003", "warroom.W001"} <= plain
    assert "warroom.W004" not in plain
    deploy = set(
        ids(django_checks.run_checks(tags=[django_checks.Tags.security], include_deployment_checks=True))
    )
    assert "warroom.W004" in deploy


def test_the_checks_module_imports_no_models() -> None:
    tree = ast.parse(inspect.getsource(checks))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)] + [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ]
    assert not [name for name in imported if "models" in name or name.startswith("warroom.")], imported


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("warroom.localhost", True),
        ("10.0.0.5", False),
        ("0.0.0.0", False),
        ("warroom.example.com", False),
        ("localhost.example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert checks.is_loopback_host(host) is loopback
