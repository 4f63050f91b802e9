"""API tokens expire: 90 days unless asked otherwise, at most three years; an expired token is a 401 that says
it expired (not the plain "authentication required" of an unknown token). Tokens made before expiry existed
(no expiry) keep working. The API's list, the console's token page and the server CLI show and take the
expiry."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.api.conftest import ApiClient, Clients, error
from tests.conftest import World
from warroom.accounts.models import ApiToken
from warroom.audit.models import AuditEvent
from warroom.lib import clock

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def _create(api: ApiClient, **body: object) -> dict:
    with clock.frozen(NOW):
        response = api.post("/tokens", {"name": "script", **body})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_token_expires_after_90_days_by_default_and_is_then_refused_saying_so(api: Clients) -> None:
    created = _create(api.bob)
    assert created["expires_at"].startswith("2027-04-10T12:00:00")
    assert created["is_expired"] is False and created["is_active"] is True
    token = ApiClient(created["token"])

    with clock.frozen(NOW + timedelta(days=90) - timedelta(seconds=1)):
        assert token.get("/me").status_code == 200
    with clock.frozen(NOW + timedelta(days=90)):
        expired = token.get("/me")
        unknown = ApiClient(created["token"][:-4] + "zzzz").get("/me")

    assert expired.status_code == 401
    body = error(expired)
    assert body["code"] == "token_expired"
    assert "expired at 2027-04-10 12:00 UTC" in body["detail"] and "script" in body["detail"]
    assert unknown.status_code == 401 and error(unknown)["code"] == "unauthenticated"


def test_expiry_in_days_or_at_a_time_is_shown_in_the_list(api: Clients) -> None:
    in_days = _create(api.bob, expires_in_days=7)
    at_time = _create(api.bob, name="grafana", expires_at="2028-01-01T00:00:00+01:00")

    assert in_days["expires_at"].startswith("2027-01-17T12:00:00")
    assert at_time["expires_at"].startswith("2027-12-31T23:00:00")
    with clock.frozen(NOW + timedelta(days=8)):
        listed = {t["name"]: t for t in api.bob.get("/tokens").json()["items"]}
    assert listed["script"]["is_expired"] is True and listed["script"]["is_active"] is False
    assert listed["grafana"]["expires_at"].startswith("2027-12-31T23:00:00")
    assert listed["grafana"]["is_expired"] is False
    assert listed["tests"]["expires_at"] is not None  # the fixture's token, made with the default


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"expires_in_days": 0}, "expires_in_days", "from 1 to 1095"),
        ({"expires_in_days": 1096}, "expires_in_days", "from 1 to 1095"),
        ({"expires_at": "2027-01-10T11:59:00Z"}, "expires_at", "in the future"),
        ({"expires_at": "2030-01-11T00:00:00Z"}, "expires_at", "at most 1095 days ahead"),
        ({"expires_at": "2027-06-01T00:00:00"}, "expires_at", "needs a time zone"),
        ({"expires_in_days": 5, "expires_at": "2027-06-01T00:00:00Z"}, "expires_at", "not both"),
    ],
)
def test_an_expiry_out_of_bounds_is_a_400_naming_the_field(
    api: Clients, body: dict, field: str, message: str
) -> None:
    with clock.frozen(NOW):
        response = api.bob.post("/tokens", {"name": "x", **body})

    assert response.status_code == 400, response.content
    assert error(response)["errors"][0]["field"] == field
    assert message in error(response)["detail"]
    assert not ApiToken.objects.filter(name="x").exists()


def test_an_unknown_field_is_refused_not_ignored(api: Clients) -> None:
    response = api.bob.post("/tokens", {"name": "x", "expires_days": 7})
    assert response.status_code == 422
    assert error(response)["errors"][0]["field"] == "expires_days"


def test_a_token_from_before_expiry_existed_keeps_working(api: Clients, world: World) -> None:
    ApiToken.objects.filter(user=world.bob).update(expires_at=None)
    with clock.frozen(datetime(2040, 1, 1, tzinfo=UTC)):
        response = api.bob.get("/tokens")
    assert response.status_code == 200
    assert response.json()["items"][0]["expires_at"] is None


def test_the_token_creation_is_audited_with_its_expiry(api: Clients, world: World) -> None:
    created = _create(api.bob, expires_in_days=30)
    row = AuditEvent.objects.get(action="token.create", object_id=str(created["id"]))
    assert row.after == {
        "user": "bob@example.com",
        "name": "script",
        "scope": "full",
        "expires_at": "2027-02-09T12:00:00+00:00",
    }


def test_the_console_token_page_takes_and_shows_the_expiry(world: World, client_for: object) -> None:
    console: Client = client_for(world.bob)  # type: ignore[operator]
    url = reverse("web:token-list")
    form = console.get(url).content.decode()
    assert 'name="expires_in_days"' in form and 'value="90"' in form

    with clock.frozen(NOW):
        response = console.post(url, {"name": "laptop", "scope": "full", "expires_in_days": "30"})
    assert response.status_code == 302
    token = ApiToken.objects.get(user=world.bob, name="laptop")
    assert token.expires_at == NOW + timedelta(days=30)
    page = console.get(url).content.decode()
    assert "Expires" in page and "2027-02-09" in page

    refused = console.post(url, {"name": "forever", "scope": "full", "expires_in_days": "5000"})
    assert refused.status_code == 400
    assert not ApiToken.objects.filter(name="forever").exists()

    with clock.frozen(NOW + timedelta(days=31)):
        assert "Expired" in console.get(url).content.decode()


def test_the_server_cli_takes_the_expiry_and_says_it(world: World) -> None:
    out, err = io.StringIO(), io.StringIO()
    with clock.frozen(NOW):
        call_command(
            "warroom_token",
            "--email",
            "bob@example.com",
            "--name",
            "cron",
            "--expires-in-days",
            "14",
            stdout=out,
            stderr=err,
        )
    secret = out.getvalue().strip()
    assert re.fullmatch(r"wr_at_\S+", secret)
    assert "expires 2027-01-24 12:00 UTC" in err.getvalue()
    assert ApiToken.objects.get(name="cron").expires_at == NOW + timedelta(days=14)
