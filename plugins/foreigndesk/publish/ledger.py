"""The publication ledger: what went out where, derived from write-once records.

One folder per (channel, article, language, revision) — a *unit* — holding:

* ``claim-NNN.json``     written create-only BEFORE attempt NNN calls the channel, so two
                         runners can never both make the same call;
* ``failed-NNN.json``    what attempt NNN ran into: ``permanent`` (a 4xx: never retried),
                         ``not_sent`` (refused, 429: try again after ``not_before``) or
                         ``ambiguous`` (5xx, timeout, reset: look before trying again);
* ``published.json``     written after success, with the channel's remote id;
* ``check-NNN-KK.json``  an existence check after attempt NNN that could not get an answer;
* ``superseded.json``    a newer revision of the same (article, language) took over on this
                         channel while this one had no outcome; written after the existence
                         check found nothing out (or when nothing was ever sent);
* ``requeue-NNN.json``   the operator's ``foreigndesk publish --retry`` after attempt NNN:
                         what came before no longer stops the unit (the check still does).

One remote item per (channel, article, language) — a *slot* — ever: every revision
after the first updates the item the slot already has. Before a later revision of a
slot is sent, every earlier revision whose call has no clear outcome is resolved by
the channel's existence check (the runner does it, see :func:`slot_states`).

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
from foreigndesk.core.revisions import load_revision, revision_order
from foreigndesk.core.store import RecordExists, Store

PUBLISHED = "published"
FAILED = "failed"
DUE = "due"
RETRY = "retry"
UNCERTAIN = "uncertain"

#: Could not be resolved in a bounded number of tries or runs: the desk stops calling and shows it
#: as *needs operator* with the reason; ``foreigndesk publish --retry STUCK`` requeues it.
STUCK = "needs operator"
#: A newer revision of the slot took over while this one had no outcome (nothing of it is out).
SUPERSEDED = "superseded"

PERMANENT = "permanent"
NOT_SENT = "not_sent"
AMBIGUOUS = "ambiguous"

#: Attempts with no clear outcome (ambiguous, or none recorded) per unit, across all runs, before the
#: desk stops calling and marks the unit failed. Refusals and 429s don't count: nothing was sent.
MAX_ATTEMPTS = 10
#: Runs whose existence check for a unit got no answer before the unit shows as *needs operator*.
MAX_CHECK_RUNS = 3

_NUMBERED = re.compile(r"^(claim|failed|requeue|receipt)-(\d{3})\.json$")
_CHECK = re.compile(r"^check-(\d{3})-(\d{3})\.json$")


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
class CheckFailed:
    """An existence check that got no answer; enough of them in distinct runs make the unit stuck."""

    channel: str
    article_id: str
    language: str
    revision: str
    after_attempt: int
    reason: str
    checked_at: str
    run: str


@dataclass(frozen=True)
class Superseded:
    """A newer revision took over this unit's slot; nothing of this revision is out (checked)."""

    channel: str
    article_id: str
    language: str
    revision: str
    by_revision: str
    reason: str
    at: str
    run: str


@dataclass(frozen=True)
class Requeued:
    """The operator's ``--retry``: earlier failures and give-ups no longer stop the unit."""

    channel: str
    article_id: str
    language: str
    revision: str
    after_attempt: int
    was: str
    reason: str
    by: str
    at: str


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
    #: The decision key the last claim was made for (what an existence check must look for).
    decision: str = ""


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


def numbered(name: str) -> tuple[str, int] | None:
    """("claim" | "failed" | "requeue" | "receipt", N) for a record named ``<kind>-NNN.json``; None otherwise.

    The publication ledger, its receipts and the takedown ledger number their attempts the same way.
    """
    match = _NUMBERED.match(name)
    return (match.group(1), int(match.group(2))) if match else None


