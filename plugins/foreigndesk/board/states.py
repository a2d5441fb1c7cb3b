"""Every state the desk board shows, in one place: its id, where it applies, its colour, its labels.

Two levels, because a translation and its publications move separately:

* a **language** cell (one language of one revision) is translating, in review,
  approved, rejected, needs fix, expired, superseded, published or withdrawn;
* a **channel** cell (one language of one revision on one channel) is pending
  (approved, not out yet, or being retried by the publish runs), published,
  failed, needs operator or withdrawn.

The record vocabularies this maps from (review's decision states, the ledger's
unit states) belong to their stages; the functions here are the only place the
board turns them into what it shows. Three of the states come from the publish
stage's operator work (superseded reviews, units that need an operator,
withdrawals): they are matched by the state names those records carry, so they
render as soon as records say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from foreigndesk.core.decisions import APPROVED, EXPIRED, NEEDS_FIX, REJECTED
from foreigndesk.publish import ledger

LANGUAGE, CHANNEL = "language", "channel"


@dataclass(frozen=True)
class State:
    id: str
    level: str
    colour: str
    en: str
    vi: str
    #: An operator can act on a channel cell in this state (retry its publication).
    retryable: bool = False


TRANSLATING = State("translating", LANGUAGE, "#8d99ae", "translating", "đang dịch")
IN_REVIEW = State("in_review", LANGUAGE, "#f4a261", "in review", "đang duyệt")
#: An open review whose Airflow task no longer waits for the answer (failed, cleared, ended): see status.py.
REVIEW_STOPPED = State("review_stopped", LANGUAGE, "#9d0208", "review stopped", "duyệt bị dừng")
#: The desk's configuration stopped the review from opening (e.g. a malformed reviewers Variable): see status.py.
REVIEW_BLOCKED = State("review_blocked", LANGUAGE, "#6a040f", "review blocked", "không mở được duyệt")
APPROVED_STATE = State("approved", LANGUAGE, "#90be6d", "approved", "đã duyệt")
REJECTED_STATE = State("rejected", LANGUAGE, "#6d597a", "rejected", "bị từ chối")
NEEDS_FIX_STATE = State("needs_fix", LANGUAGE, "#e9c46a", "needs fix", "cần sửa")
EXPIRED_STATE = State("expired", LANGUAGE, "#b5838d", "expired", "quá hạn")
SUPERSEDED = State("superseded", LANGUAGE, "#adb5bd", "superseded", "đã thay bằng bản mới")
PUBLISHED = State("published", LANGUAGE, "#2a9d8f", "published", "đã đăng")
WITHDRAWN = State("withdrawn", LANGUAGE, "#495057", "withdrawn", "đã gỡ")

PENDING = State("pending", CHANNEL, "#457b9d", "pending", "chờ đăng")
CHANNEL_PUBLISHED = State("channel_published", CHANNEL, "#2a9d8f", "published", "đã đăng")
FAILED = State("failed", CHANNEL, "#e63946", "failed", "lỗi", retryable=True)
NEEDS_OPERATOR = State("needs_operator", CHANNEL, "#d00000", "needs operator", "cần người vận hành", retryable=True)
CHANNEL_WITHDRAWN = State("channel_withdrawn", CHANNEL, "#495057", "withdrawn", "đã gỡ")

#: Every state, in the order the board lists them (the legend, the counts, the state filter).
ALL: tuple[State, ...] = (
    TRANSLATING, IN_REVIEW, REVIEW_STOPPED, REVIEW_BLOCKED, NEEDS_FIX_STATE, APPROVED_STATE, PUBLISHED, REJECTED_STATE,
    EXPIRED_STATE, SUPERSEDED,
    WITHDRAWN, PENDING, CHANNEL_PUBLISHED, FAILED, NEEDS_OPERATOR, CHANNEL_WITHDRAWN,
)
BY_ID = {state.id: state for state in ALL}

#: The name a decision record carries for a review closed by a newer revision.
RECORDED_SUPERSEDED = "superseded"

_DECIDED = {APPROVED: APPROVED_STATE, REJECTED: REJECTED_STATE, NEEDS_FIX: NEEDS_FIX_STATE, EXPIRED: EXPIRED_STATE,
            RECORDED_SUPERSEDED: SUPERSEDED}
#: A revision's review that ended in one of these is done with; newer revisions don't change what it was.
_FINAL = {APPROVED_STATE, REJECTED_STATE, PUBLISHED, WITHDRAWN}


def channel_state(unit_state: str) -> State:
    """A ledger unit's state as the board shows it."""
    if unit_state == ledger.PUBLISHED:
        return CHANNEL_PUBLISHED
    if unit_state == ledger.FAILED:
        return FAILED
    if unit_state == ledger.STUCK:
        return NEEDS_OPERATOR
    return PENDING  # due, retry, uncertain: the publish runs are still on it


def language_state(
    *, latest_outcome: str | None, review_open: bool, channels: list[State], newer_revision: bool,
) -> State:
    """One language of one revision, from its latest decision, its open review and its channels.

    A publication outranks the review story (it is what readers see); a withdrawal
    outranks a publication when nothing of it is still out. A revision that is not
    its article's newest and never got to a final state is superseded, whether or
    not the review stage recorded the closing yet.
    """
    if CHANNEL_PUBLISHED in channels:
        return PUBLISHED
    if CHANNEL_WITHDRAWN in channels:
        return WITHDRAWN
    if latest_outcome == RECORDED_SUPERSEDED:
        return SUPERSEDED
    if review_open:
        state = IN_REVIEW
    elif latest_outcome is not None:
        state = _DECIDED.get(latest_outcome, NEEDS_FIX_STATE)
    else:
        state = TRANSLATING
    if newer_revision and state not in _FINAL:
        return SUPERSEDED
    return state


def label(state: State, ui_language: str) -> str:
    return state.vi if ui_language == "vi" else state.en
