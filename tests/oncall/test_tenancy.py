"""Every on-call route against the standard world: charlie (Team B) gets a 404 on Team A's schedule and everything
under it — never a 403, never a leak; dave (observer in A) reads but gets a 403 on writes; olivia (organisation
admin) may do anything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.api.conftest import Clients
from tests.conftest import World
from warroom.accounts.models import User
from warroom.oncall import services
from warroom.oncall.models import CalendarFeed, Layer, Override


@pytest.fixture
def scene(world: World, layer: Layer, erin: User) -> dict[str, int]:
    override = services.create_override(
        schedule=layer.schedule,
        user=world.bob,
        replaces=world.alice,
        start=datetime.fromisoformat("2026-03-04T00:00Z"),
        end=datetime.fromisoformat("2026-03-05T00:00Z"),
        actor=None,
        source="system",
    )
    return {
        "s": layer.schedule_id,
        "l": layer.pk,
        "o": override.pk,
        "bob": world.bob.pk,
        "dave": world.dave.pk,
        "erin": erin.pk,
    }


READ = {"alice": 200, "bob": 200, "dave": 200, "olivia": 200, "charlie": 404}
#: (method, path, body, {user: status}); paths are filled from the scene.
CASES: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/schedules/{s}", None, READ),
    ("GET", "/schedules/{s}/layers", None, READ),
    ("GET", "/schedules/{s}/layers/{l}", None, READ),
    ("GET", "/schedules/{s}/overrides", None, READ),
    ("GET", "/schedules/{s}/overrides/{o}", None, READ),
    ("GET", "/schedules/{s}/shifts", None, READ),
    ("GET", "/schedules/{s}/on-call", None, READ),
    ("GET", "/schedules/{s}/feeds", None, READ),
    (
        "GET",
        "/schedules?team=team-a",
        None,
        {**READ, "charlie": 400},
    ),  # a filter: 400, as for an unknown team
    (
        "POST",
        "/schedules/{s}/feeds",
        None,
        {"alice": 201, "bob": 201, "dave": 201, "olivia": 201, "charlie": 404},
    ),
    (
        "PATCH",
        "/schedules/{s}",
        {"description": "changed"},
        {"alice": 200, "bob": 403, "dave": 403, "olivia": 200, "charlie": 404},
    ),
    (
        "POST",
        "/schedules/{s}/layers",
        {"name": "L2", "start": "2026-03-01T09:00", "participants": []},
        {"alice": 201, "bob": 403, "dave": 403, "olivia": 201, "charlie": 404},
    ),
    (
        "PATCH",
        "/schedules/{s}/layers/{l}",
        {"name": "Renamed"},
        {"alice": 200, "bob": 403, "dave": 403, "olivia": 200, "charlie": 404},
    ),
    (
        "PUT",
        "/schedules/{s}/layers/{l}/participants",
        {"participants": ["{bob}"]},
        {"alice": 200, "bob": 403, "dave": 403, "olivia": 200, "charlie": 404},
    ),
    (
        "POST",
        "/schedules/{s}/overrides",
        {"user": "{erin}", "start": "2026-03-06T00:00Z", "end": "2026-03-06T01:00Z"},
        {"alice": 201, "bob": 403, "dave": 403, "olivia": 201, "charlie": 404},
    ),
    (
        "PATCH",
        "/schedules/{s}/overrides/{o}",
        {"note": "swap"},
        {"alice": 200, "bob": 200, "dave": 403, "olivia": 200, "charlie": 404},
    ),
    (
        "DELETE",
        "/schedules/{s}/overrides/{o}",
        None,
        {"alice": 204, "bob": 204, "dave": 403, "olivia": 204, "charlie": 404},
    ),
    (
        "DELETE",
        "/schedules/{s}/layers/{l}",
        None,
        {"alice": 204, "bob": 403, "dave": 403, "olivia": 204, "charlie": 404},
    ),
    (
        "DELETE",
        "/schedules/{s}",
        None,
        {"alice": 204, "bob": 403, "dave": 403, "olivia": 204, "charlie": 404},
    ),
    (
        "POST",
        "/schedules",
        {"team": "team-a", "name": "New", "time_zone": "UTC"},
        {"alice": 201, "bob": 403, "dave": 403, "olivia": 201, "charlie": 400},
    ),
]


def _fill(value: Any, scene: dict[str, int]) -> Any:
    if isinstance(value, str):
        filled = value.format(**scene)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: _fill(v, scene) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, scene) for v in value]
    return value


@pytest.mark.parametrize(("method", "path", "body", "expected"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
@pytest.mark.parametrize("who", ["alice", "bob", "dave", "olivia", "charlie"])
def test_the_tenancy_matrix(
    api: Clients, scene: dict[str, int], who: str, method: str, path: str, body: Any, expected: dict[str, int]
) -> None:
    url = _fill(path, scene)
    if "?" in url:
        base, _, query = url.partition("?")
        key, _, value = query.partition("=")
        response = api.of(who).call(method, base, query={key: value})
    else:
        response = (
            api.of(who).call(method, url, _fill(body, scene))
            if body is not None
            else api.of(who).call(method, url)
        )
    assert response.status_code == expected[who], response.content
    if who == "charlie" and response.status_code == 404:
        assert b"Checkout primary" not in response.content


def test_charlie_never_sees_team_a_in_lists(api: Clients, scene: dict[str, int]) -> None:
    assert api.charlie.get("/schedules").json()["items"] == []
    assert api.charlie.get("/oncall/now").json()["schedules"] == []


def test_charlie_cannot_touch_team_a_overrides_through_his_own_schedule(
    api: Clients, world: World, scene: dict[str, int]
) -> None:
    theirs = services.create_schedule(
        team=world.team_b, name="Billing", time_zone="UTC", actor=None, source="system"
    )
    assert api.charlie.get(f"/schedules/{theirs.pk}/overrides/{scene['o']}").status_code == 404
    assert api.charlie.delete(f"/schedules/{theirs.pk}/overrides/{scene['o']}").status_code == 404
    assert api.charlie.delete(f"/schedules/{theirs.pk}/layers/{scene['l']}").status_code == 404
    assert Override.objects.filter(pk=scene["o"]).exists() and Layer.objects.filter(pk=scene["l"]).exists()


def test_feeds_are_revoked_only_by_their_owner_or_the_teams_managers(
    api: Clients, world: World, scene: dict[str, int]
) -> None:
    bobs = api.bob.post(f"/schedules/{scene['s']}/feeds").json()
    assert api.charlie.delete(f"/oncall/feeds/{bobs['id']}").status_code == 404
    assert api.dave.delete(f"/oncall/feeds/{bobs['id']}").status_code == 404
    assert api.alice.delete(f"/oncall/feeds/{bobs['id']}").status_code == 200  # a manager of the team
    personal = api.bob.post("/oncall/feeds").json()
    assert api.alice.delete(f"/oncall/feeds/{personal['id']}").status_code == 404  # personal: only bob
    assert api.bob.delete(f"/oncall/feeds/{personal['id']}").status_code == 200
    assert api.bob.delete(f"/oncall/feeds/{personal['id']}").status_code == 409
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 0