def derive(unit: Delivery, keys: Iterable[str], load: Callable[[type, str], Any]) -> DeliveryState:
    """A unit's state from the names of its records (and the few records the names point to)."""
    attempts_by_kind: dict[str, dict[int, str]] = {"claim": {}, "failed": {}, "requeue": {}, "receipt": {}}
    checks: list[str] = []
    published_key = superseded_key = ""
    for key in keys:
        name = key.rsplit("/", 1)[-1]
        if name == "published.json":
            published_key = key
        elif name == "superseded.json":
            superseded_key = key
        elif (found := numbered(name)) is not None:
            attempts_by_kind[found[0]][found[1]] = key
        elif _CHECK.match(name) is not None:
            checks.append(key)
    claims, failure_keys = attempts_by_kind["claim"], attempts_by_kind["failed"]
    base = dict(channel=unit.channel, article_id=unit.article_id, language=unit.language, revision=unit.revision)
    attempts = max(claims, default=0)
    if published_key:
        done: Published = load(Published, published_key)
        return DeliveryState(**base, state=PUBLISHED, attempts=attempts, remote_id=done.remote_id,
                             published_at=done.published_at, decision=done.decision)
    if superseded_key:
        gone: Superseded = load(Superseded, superseded_key)
        return DeliveryState(**base, state=SUPERSEDED, attempts=attempts, reason=gone.reason)
    if attempts == 0:
        return DeliveryState(**base, state=DUE, attempts=0)
    requeued_after = max(attempts_by_kind["requeue"], default=0)
    failures: dict[int, Failure] = {number: load(Failure, key) for number, key in failure_keys.items()}
    unclear_numbers = [n for n in claims if n not in failures or failures[n].kind == AMBIGUOUS]
    unclear = sum(1 for n in unclear_numbers if n > requeued_after)
    last_claim: AttemptClaim = load(AttemptClaim, claims[attempts])
    last = failures.get(attempts)
    common = dict(attempts=attempts, unclear_attempts=unclear, last_claimed_at=last_claim.claimed_at,
                  decision=last_claim.decision)
    fresh = attempts > requeued_after  # something happened since the operator's last --retry
    if last is not None and last.kind == PERMANENT and fresh:
        return DeliveryState(**base, state=FAILED, reason=last.reason, **common)
    if unclear >= MAX_ATTEMPTS:
        last_reason = last.reason if last is not None else "no outcome recorded"
        return DeliveryState(**base, state=STUCK, reason=f"gave up after {unclear} attempts with no clear outcome; "
                             f"last: {last_reason}", **common)
    failed_checks = [load(CheckFailed, key) for key in sorted(checks)]
    failed_checks = [check for check in failed_checks if check.after_attempt > requeued_after
                     or (check.after_attempt == requeued_after and attempts > requeued_after)]
    check_runs = {check.run for check in failed_checks if check.after_attempt == attempts}
    if len(check_runs) >= MAX_CHECK_RUNS:
        return DeliveryState(**base, state=STUCK, reason=f"the existence check failed in {len(check_runs)} runs; "
                             f"last: {failed_checks[-1].reason}", **common)
    if not fresh:
        # Requeued by the operator: look first whenever an earlier call may have gone out.
        if unclear_numbers:
            return DeliveryState(**base, state=UNCERTAIN, reason="requeued by the operator; the channel is checked "
                                 "before any new call", **{**common, "unclear_attempts": 0})
        return DeliveryState(**base, state=RETRY, reason="requeued by the operator", **{**common, "unclear_attempts": 0})
    if last is None:
        return DeliveryState(**base, state=UNCERTAIN, in_flight=True, reason="claimed, no outcome recorded yet (in "
                             "flight, or the run died): the channel is checked before any retry", **common)
    if last.kind == AMBIGUOUS:
        return DeliveryState(**base, state=UNCERTAIN, reason=last.reason, **common)
    if any(n > requeued_after for n in unclear_numbers):
        # A refusal after an unclear attempt: the unclear one must still be looked for.
        return DeliveryState(**base, state=UNCERTAIN, reason=last.reason, not_before=last.not_before, **common)
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


def _newest_by_revision(store: Store, candidates: list[Published]) -> Published:
    """Of one slot's proofs, the newest revision's (registration order, never publication time)."""
    if len(candidates) == 1:
        return candidates[0]

    def order(proof: Published) -> tuple:
        try:
            return (0, revision_order(store, load_revision(store, proof.article_id, proof.revision)))
        except (KeyError, ValueError, TypeError):  # no readable registration: after nothing, by time
            return (-1, proof.published_at)
    return max(candidates, key=order)


def published_records(store: Store, channel: str) -> list[Published]:
    """Per (article, language) on ``channel``, the proof of the newest revision out: the channel's catalogue.

    Newest by when intake registered the revision, never by when it went out: a proof
    written late (an earlier revision found out after a crash) never displaces a correction.
    """
    slots: dict[tuple[str, str], list[Published]] = {}
    for key in store.list(f"ledger/{channel}/"):
        if key.endswith("/published.json"):
            record = records.load(store, Published, key)
            slots.setdefault((record.article_id, record.language), []).append(record)
    return [_newest_by_revision(store, found) for found in slots.values()]


def slot_prefix(unit: Delivery) -> str:
    return f"ledger/{unit.channel}/{unit.article_id}/{unit.language}/"


def previous_publication(store: Store, unit: Delivery) -> Published | None:
    """A proof of another revision of this article and language on this channel: the slot's remote item."""
    found = [records.load(store, Published, key) for key in store.list(slot_prefix(unit))
             if key.endswith("/published.json") and not key.startswith(unit.prefix)]
    return _newest_by_revision(store, found) if found else None


def slot_states(store: Store, unit: Delivery) -> list[DeliveryState]:
    """The states of every other revision of ``unit``'s slot that the ledger knows (sorted by revision name)."""
    grouped: dict[Delivery, list[str]] = {}
    for key in store.list(slot_prefix(unit)):
        other = delivery_of(key)
        if other is not None and other != unit:
            grouped.setdefault(other, []).append(key)
    return [derive(other, keys, lambda kind, key: records.load(store, kind, key))
            for other, keys in sorted(grouped.items(), key=lambda pair: pair[0].revision)]


def record_check_failed(store: Store, unit: Delivery, after_attempt: int, reason: str, run: str) -> None:
    """Note an existence check that got no answer (numbered per attempt; the first free number wins)."""
    record = CheckFailed(unit.channel, unit.article_id, unit.language, unit.revision, after_attempt, reason,
                         records.now_utc(), run)
    for number in range(1, 1000):
        if records.write_once(store, f"{unit.prefix}check-{after_attempt:03d}-{number:03d}.json", record):
            return


def record_superseded(store: Store, unit: Delivery, by_revision: str, reason: str, run: str) -> None:
    records.write_once(store, f"{unit.prefix}superseded.json",
                       Superseded(unit.channel, unit.article_id, unit.language, unit.revision, by_revision, reason,
                                  records.now_utc(), run))


def record_requeue(store: Store, state: DeliveryState, reason: str, by: str) -> bool:
    """The operator's ``--retry`` for one unit, as a record (False: already requeued after that attempt)."""
    unit = Delivery(state.channel, state.article_id, state.language, state.revision)
    return records.write_once(store, f"{unit.prefix}requeue-{state.attempts:03d}.json",
                              Requeued(unit.channel, unit.article_id, unit.language, unit.revision, state.attempts,
                                       state.state, reason, by, records.now_utc()))
