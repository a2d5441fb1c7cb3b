"""Each channel's due index: how far it has read the decision journal, and what it settled.

A cache derived from the records and never the truth (see
:mod:`foreigndesk.publish.planner`): losing it costs one slow run, never a
double post, because the ledger claim guards every call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from foreigndesk.core.store import Store

#: Journal entries younger than this are still settling: a writer stamps its entry a moment before the
#: entry can be listed (longer on a stalled worker or a skewed clock) and writes the decision a moment
#: after it. So the mark trails the clock by this much (entries after it already taken are remembered
#: in the head), and an entry whose decision is not there yet is looked at again until the mark passes
#: it; by then it is a crash's leftover, and ignored.
JOURNAL_SETTLE = timedelta(hours=1)
#: How often each channel reconciles against the full listing of decisions, to catch what the journal
#: cannot show (a decision restored from a backup or written by hand, an entry later than JOURNAL_SETTLE).
#: Linear in the archive, once a day; every other run reads only the journal's tail.
FULL_SWEEP_EVERY = timedelta(hours=24)


def _head_key(channel: str) -> str:
    return f"publish/index/{channel}/head.json"


def _settled_key(channel: str) -> str:
    return f"publish/index/{channel}/settled.json"


def channel_health(store: Store, channel: str) -> dict[str, str]:
    """What the last run that called ``channel`` found: ``foreigndesk status`` shows a pause with its reason."""
    raw = _read_json(store, _head_key(channel))
    health = raw.get("health") if isinstance(raw, dict) else None
    return dict(health) if isinstance(health, dict) else {}


def _read_json(store: Store, key: str) -> object | None:
    try:
        return json.loads(store.read(key))
    except (KeyError, ValueError):
        return None


@dataclass
class ChannelIndex:
    """One channel's due index: a cache of what the records say, rebuilt when absent.

    ``mark`` and ``taken`` say how far the channel has read the decision journal:
    every entry at or before the mark, and the entries after it named in ``taken``.
    ``open`` holds the decision keys waiting for a time (embargo, Retry-After, a
    claim's lease; "" = next run); ``settled`` the keys done for this channel.
    """

    mark: str = ""
    taken: set[str] = field(default_factory=set)
    swept_at: str = ""
    open: dict[str, str] = field(default_factory=dict)
    settled: set[str] | None = None  # loaded only on the slow path
    #: The channel's condition after the last run that called it: {"state": "ok"|"paused", "reason", "at", "run"}.
    health: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load_head(cls, store: Store, channel: str) -> "ChannelIndex":
        """The head, or an empty index (a full sweep) when it is absent, unreadable or of an older form."""
        raw = _read_json(store, _head_key(channel))
        if not isinstance(raw, dict) or not raw.get("mark") or not raw.get("swept_at"):
            return cls()
        try:
            return cls(mark=str(raw["mark"]), taken=set(raw.get("taken") or ()), swept_at=str(raw["swept_at"]),
                       open=dict(raw.get("open") or {}), health=dict(raw.get("health") or {}))
        except (TypeError, ValueError):
            return cls()

    def needs_sweep(self, now: datetime) -> bool:
        try:
            swept = datetime.fromisoformat(self.swept_at)
        except ValueError:
            return True
        return not self.mark or swept.tzinfo is None or swept + FULL_SWEEP_EVERY <= now

    def load_settled(self, store: Store, channel: str) -> set[str]:
        if self.settled is None:
            raw = _read_json(store, _settled_key(channel))
            self.settled = set(raw) if isinstance(raw, list) else set()
        return self.settled

    def ripe(self, now: datetime) -> list[str]:
        return [key for key, when in self.open.items() if not when or datetime.fromisoformat(when) <= now]

    def save(self, store: Store, channel: str, settled_changed: bool) -> None:
        if settled_changed and self.settled is not None:
            store.replace(_settled_key(channel), json.dumps(sorted(self.settled)).encode())
        head = {"mark": self.mark, "taken": sorted(self.taken), "swept_at": self.swept_at,
                "open": dict(sorted(self.open.items())), "health": self.health}
        store.replace(_head_key(channel), json.dumps(head, indent=1).encode())
