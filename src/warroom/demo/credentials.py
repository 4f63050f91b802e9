"""The demo admin's sign-in, kept in ``DATA_DIR/demo-credentials.txt`` (mode 0600) so every start can show it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

FILENAME = "demo-credentials.txt"


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str


def path() -> Path:
    return Path(settings.DATA_DIR) / FILENAME


def read() -> Credentials | None:
    """The stored sign-in, or None when the file is missing or unreadable as such."""
    try:
        text = path().read_text()
    except FileNotFoundError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith("#"):
            fields[key.strip().lower()] = value.strip()
    if not fields.get("email") or not fields.get("password"):
        return None
    return Credentials(email=fields["email"], password=fields["password"])


def write(credentials: Credentials) -> Path:
    """Write the file readable by its owner only (created 0600; an existing file is narrowed to 0600)."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# Warroom demo organisation: the organisation admin's sign-in, as seeded.\n"
            "# If you change the password in Warroom, this file is out of date; delete it when done.\n"
            f"email: {credentials.email}\n"
            f"password: {credentials.password}\n"
        )
    return target
