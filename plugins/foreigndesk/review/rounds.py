"""The review stage's state machine: which attempt opens, and what an answer or a timeout leaves behind.

Plain functions over the store, so a test drives every path without Airflow:
:func:`plan_review` says whether a review task should open a form and which
attempt; :func:`open_review` records that it opened; :func:`record_decision`
turns an answer into a decision (an Approve whose text fails the post-edit
checks becomes "needs fix", and the next round opens pre-filled with the
translator's own text); :func:`record_expiry` records a review nobody answered.
Downstream stages read these records, not Airflow task states: a rejected
mapped review does not reliably skip its downstream task (docs/airflow-hitl.md),
so the record is the only truth about what was approved. The form a review
shows is built in :mod:`foreigndesk.review.form`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from foreigndesk.core import records
from foreigndesk.core.decisions import (
    APPROVE,
    APPROVED,
    EXPIRED,
    NEEDS_FIX,
    REJECT,
    REJECTED,
    SUPERSEDED,
    Decision,
    ReviewRequest,
    Texts,
    current_request,
    decision_key,
    decisions_for,
    open_request,
    request_key,
    requests_for,
    write_decision,
)
from foreigndesk.core.drafts import load_draft
from foreigndesk.core.names import outlet_name
from foreigndesk.core.revisions import load_revision, newer_revisions, revisions_of
from foreigndesk.core.store import Store
from foreigndesk.review import event_review, notify
from foreigndesk.review.cue_review import as_checked, cue_problems
from foreigndesk.review.form import LOST_ANSWER_NOTICE, ReviewForm, build_form, subject_for
from foreigndesk.review.notify import NoticeChannel
from foreigndesk.review.postedit import check_edit, edit_distance, tokens, zalo_problems

#: Review attempts one translate run offers per language before the desk has to step in.
ROUNDS = 3


@dataclass(frozen=True)
class ReviewPlan:
    """What the next review task of a language should do: open ``attempt``, pre-filled from ``fix_of``."""

    attempt: int
    fix_of: Decision | None = None


def plan_review(store: Store, article_id: str, revision: str, language: str, entry: bool) -> ReviewPlan | None:
    """Whether a review task should open a form, and which attempt; None when there is nothing to ask.

    The ``entry`` task (the first round) opens a first review, and re-opens an
    expired or still-unfixed one when the desk clears it; later rounds open only
    to fix a "needs fix". An attempt already open (a task re-run while waiting)
    is opened again under the same number, so an answer is never asked twice.
    """
    decisions = decisions_for(store, article_id, revision, language)
    requests = requests_for(store, article_id, revision, language)
    by_attempt = {decision.attempt: decision for decision in decisions}
    waiting = open_request(requests, decisions)
    if waiting is not None:
        return ReviewPlan(waiting.attempt, by_attempt.get(waiting.prefilled_from))
    if not decisions:
        return ReviewPlan(1) if entry else None
    latest = decisions[-1]
    following = max(latest.attempt, max((r.attempt for r in requests), default=0)) + 1
    if latest.outcome == NEEDS_FIX:
        return ReviewPlan(following, latest)
    if latest.outcome == EXPIRED and entry:
        unfixed = [d for d in decisions if d.outcome == NEEDS_FIX]
        return ReviewPlan(following, unfixed[-1] if unfixed else None)
    return None


@dataclass(frozen=True)
class TaskPlace:
    """The Airflow task instance a review waits in: run, task, map index."""

    run_id: str
    task_id: str
    map_index: int = -1


def open_review(
    store: Store, article_id: str, revision: str, language: str, plan: ReviewPlan, form: ReviewForm,
    opened_at: str, link: str = "", deadline: str = "", where: TaskPlace | None = None,
) -> ReviewRequest:
    """Record that an attempt is open (status and review times are derived from it).

    A task that opens the same attempt again (a retry, a cleared task) finds the
    first request and keeps it: the attempt was opened once.
    """
    place = where or TaskPlace("", "")
    request = ReviewRequest(
        article_id=article_id, revision=revision, language=language, attempt=plan.attempt,
        opened_at=opened_at, reviewers=list(form.assigned_users), link=link, deadline=deadline,
        problems=list(form.problems), prefilled_from=plan.fix_of.attempt if plan.fix_of else 0,
        run_id=place.run_id, task_id=place.task_id, map_index=place.map_index,
    )
    key = request_key(article_id, revision, language, plan.attempt)
    if not records.write_once(store, key, request):
        return records.load(store, ReviewRequest, key)
    return request


def _current(store: Store, article_id: str, revision: str, language: str) -> tuple[int, Decision | None, str]:
    """The attempt an answer belongs to, the decision whose text it was pre-filled with, and when it opened."""
    decisions = decisions_for(store, article_id, revision, language)
    requests = requests_for(store, article_id, revision, language)
    waiting = open_request(requests, decisions)
    if waiting is None:
        return (decisions[-1].attempt if decisions else 1), None, ""
    prefilled = {d.attempt: d for d in decisions}.get(waiting.prefilled_from)
    return waiting.attempt, prefilled, waiting.opened_at


def record_decision(
    store: Store,
    article_id: str,
    revision: str,
    language: str,
    chosen_options: list[str],
    fields: Mapping[str, object],
    reviewer: str,
    decided_at: str,
    invalid: Sequence[str] = (),
) -> Decision:
    """Write the answer as a record; a retried task finds the first record and returns it.

    An Approve counts only if its text passes the post-edit checks (and the
    form came back well-formed: ``invalid`` lists what did not); otherwise the
    decision is "needs fix" with the problems, and nothing is approved.
    """
    attempt, prefilled, opened_at = _current(store, article_id, revision, language)
    key = decision_key(article_id, revision, language, attempt)
    if store.exists(key):
        return records.load(store, Decision, key)
    draft = load_draft(store, article_id, revision, language)
    machine = Texts(draft.title, draft.summary, draft.body)
    final = Texts.from_fields(fields, prefilled.texts() if prefilled else machine)
    event = event_review.reviewed_event(fields, (prefilled.event if prefilled else {}) or draft.event)
    option = APPROVE if APPROVE in chosen_options else REJECT
    problems: list[str] = []
    if option == APPROVE:
        article = load_revision(store, article_id, revision)
        problems = list(invalid) + check_edit(article.body, as_checked(article, machine), as_checked(article, final),
                                              draft.glossary_terms,
                                              draft.findings, draft.units)
        problems += event_review.event_problems(draft.event, event)
        problems += cue_problems(article, final.body, language)
        problems += zalo_problems(prefilled or machine, final, article.author or outlet_name(article.outlet),
                                  draft.demo_model)
    state = (NEEDS_FIX if problems else APPROVED) if option == APPROVE else REJECTED
    note = fields.get("note")
    return write_decision(store, Decision(
        article_id=article_id, revision=revision, language=language, attempt=attempt, option=option,
        reviewer=reviewer, decided_at=decided_at, title=final.title, summary=final.summary, body=final.body,
        note="" if note is None else str(note), machine_title=draft.title, machine_body=draft.body,
        demo_model=draft.demo_model, state=state, machine_summary=draft.summary,
        edit_distance=edit_distance(machine.joined(), final.joined()),
        machine_words=len(tokens(machine.joined())), problems=problems, opened_at=opened_at, event=event,
    ))


def record_expiry(store: Store, article_id: str, revision: str, language: str, expired_at: str) -> Decision:
    """Nobody answered in time: record it, approve nothing."""
    attempt, prefilled, opened_at = _current(store, article_id, revision, language)
    draft = load_draft(store, article_id, revision, language)
    text = prefilled.texts() if prefilled else Texts(draft.title, draft.summary, draft.body)
    return write_decision(store, Decision(
        article_id=article_id, revision=revision, language=language, attempt=attempt, option="",
        reviewer="", decided_at=expired_at, title=text.title, summary=text.summary, body=text.body, note="",
        machine_title=draft.title, machine_body=draft.body, demo_model=draft.demo_model, state=EXPIRED,
        machine_summary=draft.summary, opened_at=opened_at, event=(prefilled.event if prefilled else {}) or draft.event,
    ))


# ---- one round, start to end: what the review task does when it opens, is answered, or times out ----


@dataclass(frozen=True)
class OpenedRound:
    """A review round that opened: the form to show and the request recorded for it."""

    form: ReviewForm
    request: ReviewRequest
    #: Re-opened because an answer to this attempt may have been lost (see :func:`open_round`).
    lost_answer: bool = False


def open_round(
    store: Store, article_id: str, revision: str, language: str, round: int,
    reviewers: Mapping[str, list[str]] | None, opened_at: datetime, timeout: timedelta, link: str,
    where: TaskPlace | None = None, lost_answer: bool = False,
) -> OpenedRound | None:
    """Open the round's review (None: nothing to ask, the recorded decision stands).

    Round 1 opens a first review; later rounds open only to fix a "needs fix"
    (see :func:`plan_review`). Tell the desk with :func:`announce` once the form
    can really be answered. ``lost_answer``: an answer to this very attempt was
    given but never reached the desk (Airflow failed the task and its answer was lost); the
    form says so in one line, pre-filled as before.
    """
    if superseded_now(store, article_id, revision, language, opened_at.isoformat()) is not None:
        return None
    plan = plan_review(store, article_id, revision, language, entry=round == 1)
    if plan is None:
        return None
    form = build_form(store, article_id, revision, language, reviewers, plan.fix_of, plan.attempt, lost_answer)
    request = open_review(store, article_id, revision, language, plan, form, opened_at.isoformat(), link,
                          (opened_at + timeout).isoformat(), where)
    if store.exists(decision_key(article_id, revision, language, request.attempt)):
        return None  # closed (superseded) between the plan and the request: nothing to ask
    return OpenedRound(form, request, lost_answer)


def latest_decision(store: Store, article_id: str, revision: str, language: str) -> Decision | None:
    decisions = decisions_for(store, article_id, revision, language)
    return decisions[-1] if decisions else None


def announce(opened: OpenedRound, notices: Sequence[NoticeChannel]) -> list[str]:
    """Tell the desk's notice channels that a review waits, for whom, until when."""
    request = opened.request
    return notify.send_all(notices, notify.review_opened(
        opened.form.subject, request.link, request.article_id, request.revision, request.language,
        request.attempt, request.reviewers, request.deadline, opened.form.problems,
        LOST_ANSWER_NOTICE if opened.lost_answer else ""))


