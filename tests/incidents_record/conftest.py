"""The API tests' clients (one per person of the standard world) for the incident record's tests."""

from tests.api.conftest import api  # noqa: F401
