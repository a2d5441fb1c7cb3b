"""Channel 1: the Vietnam.vn portal feed — RSS 2.0 and JSON Feed 1.1 per language, in the store.

``send`` reaches nobody: the publication *is* the rewritten feed, so this
channel does its work in ``flush`` and the runner records the items as
published only after the feeds are swapped in. A run that dies in between
leaves claims without outcomes; the next run asks ``find`` (is this revision
in the stored feed?) and rebuilds the same feeds again if not.
"""

from __future__ import annotations

import json

from foreigndesk.channels import Catalogue, Publication
from foreigndesk.feeds import build_json_feed, build_rss, feed_key, rss_key
from foreigndesk.store import Store

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

    def flush(self, catalogue: Catalogue) -> list[str]:
        written = []
        for language in sorted({item.language for item in catalogue.changed}):
            items = [catalogue.load(entry) for entry in catalogue.newest(language)[: self.limit]]
            self.store.replace(rss_key(language), build_rss(language, items, self.site_url, self.limit))
            self.store.replace(feed_key(language), build_json_feed(language, items, self.site_url, self.limit))
            written += [feed_key(language), rss_key(language)]
        return written
