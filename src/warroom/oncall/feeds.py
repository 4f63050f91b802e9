"""The secret iCal URLs: ``GET /oncall/calendar/<secret>.ics``.

The secret in the path is the only credential (calendar apps cannot send headers): it is 256 random bits,
stored as an HMAC, and kept out of the logs. An unknown, revoked or no-longer-authorised secret gets the same
plain 404. A feed shows 7 days back and 60 days ahead.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from warroom.lib import clock
from warroom.oncall import ical, selectors, services
from warroom.oncall.models import CalendarFeed, Layer

log = logging.getLogger("warroom.oncall.feeds")

PAST = timedelta(days=7)
AHEAD = timedelta(days=60)
PLAIN = "text/plain; charset=utf-8"


def _quiet(response: HttpResponse) -> HttpResponse:
    """Keep the secret out of Django's request log (it logs 4xx with the path)."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    if response.status_code >= 400:
        log.info("calendar feed /oncall/calendar/… -> %d", response.status_code)
    return response


def _name(feed: CalendarFeed) -> str:
    if feed.schedule is not None:
        return f"On call: {feed.schedule.name}"
    return f"My on-call shifts ({feed.user.display_name})"


def _render(feed: CalendarFeed) -> bytes:
    now = clock.now()
    # A day-aligned window, so the first event (clipped to it) keeps its UID for a whole day of polling.
    start = datetime.combine((now - PAST).date(), time(), tzinfo=now.tzinfo)
    shifts = selectors.feed_shifts(feed, start=start, end=start + PAST + AHEAD)
    people = selectors.people_by_id(fs.shift.user_id for fs in shifts)
    layer_ids = {s.layer_id for fs in shifts for s in (*fs.sources, fs.shift) if s.layer_id}
    layer_names = dict(Layer.objects.filter(pk__in=layer_ids).values_list("id", "name"))
    return ical.calendar(name=_name(feed), shifts=shifts, people=people, layer_names=layer_names, stamp=now)


def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The feed's VCALENDAR. Every answer is marked logged so Django never logs the path with the secret."""
    if request.method not in ("GET", "HEAD"):
        return _quiet(HttpResponseNotAllowed(["GET", "HEAD"]))
    try:
        feed = selectors.find_feed(secret)
        if feed is None:
            return _quiet(HttpResponse("no such calendar\n", status=404, content_type=PLAIN))
        body = _render(feed)
    except Exception:
        log.exception("calendar feed could not be rendered")
        return _quiet(HttpResponse("calendar unavailable\n", status=500, content_type=PLAIN))
    services.touch_calendar_feed(feed)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return _quiet(response)
