"""Workflows through the API and the CLI: the standard world and its API clients (one real token per person)."""

from __future__ import annotations

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
