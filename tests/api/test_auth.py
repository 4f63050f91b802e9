"""Authentication: bearer tokens (missing, wrong, revoked) and the console session; the OpenAPI document."""

from __future__ import annotations

from django.test import Client

from tests.api.conftest import ApiClient, Clients, error
from tests.conftest import World
from warroom.accounts.models import ApiToken
from warroom.accounts.services import revoke_api_token

AUTH_MESSAGE = "authentication required: send Authorization: Bearer <api token>"


def test_no_token_is_401(world: World) -> None:
    response = ApiClient(None).get("/incidents")
    assert response.status_code == 401
    assert error(response) == {"detail": AUTH_MESSAGE, "code": "unauthenticated", "errors": []}


def test_wrong_token_is_401(world: World) -> None:
    for secret in ("wr_at_" + "x" * 40, "not-even-our-format", "wr_at_"):
        response = ApiClient(secret).get("/me")
        assert response.status_code == 401, secret
        assert error(response)["code"] == "unauthenticated"


def test_revoked_token_is_401(api: Clients, world: World) -> None:
    assert api.bob.get("/me").status_code == 200
    for token in ApiToken.objects.filter(user=world.bob):
        revoke_api_token(token=token, actor=world.bob, source="system")
    response = api.bob.get("/me")
    assert response.status_code == 401
    assert error(response)["detail"] == AUTH_MESSAGE


def test_token_of_deactivated_user_is_401(api: Clients, world: World) -> None:
    world.bob.is_active = False
    world.bob.save(update_fields=["is_active"])
    assert api.bob.get("/me").status_code == 401


def test_malformed_authorization_header_is_401(world: World) -> None:
    response = Client().get("/api/v1/me", headers={"Authorization": "Basic YWxpY2U6cHc="})
    assert response.status_code == 401


def test_session_auth_works(world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    client: Client = client_for(world.alice)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"


def test_token_records_last_use(api: Clients, world: World) -> None:
    assert ApiToken.objects.get(user=world.alice).last_used_at is None
    api.alice.get("/me")
    assert ApiToken.objects.get(user=world.alice).last_used_at is not None


def test_openapi_document_loads_and_lists_incidents(world: World) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/incidents" in document["paths"]
    assert {"get", "post"} <= set(document["paths"]["/api/v1/incidents"])
    assert "/api/v1/incidents/{ref}/transition" in document["paths"]
    assert "/api/v1/services/{slug}" in document["paths"]


def test_browsable_docs_render(world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world.alice).get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_a_write_with_a_wrong_token_is_401_not_a_csrf_refusal(world: World) -> None:
    """A client that sent a token is judged by it, even on a write (the session's CSRF check is for browsers)."""
    client = Client(enforce_csrf_checks=True)
    for header in ("Bearer wr_at_" + "x" * 40, "Token abc", "Bearer "):
        response = client.post(
            "/api/v1/incidents", data="{}", content_type="application/json", headers={"Authorization": header}
        )
        assert response.status_code == 401, (header, response.content)
        assert error(response) == {"detail": AUTH_MESSAGE, "code": "unauthenticated", "errors": []}
    response = client.post("/api/v1/incidents", data="{}", content_type="application/json")
    assert response.status_code == 401


def test_a_session_write_still_needs_its_csrf_token(world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    client: Client = client_for(world.alice)
    client.handler.enforce_csrf_checks = True
    response = client.post("/api/v1/incidents", data="{}", content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in error(response)["detail"]
