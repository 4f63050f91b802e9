"""An API client per person of the standard world, each with a real API token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.conftest import World
from warroom.accounts.models import User
from warroom.accounts.services import create_api_token
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident

NO_BODY = object()


class ApiClient:
    """Calls ``/api/v1`` with ``Authorization: Bearer <token>`` (or nothing when ``token`` is None)."""

    def __init__(self, token: str | None, user: User | None = None) -> None:
        self.token = token
        self.user = user
        self.client = Client()

    def call(
        self,
        method: str,
        path: str,
        body: Any = NO_BODY,
        *,
        raw: bytes | str | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        data: bytes | str = raw if raw is not None else ("" if body is NO_BODY else json.dumps(body))
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers or {})
        return self.client.generic(
            method,
            "/api/v1" + path,
            data=data,
            content_type="application/json",
            headers=all_headers,
            query_params=query,
        )

    def get(self, path: str, **query: Any) -> HttpResponse:
        return self.call("GET", path, query=query or None)

    def post(self, path: str, body: Any = NO_BODY, **kw: Any) -> HttpResponse:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = NO_BODY, **kw: Any) -> HttpResponse:
        return self.call("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = NO_BODY, **kw: Any) -> HttpResponse:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, body: Any = NO_BODY, **kw: Any) -> HttpResponse:
        return self.call("DELETE", path, body, **kw)


def client_with_token(user: User) -> ApiClient:
    _token, secret = create_api_token(user=user, name="tests", actor=None, source="system")
    return ApiClient(secret, user)


@dataclass
class Clients:
    alice: ApiClient
    bob: ApiClient
    charlie: ApiClient
    dave: ApiClient
    olivia: ApiClient

    def of(self, name: str) -> ApiClient:
        client: ApiClient = getattr(self, name)
        return client


@pytest.fixture
def api(world: World) -> Clients:
    return Clients(
        alice=client_with_token(world.alice),
        bob=client_with_token(world.bob),
        charlie=client_with_token(world.charlie),
        dave=client_with_token(world.dave),
        olivia=client_with_token(world.olivia),
    )


def declare(world: World, *, actor: User | None = None, **fields: Any) -> Incident:
    """An incident (by default in Team A, declared by alice) made through the service: test setup, not the
    API under test."""
    values: dict[str, Any] = {
        "title": "Checkout returns 500",
        "team": world.team_a,
        "services": [world.service_a],
    }
    values.update(fields)
    return incidents.declare_incident(actor=actor or world.alice, source="system", **values)


@pytest.fixture
def incident(world: World) -> Incident:
    return declare(world)


def error(response: HttpResponse) -> dict[str, Any]:
    """The JSON error body, checked for the house shape."""
    body: dict[str, Any] = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    return body
