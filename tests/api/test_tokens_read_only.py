"""Read-only API tokens: ``"scope": "read"`` makes a token that may GET (and HEAD) whatever its owner may see,
and nothing else: any other method is a 403 that says the token is read-only. The scope shows in the lists and
in the audit row of its creation."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.api.conftest import ApiClient, Clients, error
from tests.conftest import World
from warroom.accounts.models import ApiToken
from warroom.audit.models import AuditEvent
from warroom.incidents.models import Incident


@pytest.fixture
def reader(api: Clients) -> ApiClient:
    response = api.alice.post("/tokens", {"name": "dashboard", "scope": "read"})
    assert response.status_code == 201, response.content
    assert response.json()["scope"] == "read"
    return ApiClient(response.json()["token"])


def test_a_read_only_token_reads(reader: ApiClient, world: World) -> None:
    assert reader.get("/me").json()["email"] == "alice@example.com"
    assert reader.get("/incidents").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/incidents", {"title": "Disk full", "team": "team-a"}),
        ("PATCH", "/me", {"full_name": "Mallory"}),
        ("POST", "/tokens", {"name": "a full one"}),
        ("DELETE", "/tokens/1", None),
    ],
)
def test_a_read_only_token_cannot_change_anything(
    reader: ApiClient, world: World, method: str, path: str, body: object
) -> None:
    response = reader.call(method, path, body if body is not None else {})

    assert response.status_code == 403, response.content
    detail = error(response)["detail"]
    assert "read-only" in detail and method in detail
    assert not Incident.objects.filter(title="Disk full").exists()
    world.alice.refresh_from_db()
    assert world.alice.full_name == "Alice Admin"
    assert ApiToken.objects.filter(user=world.alice).count() == 2  # the fixture's and the reader


def test_the_scope_is_listed_and_audited(api: Clients, reader: ApiClient, world: World) -> None:
    listed = {t["name"]: t["scope"] for t in api.alice.get("/tokens").json()["items"]}
    assert listed == {"dashboard": "read", "tests": "full"}
    token = ApiToken.objects.get(name="dashboard")
    row = AuditEvent.objects.get(action="token.create", object_id=str(token.pk))
    assert row.after is not None and row.after["scope"] == "read" and row.after["expires_at"]


def test_an_unknown_scope_is_a_400(api: Clients) -> None:
    response = api.alice.post("/tokens", {"name": "x", "scope": "admin"})
    assert response.status_code == 400
    assert error(response)["errors"][0]["field"] == "scope"


def test_the_console_makes_and_shows_read_only_tokens(world: World, client_for: object) -> None:
    console: Client = client_for(world.bob)  # type: ignore[operator]
    url = reverse("web:token-list")
    response = console.post(url, {"name": "grafana", "scope": "read", "expires_in_days": "90"})
    assert response.status_code == 302
    assert ApiToken.objects.get(name="grafana").scope == "read"
    assert "Read only" in console.get(url).content.decode()


def test_the_server_cli_makes_a_read_only_token(world: World) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "warroom_token", "--email", "bob@example.com", "--name", "ro", "--read-only", stdout=out, stderr=err
    )
    assert ApiToken.objects.get(name="ro").scope == "read"
    assert "read-only" in err.getvalue()
