"""The board's rows, read off the store's records — the same records ``foreigndesk status`` reads.

Reading must not grow with the archive, so nothing here lists ``articles/``,
``decisions/`` or ``ledger/`` whole. The revisions on the board are the ones
with recent activity, found in the two journals (:mod:`foreigndesk.journal`):
the article journal names the revisions registered in the period, the decision
journal the decisions written in it (and so the revisions they belong to). For
each of those revisions the rest is looked up by key: a review request is probed
at the attempt after the last decision, each channel's ledger unit is listed
(a handful of keys), the draft is read by its key. The cost follows the number
of revisions in the period, not the number ever registered. Records are read
through a :class:`~foreigndesk.board.copies.Reader`, which keeps copies of them.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from foreigndesk.board import states
from foreigndesk.board.copies import (
    ArticleInfo,
    DecisionInfo,
    DraftInfo,
    Reader,
    UnitInfo,
)
from foreigndesk.board.states import State
from foreigndesk.core import journal
from foreigndesk.core.decisions import (
    APPROVED,
    DECISIONS,
    REJECTED,
    ReviewRequest,
    blocked_reviews,
    decision_key,
    request_key,
    stopped_review,  # what "stopped" means, said once (``foreigndesk status`` says it the same way)
)
from foreigndesk.core.revisions import ARTICLES
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger
from foreigndesk.publish.channels import CHANNEL_NAMES
from foreigndesk.publish.takedown_ledger import DONE as TAKEN_DOWN
from foreigndesk.publish.takedown_ledger import takedown_state, withdrawn_slots

_ARTICLE_NAME = re.compile(r"^(.+)--([0-9a-f]+)$")



@dataclass(frozen=True)
class ChannelCell:
    channel: str
    state: State
    reason: str
    url: str
    since: str
    attempts: int
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageCell:
    language: str
    state: State
    since: str
    attempt: int
    reviewers: tuple[str, ...]
    review_link: str
    holder: str
    channels: tuple[ChannelCell, ...]
    decisions: tuple[DecisionInfo, ...] = ()
    draft: DraftInfo | None = None
    first_published_at: str = ""
    #: The open review request, if any (where its task waits: see :func:`stop_reviews`).
    request: ReviewRequest | None = None


@dataclass(frozen=True)
class Row:
    article: ArticleInfo
    latest: bool
    cells: tuple[LanguageCell, ...]

    def states(self) -> set[str]:
        found = {cell.state.id for cell in self.cells}
        found.update(channel.state.id for cell in self.cells for channel in cell.channels)
        return found


#: A journal key after its folder: ``YYYY/MM/DD/HHMMSS.ffffffZ-<name>.json`` (see :mod:`foreigndesk.journal`).
_JOURNAL_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{6}\.\d{6}Z-(.+)\.json$")
_DECISION_NAME = re.compile(r"^(.+)--([0-9a-f]+)--([a-z]{2,3}(?:-[A-Za-z0-9]+)?)--(\d{3,})$")


def journal_names(store: Store, kind: str, since: datetime) -> list[str]:
    """The names the ``kind`` journal announced after ``since``: its tail, read by key only.

    Like ``journal.since`` without turning every stamp into a datetime, which
    was a third of the board's time at 5,000 articles.
    """
    prefix = journal.folder(kind)
    names = []
    for key in store.list_after(prefix, journal.mark(kind, since)):
        match = _JOURNAL_NAME.match(key[len(prefix):])
        if match:
            names.append(match.group(1))
    return names


def active_revisions(store: Store, since: datetime) -> tuple[set[tuple[str, str]], dict[tuple[str, str, str], list[str]]]:
    """The revisions registered or decided on after ``since``, and the decision keys per (article, revision, language).

    Two journal tails, nothing else listed.
    """
    revisions: set[tuple[str, str]] = set()
    for name in journal_names(store, ARTICLES, since):
        match = _ARTICLE_NAME.match(name)
        if match:
            revisions.add((match.group(1), match.group(2)))
    decided: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for name in journal_names(store, DECISIONS, since):
        match = _DECISION_NAME.match(name)
        if match is None:
            continue
        article_id, revision, language, attempt = match.groups()
        revisions.add((article_id, revision))
        decided[(article_id, revision, language)].append(decision_key(article_id, revision, language, int(attempt)))
    return revisions, decided


def _decisions(reader: Reader, store: Store, keys: Iterable[str]) -> list[DecisionInfo]:
    found = []
    for key in sorted(set(keys)):
        try:
            found.append(reader.decision(store, key))
        except KeyError:
            continue  # an entry without its record: the writer crashed between the two
    return sorted(found, key=lambda d: d.attempt)


def _open_request(reader: Reader, store: Store, article: ArticleInfo, language: str,
                  decisions: list[DecisionInfo]) -> ReviewRequest | None:
    """The attempt open now: a request record after the last decided attempt (probed by key).

    After an approval or a rejection review opens no further attempt (``review.plan_review``),
    so there is nothing to probe.
    """
    if decisions and decisions[-1].outcome in (APPROVED, REJECTED):
        return None
    decided = {d.attempt for d in decisions}
    attempt = max(decided, default=0) + 1
    found = None
    while store.exists(request_key(article.article_id, article.revision, language, attempt)):
        found = attempt
        attempt += 1
    if found is None or found in decided:
        return None
    return reader.request(store, request_key(article.article_id, article.revision, language, found))


def _channel_cells(units: list[UnitInfo]) -> tuple[ChannelCell, ...]:
    cells = []
    for info in units:
        unit = info.state
        since = unit.published_at or unit.last_claimed_at
        cells.append(ChannelCell(info.channel, states.channel_state(unit.state), unit.reason, info.url, since,
                                 unit.attempts, info.failures))
    return tuple(cells)


def _holder(state: State, request: ReviewRequest | None, decisions: list[DecisionInfo]) -> str:
    if request is not None:
        return ", ".join(request.reviewers)
    if state is states.NEEDS_FIX_STATE and decisions:
        return decisions[-1].reviewer
    return ""


def language_cell(reader: Reader, store: Store, article: ArticleInfo, language: str, decision_keys: list[str],
                  newer_revision: bool, channels: tuple[str, ...] = CHANNEL_NAMES) -> LanguageCell:
    """One language of one revision, from its decisions (``decision_keys``), open request and ledger units.

    Only an approved decision is ever published, so the ledger is looked at only
    when this language of this revision has one.
    """
    decisions = _decisions(reader, store, decision_keys)
    request = _open_request(reader, store, article, language, decisions)
    units = []
    if any(d.approved for d in decisions):
        found = (reader.unit(store, ledger.Delivery(channel, article.article_id, language, article.revision))
                 for channel in channels)
        units = [info for info in found if info is not None]
    channel_cells = _channel_cells(units)
    state = states.language_state(latest_outcome=decisions[-1].outcome if decisions else None,
                                  review_open=request is not None,
                                  channels=[cell.state for cell in channel_cells], newer_revision=newer_revision)
    published = sorted(cell.since for cell in channel_cells if cell.state is states.CHANNEL_PUBLISHED and cell.since)
    if state is states.PUBLISHED:
        since = published[0]
    elif request is not None:
        since = request.opened_at
    elif decisions:
        since = decisions[-1].decided_at
    else:
        since = article.registered_at
    return LanguageCell(
        language=language, state=state, since=since,
        attempt=request.attempt if request is not None else (decisions[-1].attempt if decisions else 0),
        reviewers=tuple(request.reviewers) if request is not None else (),
        review_link=request.link if request is not None else "", holder=_holder(state, request, decisions),
        channels=channel_cells, decisions=tuple(decisions),
        draft=reader.draft(store, article.article_id, article.revision, language),
        first_published_at=published[0] if published else "",
        request=request,
    )


#: Asks Airflow where the open reviews' tasks stand: requests → {(run id, task id, map index): task state}.
TaskStates = Callable[[list[ReviewRequest]], Mapping[tuple[str, str, int], str]]


def stop_reviews(rows: list[Row], task_states: TaskStates | None) -> list[Row]:
    """Open reviews whose task no longer waits are shown as stopped, with what to do (as ``foreigndesk status``).

    The records say "open"; only Airflow knows whether a task still takes the
    answer. One question for every open review on the board.
    """
    if task_states is None:
        return rows
    requests = [cell.request for row in rows for cell in row.cells
                if cell.state is states.IN_REVIEW and cell.request is not None]
    if not requests:
        return rows
    known = task_states(requests)
    changed = []
    for row in rows:
        cells = []
        for cell in row.cells:
            reason = stopped_review(cell.request, known) if cell.state is states.IN_REVIEW and cell.request else ""
            cells.append(dataclasses.replace(cell, state=states.REVIEW_STOPPED, holder=reason) if reason else cell)
        changed.append(Row(row.article, row.latest, tuple(cells)))
    return changed


def mark_blocked(rows: list[Row], store: Store) -> list[Row]:
    """Reviews the desk's configuration stopped from opening, with the reason (as ``foreigndesk status``)."""
    blocks = blocked_reviews(store)
    if not blocks:
        return rows
    changed = []
    for row in rows:
        cells = []
        for cell in row.cells:
            blocked = blocks.get((row.article.article_id, row.article.revision, cell.language))
            if blocked is not None and _still_blocked(cell, blocked.at):
                cell = dataclasses.replace(cell, state=states.REVIEW_BLOCKED, since=blocked.at,
                                           holder=f"desk chief: {blocked.reason}")
            cells.append(cell)
        changed.append(Row(row.article, row.latest, tuple(cells)))
    return changed


