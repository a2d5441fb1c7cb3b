"""The publication ledger: what went out where, derived from write-once records.

One folder per (channel, article, language, revision) — a *unit* — holding:

* ``claim-NNN.json``     written create-only BEFORE attempt NNN calls the channel, so two
                         runners can never both make the same call;
* ``failed-NNN.json``    what attempt NNN ran into: ``permanent`` (a 4xx: never retried),
                         ``not_sent`` (refused, 429: try again after ``not_before``) or
                         ``ambiguous`` (5xx, timeout, reset: look before trying again);
* ``published.json``     written after success, with the channel's remote id.

Nothing is ever edited: a unit's state is read off which records exist
(:func:`derive`), so a crash at any point leaves a state the next run can act
on — a claim without an outcome reads as *uncertain*, and uncertain means
"ask the channel whether it is out before sending again".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from foreigndesk.core import records
from foreigndesk.core.store import RecordExists, Store

PUBLISHED = "published"
FAILED = "failed"
DUE = "due"
RETRY = "retry"
UNCERTAIN = "uncertain"

PERMANENT = "permanent"
NOT_SENT = "not_sent"
AMBIGUOUS = "ambiguous"

#: Attempts with no clear outcome (ambiguous, or none recorded) per unit, across all runs, before the
#: desk stops calling and marks the unit failed. Refusals and 429s don't count: nothing was sent.
MAX_ATTEMPTS = 10

_NUMBERED = re.compile(r"^(claim|failed)-(\d{3})\.json$")


@dataclass(frozen=True)
class Delivery:
    """What "exactly once" counts: one revision of one language of one article on one channel."""

    channel: str
    article_id: str
    language: str
    revision: str

    @property
    def prefix(self) -> str:
        return f"ledger/{self.channel}/{self.article_id}/{self.language}/{self.revision}/"


@dataclass(frozen=True)
class AttemptClaim:
    channel: str
    article_id: str
    language: str
    revision: str
    attempt: int
    decision: str
    claimed_at: str
    run: str


@dataclass(frozen=True)
class Failure:
    channel: str
    article_id: str
    language: str
    revision: str
    attempt: int
    kind: str
    reason: str
    failed_at: str
    not_before: str = ""


@dataclass(frozen=True)
class Published:
    """Proof of publication, and what the catalogue needs to list the item without its text."""

    channel: str
    article_id: str
    language: str
    revision: str
    attempt: int
    decision: str
    remote_id: str
    url: str
    title: str
    summary: str
    first_published_at: str
    published_at: str
    found_after_failure: bool = False


@dataclass(frozen=True)
class DeliveryState:
    """A unit's state as ``foreigndesk status`` shows it."""

    channel: str
    article_id: str
    language: str
    revision: str
    state: str
    attempts: int
    remote_id: str = ""
    reason: str = ""
    not_before: str = ""
    last_claimed_at: str = ""
    published_at: str = ""
    unclear_attempts: int = 0
    in_flight: bool = False


def delivery_of(key: str) -> Delivery | None:
    parts = key.split("/")
    if len(parts) != 6 or parts[0] != "ledger":
        return None
    return Delivery(parts[1], parts[2], parts[3], parts[4])


def claim(store: Store, unit: Delivery, attempt: int, decision: str, run: str) -> bool:
    """Create-only: True when this caller owns attempt ``attempt`` and may call the channel."""
    record = AttemptClaim(unit.channel, unit.article_id, unit.language, unit.revision, attempt, decision,
                   records.now_utc(), run)
    return records.write_once(store, f"{unit.prefix}claim-{attempt:03d}.json", record)


def record_failure(store: Store, unit: Delivery, attempt: int, kind: str, reason: str, not_before: str = "") -> None:
    record = Failure(unit.channel, unit.article_id, unit.language, unit.revision, attempt, kind, reason,
                     records.now_utc(), not_before)
    records.write_once(store, f"{unit.prefix}failed-{attempt:03d}.json", record)


def record_published(store: Store, record: Published) -> Published:
    """Write the proof once; a second writer gets the first proof back (it stands)."""
    unit = Delivery(record.channel, record.article_id, record.language, record.revision)
    key = f"{unit.prefix}published.json"
    try:
        store.create(key, records.encode(record))
        return record
    except RecordExists:
        return records.load(store, Published, key)


