"""Slim copies of the records the board reads, and the :class:`Reader` that keeps them.

Records are written once, so a record read once never changes: the Reader keeps
slim copies of what it has read (bounded), and a board refreshed every minute
reads only what is new since. The copies are copies of immutable records, never
state of their own: the store's records stay the only truth, and losing them only
costs a slower page. :mod:`foreigndesk.board.index` keeps them in the store
between server starts.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from foreigndesk.core import records
from foreigndesk.core.decisions import Decision, ReviewRequest
from foreigndesk.core.drafts import MEMORY_FINDING, Draft, draft_key
from foreigndesk.core.revisions import Registered, article_key
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger

_FAILED_KEY = re.compile(r"/failed-\d{3}\.json$")


@dataclass(frozen=True)
class ArticleInfo:
    article_id: str
    revision: str
    outlet: str
    title: str
    source_url: str
    registered_at: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class DecisionInfo:
    article_id: str
    revision: str
    language: str
    attempt: int
    outcome: str
    reviewer: str
    decided_at: str
    opened_at: str
    edit_distance: int
    machine_words: int
    approved: bool
    note: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class DraftInfo:
    model: str
    demo_model: bool
    #: QA findings per check (memory hits are not findings).
    findings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class UnitInfo:
    """One ledger unit, as the board needs it: its state, its failures, where it went out."""

    channel: str
    state: ledger.DeliveryState
    failures: tuple[str, ...]  # failure times (failed_at), one per failed attempt
    url: str = ""


class Reader:
    """Reads records through a Store, keeping slim copies of what it read (records never change).

    ``limit`` bounds the copies kept; one Reader serves every request of a process.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._copies: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()  # the API server answers requests on several threads

    def _cached(self, store: Store, key: str, make: Callable[[bytes], object]) -> object:
        slot = (store.url, key)
        with self._lock:
            if slot in self._copies:
                self._copies.move_to_end(slot)
                return self._copies[slot]
        value = make(store.read(key))  # KeyError when absent: absence is never cached
        with self._lock:
            self._copies[slot] = value
            if len(self._copies) > self.limit:
                self._copies.popitem(last=False)
        return value

    def article(self, store: Store, article_id: str, revision: str) -> ArticleInfo:
        def make(data: bytes) -> ArticleInfo:
            a = records.decode(Registered, data)
            return ArticleInfo(a.article_id, a.revision, a.outlet, a.title, a.source_url, a.registered_at,
                               tuple(a.languages))
        return self._cached(store, article_key(article_id, revision), make)  # type: ignore[return-value]

    def decision(self, store: Store, key: str) -> DecisionInfo:
        def make(data: bytes) -> DecisionInfo:
            d = records.decode(Decision, data)
            return DecisionInfo(d.article_id, d.revision, d.language, d.attempt, d.outcome, d.reviewer, d.decided_at,
                                d.opened_at, d.edit_distance, d.machine_words, d.approved, d.note, tuple(d.problems))
        return self._cached(store, key, make)  # type: ignore[return-value]

    def request(self, store: Store, key: str) -> ReviewRequest:
        return self._cached(store, key, lambda data: records.decode(ReviewRequest, data))  # type: ignore[return-value]

    def draft(self, store: Store, article_id: str, revision: str, language: str) -> DraftInfo | None:
        def make(data: bytes) -> DraftInfo:
            d = records.decode(Draft, data)
            checks = Counter(str(f.get("check", "?")) for f in d.findings if f.get("check") != MEMORY_FINDING)
            return DraftInfo(f"{d.model_name} {d.model_version}".strip(), d.demo_model, tuple(sorted(checks.items())))
        try:
            return self._cached(store, draft_key(article_id, revision, language), make)  # type: ignore[return-value]
        except KeyError:
            return None

    def load(self, store: Store) -> Callable[[type, str], object]:
        """A ``ledger.derive`` loader that keeps what it read."""
        return lambda kind, key: self._cached(store, key, lambda data: records.decode(kind, data))

    def unit(self, store: Store, unit: ledger.Delivery) -> UnitInfo | None:
        """One ledger unit's state, its failures and where it went out; None when it has no records."""
        keys = list(store.list(unit.prefix))
        if not keys:
            return None
        load = self.load(store)
        state = ledger.derive(unit, keys, load)
        failures = tuple(load(ledger.Failure, key).failed_at for key in keys if _FAILED_KEY.search(key))
        url = load(ledger.Published, f"{unit.prefix}published.json").url if state.state == ledger.PUBLISHED else ""
        return UnitInfo(unit.channel, state, failures, url)
