"""Upgrading a Warroom whose pages hold email subscribers that differ only in case (made before addresses were
compared case-insensitively): the migration merges them instead of failing on the new unique constraint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.comms_pages.conftest import Site, make_site
from tests.conftest import World
from warroom.comms.models import PageSubscriber
from warroom.lib import clock

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("comms", "0002_sealed_secrets")]
AFTER = [("comms", "0004_pagesubscriber_email_ci")]


@pytest.fixture
def old_schema(world: World) -> Iterator[tuple[Site, Any]]:
    """The site, with the comms schema taken back to before the change (so duplicates can be stored), and the
    models as they were then; the schema is brought forward again whatever the test does."""
    site = make_site(world)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    try:
        yield site, executor.loader.project_state(BEFORE).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_merges_addresses_that_differ_in_case(old_schema: tuple[Site, Any]) -> None:
    site, apps = old_schema
    old = apps.get_model("comms", "PageSubscriber")
    now = clock.now()

    def add(address: str, *, confirmed: bool, components: tuple[int, ...] = ()) -> int:
        row = old.objects.create(
            page_id=site.page.pk,
            kind="email",
            address=address,
            confirmed_at=now if confirmed else None,
            created_at=now,
        )
        row.components.set(components)
        return int(row.pk)

    waiting = add("Pat@example.com", confirmed=False)
    first = add("pat@example.com", confirmed=True, components=(site.checkout.pk,))
    add("PAT@example.com", confirmed=True, components=(site.api.pk,))
    kim = add("kim@example.com", confirmed=True, components=(site.cdn.pk,))
    add("KIM@example.com", confirmed=True)  # follows the whole page
    lone = add("lee@example.com", confirmed=False)
    hook = old.objects.create(
        page_id=site.page.pk,
        kind="webhook",
        address="https://hooks.example.com/A",
        confirmed_at=now,
        created_at=now,
    ).pk
    old.objects.create(
        page_id=site.page.pk,
        kind="webhook",
        address="https://hooks.example.com/a",
        confirmed_at=now,
        created_at=now,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    kept = {s.address: s for s in PageSubscriber.objects.filter(kind="email")}
    assert sorted(kept) == ["kim@example.com", "lee@example.com", "pat@example.com"]
    assert kept["pat@example.com"].pk == first and kept["pat@example.com"].confirmed_at is not None
    assert {c.pk for c in kept["pat@example.com"].components.all()} == {site.checkout.pk, site.api.pk}
    assert kept["kim@example.com"].pk == kim and not kept["kim@example.com"].components.exists()  # whole page
    assert kept["lee@example.com"].pk == lone
    assert not PageSubscriber.objects.filter(pk=waiting).exists()
    # webhook URLs are compared as given: both stay
    assert (
        PageSubscriber.objects.filter(kind="webhook").count() == 2
        and PageSubscriber.objects.filter(pk=hook).exists()
    )
