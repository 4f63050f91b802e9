"""Accounts and security: the standard world, its API clients (one real token per person) and console clients."""

from __future__ import annotations

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
