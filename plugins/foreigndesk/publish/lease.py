"""One publish at a time, whatever starts it: a lease in the store, create-only, with an expiry and a holder.

The DAG task, ``foreigndesk publish`` from a shell and a second scheduler all take
the same lease before they plan anything. Leases are numbered generations,
``publish/lease/<NNNNNNNNNN>.json``, each written create-only: whoever creates
generation N+1 holds the lease, and two contenders cannot both create it. A holder
ends its lease with ``<N>-released.json``; a holder that died leaves a lease that
simply expires (``expires_at``), after which the next run takes generation N+1.

A long run renews before its lease runs out by creating the next generation itself;
if it cannot (the lease expired and another run took over), it has lost the lease
and stops before its next claim or output rewrite (:class:`LeaseLost`), so two runs
never interleave even when one of them stalls. ``publish/lease-hint.json`` only
remembers the last generation seen, so finding the current one reads a few keys
instead of listing every lease ever taken; it is a hint, never the truth.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from foreigndesk.core import records
from foreigndesk.core.store import RecordExists, Store

LEASE_FOLDER = "publish/lease/"
HINT_KEY = "publish/lease-hint.json"
#: How long a lease lasts without renewal: longer than any one call, so a live run renews in time.
DEFAULT_TTL = timedelta(minutes=15)


class LeaseHeld(Exception):
    """Another run holds the publish lease; the message says who, since when and until when."""


class LeaseLost(Exception):
    """This run's lease expired and another run took it: stop before touching anything else."""


@dataclass(frozen=True)
class Lease:
    generation: int
    holder: str
    run: str
    acquired_at: str
    expires_at: str

    def describe(self) -> str:
        return (f"held by {self.holder} (run {self.run}) since {self.acquired_at}, expires {self.expires_at} "
                f"unless renewed")


def lease_key(generation: int) -> str:
    return f"{LEASE_FOLDER}{generation:010d}.json"


def released_key(generation: int) -> str:
    return f"{LEASE_FOLDER}{generation:010d}-released.json"


def default_holder() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _generation(store: Store) -> int:
    """The newest lease generation (0 before the first): the hint, then a few existence checks."""
    try:
        generation = int(json.loads(store.read(HINT_KEY)).get("generation", 0))
    except (KeyError, ValueError, AttributeError, TypeError):
        generation = 0
    while generation > 0 and not store.exists(lease_key(generation)):  # a hint ahead of the records: trust records
        generation -= 1
    while store.exists(lease_key(generation + 1)):
        generation += 1
    return generation


def _holder_of(store: Store, generation: int, now: datetime) -> Lease | None:
    """The lease of ``generation`` when it is still in force (not released, not expired), else None."""
    if generation == 0 or store.exists(released_key(generation)):
        return None
    lease = records.load(store, Lease, lease_key(generation))
    return lease if datetime.fromisoformat(lease.expires_at) > now else None


def _take(store: Store, generation: int, holder: str, run: str, ttl: timedelta, now: datetime) -> Lease | None:
    lease = Lease(generation, holder, run, now.isoformat(), (now + ttl).isoformat())
    try:
        store.create(lease_key(generation), records.encode(lease))
    except RecordExists:
        return None
    store.replace(HINT_KEY, json.dumps({"generation": generation}).encode())
    return lease


def acquire(store: Store, run: str, *, holder: str = "", ttl: timedelta = DEFAULT_TTL, wait_seconds: float = 0.0,
            sleep: Callable[[float], None] = time.sleep, clock: Callable[[], datetime] = _now) -> Lease:
    """Take the publish lease, waiting up to ``wait_seconds`` for the holder; raise :class:`LeaseHeld` otherwise."""
    holder = holder or default_holder()
    deadline = time.monotonic() + wait_seconds
    while True:
        generation = _generation(store)
        now = clock()
        lease = _holder_of(store, generation, now)
        if lease is None:
            taken = _take(store, generation + 1, holder, run, ttl, now)
            if taken is not None:
                return taken
            lease = _holder_of(store, _generation(store), now)  # someone took it between our read and our create
        if time.monotonic() >= deadline:
            who = lease.describe() if lease is not None else "taken by another run a moment ago"
            raise LeaseHeld(f"another publish run holds the publish lease ({who}); this run published nothing. "
                            "It runs again on the next schedule, or re-run it when that run is done. A run that "
                            "died leaves its lease to expire; nothing needs deleting.")
        sleep(min(2.0, max(0.05, deadline - time.monotonic())))


def renew(store: Store, lease: Lease, *, ttl: timedelta = DEFAULT_TTL, clock: Callable[[], datetime] = _now) -> Lease:
    """Extend a held lease by creating the next generation; raise :class:`LeaseLost` if another run has it."""
    now = clock()
    if store.exists(lease_key(lease.generation + 1)):
        raise LeaseLost(f"the publish lease passed to another run; run {lease.run} stopped before its next write")
    taken = _take(store, lease.generation + 1, lease.holder, lease.run, ttl, now)
    if taken is None:
        raise LeaseLost(f"the publish lease passed to another run while run {lease.run} renewed it")
    return taken


def release(store: Store, lease: Lease) -> None:
    """End the lease so the next run need not wait for it to expire (create-only: a second release is a no-op)."""
    if not store.exists(lease_key(lease.generation + 1)):
        records.write_once(store, released_key(lease.generation), lease)


class Holding:
    """The lease a run holds, renewed when half its time is gone; ``check()`` is the runner's guard."""

    def __init__(self, store: Store, lease: Lease, ttl: timedelta = DEFAULT_TTL,
                 clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.lease = lease
        self.ttl = ttl
        self.clock = clock

    def check(self) -> None:
        now = self.clock()
        expires = datetime.fromisoformat(self.lease.expires_at)
        if expires - now < self.ttl / 2:
            self.lease = renew(self.store, self.lease, ttl=self.ttl, clock=self.clock)

    def release(self) -> None:
        release(self.store, self.lease)
