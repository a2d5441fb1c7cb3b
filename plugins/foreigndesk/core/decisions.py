"""Review records: the requests a review opens and the decisions translators leave, written once.

The review stage writes them; the publish stage, the status report and the
translation memory read them here, never through the review stage's code.

* ``reviews/<id>/<revision>/<language>/<attempt>.json`` — a :class:`ReviewRequest`:
  one attempt opened, for whom, when, where;
* ``decisions/<id>/<revision>/<language>/<attempt>.json`` — its :class:`Decision`;
* ``journal/decisions/...`` — one journal entry per decision, written just before it,
  so the publish stage reads what is new since its mark instead of every decision.

A state is always derived from these records: an attempt with a request and no
decision is open; the latest decision of a language says where it stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from foreigndesk.core import journal, records
from foreigndesk.core.store import Store

APPROVE = "Approve"
REJECT = "Reject"
OPTIONS = (APPROVE, REJECT)
#: The editable form fields. Their names must not collide with DAG params or run conf keys
#: (Airflow silently overwrites such fields; docs/airflow-hitl.md).
FORM_FIELDS = ("title", "summary", "body", "note")
#: Decision states. Only APPROVED is ever published. SUPERSEDED: a newer revision of the article was
#: registered while this review was open (or before it opened); the desk closed it, nothing is approved.
APPROVED, REJECTED, NEEDS_FIX, EXPIRED = "approved", "rejected", "needs_fix", "expired"
SUPERSEDED = "superseded"
@dataclass(frozen=True)
class Texts:
    """The three parts of an article a translator can edit."""

    title: str
    summary: str
    body: str

    @classmethod
    def from_fields(cls, fields: Mapping[str, object], fallback: "Texts") -> "Texts":
        def text(name: str) -> str:
            value = fields.get(name)
            return getattr(fallback, name) if value is None else str(value)

        return cls(text("title"), text("summary"), text("body"))

    def joined(self) -> str:
        return f"{self.title}\n{self.summary}\n{self.body}"


@dataclass(frozen=True)
class ReviewRequest:
    """One attempt at reviewing one language of one revision: opened for whom, when, where."""

    article_id: str
    revision: str
    language: str
    attempt: int
    opened_at: str
    reviewers: list[str]
    link: str = ""
    deadline: str = ""
    #: Why this attempt exists (the previous attempt's problems); empty for a first review.
    problems: list[str] = field(default_factory=list)
    #: The attempt whose text is pre-filled (0: the machine draft).
    prefilled_from: int = 0
    #: Where the review task waits for the answer (the Airflow run, task and map index), so the status
    #: can ask whether a task still waits for this request rather than trusting the record alone.
    run_id: str = ""
    task_id: str = ""
    map_index: int = -1


@dataclass(frozen=True)
class Decision:
    """The outcome of one review attempt for one language of one revision: written once."""

    article_id: str
    revision: str
    language: str
    attempt: int
    option: str
    reviewer: str
    decided_at: str
    title: str
    summary: str
    body: str
    note: str
    machine_title: str
    machine_body: str
    demo_model: bool
    #: approved | rejected | needs_fix | expired; "" (older records): derived from ``option``.
    state: str = ""
    machine_summary: str = ""
    #: Word-level edits from the machine text to this text (CJK characters count as words).
    edit_distance: int = 0
    machine_words: int = 0
    #: Why an Approve was not accepted (state needs_fix).
    problems: list[str] = field(default_factory=list)
    opened_at: str = ""
    #: State superseded: the newer revision that closed this review.
    superseded_by: str = ""
    #: The article's event texts as reviewed ({name, venue, commune, province}: ``core.events``); empty: none.
    event: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return self.state or (APPROVED if self.option == APPROVE else REJECTED)

    @property
    def approved(self) -> bool:
        """Only an Approve whose text passed the checks counts; needs_fix and expired never do."""
        return self.option == APPROVE and self.outcome == APPROVED

    def texts(self) -> Texts:
        return Texts(self.title, self.summary, self.body)


def decision_key(article_id: str, revision: str, language: str, attempt: int = 1) -> str:
    return f"decisions/{article_id}/{revision}/{language}/{attempt:03d}.json"


@dataclass(frozen=True)
class DecisionRef:
    """What a decision key names, read back from the key alone."""

    article_id: str
    revision: str
    language: str
    attempt: int


_DECISION_KEY = re.compile(r"^decisions/([^/]+)/([^/]+)/([^/]+)/(\d{3,})\.json$")


def parse_decision_key(key: str) -> DecisionRef | None:
    """The inverse of :func:`decision_key`; None for a key it never writes."""
    match = _DECISION_KEY.match(key)
    if match is None:
        return None
    article_id, revision, language, attempt = match.groups()
    return DecisionRef(article_id, revision, language, int(attempt))


#: The decision journal (see :mod:`foreigndesk.journal`): one create-only entry per decision record,
#: so the publish stage can take what is new since its mark with ``Store.list_after`` instead of
#: listing every decision ever made. An entry says "a decision was written"; the record is the truth.
DECISIONS = "decisions"
JOURNAL = journal.folder(DECISIONS)
_DECISION_NAME = re.compile(r"^(.+)--(.+?)--(.+?)--(\d{3,})$")


@dataclass(frozen=True)
class DecisionEntry:
    """What a decision journal key says: when a decision was written, and which."""

    key: str
    written_at: datetime
    article_id: str
    decision: str


def journal_mark(moment: datetime) -> str:
    """The decision journal's position of a moment: every entry written after it sorts after this string."""
    return journal.mark(DECISIONS, moment)


