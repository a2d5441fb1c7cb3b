"""The takedown ledger: what is withdrawn, and how far each channel got in taking it down.

Records, written create-only, the publication ledger's rules applied to taking down:

* ``withdrawals/<article>/<lang>/request.json`` — the :class:`Withdrawal`: who, when, why.
  Written first and never removed: from then on the planner never plans the
  article's language again and every feed or index rebuild leaves it out
  (:func:`withdrawn_slots`, :func:`is_withdrawn`);
* per channel ``withdrawals/<article>/<lang>/<channel>/claim-NNN.json`` before attempt
  NNN calls the channel, ``failed-NNN.json`` with what it ran into, and ``done.json``
  when the channel no longer shows it. A claim without an outcome (a crash) or an
  ambiguous answer means "ask the channel whether it is gone before calling again".

The state of a takedown is derived from these names (:func:`takedown_state`), never kept.
:mod:`foreigndesk.publish.withdrawals` does the taking down.
"""

from __future__ import annotations

from dataclasses import dataclass

from foreigndesk.core import records
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger

DONE, PENDING, FAILED = "withdrawn", "pending", "failed"


@dataclass(frozen=True)
class Withdrawal:
    """The desk's decision to take one language of one article off every channel: the audit record."""

    article_id: str
    language: str
    reason: str
    who: str
    requested_at: str


@dataclass(frozen=True)
class TakedownClaim:
    article_id: str
    language: str
    channel: str
    attempt: int
    claimed_at: str
    run: str


@dataclass(frozen=True)
class TakedownFailure:
    article_id: str
    language: str
    channel: str
    attempt: int
    kind: str
    reason: str
    failed_at: str


@dataclass(frozen=True)
class TakedownDone:
    """Proof that the channel no longer shows the item (or never did)."""

    article_id: str
    language: str
    channel: str
    attempt: int
    remote_id: str
    done_at: str
    note: str = ""


def request_key(article_id: str, language: str) -> str:
    return f"withdrawals/{article_id}/{language}/request.json"


def channel_prefix(article_id: str, language: str, channel: str) -> str:
    return f"withdrawals/{article_id}/{language}/{channel}/"


def is_withdrawn(store: Store, article_id: str, language: str) -> bool:
    """One look-up: the planner and the runner ask it before anything goes out."""
    return store.exists(request_key(article_id, language))


def withdrawn_slots(store: Store) -> set[tuple[str, str]]:
    """Every withdrawn (article, language): what feed and index rebuilds leave out."""
    slots = set()
    for key in store.list("withdrawals/"):
        parts = key.split("/")
        if len(parts) == 4 and parts[3] == "request.json":
            slots.add((parts[1], parts[2]))
    return slots


def withdrawals(store: Store) -> list[Withdrawal]:
    """Every withdrawal request, for ``foreigndesk status`` and the audit."""
    return [records.load(store, Withdrawal, request_key(article_id, language))
            for article_id, language in sorted(withdrawn_slots(store))]


@dataclass(frozen=True)
class TakedownState:
    channel: str
    state: str
    attempts: int
    reason: str = ""
    uncertain: bool = False
    remote_id: str = ""
    done_at: str = ""


def takedown_state(store: Store, article_id: str, language: str, channel: str) -> TakedownState:
    """One channel's part of a withdrawal, derived from its records."""
    prefix = channel_prefix(article_id, language, channel)
    claims: set[int] = set()
    failures: dict[int, str] = {}
    done = ""
    for key in store.list(prefix):
        name = key.rsplit("/", 1)[-1]
        if name == "done.json":
            done = key
        numbered = ledger.numbered(name)
        if numbered is not None:
            kind, number = numbered
            if kind == "claim":
                claims.add(number)
            elif kind == "failed":
                failures[number] = key
    attempts = max(claims, default=0)
    if done:
        proof = records.load(store, TakedownDone, done)
        return TakedownState(channel, DONE, attempts, proof.note, remote_id=proof.remote_id, done_at=proof.done_at)
    if not attempts:
        return TakedownState(channel, PENDING, 0)
    last = records.load(store, TakedownFailure, failures[attempts]) if attempts in failures else None
    if last is not None and last.kind == ledger.PERMANENT:
        return TakedownState(channel, FAILED, attempts, last.reason)
    unclear = last is None or last.kind == ledger.AMBIGUOUS
    reason = last.reason if last is not None else "claimed, no outcome recorded (the run died, or it is running)"
    return TakedownState(channel, PENDING, attempts, reason, uncertain=unclear)
