"""A whole publish desk for the exactly-once tests: real store, planner, runner, channels and loopback servers.

Shared by the stateful property test (tests/test_publish_stateful.py) and the
crash-point sweep (tests/test_publish_crash_sweep.py, through tests/crash_publish.py).
Nothing here is a mock: the channels are the desk's own, the remote ones talk HTTP
to the loopback servers of tests/channel_servers.py, the store is a real LocalStore.
What it adds is the harness: upstream records written as intake and review write
them, crash injection at a chosen store write or remote call, and read-backs of
what readers actually see on every channel (feeds parsed, pages parsed, the
servers' own state) — never the desk's ledger.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import requests
from channel_rigs import parse_page
from channel_servers import GraphServer, PortalServer
from desk_records import put_article, put_decision
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.publish.channels.fanpage import FanpageConfig
from foreigndesk.publish.channels.portal_push import PushConfig
from foreigndesk.publish.policies import RetryPolicy
from foreigndesk.publish.channels.zalo import ZaloConfig
from foreigndesk.publish.run import desk_channels, publish
from zalo_server import ZaloServer

CHANNELS = ("portal-feed", "portal-push", "web", "fanpage")
REMOTE = ("portal-push", "fanpage")
POLICY = RetryPolicy(attempts_per_run=2, backoff_seconds=0.0, max_inline_wait=5.0, claim_lease_seconds=0,
                     max_remote_items_per_run=100)
CLIENT_TIMEOUT = 0.2


class Crash(BaseException):
    """The process dies here (BaseException: no ``except Exception`` in the desk can swallow it)."""


class CrashPoints:
    """Counts the run's store writes and remote calls, and dies at the chosen one.

    ``at`` numbers the events from 1; ``after`` says whether the event took effect first
    (the record written, the server's answer received) or not (died just before it).
    Once dead, every later store or network operation dies too, as a killed process would.
    """

    def __init__(self, at: int = 0, after: bool = False, hook=None, before=None, right_after=None) -> None:
        self.at = at
        self.before = before  # or: die just before the first event this predicate accepts
        self.right_after = right_after  # or: just after it took effect (a post made, its answer unread)
        self.after = after
        self.count = 0
        self.dead = False
        self.events: list[str] = []
        self.hook = hook  # called instead of raising (the subprocess sweep sends itself SIGKILL)

    def _die(self) -> None:
        self.dead = True
        if self.hook is not None:
            self.hook()
        raise Crash(f"crashed at event {self.count} ({self.events[-1]})")

    def event(self, what: str, action):
        if self.dead:
            raise Crash("already dead")
        self.count += 1
        self.events.append(what)
        if self.before is not None and self.before(what):
            self._die()
        if self.count == self.at and not self.after:
            self._die()
        result = action()
        if self.right_after is not None and self.right_after(what):
            self._die()
        if self.count == self.at and self.after:
            self._die()
        return result


class CrashingStore(LocalStore):
    """The real local store, with every write counted as a crash point."""

    def __init__(self, root, points: CrashPoints) -> None:
        super().__init__(root, sync=False)  # processes are killed here, never the power: see LocalStore
        self.points = points

    def create(self, key: str, data: bytes) -> None:
        return self.points.event(f"create {key}", lambda: LocalStore.create(self, key, data))

    def replace(self, key: str, data: bytes) -> None:
        return self.points.event(f"replace {key}", lambda: LocalStore.replace(self, key, data))

    def read(self, key: str) -> bytes:
        if self.points.dead:
            raise Crash("already dead")
        return super().read(key)


class CrashingSession(requests.Session):
    """A real requests session with every call counted as a crash point."""

    def __init__(self, points: CrashPoints) -> None:
        super().__init__()
        self.points = points

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        return self.points.event(f"{method} {url.split('?', 1)[0]}",
                                 lambda: requests.Session.request(self, method, url, *args, **kwargs))


def sim_servers() -> tuple[GraphServer, PortalServer]:
    return GraphServer(slow_seconds=CLIENT_TIMEOUT * 2), PortalServer(slow_seconds=CLIENT_TIMEOUT * 2)


def zalo_sim_server() -> ZaloServer:
    """The Zalo OA fake, for a desk that runs the Zalo channel too (``Desk(..., zalo=...)``)."""
    return ZaloServer(slow_seconds=CLIENT_TIMEOUT * 2)


@dataclass
class Desk:
    """One desk: a store folder, the two remote APIs, and a clock the test moves."""

    root: Path
    graph: GraphServer
    portal: PortalServer
    #: Starts at the real time and only moves faster than it, so records the desk stamps with the real
    #: clock (a claim's ``claimed_at``) are never in the simulated future.
    clock: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))
    #: When given, the desk runs the Zalo OA channel against it as well.
    zalo: ZaloServer | None = None

    def __post_init__(self) -> None:
        self.settings = load_settings()
        self.store = LocalStore(self.root, sync=False)
        self.registered: dict[str, list[str]] = {}  # article -> revisions, in registration order
        self.approved: set[tuple[str, str]] = set()  # (article, revision)

    def tick(self, seconds: float = 60) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    # -- upstream records, as intake and review write them
    def register(self, article_id: str) -> str:
        revisions = self.registered.setdefault(article_id, [])
        # Hex, like intake's names (which hash the bytes): their order says nothing about registration order.
        revision = hashlib.sha256(f"{article_id}-{len(revisions)}".encode()).hexdigest()[:8]
        put_article(self.store, article_id, revision, registered_at=self.tick().isoformat(),
                    title=f"{article_id} {revision}")
        revisions.append(revision)
        return revision

    def approve(self, article_id: str, revision: str, language: str = "en") -> None:
        put_decision(self.store, article_id, revision, language, title=f"{article_id} {revision} ({language})",
                     decided_at=self.tick().isoformat(), journaled_at=self.clock)
        self.approved.add((article_id, revision))

    def newest_approved(self, article_id: str) -> str | None:
        approved = [rev for rev in self.registered.get(article_id, []) if (article_id, rev) in self.approved]
        return approved[-1] if approved else None

    # -- runs
    def channels(self, store, session):
        fanpage = FanpageConfig(self.graph.base_url, self.graph.token, self.graph.page_id, timeout=CLIENT_TIMEOUT)
        push = PushConfig(self.portal.url, self.portal.token, timeout=CLIENT_TIMEOUT)
        zalo = None if self.zalo is None else ZaloConfig(
            self.zalo.base_url, self.zalo.token, default_cover="https://tntv.vn/cover.jpg", timeout=CLIENT_TIMEOUT,
            verify_tries=2, verify_wait=0.0)
        return desk_channels(store, self.settings, session, fanpage=fanpage, push=push, zalo=zalo)

    @property
    def channel_names(self) -> tuple[str, ...]:
        return CHANNELS + (("zalo",) if self.zalo is not None else ())

    def run(self, points: CrashPoints | None = None, retry: str | None = None, lease_wait: float = 0.0,
            now: datetime | None = None):
        points = points or CrashPoints()
        store = CrashingStore(self.root, points)
        with CrashingSession(points) as session:
            return publish(store, self.settings, self.channels(store, session), now=now or self.tick(), policy=POLICY,
                           sleep=lambda _seconds: None, retry=retry, lease_wait=lease_wait,
                           lease_clock=lambda: self.clock)

    # -- what readers see, per channel: (article, language) -> revisions live (one entry per copy)
    def live(self) -> dict[str, dict[tuple[str, str], list[str]]]:
        seen: dict[str, dict[tuple[str, str], list[str]]] = {name: {} for name in self.channel_names}
        for key in self.store.list("feeds/"):
            if key.endswith("/feed.json"):
                for item in json.loads(self.store.read(key))["items"]:
                    article_id, language = item["id"].rsplit(":", 1)
                    seen["portal-feed"].setdefault((article_id, language), []).append(item["_foreigndesk"]["revision"])
        for key in self.store.list("web/"):
            if key.endswith(".html") and not key.endswith("/index.html"):
                _, language, name = key.split("/")
                [revision] = parse_page(self.store.read(key)).meta("foreigndesk:revision")
                seen["web"].setdefault((name[:-5], language), []).append(revision)
        for guid, item in self.portal.items.items():
            article_id, language = guid.rsplit(":", 1)
            seen["portal-push"].setdefault((article_id, language), []).append(item["revision"])
        for post in self.graph.page_posts():
            link = post["link"].split("?", 1)[0]
            article_id, language = link.rsplit("/", 1)[-1][:-5], link.rsplit("/", 2)[-2]
            revision = post["message"].split("\n", 1)[0].split(" ")[1]  # the title is "<article> <revision> (<lang>)"
            seen["fanpage"].setdefault((article_id, language), []).append(revision)
        for slot, article in self._zalo_articles():
            seen["zalo"].setdefault(slot, []).append(article["title"].split(" ")[1])
        return seen

    def _zalo_articles(self) -> list[tuple[tuple[str, str], dict]]:
        """The desk's articles on the Zalo OA, by the (article, language) their marker link names."""
        found = []
        for article in (self.zalo.desk_articles().values() if self.zalo is not None else ()):
            link = self.zalo.links(article)[-1]
            found.append(((link.rsplit("/", 1)[-1][:-5], link.rsplit("/", 2)[-2]), article))
        return found

    def remote_copies(self) -> dict[str, dict[tuple[str, str], int]]:
        """Remote items per slot as the servers count them: the page's own posts; the portal's creations per key."""
        posts: dict[tuple[str, str], int] = {}
        for post in self.graph.page_posts():
            link = post["link"].split("?", 1)[0]
            slot = (link.rsplit("/", 1)[-1][:-5], link.rsplit("/", 2)[-2])
            posts[slot] = posts.get(slot, 0) + 1
        portal: dict[tuple[str, str], int] = {}
        for key, created in self.portal.created.items():
            article_id, _revision, language = key.rsplit(".", 2)
            portal[(article_id, language)] = max(portal.get((article_id, language), 0), created)
        zalo: dict[tuple[str, str], int] = {}
        for slot, _article in self._zalo_articles():
            zalo[slot] = zalo.get(slot, 0) + 1
        return {"fanpage": posts, "portal-push": portal, **({"zalo": zalo} if self.zalo is not None else {})}

    def feeds_parse(self) -> list[str]:
        """Every stored feed read by real parsers; the problems found (empty when all parse)."""
        problems = []
        for key in self.store.list("feeds/"):
            data = self.store.read(key)
            if key.endswith(".xml"):
                parsed = feedparser.parse(data)
                if parsed.bozo:
                    problems.append(f"{key}: {parsed.bozo_exception}")
            elif key.endswith(".json"):
                try:
                    json.loads(data)
                except ValueError as error:
                    problems.append(f"{key}: {error}")
        return problems

