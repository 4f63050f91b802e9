"""The IANA time zones a person, a schedule or working hours may be set to, in one place.

Every zone of the tz database this machine has (the system's, or the ``tzdata`` package) except the names that
stand for the server's own setting rather than a place (``localtime``, ``posixrules``): a schedule or a person set
to those would follow whatever zone the server happens to run in.
"""

from __future__ import annotations

import functools
import zoneinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.lib.errors import ValidationFailed

HOST_ZONES = frozenset({"localtime", "posixrules"})


@functools.cache
def names() -> frozenset[str]:
    """Every zone name that may be chosen."""
    return frozenset(zoneinfo.available_timezones()) - HOST_ZONES


@functools.cache
def choices() -> list[tuple[str, str]]:
    """What a form offers, sorted: the places (``Area/City``) and UTC. The legacy aliases (``EST``, ``GB`` ...)
    are still accepted by :func:`clean`, e.g. through the API."""
    return [(zone, zone) for zone in sorted(names()) if "/" in zone or zone == "UTC"]


def clean(value: str | None, *, field: str = "time_zone") -> str:
    """``value`` as a zone name, or :class:`ValidationFailed` naming ``field``: no paths, no host aliases, no
    made-up names, no surrounding spaces left."""
    zone = (value or "").strip()
    refused = ValidationFailed(
        f"{zone!r} is not an IANA time zone such as Europe/London or America/Chicago", field=field
    )
    if zone not in names():
        raise refused
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise refused from None
    return zone
