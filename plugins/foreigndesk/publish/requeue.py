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
    _due_again(store, chosen)
    return chosen


class NothingToRetry(ValueError):
    """The unit is not failed or stuck (any more): a retry would change nothing; the message says its state."""


def requeue_delivery(store: Store, delivery: ledger.Delivery, by: str, reason: str = "") -> ledger.DeliveryState:
    """Requeue one unit (the board's Retry); refused unless it is failed or stuck, so a second click does nothing."""
    state = ledger.delivery_state(store, delivery)
    if state.state not in RETRY_STATES.values():
        raise NothingToRetry(f"{delivery.channel} {delivery.article_id} {delivery.language} ({delivery.revision}) "
                             f"is {state.state}, not failed or stuck: nothing to retry")
    ledger.record_requeue(store, state, reason or "operator requeued the unit", by)
    _due_again(store, [state])
    return state


def _due_again(store: Store, chosen: list[ledger.DeliveryState]) -> None:
    """Tell each channel's due index (a cache) to look at these decisions on the next run."""
    by_channel: dict[str, list[str]] = {}
    for state in chosen:
        if state.decision:
            by_channel.setdefault(state.channel, []).append(state.decision)
    for name, keys in by_channel.items():
        index = ChannelIndex.load_head(store, name)  # no head: an empty one, and the next run sweeps
        index.load_settled(store, name).difference_update(keys)
        index.open.update({key: "" for key in keys})
        index.save(store, name, True)
