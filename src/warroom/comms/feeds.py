"""RSS 2.0 and Atom feeds of a status page (Django's syndication framework): its public updates and its
maintenance announcements, newest first (:func:`warroom.comms.page_selectors.feed_items`). Links are absolute,
from ``WARROOM_BASE_URL``; a secret-link page's links carry its key, as the page's own links do.

An item's description is HTML (RSS ``<description>``, Atom ``<summary type="html">``), so it is never the raw
text someone typed: an update's message is the same sanitised markdown rendering the page shows
(:func:`warroom.lib.markdown.render`), a maintenance's text is escaped. Feed readers render that HTML; markup in
a message reaches them as inert text."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.html import linebreaks

from warroom.comms import page_selectors as selectors
from warroom.comms.page_selectors import FeedItem
from warroom.lib import markdown

if TYPE_CHECKING:
    from warroom.comms.public_views import Opened


def _absolute(opened: Opened, path: str = "") -> str:
    fragment = ""
    if path.startswith("#"):
        path, fragment = "", path
    return settings.WARROOM_BASE_URL.rstrip("/") + opened.url(path) + fragment


class RssFeed(Feed):
    feed_type: type[SyndicationFeed] = Rss201rev2Feed
    content_type = "application/rss+xml; charset=utf-8"

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Opened:
        opened: Opened = kwargs["opened"]
        return opened

    def title(self, obj: Opened) -> str:
        return f"{obj.page.name} status"

    def link(self, obj: Opened) -> str:
        return _absolute(obj)

    def feed_url(self, obj: Opened) -> str:
        return _absolute(obj, "feed.rss" if self.feed_type is Rss201rev2Feed else "feed.atom")

    def description(self, obj: Opened) -> str:
        return obj.page.description or f"Incidents and maintenance of {obj.page.name}"

    def items(self, obj: Opened) -> list[tuple[Opened, FeedItem]]:
        return [(obj, item) for item in selectors.feed_items(obj.page)]

    def item_title(self, item: tuple[Opened, FeedItem]) -> str:
        return item[1].title

    def item_description(self, item: tuple[Opened, FeedItem]) -> str:
        """HTML: an update's markdown rendered and sanitised as on the page; a maintenance's text escaped."""
        entry = item[1]
        if entry.kind == "incident":
            return markdown.render(entry.description)
        return linebreaks(entry.description, autoescape=True)

    def item_link(self, item: tuple[Opened, FeedItem]) -> str:
        return _absolute(item[0], item[1].link_path)

    def item_guid(self, item: tuple[Opened, FeedItem]) -> str:
        return f"{settings.WARROOM_BASE_URL.rstrip('/')}/status/{item[0].page.slug}/#{item[1].key}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: tuple[Opened, FeedItem]) -> datetime:
        return item[1].at

    def item_updateddate(self, item: tuple[Opened, FeedItem]) -> datetime:
        return item[1].at

    def item_categories(self, item: tuple[Opened, FeedItem]) -> list[str]:
        return [item[1].kind]


class AtomFeed(RssFeed):
    feed_type = Atom1Feed
    content_type = "application/atom+xml; charset=utf-8"

    def subtitle(self, obj: Opened) -> str:
        return self.description(obj)

    def author_name(self, obj: Opened) -> str:
        """RFC 4287 wants an author for the feed (or for every entry): the page speaks for its owner."""
        return obj.page.name
