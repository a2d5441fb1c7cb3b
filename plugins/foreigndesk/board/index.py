"""The board's stored index: the record copies a board page needs, kept in the store between server starts.

A page reads every record of its period once (about 50,000 at 5,000 articles),
and a server keeps copies of them (:class:`~foreigndesk.board.copies.Reader`),
so only the first page after a start pays for that reading — about 5 s of CPU at
5,000 articles. This index keeps those copies in the store, so a fresh server
loads them in a few reads instead of 50,000:
``board-index/v1/<YYYY-MM-DD>.json``, one object per day of registration,
holding the copies of the records of the revisions registered that day.

It is a cache of immutable records and never a source of truth:

* it holds only *what a record says*, never *whether one exists*. Which
  revisions are on the board, which decisions, requests and ledger records
  there are, is still read from the journals and the store on every page, so
  records other processes add are seen as soon as they are written;
* every copy in it was made from a record that exists, and records are written
  once, so a copy never goes stale;
* a day missing, unreadable or written by another version of the board
  (:data:`FORMAT`) is simply not used: the records are read and the day
  rewritten. Deleting ``board-index/`` only costs one slower page.

Days are rewritten whole (``replace``) when a page read records they lacked;
two servers rewriting the same day at once may drop each other's new copies,
which again only costs reading those records once more.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import inspect
import json
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any

from foreigndesk.board import copies
from foreigndesk.board.copies import (
    ArticleInfo,
    DecisionInfo,
    DraftInfo,
    Reader,
    UnitInfo,
)
from foreigndesk.core.decisions import ReviewRequest
from foreigndesk.core.store import Store, StoreError
from foreigndesk.publish import ledger

ROOT = "board-index/v1/"
log = logging.getLogger(__name__)

#: The copy types the index holds. Slim copies keep tuples (lists in JSON come back as tuples);
#: whole records keep the lists they were decoded with.
_SLIM = (ArticleInfo, DecisionInfo, DraftInfo)
_WHOLE = (ReviewRequest,)
_TYPES = {kind.__name__: kind for kind in _SLIM + _WHOLE}
_FIELDS = {kind: tuple(field.name for field in dataclasses.fields(kind))
           for kind in (*_TYPES.values(), UnitInfo, ledger.DeliveryState)}


def _format() -> str:
    """What the stored copies depend on: the copy types' fields and the code that makes them.

    A copy is what this code made of a record, and a unit's answer what ``ledger.derive``
    made of its keys: when either code changes (an upgrade), the old index is not read.
    Without the source to hash, the index is only good for this process.
    """
    try:
        code = inspect.getsource(copies) + inspect.getsource(ledger.derive)
    except (OSError, TypeError):
        code = uuid.uuid4().hex
    fields = repr(sorted((kind.__name__, names) for kind, names in _FIELDS.items()))
    return hashlib.sha256((fields + code).encode()).hexdigest()[:16]


#: An index written by another version of the board (or of the ledger's derivation) is not read.
FORMAT = _format()


def day_key(day: date) -> str:
    return f"{ROOT}{day.isoformat()}.json"


def revision_of(key: str) -> tuple[str, str] | None:
    """The (article, revision) a record key belongs to: every record the board reads is one revision's."""
    parts = key.split("/")
    if parts[0] in ("articles", "decisions", "reviews", "drafts") and len(parts) >= 4:
        return parts[1], parts[2]
    if parts[0] == "ledger" and len(parts) == 6:
        return parts[2], parts[4]
    return None


def _tuples(value: Any) -> Any:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


#: Per slim type, the positions of its tuple fields (JSON gives lists back).
_TUPLE_FIELDS = {kind: tuple(n for n, field in enumerate(dataclasses.fields(kind)) if "tuple" in str(field.type))
                 for kind in _SLIM}


def encode_copy(key: str, value: object) -> list | None:
    """``[key, type, *fields]``; None for a value the index does not keep."""
    kind = type(value)
    if kind.__name__ not in _TYPES or _TYPES[kind.__name__] is not kind:
        return None
    return [key, kind.__name__, *(getattr(value, name) for name in _FIELDS[kind])]


def encode_unit(prefix: str, keys: tuple[str, ...], info: UnitInfo) -> list:
    """``[prefix, "unit", keys, channel, failures, url, *state fields]``: a ledger unit's answer and what it came from."""
    return [prefix, "unit", list(keys), info.channel, list(info.failures), info.url,
            *(getattr(info.state, name) for name in _FIELDS[ledger.DeliveryState])]


def decode_unit(entry: list) -> tuple[str, tuple[str, ...], UnitInfo]:
    prefix, _, keys, channel, failures, url, *state = entry
    if len(state) != len(_FIELDS[ledger.DeliveryState]):
        raise ValueError(f"unit {prefix} has {len(state)} state fields, not {len(_FIELDS[ledger.DeliveryState])}")
    return prefix, tuple(keys), UnitInfo(channel, ledger.DeliveryState(*state), tuple(failures), url)


