"""Email subscribers of a page are one per address whatever its case (``Ops@Example.com`` is
``ops@example.com``): merge the ones that differ only in case before 0004 makes the database refuse them.

Per page and address (lower-cased) the subscriber that stays is the first confirmed one (else the oldest). It
follows what the confirmed ones followed together: the whole page if one of them did, else all their components.
The others go (their unsubscribe links then answer "this subscription does not exist"). Going back changes
nothing: the rows that went are gone."""

from collections import defaultdict
from typing import Any

from django.db import migrations


def merge(apps: Any, schema_editor: Any) -> None:
    subscriber = apps.get_model("comms", "PageSubscriber")
    groups: dict[tuple[int, str], list[tuple[int, Any, Any]]] = defaultdict(list)
    rows = (
        subscriber.objects.filter(kind="email")
        .order_by("id")
        .values_list("pk", "page_id", "address", "confirmed_at", "created_at")
    )
    for pk, page_id, address, confirmed_at, created_at in rows:
        groups[(page_id, address.lower())].append((pk, confirmed_at, created_at))
    through = subscriber.components.through
    for members in groups.values():
        if len(members) < 2:
            continue
        confirmed = [m for m in members if m[1] is not None]
        keep = min(confirmed, key=lambda m: (m[1], m[0])) if confirmed else members[0]
        if confirmed:
            followed = [
                set(through.objects.filter(pagesubscriber_id=m[0]).values_list("component_id", flat=True))
                for m in confirmed
            ]
            wanted = set() if any(not f for f in followed) else set().union(*followed)
            through.objects.filter(pagesubscriber_id=keep[0]).delete()
            through.objects.bulk_create(
                [through(pagesubscriber_id=keep[0], component_id=c) for c in sorted(wanted)]
            )
        subscriber.objects.filter(pk__in=[m[0] for m in members if m[0] != keep[0]]).delete()


class Migration(migrations.Migration):
    dependencies = [("comms", "0002_sealed_secrets")]
    operations = [migrations.RunPython(merge, migrations.RunPython.noop)]