def derive(unit: Delivery, keys: Iterable[str], load: Callable[[type, str], Any]) -> DeliveryState:
    """A unit's state from the names of its records (and the few records the names point to)."""
    claims: dict[int, str] = {}
    failure_keys: dict[int, str] = {}
    published_key = ""
    for key in keys:
        name = key.rsplit("/", 1)[-1]
        if name == "published.json":
            published_key = key
            continue
        match = _NUMBERED.match(name)
        if match:
            (claims if match.group(1) == "claim" else failure_keys)[int(match.group(2))] = key
    base = dict(channel=unit.channel, article_id=unit.article_id, language=unit.language, revision=unit.revision)
    attempts = max(claims, default=0)
    if published_key:
        done: Published = load(Published, published_key)
        return DeliveryState(**base, state=PUBLISHED, attempts=attempts, remote_id=done.remote_id,
                         published_at=done.published_at)
    if attempts == 0:
        return DeliveryState(**base, state=DUE, attempts=0)
    failures: dict[int, Failure] = {number: load(Failure, key) for number, key in failure_keys.items()}
    unclear = sum(1 for number in claims if number not in failures or failures[number].kind == AMBIGUOUS)
    last_claim: AttemptClaim = load(AttemptClaim, claims[attempts])
    last = failures.get(attempts)
    common = dict(attempts=attempts, unclear_attempts=unclear, last_claimed_at=last_claim.claimed_at)
    if last is not None and last.kind == PERMANENT:
        return DeliveryState(**base, state=FAILED, reason=last.reason, **common)
    if unclear >= MAX_ATTEMPTS:
        last_reason = last.reason if last is not None else "no outcome recorded"
        return DeliveryState(**base, state=FAILED, reason=f"gave up after {unclear} attempts with no clear outcome; "
                         f"last: {last_reason}", **common)
    if last is None:
        return DeliveryState(**base, state=UNCERTAIN, in_flight=True, reason="claimed, no outcome recorded yet (in "
                         "flight, or the run died): the channel is checked before any retry", **common)
    if last.kind == AMBIGUOUS:
        return DeliveryState(**base, state=UNCERTAIN, reason=last.reason, **common)
    return DeliveryState(**base, state=RETRY, reason=last.reason, not_before=last.not_before, **common)


def delivery_state(store: Store, unit: Delivery) -> DeliveryState:
    return derive(unit, store.list(unit.prefix), lambda kind, key: records.load(store, kind, key))


def publication_states(store: Store, channel: str | None = None) -> list[DeliveryState]:
    """Every unit the ledger knows, with its state: what ``foreigndesk status`` shows per channel.

    Sorted by article, language, revision, channel. Units nobody has claimed yet
    (due, or held by an embargo) have no records and so do not appear here.
    """
    grouped: dict[Delivery, list[str]] = {}
    for key in store.list(f"ledger/{channel}/" if channel else "ledger/"):
        unit = delivery_of(key)
        if unit is not None:
            grouped.setdefault(unit, []).append(key)
    states = [derive(unit, keys, lambda kind, key: records.load(store, kind, key)) for unit, keys in grouped.items()]
    return sorted(states, key=lambda s: (s.article_id, s.language, s.revision, s.channel))


def published_records(store: Store, channel: str) -> list[Published]:
    """The newest published revision per (article, language) on ``channel``: the channel's catalogue."""
    newest: dict[tuple[str, str], Published] = {}
    for key in store.list(f"ledger/{channel}/"):
        if not key.endswith("/published.json"):
            continue
        record = records.load(store, Published, key)
        slot = (record.article_id, record.language)
        if slot not in newest or record.published_at >= newest[slot].published_at:
            newest[slot] = record
    return list(newest.values())


def previous_publication(store: Store, unit: Delivery) -> Published | None:
    """The newest earlier revision of this article and language on this channel, if any went out."""
    found: Published | None = None
    for key in store.list(f"ledger/{unit.channel}/{unit.article_id}/{unit.language}/"):
        if key.endswith("/published.json") and not key.startswith(unit.prefix):
            record = records.load(store, Published, key)
            if found is None or record.published_at > found.published_at:
                found = record
    return found
