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
from collections import Counter
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

    ``limit`` bounds the copies kept (the oldest go first); one Reader serves every
    request of a process. ``on_read`` is told of every copy made from a record
    (not of copies handed in with :meth:`adopt`): the stored index listens there.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._copies: dict[tuple[str, str], object] = {}
        #: Per ledger unit: the keys it held when last derived, and what they derived to.
        self._units: dict[tuple[str, str], tuple[tuple[str, ...], UnitInfo]] = {}
        self._lock = threading.Lock()  # the API server answers requests on several threads
        self.on_read: Callable[[Store, str, object], None] | None = None
        #: Told of every unit derived anew (prefix, its keys, the answer): the stored index listens here too.
        self.on_unit: Callable[[Store, str, tuple[str, ...], UnitInfo], None] | None = None

    def peek(self, store: Store, key: str) -> object | None:
        """The copy kept of ``key``, if any (no store access)."""
        return self._copies.get((store.url, key))

    def known_unit(self, store: Store, prefix: str) -> tuple[tuple[str, ...], UnitInfo] | None:
        """The keys a unit held when last derived, and its answer (no store access)."""
        return self._units.get((store.url, prefix))

    def adopt_unit(self, store: Store, prefix: str, keys: tuple[str, ...], info: UnitInfo) -> None:
        """Keep what a unit holding ``keys`` derived to (the stored index hands its answers in here)."""
        self._units[(store.url, prefix)] = (keys, info)

    def adopt(self, store: Store, key: str, value: object) -> None:
        """Keep ``value`` as the copy of the record at ``key`` (the stored index hands its copies in here)."""
        with self._lock:
            self._keep((store.url, key), value)

    def adopt_many(self, store: Store, copies: list[tuple[str, object]]) -> None:
        """:meth:`adopt` for many copies at once."""
        with self._lock:
            for key, value in copies:
                self._keep((store.url, key), value)

    def _keep(self, slot: tuple[str, str], value: object) -> None:
        self._copies[slot] = value
        if len(self._copies) > self.limit:
            del self._copies[next(iter(self._copies))]

    def _cached(self, store: Store, key: str, make: Callable[[bytes], object]) -> object:
        found = self._copies.get((store.url, key))  # a dict read is atomic: no lock on the hot path
        if found is not None:
            return found
        value = make(store.read(key))  # KeyError when absent: absence is never cached
        with self._lock:
            self._keep((store.url, key), value)
        if self.on_read is not None:
            self.on_read(store, key, value)
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
        """One ledger unit's state, its failures and where it went out; None when it has no records.

        A unit's state is a function of the names of its records (and of those
        records, which never change): while the listing is the same, so is the answer.
        """
        keys = tuple(store.list(unit.prefix))
        if not keys:
            return None
        slot = (store.url, unit.prefix)
        known = self._units.get(slot)
        if known is not None and known[0] == keys:
            return known[1]
        load = self.load(store)
        state = ledger.derive(unit, keys, load)
        failures = tuple(load(ledger.Failure, key).failed_at for key in keys if _FAILED_KEY.search(key))
        url = load(ledger.Published, f"{unit.prefix}published.json").url if state.state == ledger.PUBLISHED else ""
        info = UnitInfo(unit.channel, state, failures, url)
        self._units[slot] = (keys, info)
        if self.on_unit is not None:
            self.on_unit(store, unit.prefix, keys, info)
        return info

