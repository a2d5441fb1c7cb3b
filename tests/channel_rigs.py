"""One rig per channel: the real channel, where its output lands, and how to read it back.

The contract suites (tests/test_channels_*.py) run the same tests against every
rig. A rig's observations come from the channel's real output — the feeds read
with feedparser, the pages read with an HTML parser, the loopback servers'
state — never from the desk's own ledger, so the ledger can be checked against
what readers actually see.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

import feedparser
import requests
from channel_servers import FaultyAPI, GraphServer, PortalServer
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.publish import ledger
from foreigndesk.publish.channels.fanpage import FanpageChannel, FanpageConfig
from foreigndesk.publish.channels.portal_feed import PortalFeedChannel
from foreigndesk.publish.channels.portal_push import PortalPushChannel, PushConfig
from foreigndesk.publish.channels.web import WebChannel
from foreigndesk.publish.channels.zalo import ZaloChannel, ZaloConfig
from foreigndesk.publish.policies import RetryPolicy
from foreigndesk.publish.run import publish
from foreigndesk.publish.withdrawals import withdraw
from zalo_server import ZaloServer

CHANNELS = ("portal-feed", "web", "portal-push", "fanpage", "zalo")
REMOTE = ("portal-push", "fanpage", "zalo")
FAST = RetryPolicy(attempts_per_run=3, backoff_seconds=0.01, max_inline_wait=2.0, claim_lease_seconds=0)
CLIENT_TIMEOUT = 0.5


class PageParser(HTMLParser):
    """Collects what a browser would act on: tags, attributes, alternates, links, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag not in ("meta", "link", "img", "br", "hr", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def alternates(self) -> dict[str, str]:
        return {a["hreflang"]: a["href"] for t, a in self.tags if t == "link" and a.get("rel") == "alternate"}

    def meta(self, prop: str) -> list[str]:
        return [a.get("content", "") for t, a in self.tags if t == "meta" and (a.get("property") == prop or a.get("name") == prop)]


def parse_page(data: bytes) -> PageParser:
    parser = PageParser()
    parser.feed(data.decode())
    parser.close()
    return parser


@dataclass
class Rig:
    name: str
    store: LocalStore
    server: FaultyAPI | None = None
    session: requests.Session = field(default_factory=requests.Session)
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.settings = load_settings()

    def channel(self):
        site = self.settings.site_url
        if self.name == "portal-feed":
            return PortalFeedChannel(self.store, site, self.settings.feed_items)
        if self.name == "web":
            return WebChannel(self.store, site)
        if self.name == "portal-push":
            return PortalPushChannel(PushConfig(self.server.url, self.server.token, timeout=CLIENT_TIMEOUT),
                                     self.session, site)
        if self.name == "zalo":
            return ZaloChannel(ZaloConfig(self.server.base_url, self.server.token, timeout=CLIENT_TIMEOUT,
                                          verify_wait=0.01, default_cover="https://tntv.vn/static/zalo-cover.jpg"),
                               self.session, sleep=self.sleep)
        return FanpageChannel(FanpageConfig(self.server.base_url, self.server.token, self.server.page_id,
                                            timeout=CLIENT_TIMEOUT), self.session)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)

    def run(self, **kwargs):
        return publish(self.store, self.settings, [self.channel()], policy=kwargs.pop("policy", FAST),
                       sleep=self.sleep, **kwargs)

    def withdraw(self, article_id: str, **kwargs):
        kwargs.setdefault("who", "desk-chief")
        kwargs.setdefault("reason", "a court order")
        return withdraw(self.store, self.settings.site_url, [self.channel()], article_id,
                        policy=kwargs.pop("policy", FAST), **kwargs)

    def notices(self) -> dict[tuple[str, str], str]:
        """Web pages that became withdrawal notices: (article, language) -> the page's text."""
        found = {}
        for key in self.store.list("web/"):
            if key.endswith(".html") and not key.endswith("/index.html"):
                data = self.store.read(key)
                if b"foreigndesk:withdrawn" in data:
                    _, language, name = key.split("/")
                    found[(name[:-5], language)] = "".join(parse_page(data).text)
        return found

    # -- what readers see: (article_id, language) -> list of (remote id, revision-or-text)
    def observed(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        seen: dict[tuple[str, str], list[tuple[str, str]]] = {}
        if self.name == "portal-feed":
            for key in self.store.list("feeds/"):
                if key.endswith("/rss.xml"):
                    for entry in feedparser.parse(self.store.read(key)).entries:
                        article_id, language = entry.id.rsplit(":", 1)
                        seen.setdefault((article_id, language), []).append((entry.id, entry.content[0].value))
        elif self.name == "web":
            for key in self.store.list("web/"):
                if key.endswith(".html") and not key.endswith("/index.html"):
                    _, language, name = key.split("/")
                    page = parse_page(self.store.read(key))
                    if page.meta("foreigndesk:withdrawn"):
                        continue  # a withdrawal notice: see notices()
                    url = page.meta("og:url")[0]
                    seen.setdefault((name[:-5], language), []).append((url, "".join(page.text)))
        elif self.name == "portal-push":
            for guid, item in self.server.items.items():
                article_id, language = guid.rsplit(":", 1)
                seen.setdefault((article_id, language), []).append((self.server.ids[guid], item["content_html"]))
        elif self.name == "zalo":  # the article's body (HTML paragraphs): title and description are plain fields
            for article_id, article in self.server.desk_articles().items():
                link = self.server.links(article)[-1]
                slot = (link.rsplit("/", 1)[-1][:-5], link.rsplit("/", 2)[-2])
                text = "\n".join(str(part.get("content", "")) for part in article["body"] if part["type"] == "text")
                seen.setdefault(slot, []).append((article_id, text))
        else:
            for post in self.server.page_posts():
                link = post["link"].split("?", 1)[0]
                article_id, language = link.rsplit("/", 2)[-1][:-5], link.rsplit("/", 2)[-2]
                seen.setdefault((article_id, language), []).append((post["id"], post["message"]))
        return seen

    def copies(self) -> dict[tuple[str, str], int]:
        counts = {slot: len(copies) for slot, copies in self.observed().items()}
        if self.name == "portal-push":  # a replayed or blind second POST would show here
            for key, number in self.server.created.items():
                article_id, _revision, language = key.rsplit(".", 2)
                counts[(article_id, language)] = max(counts.get((article_id, language), 0), number)
        return counts

    def recorded_ids(self) -> dict[tuple[str, str], str]:
        return {(p.article_id, p.language): p.remote_id for p in ledger.published_records(self.store, self.name)}

    def close(self) -> None:
        self.session.close()
        if self.server is not None:
            self.server.stop()


def make_rig(name: str, root) -> Rig:
    server: FaultyAPI | None = None
    if name == "portal-push":
        server = PortalServer(slow_seconds=CLIENT_TIMEOUT * 3)
    elif name == "fanpage":
        server = GraphServer(slow_seconds=CLIENT_TIMEOUT * 3)
    elif name == "zalo":
        server = ZaloServer(slow_seconds=CLIENT_TIMEOUT * 3)
    return Rig(name, LocalStore(root / "store"), server)


def feed_json(store: LocalStore, language: str) -> dict:
    return json.loads(store.read(f"feeds/{language}/feed.json"))
