"""``warroom action-item list|done`` against a live server: the real console script in a subprocess."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.cli.live import Run, client_as
from tests.conftest import World
from tests.reviews.conftest import postmortem_of
from warroom.reviews import services
from warroom.reviews.models import ActionItem

# serialized_rollback: the flush after a transactional test would drop the rows the migrations seed.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def run(live_server: Any, tmp_path: Path, world: World) -> Run:
    """``run(*args)`` → the finished ``warroom action-item *args`` as bob."""
    return client_as(world.bob, live_server.url, tmp_path / "home", "action-item")


def test_list_filter_and_done(run: Run, world: World) -> None:
    pm = postmortem_of(world)
    late = services.create_action_item(
        actor=world.alice,
        source="test",
        title="Alert on crash loops",
        owner=world.bob,
        due_date=date(2020, 1, 6),
        postmortem=pm,
        priority=1,
    )
    services.create_action_item(
        actor=world.alice,
        source="test",
        title="Rename the setting back",
        owner=world.alice,
        due_date=date(2099, 1, 1),
        postmortem=pm,
    )

    table = run("list")
    assert table.returncode == 0, table.stderr
    assert "Alert on crash loops" in table.stdout and "Rename the setting back" in table.stdout
    assert "2020-01-06 OVERDUE" in table.stdout and f"PM {pm.ref}" in table.stdout

    mine = json.loads(run("list", "--owner", "me", "--overdue", "--json").stdout)
    assert [i["title"] for i in mine["items"]] == ["Alert on crash loops"]

    done = run("done", str(late.pk))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Action item {late.pk} is now Done: Alert on crash loops"
    assert ActionItem.objects.get(pk=late.pk).status == "done"
    assert "Alert on crash loops" not in run("list").stdout
    assert "Alert on crash loops" in run("list", "--status", "done").stdout
    assert run("list", "--owner", "me").stdout.strip() == "No action items match."

    refused = run("list", "--status", "finished")
    assert refused.returncode == 2 and "--status must be one of" in refused.stderr
    missing = run("done", "999999")
    assert missing.returncode == 1 and "action item 999999 not found" in missing.stderr