def _entry_name(article_id: str, revision: str, language: str, attempt: int) -> str:
    return f"{article_id}--{revision}--{language}--{attempt:03d}"


def journal_key(article_id: str, revision: str, language: str, attempt: int, written_at: datetime) -> str:
    """``journal/decisions/<YYYY>/<MM>/<DD>/<HHMMSS.ffffff>Z-<article>--<revision>--<language>--<attempt>.json``."""
    return journal.key(DECISIONS, written_at, _entry_name(article_id, revision, language, attempt))


def journal_entry(key: str) -> DecisionEntry | None:
    """Read a decision journal key back (no store access); None for a name the journal never writes.

    Article ids may hold ``--``; revisions, languages and attempts do not, so the
    name is split from the right.
    """
    entry = journal.parse(DECISIONS, key)
    match = _DECISION_NAME.match(entry.name) if entry is not None else None
    if match is None:
        return None
    article_id, revision, language, attempt = match.groups()
    return DecisionEntry(key, entry.written_at, article_id, decision_key(article_id, revision, language, int(attempt)))


def request_key(article_id: str, revision: str, language: str, attempt: int = 1) -> str:
    return f"reviews/{article_id}/{revision}/{language}/{attempt:03d}.json"


def _load_all(store: Store, record_type, prefix: str) -> list:
    return [records.load(store, record_type, key) for key in store.list(prefix) if key.endswith(".json")]


def decisions_for(store: Store, article_id: str, revision: str, language: str) -> list[Decision]:
    return _load_all(store, Decision, f"decisions/{article_id}/{revision}/{language}/")


def requests_for(store: Store, article_id: str, revision: str, language: str) -> list[ReviewRequest]:
    return _load_all(store, ReviewRequest, f"reviews/{article_id}/{revision}/{language}/")


def open_request(requests: list[ReviewRequest], decisions: list[Decision]) -> ReviewRequest | None:
    decided = {decision.attempt for decision in decisions}
    waiting = [request for request in requests if request.attempt not in decided]
    return waiting[-1] if waiting else None


def current_request(store: Store, article_id: str, revision: str, language: str) -> ReviewRequest | None:
    """The attempt open right now (a request without a decision), if any."""
    return open_request(requests_for(store, article_id, revision, language),
                         decisions_for(store, article_id, revision, language))


