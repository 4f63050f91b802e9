"""Bad input to the postmortem and configuration API is a clear 4xx naming the field; nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Clients, error
from tests.conftest import World
from warroom.reviews.models import FactorCategory, Postmortem, PostmortemTemplate

pytestmark = pytest.mark.django_db


def _field(response: Any) -> str:
    return str(error(response)["errors"][0]["field"])


def test_postmortem_edits(api: Clients, draft: Postmortem) -> None:
    ref = draft.ref
    before = api.bob.get(f"/postmortems/{ref}").json()
    cases: list[tuple[str, str, Any, int, str]] = [
        ("PATCH", f"/postmortems/{ref}", {"title": "  "}, 400, "title"),
        ("PATCH", f"/postmortems/{ref}", {"title": None}, 400, "title"),
        ("PATCH", f"/postmortems/{ref}", {"title": "x" * 201}, 400, "title"),
        (
            "PATCH",
            f"/postmortems/{ref}",
            {"sections": {"summary": "ok", "nonsense": "x"}},
            400,
            "sections.nonsense",
        ),
        ("PATCH", f"/postmortems/{ref}", {"sections": {"summary": 5}}, 422, "sections.summary"),
        ("PATCH", f"/postmortems/{ref}", {"mitigated_at": "2999-01-01T00:00:00Z"}, 400, "mitigated_at"),
        ("PATCH", f"/postmortems/{ref}", {"mitigated_at": "yesterday"}, 422, "mitigated_at"),
        # before the incident (and its impact) began
        ("PATCH", f"/postmortems/{ref}", {"mitigated_at": "2020-01-01T00:00:00Z"}, 400, "mitigated_at"),
        ("PATCH", f"/postmortems/{ref}", {"detection_notes": "x" * 50_001}, 400, "detection_notes"),
        ("POST", f"/postmortems/{ref}/key-events", {"at": "2026-03-01T08:00:00", "text": "naive"}, 400, "at"),
        ("POST", f"/postmortems/{ref}/key-events", {"at": "2026-03-01T08:00:00Z", "text": ""}, 400, "text"),
        ("POST", f"/postmortems/{ref}/key-events", {"text": "when?"}, 422, "at"),
        ("POST", f"/postmortems/{ref}/whys", {"answer": " "}, 400, "answer"),
        (
            "POST",
            f"/postmortems/{ref}/factors",
            {"category": "astrology", "description": "x"},
            400,
            "category",
        ),
        (
            "POST",
            f"/postmortems/{ref}/factors",
            {"category": "change", "description": ""},
            400,
            "description",
        ),
        ("POST", f"/postmortems/{ref}/comments", {"body": ""}, 400, "body"),
        ("POST", f"/postmortems/{ref}/submit", {"reviewers": ["ghost@example.com"]}, 400, "reviewers"),
        ("POST", "/postmortems", {"incident": "INC9999999"}, 400, "incident"),
        ("POST", "/postmortems", {"incident": draft.incident.ref, "template": "Nope"}, 400, "template"),
        ("POST", "/postmortems", {}, 422, "incident"),
    ]
    for method, path, body, status, field in cases:
        response = api.bob.call(method, path, body)
        assert response.status_code == status, (method, path, body, response.content)
        assert _field(response) == field, (path, body, response.json())
    after = api.bob.get(f"/postmortems/{ref}").json()
    assert after["version"] == before["version"] and after["sections"] == before["sections"]
    assert after["key_events"] == before["key_events"] and after["whys"] == after["factors"] == []


def test_whys_move_and_unknown_steps(api: Clients, draft: Postmortem) -> None:
    ref = draft.ref
    ids = [
        api.bob.post(f"/postmortems/{ref}/whys", {"answer": a}).json()["id"] for a in ("one", "two", "three")
    ]
    moved = api.bob.patch(f"/postmortems/{ref}/whys/{ids[2]}", {"position": 1})
    assert moved.json()["position"] == 1
    chain = api.bob.get(f"/postmortems/{ref}").json()["whys"]
    assert [(w["position"], w["answer"]) for w in chain] == [(1, "three"), (2, "one"), (3, "two")]
    response = api.bob.patch(f"/postmortems/{ref}/whys/{ids[0]}", {"position": 9})
    assert response.status_code == 400 and _field(response) == "position"
    assert api.bob.delete(f"/postmortems/{ref}/whys/{ids[2]}").status_code == 204
    chain = api.bob.get(f"/postmortems/{ref}").json()["whys"]
    assert [(w["position"], w["answer"]) for w in chain] == [(1, "one"), (2, "two")]
    assert api.bob.patch(f"/postmortems/{ref}/whys/999999", {"answer": "x"}).status_code == 404


def test_key_events_pick_and_backdate(api: Clients, draft: Postmortem) -> None:
    ref = draft.ref
    detail = api.bob.get(f"/postmortems/{ref}").json()
    declared = detail["key_events"][0]
    assert declared["id"] is None and declared["entry"] is not None  # a default pick, not saved yet
    unpicked = api.bob.delete(f"/postmortems/{ref}/picks/{declared['entry']}")
    assert unpicked.status_code == 200 and unpicked.json()["key_events"] == []
    added = api.bob.post(
        f"/postmortems/{ref}/key-events", {"at": "2026-01-01T08:00:00+01:00", "text": "Deploy"}
    )
    assert added.status_code == 201 and added.json()["at"] == "2026-01-01T07:00:00Z"
    repicked = api.bob.put(f"/postmortems/{ref}/picks/{declared['entry']}").json()["key_events"]
    assert repicked[0]["text"] == "Deploy"
    assert repicked[1]["entry"] == declared["entry"] and repicked[1]["id"] is not None
    assert api.bob.put(f"/postmortems/{ref}/picks/999999").status_code == 404
    # A picked entry is unpicked, not removed as if it were the author's own.
    response = api.bob.delete(f"/postmortems/{ref}/key-events/{repicked[1]['id']}")
    assert response.status_code == 400 and _field(response) == "event"
    assert api.bob.delete(f"/postmortems/{ref}/key-events/{added.json()['id']}").status_code == 204


def test_configuration(world: World, api: Clients) -> None:
    # Only organisation admins change it.
    assert api.alice.put("/postmortem-policy", {"required_priorities": [1]}).status_code == 403
    cases: list[tuple[str, str, Any, int, str]] = [
        ("PUT", "/postmortem-policy", {"required_priorities": [0, 9]}, 400, "required_priorities"),
        ("PUT", "/postmortem-policy", {"required_priorities": [1], "due_days": 999}, 400, "due_days"),
        ("PUT", "/postmortem-policy", {"required_priorities": [1], "template": "Nope"}, 400, "template"),
        ("POST", "/postmortem-templates", {"name": "Short", "sections": []}, 400, "sections"),
        (
            "POST",
            "/postmortem-templates",
            {"name": "Short", "sections": [{"title": ""}]},
            400,
            "sections.0.title",
        ),
        (
            "POST",
            "/postmortem-templates",
            {"name": "Dup", "sections": [{"title": "What"}, {"title": "what"}]},
            400,
            "sections.1.key",
        ),
        (
            "POST",
            "/postmortem-templates",
            {"name": "Bad key", "sections": [{"title": "A", "key": "Ä b"}]},
            400,
            "sections.0.key",
        ),
        (
            "POST",
            "/postmortem-templates",
            {"name": "Standard postmortem", "sections": [{"title": "A"}]},
            400,
            "name",
        ),
        ("POST", "/factor-categories", {"name": "Change"}, 400, "name"),
        ("POST", "/factor-categories", {"name": ""}, 400, "name"),
    ]
    for method, path, body, status, field in cases:
        response = api.olivia.call(method, path, body)
        assert response.status_code == status, (path, body, response.content)
        assert _field(response) == field, (path, body, response.json())
    made = api.olivia.post(
        "/postmortem-templates",
        {
            "name": "Security incident",
            "sections": [{"title": "Exposure"}, {"title": "Containment", "hint": "How"}],
            "is_default": True,
        },
    )
    assert made.status_code == 201
    assert made.json()["sections"] == [
        {"key": "exposure", "title": "Exposure", "hint": ""},
        {"key": "containment", "title": "Containment", "hint": "How"},
    ]
    assert PostmortemTemplate.objects.filter(is_default=True).get().name == "Security incident"
    policy = api.olivia.put(
        "/postmortem-policy", {"required_priorities": [2, 1, 1], "template": "Security incident"}
    )
    assert policy.json() == {"required_priorities": [1, 2], "template": "Security incident", "due_days": 5}
    category = api.olivia.post("/factor-categories", {"name": "Vendor lock-in"})
    assert category.status_code == 201 and category.json()["slug"] == "vendor-lock-in"
    retired = api.olivia.put(
        "/factor-categories/vendor-lock-in", {"name": "Vendor lock-in", "is_active": False}
    )
    assert retired.json()["is_active"] is False
    assert not FactorCategory.objects.get(slug="vendor-lock-in").is_active
    assert api.bob.get("/factor-categories").json()["count"] == 10