def _still_blocked(cell: LanguageCell, blocked_at: str) -> bool:
    """Nothing came after the block: no review opened, no decision since, nothing published or superseded."""
    if cell.request is not None or cell.state in (states.PUBLISHED, states.SUPERSEDED):
        return False
    return not cell.decisions or cell.decisions[-1].decided_at < blocked_at


def mark_withdrawn(rows: list[Row], store: Store) -> list[Row]:
    """Withdrawn languages shown as withdrawn, each channel as far as its takedown got.

    A withdrawal is the takedown ledger's (one listing of ``withdrawals/``), not a
    ledger unit state: it holds for every revision of the article's language.
    """
    slots = withdrawn_slots(store)
    if not slots:
        return rows
    changed = []
    for row in rows:
        cells = []
        for cell in row.cells:
            if (row.article.article_id, cell.language) not in slots:
                cells.append(cell)
                continue
            channels = tuple(_taken_down(store, row.article.article_id, cell.language, channel)
                             for channel in cell.channels)
            cells.append(dataclasses.replace(cell, state=states.WITHDRAWN, channels=channels, holder=""))
        changed.append(Row(row.article, row.latest, tuple(cells)))
    return changed


def _taken_down(store: Store, article_id: str, language: str, cell: ChannelCell) -> ChannelCell:
    takedown = takedown_state(store, article_id, language, cell.channel)
    if takedown.state == TAKEN_DOWN:
        return dataclasses.replace(cell, state=states.CHANNEL_WITHDRAWN, since=takedown.done_at,
                                   reason=takedown.reason)
    why = f": {takedown.reason}" if takedown.reason else ""
    return dataclasses.replace(cell, reason=f"withdrawal {takedown.state}{why}")


