"""Django system checks that refuse unsafe production settings.

The plain checks run before every management command that checks (``migrate``, ``warroom serve``, ``warroom
web``), so an Error stops a server from starting with a dangerous configuration. The deploy checks run only
under ``warroom check`` (``manage.py check --deploy``).

"Production" here means the configured ``WARROOM_BASE_URL`` is not a loopback address: embedded use on
``http://127.0.0.1:8000`` is never refused.

IDs:

* ``warroom.E001`` DEBUG is on while Warroom is reachable beyond this machine.
* ``warroom.E002`` ALLOWED_HOSTS contains ``*``.
* ``warroom.E003`` the secret key is short or has too few distinct characters.
* ``warroom.W001`` the base URL is plain http on a non-loopback host: cookies travel unencrypted.
* ``warroom.W002`` SQLite serves a non-loopback base URL (fine for small installs; PostgreSQL for more).
* ``warroom.W003`` (deploy) the base URL is still a loopback address.
* ``warroom.W004`` (deploy) PostgreSQL with a secret key generated into one machine's data dir.

This module must not import models: checks are registered while the app registry is still loading.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 and ::1 are loopback; anything else may be public."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url() -> str:
    return str(getattr(settings, "WARROOM_BASE_URL", "http://127.0.0.1:8000"))


def _is_public() -> bool:
    return not is_loopback_host(urlsplit(_base_url()).hostname)


def _uses_sqlite() -> bool:
    return "sqlite" in str(settings.DATABASES.get("default", {}).get("ENGINE", ""))


@register(Tags.security)
def check_debug(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG and _is_public():
        return [
            Error(
                f"WARROOM_DEBUG is on while WARROOM_BASE_URL ({_base_url()}) is not a loopback address.",
                hint="Debug pages show settings, SQL and stack traces to anyone. Unset WARROOM_DEBUG "
                "(or set it to false) on any server other people can reach.",
                id="warroom.E001",
            )
        ]
    return []


@register(Tags.security)
def check_allowed_hosts(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if "*" in settings.ALLOWED_HOSTS:
        return [
            Error(
                "WARROOM_ALLOWED_HOSTS contains '*': Warroom would answer to any Host header.",
                hint="List the host names people use, e.g. WARROOM_ALLOWED_HOSTS=warroom.example.com. "
                "When unset, Warroom allows the host of WARROOM_BASE_URL, 127.0.0.1 and localhost.",
                id="warroom.E002",
            )
        ]
    return []


@register(Tags.security)
def check_secret_key(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        key = str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        key = ""
    if len(key) >= SECRET_KEY_MIN_LENGTH and len(set(key)) >= SECRET_KEY_MIN_DISTINCT:
        return []
    return [
        Error(
            f"The secret key is too weak: {len(key)} characters, {len(set(key))} distinct "
            f"(needs at least {SECRET_KEY_MIN_LENGTH} characters and {SECRET_KEY_MIN_DISTINCT} distinct).",
            hint="Set WARROOM_SECRET_KEY to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`, or unset it to let Warroom "
            "generate one into WARROOM_DATA_DIR/secret_key.",
            id="warroom.E003",
        )
    ]


@register(Tags.security)
def check_https(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    base = _base_url()
    if urlsplit(base).scheme == "http" and _is_public():
        return [
            Warning(
                f"WARROOM_BASE_URL ({base}) is plain http on a non-loopback host: session and CSRF cookies "
                "are not marked secure and passwords travel unencrypted.",
                hint="Serve Warroom behind a TLS-terminating proxy and set WARROOM_BASE_URL=https://...",
                id="warroom.W001",
            )
        ]
    return []


@register(Tags.security)
def check_sqlite_in_production(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if _uses_sqlite() and _is_public():
        return [
            Warning(
                f"Warroom serves {_base_url()} from SQLite.",
                hint="That is fine for a small install run by one `warroom serve` process. To run several "
                "web and engine processes, move to PostgreSQL: set WARROOM_DATABASE_URL=postgres://..., "
                "run `warroom migrate`, and copy your data across (see docs/operations.md).",
                id="warroom.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_deploy_base_url(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if not _is_public():
        return [
            Warning(
                f"WARROOM_BASE_URL is {_base_url()}, a loopback address, but this is a deployment check.",
                hint="Set WARROOM_BASE_URL to the address people use, e.g. https://warroom.example.com; "
                "links in notifications and the secure-cookie settings follow it.",
                id="warroom.W003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_deploy_shared_secret(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "WARROOM_SECRET_KEY_GENERATED", False) and not _uses_sqlite():
        return [
            Warning(
                "The secret key was generated into this machine's WARROOM_DATA_DIR, but the database is "
                "PostgreSQL, where several web processes usually share one database.",
                hint="Set WARROOM_SECRET_KEY to the same value on every `warroom web` and `warroom engine` "
                "process; otherwise sign-ins and signed links made by one process fail on another.",
                id="warroom.W004",
            )
        ]
    return []