def expire_round(
    store: Store, article_id: str, revision: str, language: str, expired_at: str,
    notices: Sequence[NoticeChannel] = (),
) -> Decision:
    """Nobody answered in time: record it (nothing approved) and tell the desk."""
    request = current_request(store, article_id, revision, language)
    decision = record_expiry(store, article_id, revision, language, expired_at)
    notify.send_all(notices, notify.review_expired(
        subject_for(store, article_id, revision, language), request.link if request else "",
        article_id, revision, language, decision.attempt, request.reviewers if request else []))
    return decision


def answer_round(
    store: Store, article_id: str, revision: str, language: str, round: int,
    chosen_options: list[str], fields: Mapping[str, object], reviewer: str, decided_at: str,
    invalid: Sequence[str] = (), notices: Sequence[NoticeChannel] = (),
) -> Decision:
    """Record an answer; after the last round, a text that still needs fixing is the desk's to solve."""
    request = current_request(store, article_id, revision, language)
    decision = record_decision(store, article_id, revision, language, chosen_options, fields,
                               reviewer=reviewer, decided_at=decided_at, invalid=invalid)
    if decision.outcome == NEEDS_FIX and round >= ROUNDS:
        notify.send_all(notices, notify.fix_still_needed(
            subject_for(store, article_id, revision, language), request.link if request else "",
            article_id, revision, language, decision.attempt, request.reviewers if request else [],
            decision.problems))
    return decision


