"""``foreigndesk status``: where every article stands, who holds it, and how reviewing goes.

Everything is derived from the store's records (registrations, drafts,
review requests, decisions, the publication ledger) — the desk keeps no state
twice, so the report can't disagree with what the stages did. It reads the
latest revision of each article; per language it sums up every decision ever
recorded: approval rate (approved / (approved + rejected)), median time from a
review opening to its answer, and post-edit effort (the share of the machine
text's words a translator changed, averaged over approvals).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

from foreigndesk.core import records
from foreigndesk.core.decisions import (
    APPROVED,
    EXPIRED,
    NEEDS_FIX,
    REJECTED,
    SUPERSEDED,
    Decision,
    ReviewRequest,
    TaskStates,
    all_decisions,
    current_request,
    decisions_for,
    latest_block,
    stopped_review,
)
from foreigndesk.core.drafts import draft_key
from foreigndesk.core.revisions import Registered
from foreigndesk.core.store import Store
from foreigndesk.publish.channels import CHANNEL_NAMES
from foreigndesk.publish.due_index import channel_health
from foreigndesk.publish.ledger import FAILED, STUCK, DeliveryState, publication_states
from foreigndesk.publish.ledger import PUBLISHED as CHANNEL_PUBLISHED
from foreigndesk.publish.takedown_ledger import Withdrawal, takedown_state, withdrawals

TRANSLATING, IN_REVIEW, PUBLISHED, WITHDRAWN = "translating", "in review", "published", "withdrawn"
#: An open review request whose task no longer waits for the answer (failed, cleared, ended).
REVIEW_STOPPED = "review stopped"
#: The desk's configuration stopped a review from opening (a ReviewBlocked record newer than any answer).
REVIEW_BLOCKED = "review blocked"
_STATE_NAMES = {APPROVED: "approved", REJECTED: "rejected", NEEDS_FIX: "needs fix", EXPIRED: "expired",
                SUPERSEDED: "superseded"}
_HOLDERS = {APPROVED: "publisher (next run)", REJECTED: "desk (rejected)", EXPIRED: "desk chief (re-open or drop)",
            SUPERSEDED: "nobody (newer revision)"}


@dataclass(frozen=True)
class ArticleStatus:
    article_id: str
    revision: str
    language: str
    title: str
    state: str
    holder: str
    since: str
    seconds: int
    attempt: int
    #: Per publishing channel that has handled this revision: its state, with the reason when it failed.
    channels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LanguageStats:
    language: str
    approved: int
    rejected: int
    needs_fix: int
    expired: int
    approval_rate: float | None
    median_review_seconds: int | None
    post_edit_effort: float | None


@dataclass(frozen=True)
class StatusReport:
    generated_at: str
    articles: list[ArticleStatus]
    languages: list[LanguageStats]
    #: Per publishing channel, what its last run found: {"state": "ok"|"paused", "reason", "at", "run"}.
    channels: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Units the desk stopped calling for: "channel article language revision: reason".
    needs_operator: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"generated_at": self.generated_at, "articles": [asdict(row) for row in self.articles],
                "languages": [asdict(stats) for stats in self.languages], "channels": self.channels,
                "needs_operator": self.needs_operator}


def _seconds(start: str, end: datetime) -> int:
    return max(0, int((end - datetime.fromisoformat(start)).total_seconds())) if start else 0


def latest_revisions(store: Store) -> list[Registered]:
    """Each article's newest registered revision."""
    newest: dict[str, Registered] = {}
    for key in store.list("articles/"):
        if key.endswith("/article.json"):
            article = records.load(store, Registered, key)
            if article.article_id not in newest or article.registered_at > newest[article.article_id].registered_at:
                newest[article.article_id] = article
    return sorted(newest.values(), key=lambda a: a.registered_at)


def _channel_view(states: list[DeliveryState]) -> dict[str, str]:
    return {state.channel: f"{state.state}: {state.reason}" if state.state in (FAILED, STUCK) and state.reason
            else state.state for state in states}


