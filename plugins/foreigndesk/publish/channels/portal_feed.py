"""Channel 1: the Vietnam.vn portal feed — RSS 2.0 and JSON Feed 1.1 per language, in the store.

``send`` reaches nobody: the publication *is* the rewritten feed, so this
channel does its work in ``flush`` and the runner records the items as
published only after the feeds are swapped in. A run that dies in between
leaves claims without outcomes; the next run asks ``find`` (is this revision
in the stored feed?) and rebuilds the same feeds again if not.

Both documents are public outputs: rebuilt whole from what is published and
swapped in, never patched. An item's guid/id is the article id plus the
language, so a corrected revision replaces its item (same guid, same URL)
instead of adding a second one; ``date_modified`` tells the portal it changed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime

from foreigndesk.core.names import RSS_LANGUAGES
from foreigndesk.core.store import Store
from foreigndesk.publish.channels import Catalogue, Publication
from foreigndesk.publish.channels.render import (
    DESK,
    item_html,
    public_summary,
    safe_url,
)
from foreigndesk.publish.channels.events import event_uid, write_events
from foreigndesk.publish.channels.validate import check_output, write_output

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"

ET.register_namespace("content", CONTENT_NS)
ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("dc", DC_NS)


def feed_key(language: str) -> str:
    return f"feeds/{language}/feed.json"


def rss_key(language: str) -> str:
    return f"feeds/{language}/rss.xml"


def feed_title(language: str) -> str:
    return f"Dynamic Thainguyen — Thái Nguyên province news ({language})"


def json_dumps_safe(value: object) -> bytes:
    """JSON with '<', '>' and '&' escaped, so no reader that mis-sniffs it as HTML can meet live markup."""
    encoded = json.dumps(value, ensure_ascii=False, indent=1)
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def newest(items: Sequence[Publication], limit: int) -> list[Publication]:
    return sorted(items, key=lambda item: (item.first_published_at, item.article_id), reverse=True)[:limit]


def _json_item(item: Publication, site_url: str) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": item.guid,
        "url": item.url,
        "title": item.title,
        "content_html": item_html(item, site_url),
        "content_text": item.body,
        "date_published": item.first_published_at,
        "date_modified": item.published_at,
        "language": item.language,
        "authors": [{"name": item.author or DESK}],
        "_foreigndesk": {"article_id": item.article_id, "revision": item.revision, "demo_model": item.demo_model},
    }
    summary = public_summary(item)
    if summary:
        entry["summary"] = summary
    image = safe_url(item.image, site_url)
    if image:
        entry["image"] = image
    external = safe_url(item.source_url)
    if external:
        entry["external_url"] = external
    if item.demo_model:
        entry["tags"] = ["demo-model"]
    return entry


def build_json_feed(language: str, items: Sequence[Publication], site_url: str, limit: int) -> bytes:
    """JSON Feed 1.1: the newest ``limit`` items, newest first."""
    feed = {
        "version": JSON_FEED_VERSION,
        "title": feed_title(language),
        "home_page_url": f"{site_url}/{language}/",
        "feed_url": f"{site_url}/{feed_key(language)}",
        "language": language,
        "authors": [{"name": DESK}],
        "items": [_json_item(item, site_url) for item in newest(items, limit)],
    }
    return json_dumps_safe(feed)


def _rfc822(timestamp: str) -> str:
    return format_datetime(datetime.fromisoformat(timestamp))


def _sub(parent: ET.Element, tag: str, value: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = value
    return element


def build_rss(language: str, items: Sequence[Publication], site_url: str, limit: int) -> bytes:
    """RSS 2.0 with the full article in ``content:encoded`` and a guid that never changes."""
    chosen = newest(items, limit)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _sub(channel, "title", feed_title(language))
    _sub(channel, "link", f"{site_url}/{language}/")
    _sub(channel, "description", f"News from Thái Nguyên province, Vietnam, in {language}")
    _sub(channel, "language", RSS_LANGUAGES.get(language, language))
    ET.SubElement(channel, f"{{{ATOM_NS}}}link",
                  {"href": f"{site_url}/{rss_key(language)}", "rel": "self", "type": "application/rss+xml"})
    if chosen:
        _sub(channel, "lastBuildDate", _rfc822(max(item.published_at for item in chosen)))
    for item in chosen:
        entry = ET.SubElement(channel, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "link", item.url)
        _sub(entry, "guid", item.guid, isPermaLink="false")
        _sub(entry, "pubDate", _rfc822(item.first_published_at))
        _sub(entry, "description", public_summary(item))
        _sub(entry, f"{{{DC_NS}}}creator", item.author or DESK)
        if item.demo_model:
            _sub(entry, "category", "demo-model")
        _sub(entry, f"{{{CONTENT_NS}}}encoded", item_html(item, site_url))
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


NAME = "portal-feed"


class PortalFeedChannel:
    name = NAME
    remote = False

    def __init__(self, store: Store, site_url: str, limit: int) -> None:
        self.store = store
        self.site_url = site_url
        self.limit = limit

    def send(self, item: Publication, previous_id: str | None) -> str:
        return item.guid

    def find(self, item: Publication, previous_id: str | None) -> str | None:
        try:
            feed = json.loads(self.store.read(feed_key(item.language)))
        except KeyError:
            return None
        for entry in feed.get("items", []):
            if entry.get("id") == item.guid and entry.get("_foreigndesk", {}).get("revision") == item.revision:
                return item.guid
        return None

    def withdraw(self, target, catalogue: Catalogue) -> str:
        """Rebuild the language's feeds from what is published, the withdrawn left out."""
        self._write(target.language, catalogue, [(event_uid(target.article_id, target.language, self.site_url),
                                                  target.withdrawn_at)])
        return "left out of the feeds"

    def is_withdrawn(self, target) -> bool:
        try:
            feed = json.loads(self.store.read(feed_key(target.language)))
        except KeyError:
            return True
        return not any(entry.get("id") == target.guid for entry in feed.get("items", []))

    def _write(self, language: str, catalogue: Catalogue, withdrawn: Sequence[tuple[str, str]] = ()) -> list[str]:
        # The events map's documents first: a run that dies before the feeds are swapped in sends again.
        events = write_events(self.store, language, catalogue.changed, withdrawn)
        items = [catalogue.load(entry) for entry in catalogue.newest(language)[: self.limit]]
        # Both are rendered and checked before either replaces its predecessor.
        rss = build_rss(language, items, self.site_url, self.limit)
        feed = build_json_feed(language, items, self.site_url, self.limit)
        check_output(rss_key(language), rss)
        check_output(feed_key(language), feed)
        write_output(self.store, rss_key(language), rss)
        write_output(self.store, feed_key(language), feed)
        return [feed_key(language), rss_key(language), *events]

    def flush(self, catalogue: Catalogue) -> list[str]:
        written = []
        for language in sorted({item.language for item in catalogue.changed}):
            written += self._write(language, catalogue)
        return written