# ---- superseded: a newer revision closes the open reviews of the older ones ----


def close_superseded(store: Store, article_id: str, revision: str, language: str, newer: str,
                     closed_at: str) -> Decision | None:
    """Close this language's review of an older revision as superseded; None when nothing was open.

    "Open" is a request without a decision, a "needs fix" or expired review whose next
    attempt would open, or a review that has not opened yet (the record then keeps it
    from opening). An approval or a rejection stands: the newest-approved rule decides
    what is published. Written through :func:`write_decision`, so a second call (intake
    and the review task both close it) returns the first record.
    """
    decisions = decisions_for(store, article_id, revision, language)
    requests = requests_for(store, article_id, revision, language)
    waiting = open_request(requests, decisions)
    if waiting is not None:
        attempt, opened_at = waiting.attempt, waiting.opened_at
    elif not decisions:
        attempt, opened_at = 1, ""
    elif decisions[-1].outcome in (NEEDS_FIX, EXPIRED):
        attempt = max(decisions[-1].attempt, max((r.attempt for r in requests), default=0)) + 1
        opened_at = ""
    else:
        return None
    return write_decision(store, Decision(
        article_id=article_id, revision=revision, language=language, attempt=attempt, option="", reviewer="",
        decided_at=closed_at, title="", summary="", body="", note=f"superseded by revision {newer}",
        machine_title="", machine_body="", demo_model=False, state=SUPERSEDED, opened_at=opened_at,
        superseded_by=newer,
    ))