def decode_copy(entry: list) -> tuple[str, object]:
    key, name, *values = entry
    kind = _TYPES[name]
    if len(values) != len(_FIELDS[kind]):
        raise ValueError(f"{name} copy of {key} has {len(values)} fields, not {len(_FIELDS[kind])}")
    for position in _TUPLE_FIELDS.get(kind, ()):
        values[position] = _tuples(values[position])
    return key, kind(*values)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Decoding makes thousands of objects and no cycles: the cycle collector would only walk the heap meanwhile.

    In an API server with a large heap that walk was a third of a day's load time.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class StoredIndex:
    """Loads the stored days a page needs into a Reader, and writes back the days a page added copies to.

    Attached to one Reader (it listens to the records the Reader reads); serves one store.
    """

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        reader.on_read = self._noted
        reader.on_unit = self._unit_noted
        self._lock = threading.Lock()
        self._loaded: set[date] = set()
        self._day_of: dict[tuple[str, str], date] = {}  # (article, revision) -> day of registration
        self._members: dict[date, set[str]] = defaultdict(set)
        self._dirty: set[date] = set()
        #: Record copies read before their revision's day was known, by revision.
        self._waiting: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._store_url = ""
        #: False once a write was refused (a read-only store): the index is then only read.
        self.writable = True

    def _serves(self, store: Store) -> bool:
        """One index serves one store (the first it is used with); others are read without it."""
        if not self._store_url:
            self._store_url = store.url
        return store.url == self._store_url

    def _day(self, registered_at: str) -> date:
        moment = datetime.fromisoformat(registered_at)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).date()

    def _place(self, key: str, value: object, day: date | None = None) -> date | None:
        """File a copy under its revision's day (learning the day from an article copy)."""
        revision = revision_of(key)
        if revision is None:
            return None
        if isinstance(value, ArticleInfo):
            day = day or self._day(value.registered_at)
            self._day_of[revision] = day
            for waiting in self._waiting.pop(revision, ()):
                self._members[day].add(waiting)
        day = day or self._day_of.get(revision)
        if day is None:
            self._waiting[revision].add(key)
            return None
        self._members[day].add(key)
        return day

    def _noted(self, store: Store, key: str, value: object) -> None:
        """The Reader read a record: its day gains a copy (and is loaded first if it never was)."""
        if isinstance(value, ArticleInfo):
            self.load_day(store, self._day(value.registered_at))
        if not self._serves(store) or type(value).__name__ not in _TYPES:
            return  # ledger records are not kept: their units' answers are (see _unit_noted)
        with self._lock:
            day = self._place(key, value)
            if day is not None:
                self._dirty.add(day)

    def _unit_noted(self, store: Store, prefix: str, keys: tuple[str, ...], info: UnitInfo) -> None:
        """A ledger unit was derived anew: its revision's day gains (or changes) an answer."""
        if self._serves(store):
            with self._lock:
                day = self._place(prefix, info)
                if day is not None:
                    self._dirty.add(day)

    def load_day(self, store: Store, day: date) -> int:
        """Hand the day's stored copies to the Reader; the number handed in (0 when missing or unusable)."""
        if not self._serves(store):
            return 0
        with self._lock:
            if day in self._loaded:
                return 0
            self._loaded.add(day)
        try:
            with _collector_paused():
                stored = json.loads(store.read(day_key(day)))
                if stored.get("format") != FORMAT:
                    return 0
                copies = [decode_copy(entry) for entry in stored["copies"]]
                units = [decode_unit(entry) for entry in stored["units"]]
        except (KeyError, ValueError, TypeError, StoreError):
            return 0  # missing or not ours: the records are read, and the day written again
        self.reader.adopt_many(store, copies)
        for prefix, keys, info in units:
            if self.reader.known_unit(store, prefix) is None:  # one derived here since is as new or newer
                self.reader.adopt_unit(store, prefix, keys, info)
        with self._lock:
            members = self._members[day]
            members.update(key for key, _ in copies)
            members.update(prefix for prefix, _, _ in units)
            for _, value in copies:
                if isinstance(value, ArticleInfo):
                    self._day_of[(value.article_id, value.revision)] = day
                    members.update(self._waiting.pop((value.article_id, value.revision), ()))
        return len(copies) + len(units)

    def load(self, store: Store, since: datetime, now: datetime) -> int:
        """Load every day from ``since`` to ``now`` (the revisions a page of that period shows)."""
        first, last = since.astimezone(timezone.utc).date(), now.astimezone(timezone.utc).date()
        return sum(self.load_day(store, first + timedelta(days=n)) for n in range((last - first).days + 1))

    def save(self, store: Store) -> int:
        """Rewrite the days that gained copies since they were loaded or saved; the number of days written."""
        if not self._serves(store) or not self.writable:
            return 0
        with self._lock:
            dirty, self._dirty = sorted(self._dirty), set()
            members = {day: sorted(self._members[day]) for day in dirty}
        for day in dirty:
            entries, units = [], []
            for key in members[day]:
                if key.startswith("ledger/") and key.endswith("/"):
                    if (known := self.reader.known_unit(store, key)) is not None:
                        units.append(encode_unit(key, *known))
                elif (entry := encode_copy(key, self.reader.peek(store, key))) is not None:
                    entries.append(entry)
            data = json.dumps({"format": FORMAT, "day": day.isoformat(), "copies": entries, "units": units},
                              ensure_ascii=False, separators=(",", ":"))
            try:
                store.replace(day_key(day), data.encode())
            except (StoreError, OSError) as error:
                # A store this server may only read: the board works as before the index, reading records.
                self.writable = False
                log.warning("the board's index is not kept: writing %s failed (%s); pages read the records instead",
                            day_key(day), error)
                return 0
        return len(dirty)