def withdrawn_row(store: Store, row: ArticleStatus, withdrawal: Withdrawal, now: datetime) -> ArticleStatus:
    """A withdrawn language: who, when, why; per channel whether it is down yet."""
    channels = {}
    for channel in row.channels:
        down = takedown_state(store, row.article_id, row.language, channel)
        channels[channel] = f"withdrawal {down.state}" + (f": {down.reason}" if down.reason else "")
    return ArticleStatus(row.article_id, row.revision, row.language, row.title, WITHDRAWN,
                         f"{withdrawal.who}: {withdrawal.reason}", withdrawal.requested_at,
                         _seconds(withdrawal.requested_at, now), 0, channels)


def language_status(
    store: Store, article: Registered, language: str, now: datetime, publications: list[DeliveryState] | None = None,
    task_states: TaskStates | None = None,
) -> ArticleStatus:
    """One language of one revision; ``publications`` are the ledger's states for it, one per channel.

    ``task_states`` is Airflow's word on the review tasks: with it, an open request
    whose task no longer waits is shown as stopped, with what to do, never as waiting.
    """
    channels = _channel_view(publications or [])

    def row(state: str, holder: str, since: str, attempt: int = 0) -> ArticleStatus:
        return ArticleStatus(article.article_id, article.revision, language, article.title, state, holder, since,
                             _seconds(since, now), attempt, channels)

    decisions = decisions_for(store, article.article_id, article.revision, language)
    published = [state for state in publications or [] if state.state == CHANNEL_PUBLISHED]
    if published:
        first = min(published, key=lambda state: state.published_at)
        return row(PUBLISHED, ", ".join(sorted(state.channel for state in published)), first.published_at,
                   decisions[-1].attempt if decisions else 0)
    waiting = current_request(store, article.article_id, article.revision, language)
    if waiting is not None:
        stopped = stopped_review(waiting, task_states)
        if stopped:
            return row(REVIEW_STOPPED, stopped, waiting.opened_at, waiting.attempt)
        return row(IN_REVIEW, ", ".join(waiting.reviewers), waiting.opened_at, waiting.attempt)
    blocked = latest_block(store, article.article_id, article.revision, language)
    if blocked is not None and (not decisions or blocked.at > decisions[-1].decided_at):
        return row(REVIEW_BLOCKED, f"desk chief: {blocked.reason}", blocked.at)
    if decisions:
        latest = decisions[-1]
        holder = latest.reviewer if latest.outcome == NEEDS_FIX else _HOLDERS[latest.outcome]
        if latest.outcome == SUPERSEDED:
            holder = f"revision {latest.superseded_by[:8]}"
        return row(_STATE_NAMES[latest.outcome], holder, latest.decided_at, latest.attempt)
    draft = store.exists(draft_key(article.article_id, article.revision, language))
    return row(TRANSLATING, "translate task" + (" (draft ready)" if draft else ""), article.registered_at)


def superseded_rows(store: Store, decisions: list[Decision], shown: set[tuple[str, str]],
                    now: datetime) -> list[ArticleStatus]:
    """Reviews of older revisions closed as superseded: shown beside the newest revision's rows."""
    rows = []
    for decision in decisions:
        if (decision.article_id, decision.revision) in shown:
            continue
        latest = decisions_for(store, decision.article_id, decision.revision, decision.language)[-1]
        if latest.attempt != decision.attempt:
            continue
        rows.append(ArticleStatus(decision.article_id, decision.revision, decision.language, "", _STATE_NAMES[SUPERSEDED],
                                  f"revision {decision.superseded_by[:8]}", decision.decided_at,
                                  _seconds(decision.decided_at, now), decision.attempt))
    return rows


def language_stats(language: str, decisions: list[Decision]) -> LanguageStats:
    count = defaultdict(int)
    for decision in decisions:
        count[decision.outcome] += 1
    decided = count[APPROVED] + count[REJECTED]
    review_times = [
        (datetime.fromisoformat(d.decided_at) - datetime.fromisoformat(d.opened_at)).total_seconds()
        for d in decisions if d.opened_at and d.outcome != EXPIRED
    ]
    efforts = [d.edit_distance / d.machine_words for d in decisions if d.approved and d.machine_words]
    return LanguageStats(
        language=language, approved=count[APPROVED], rejected=count[REJECTED], needs_fix=count[NEEDS_FIX],
        expired=count[EXPIRED], approval_rate=round(count[APPROVED] / decided, 3) if decided else None,
        median_review_seconds=int(statistics.median(review_times)) if review_times else None,
        post_edit_effort=round(statistics.fmean(efforts), 3) if efforts else None,
    )