def supersede_older(store: Store, article_id: str, newer_revision: str, closed_at: str) -> list[Decision]:
    """A newer revision was registered: close the open reviews of every older revision of the article.

    Called by the Airflow side right after intake registers a revision, which then ends
    the parked tasks of what closed (:func:`superseded_waits`); a parked review that
    wakes also checks for itself (:func:`recheck`).
    """
    closed: list[Decision] = []
    for older in revisions_of(store, article_id):
        if older.revision == newer_revision:
            break  # revisions_of is in registration order: the rest are newer
        for language in older.languages:
            decision = close_superseded(store, article_id, older.revision, language, newer_revision, closed_at)
            if decision is not None:
                closed.append(decision)
    return closed


def superseded_waits(store: Store, article_id: str, newer_revision: str) -> list[ReviewRequest]:
    """The requests of older revisions closed as superseded, with the Airflow task each was opened in.

    Derived from the records every time (not from what this call closed), so the
    next revision of the article still finds a task that could not be ended the
    first time; ending one that already ended changes nothing.
    """
    waits: list[ReviewRequest] = []
    for older in revisions_of(store, article_id):
        if older.revision == newer_revision:
            break  # registration order: the rest are newer
        for language in older.languages:
            closed = {d.attempt for d in decisions_for(store, article_id, older.revision, language)
                      if d.outcome == SUPERSEDED}
            waits += [r for r in requests_for(store, article_id, older.revision, language)
                      if r.attempt in closed and r.run_id and r.task_id]
    return waits


def superseded_now(store: Store, article_id: str, revision: str, language: str, at: str) -> Decision | None:
    """The superseded record of this language's review, written now if a newer revision exists and it is open."""
    newer = newer_revisions(store, article_id, revision)
    if not newer:
        return None
    closed = close_superseded(store, article_id, revision, language, newer[-1].revision, at)
    if closed is not None and closed.outcome == SUPERSEDED:
        return closed
    latest = decisions_for(store, article_id, revision, language)
    return latest[-1] if latest and latest[-1].outcome == SUPERSEDED else None


@dataclass(frozen=True)
class Recheck:
    """What a parked review should do when it wakes without an answer: end, expire, or wait ``seconds`` more."""

    closed: Decision | None = None
    expire: bool = False
    seconds: float = 0.0


def recheck(store: Store, article_id: str, revision: str, language: str, now: datetime) -> Recheck:
    """A parked review woke up (its check interval passed): is it superseded, past its deadline, or still open?"""
    requests = requests_for(store, article_id, revision, language)
    request = requests[-1] if requests else None
    if request is not None:
        key = decision_key(article_id, revision, language, request.attempt)
        if store.exists(key):
            return Recheck(closed=records.load(store, Decision, key))
    closed = superseded_now(store, article_id, revision, language, now.replace(microsecond=0).isoformat())
    if closed is not None:
        return Recheck(closed=closed)
    if request is None or not request.deadline:
        return Recheck(expire=True)
    left = (datetime.fromisoformat(request.deadline) - now).total_seconds()
    return Recheck(expire=True) if left <= 0 else Recheck(seconds=left)
