"""Receipts: what a two-step channel was handed between its calls, kept in the unit's ledger folder.

Zalo OA creates an article in two steps: ``article/create`` answers a token,
and only ``article/verify`` with that token answers the article id, once Zalo
has processed it. A run can die, time out or be answered garbage between the
two. So the token is written down the moment it arrives —
``ledger/<channel>/<article>/<language>/<revision>/receipt-NNN.json`` for attempt
NNN, create-only like every ledger record — and the existence check that runs
before any retry asks ``verify`` with it instead of guessing.

The claim before the call, the receipt after the first step and the proof
(``published.json``, with the id) after the second are the three records of a
two-step send; :mod:`foreigndesk.publish.ledger` derives states as before (a
receipt changes no state: a unit with a receipt and no proof is still
*uncertain*, which is exactly what it is).
"""

from __future__ import annotations

from dataclasses import dataclass

from foreigndesk.core import records
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger
from foreigndesk.publish.ledger import Delivery

@dataclass(frozen=True)
class Receipt:
    """A handle a channel was given by its first step (e.g. Zalo's article token) for attempt ``attempt``."""

    channel: str
    article_id: str
    language: str
    revision: str
    attempt: int
    kind: str
    value: str
    at: str


class Receipts:
    """One unit's receipts, handed to a two-step channel by the runner for one call.

    ``record`` writes the receipt of the attempt being made; ``recorded`` reads every
    receipt of the unit, newest attempt first (what the existence check tries).
    """

    def __init__(self, store: Store, unit: Delivery, attempt: int) -> None:
        self.store = store
        self.unit = unit
        self.attempt = attempt

    def record(self, kind: str, value: str) -> None:
        receipt = Receipt(self.unit.channel, self.unit.article_id, self.unit.language, self.unit.revision,
                          self.attempt, kind, value, records.now_utc())
        records.write_once(self.store, f"{self.unit.prefix}receipt-{self.attempt:03d}.json", receipt)

    def recorded(self, kind: str) -> list[str]:
        found: list[tuple[int, str]] = []
        for key in self.store.list(self.unit.prefix):
            numbered = ledger.numbered(key.rsplit("/", 1)[-1])
            if numbered is not None and numbered[0] == "receipt":
                receipt = records.load(self.store, Receipt, key)
                if receipt.kind == kind:
                    found.append((numbered[1], receipt.value))
        return [value for _attempt, value in sorted(found, reverse=True)]
