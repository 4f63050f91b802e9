"""Template filters and tags of the console: markdown, compact relative times, nav state."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from warroom.lib import clock
from warroom.lib.markdown import render

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """User-written markdown, rendered and sanitised by :func:`warroom.lib.markdown.render`."""
    return mark_safe(render(text or ""))  # noqa: S308 - nh3 has sanitised it


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 60:
        return f"{days}d"
    return f"{days // 30}mo"


@register.filter
def ago(value: datetime | None) -> str:
    """``5m ago``, ``3h ago``, ``12d ago``; empty for no value."""
    if value is None:
        return ""
    text = _span((clock.now() - value).total_seconds())
    return text if text == "just now" else f"{text} ago"


@register.filter
def from_now(value: datetime | None) -> str:
    """``in 12m`` for a time ahead, ``5m ago`` for one past (``just now`` within the minute); empty for no
    value. Goes with the absolute time it qualifies, never alone."""
    if value is None:
        return ""
    seconds = (value - clock.now()).total_seconds()
    if seconds < 60:
        return ago(value)
    return f"in {_span(seconds)}"


@register.filter
def duration_since(value: datetime | None, until: datetime | None = None) -> str:
    """The time from ``value`` to ``until`` (or now), compact: ``3h``."""
    if value is None:
        return ""
    end = until or clock.now()
    text = _span((end - value).total_seconds())
    return "<1m" if text == "just now" else text


@register.simple_tag
def nav_class(request: HttpRequest, *prefixes: str) -> str:
    """``active`` when the current URL name starts with one of ``prefixes``."""
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match is not None else ""
    return "active" if name and any(name.startswith(p) for p in prefixes) else ""