@dataclass(frozen=True)
class ReviewBlocked:
    """A review that could not open, and why: the run fails, and this record lets the status say so.

    Written when the desk's own configuration stops a review from opening (today: a malformed
    reviewers Variable), so the desk chief sees it in ``foreigndesk status`` and not only in a
    task log. It is history, never state to clear: a later request or decision outranks it.
    """

    article_id: str
    revision: str
    language: str
    reason: str
    at: str


def block_key(article_id: str, revision: str, language: str, at: str) -> str:
    stamp = datetime.fromisoformat(at).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return f"review-blocks/{article_id}/{revision}/{language}/{stamp}.json"


def record_blocked(store: Store, blocked: ReviewBlocked) -> None:
    records.write_once(store, block_key(blocked.article_id, blocked.revision, blocked.language, blocked.at), blocked)


def latest_block(store: Store, article_id: str, revision: str, language: str) -> ReviewBlocked | None:
    found = _load_all(store, ReviewBlocked, f"review-blocks/{article_id}/{revision}/{language}/")
    return max(found, key=lambda blocked: blocked.at) if found else None


def blocked_reviews(store: Store) -> dict[tuple[str, str, str], ReviewBlocked]:
    """Per (article, revision, language), the newest block: one listing, for views of many articles at once."""
    newest: dict[tuple[str, str, str], ReviewBlocked] = {}
    for key in store.list("review-blocks/"):
        if key.endswith(".json"):
            blocked = records.load(store, ReviewBlocked, key)
            slot = (blocked.article_id, blocked.revision, blocked.language)
            if slot not in newest or blocked.at > newest[slot].at:
                newest[slot] = blocked
    return newest


#: Task states in which a review task still takes, or is about to take, the answer.
_TASK_WAITING = {"awaiting_input", "deferred", "scheduled", "queued", "running", "up_for_retry",
                 "up_for_reschedule", "restarting"}
#: (run id, task id, map index) → Airflow's state of that task instance (see airflow_side.review_tasks).
TaskStates = Mapping[tuple[str, str, int], str]


def stopped_review(request: ReviewRequest, task_states: TaskStates | None) -> str:
    """Why no task waits for this open request, with what to do; "" while one does (or nobody can tell)."""
    if task_states is None or not request.run_id:
        return ""
    state = task_states.get((request.run_id, request.task_id, request.map_index), "removed")
    if state in _TASK_WAITING:
        return ""
    where = f"{request.task_id} [{request.map_index}] of run {request.run_id}"
    if state == "none":
        return f"task cleared; it re-opens when the run is scheduled (clear the run again if it ended): {where}"
    if state in ("failed", "upstream_failed"):
        return f"task failed without an answer; clear {where} to re-open the review"
    return f"task ended ({state}) without an answer; clear {where} to re-open the review"


def write_decision(store: Store, decision: Decision, written_at: datetime | None = None) -> Decision:
    """The one way a decision is written: its journal entry first, then the record, create-only.

    In this order a crash between the two leaves an entry without a record, which
    the publish stage ignores; the other order could leave a decision no entry
    points at, which publishing's fast path would never see. A decision already
    written is returned as stored (a retried task), without a second entry.
    ``written_at`` (default: now) is for building archives with a past, in tests
    and benchmarks.
    """
    key = decision_key(decision.article_id, decision.revision, decision.language, decision.attempt)
    if store.exists(key):
        return records.load(store, Decision, key)
    journal.write(store, DECISIONS, written_at or datetime.now(timezone.utc),
                  _entry_name(decision.article_id, decision.revision, decision.language, decision.attempt), key)
    if not records.write_once(store, key, decision):
        return records.load(store, Decision, key)
    return decision


def all_decisions(store: Store, prefix: str = "decisions/") -> Iterator[Decision]:
    for key in store.list(prefix):
        if key.endswith(".json"):
            yield records.load(store, Decision, key)