def collect_rows(store: Store, reader: Reader, since: datetime,
                 channels: tuple[str, ...] = CHANNEL_NAMES, task_states: TaskStates | None = None) -> list[Row]:
    """Every revision active since ``since``, newest registration first, each language and channel derived."""
    revisions, decided = active_revisions(store, since)
    articles = []
    for article_id, revision in revisions:
        try:
            articles.append(reader.article(store, article_id, revision))
        except KeyError:
            continue  # journaled, record not written (a crash between the two)
    newest: dict[str, str] = {}
    for article in articles:
        if article.article_id not in newest or article.registered_at > newest[article.article_id]:
            newest[article.article_id] = article.registered_at
    decided_languages: dict[tuple[str, str], set[str]] = defaultdict(set)
    for article_id, revision, language in decided:
        decided_languages[(article_id, revision)].add(language)
    rows = []
    for article in articles:
        newer = newest[article.article_id] > article.registered_at
        languages = list(article.languages) + sorted(
            decided_languages[(article.article_id, article.revision)] - set(article.languages))
        cells = tuple(language_cell(reader, store, article, language,
                                    decided.get((article.article_id, article.revision, language), []), newer,
                                    channels)
                      for language in languages)
        rows.append(Row(article, not newer, cells))
    rows = mark_withdrawn(mark_blocked(stop_reviews(rows, task_states), store), store)
    return sorted(rows, key=lambda row: (row.article.registered_at, row.article.article_id), reverse=True)
