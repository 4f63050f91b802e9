"""Two people acting on one postmortem at once get one winner and one clear refusal (PostgreSQL row locks)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.api.conftest import ApiClient, Clients
from tests.api.test_concurrency import SKIP_REASON, race
from tests.conftest import World
from tests.reviews.conftest import declare
from warroom.reviews.models import Postmortem, PostmortemSection

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(SKIP_REASON)


def test_two_edits_of_the_same_version_leave_one_winner(api: Clients, world: World) -> None:
    incident = declare(world, impact=2, urgency=2)
    created = api.bob.post("/postmortems", {"incident": incident.ref}).json()
    path, version = f"/postmortems/{created['ref']}", created["version"]
    clients: list[ApiClient] = [api.alice, api.bob]
    results = race(
        [
            lambda c=c: c.patch(path, {"sections": {"summary": f"by {c.user}"}, "version": version})  # type: ignore[misc]
            for c in clients
        ]
    )
    assert sorted(status for status, _ in results) == [200, 409], results
    winner = next(data for status, data in results if status == 200)
    summary = PostmortemSection.objects.get(postmortem__incident=incident, key="summary").body
    assert summary == next(s["body"] for s in winner["sections"] if s["key"] == "summary")
    assert Postmortem.objects.get(incident=incident).version == version + 1


def test_two_starts_of_one_postmortem_leave_one(api: Clients, world: World) -> None:
    incident = declare(world, impact=2, urgency=2)
    results = race(
        [
            lambda: api.alice.post("/postmortems", {"incident": incident.ref}),
            lambda: api.bob.post("/postmortems", {"incident": incident.ref}),
        ]
    )
    assert sorted(status for status, _ in results) == [201, 409], results
    assert Postmortem.objects.filter(incident=incident).count() == 1
