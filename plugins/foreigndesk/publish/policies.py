"""How hard a publish run tries, and when it stops calling a channel.

The ledger bounds the total across runs (``ledger.MAX_ATTEMPTS``); this bounds
one run: attempts, backoff, how long a Retry-After is waited out in the run,
how long a claim without an outcome belongs to a run still in flight, and how
many items one run sends to a remote channel.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one run tries; the ledger bounds the total across runs (``ledger.MAX_ATTEMPTS``)."""

    attempts_per_run: int = 3
    backoff_seconds: float = 2.0
    #: A Retry-After up to this long is waited out in the run; a longer one rests the channel until then.
    max_inline_wait: float = 30.0
    #: A claim younger than this with no outcome belongs to a run still in flight: leave it alone.
    claim_lease_seconds: float = 900.0
    #: Items one run sends to a remote channel; the rest wait for the next run. This is what keeps a
    #: newly connected fanpage from receiving the whole archive in one burst.
    max_remote_items_per_run: int = 100
