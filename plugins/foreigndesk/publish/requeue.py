"""``foreigndesk publish --retry FAILED|STUCK [--channel C]``: the operator's requeue, written as records.

After the operator fixed the cause (a text the channel refused, a channel that
could not answer), each unit in that state gets a ``requeue-NNN.json`` record
(:func:`foreigndesk.publish.ledger.record_requeue`); nothing is edited or deleted.
The ledger then reads the unit as due again, and as *uncertain* wherever an
earlier call may have gone out, so the existence check still comes before any
new call: exactly once holds across a requeue. The channel's due index (a cache)
is told to look at those decisions on this run.
"""

from __future__ import annotations

from foreigndesk.core.store import Store
from foreigndesk.publish import ledger
from foreigndesk.publish.due_index import ChannelIndex

#: What ``--retry`` accepts, and the ledger state each names.
RETRY_STATES = {"FAILED": ledger.FAILED, "STUCK": ledger.STUCK}


def requeue(store: Store, which: str, channel: str | None, by: str, reason: str = "") -> list[ledger.DeliveryState]:
    """Requeue every unit in state ``which`` (FAILED or STUCK), on one channel or all; returns them."""
    try:
        wanted = RETRY_STATES[which.upper()]
    except KeyError:
        raise ValueError(f"--retry takes {' or '.join(RETRY_STATES)}, not {which!r}") from None
    chosen = [state for state in ledger.publication_states(store, channel) if state.state == wanted]
    note = reason or f"operator requeued {which.upper()} units"
    for state in chosen:
        ledger.record_requeue(store, state, note, by)
    by_channel: dict[str, list[str]] = {}
    for state in chosen:
        if state.decision:
            by_channel.setdefault(state.channel, []).append(state.decision)
    for name, keys in by_channel.items():
        index = ChannelIndex.load_head(store, name)  # no head: an empty one, and the next run sweeps
        index.load_settled(store, name).difference_update(keys)
        index.open.update({key: "" for key in keys})
        index.save(store, name, True)
    return chosen