def open_requests(store: Store) -> list[ReviewRequest]:
    """The review requests of the latest revisions that have no decision yet."""
    found = (current_request(store, article.article_id, article.revision, language)
             for article in latest_revisions(store) for language in article.languages)
    return [request for request in found if request is not None]


def collect_status(store: Store, now: datetime, languages: tuple[str, ...],
                   task_states: TaskStates | None = None) -> StatusReport:
    publications: dict[tuple[str, str, str], list[DeliveryState]] = defaultdict(list)
    stuck: list[str] = []
    for state in publication_states(store):
        publications[(state.article_id, state.revision, state.language)].append(state)
        if state.state == STUCK:
            stuck.append(f"{state.channel} {state.article_id} {state.language} {state.revision}: {state.reason} "
                         f"(fix the cause, then: foreigndesk publish --retry STUCK --channel {state.channel})")
    rows = [language_status(store, article, language, now, publications[(article.article_id, article.revision, language)],
                            task_states)
            for article in latest_revisions(store) for language in article.languages]
    withdrawn = {(w.article_id, w.language): w for w in withdrawals(store)}
    rows = [withdrawn_row(store, row, withdrawn[(row.article_id, row.language)], now)
            if (row.article_id, row.language) in withdrawn else row for row in rows]
    by_language: dict[str, list[Decision]] = defaultdict(list)
    superseded: list[Decision] = []
    for decision in all_decisions(store):
        by_language[decision.language].append(decision)
        if decision.outcome == SUPERSEDED:
            superseded.append(decision)
    rows += superseded_rows(store, superseded, {(row.article_id, row.revision) for row in rows}, now)
    stats = [language_stats(language, by_language[language]) for language in languages]
    health = {name: found for name in CHANNEL_NAMES if (found := channel_health(store, name))}
    return StatusReport(now.replace(microsecond=0).isoformat(), rows, stats, health, stuck)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours:02d}h" if days else f"{hours}h {rest // 60:02d}m"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def format_status(report: StatusReport) -> str:
    lines = [f"{'article':44} {'lang':4} {'state':11} {'held by':28} {'for':>8}  attempt  channels"]
    for row in report.articles:
        name = f"{row.article_id[:35]}@{row.revision[:8]}"
        channels = ", ".join(f"{channel} {state}" for channel, state in sorted(row.channels.items()))
        lines.append(f"{name:44} {row.language:4} {row.state:11} {row.holder[:28]:28} "
                     f"{_duration(row.seconds):>8}  {str(row.attempt or '—'):7}  {channels or '—'}")
    if not report.articles:
        lines.append("(no articles registered)")
    paused = {name: health for name, health in report.channels.items() if health.get("state") == "paused"}
    if paused or report.needs_operator:
        lines.append("")
    for name, health in sorted(paused.items()):
        lines.append(f"channel {name} PAUSED since {health.get('at', '?')}: {health.get('reason', '')} "
                     "(its items stay pending; the next run after the fix resumes)")
    for unit in report.needs_operator:
        lines.append(f"needs operator: {unit}")
    lines += ["", f"{'lang':4} {'approved':>8} {'rejected':>8} {'needs fix':>9} {'expired':>7} "
                  f"{'approval':>8} {'median review':>13} {'post-edit effort':>16}"]
    for stats in report.languages:
        lines.append(f"{stats.language:4} {stats.approved:>8} {stats.rejected:>8} {stats.needs_fix:>9} "
                     f"{stats.expired:>7} {_percent(stats.approval_rate):>8} "
                     f"{_duration(stats.median_review_seconds):>13} {_percent(stats.post_edit_effort):>16}")
    return "\n".join(lines)
