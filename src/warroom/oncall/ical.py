"""iCalendar (RFC 5545) rendering of on-call shifts, with the ``icalendar`` package.

Events are in UTC (``DTSTART:...Z``): calendar apps show them in the reader's own zone, and there is no
VTIMEZONE to get wrong. A shift's UID is stable across fetches (schedule, person, layer shift or override,
start), so calendar apps update events in place rather than duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

import warroom
from warroom.accounts.models import User
from warroom.oncall.selectors import FeedShift

PRODID = f"-//Warroom//On-call {warroom.__version__}//EN"


def _uid(fs: FeedShift) -> str:
    s = fs.shift
    origin = f"o{s.override_id}" if s.override_id is not None else f"l{s.layer_id}.{s.index}"
    return f"shift-{fs.schedule.pk}-{s.user_id}-{origin}-{int(s.start.timestamp())}@warroom"


def calendar(
    *,
    name: str,
    shifts: Sequence[FeedShift],
    people: dict[int, User],
    layer_names: dict[int, str],
    stamp: datetime,
) -> bytes:
    """A VCALENDAR named ``name`` with one VEVENT per shift (an unbroken stretch of one person; its description
    names its sources: layers, "override")."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    for fs in shifts:
        s = fs.shift
        person = people.get(s.user_id)
        who = person.display_name if person else f"user {s.user_id}"
        how: list[str] = []
        for piece in fs.sources or (s,):
            label = (
                "override" if piece.override_id is not None else layer_names.get(piece.layer_id or 0, "layer")
            )
            if label not in how:
                how.append(label)
        event = Event()
        event.add("uid", _uid(fs))
        event.add("dtstamp", stamp)
        event.add("dtstart", s.start)
        event.add("dtend", s.end)
        event.add("summary", f"On call: {who} ({fs.schedule.name})")
        event.add("description", f"{who} is on call for {fs.schedule.name} ({', '.join(how)}).")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())
