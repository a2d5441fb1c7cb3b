"""What the board shows, read off the store's records — the same records ``foreigndesk status`` reads.

Reading must not grow with the archive, so nothing here lists ``articles/``,
``decisions/`` or ``ledger/`` whole. The revisions on the board are the ones
with recent activity, found in the two journals (:mod:`foreigndesk.journal`):
the article journal names the revisions registered in the period, the decision
journal the decisions written in it (and so the revisions they belong to). For
each of those revisions the rest is looked up by key: a review request is probed
at the attempt after the last decision, each channel's ledger unit is listed
(a handful of keys), the draft is read by its key. The cost follows the number
of revisions in the period, not the number ever registered.

Records are written once, so a record read once never changes: :class:`Reader`
keeps slim copies of what it has read (bounded, least recently used first out),
and a board refreshed every minute reads only what is new since. The cache is a
copy of immutable records, never state of its own: the store's records stay the
only truth, and losing the cache only costs a slower page.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import threading
import unicodedata
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from foreigndesk.board import states
from foreigndesk.board.states import State
from foreigndesk.core import journal, records
from foreigndesk.core.decisions import (
    APPROVED,
    DECISIONS,
    EXPIRED,
    REJECTED,
    Decision,
    ReviewRequest,
    decision_key,
    request_key,
    stopped_review,
)
from foreigndesk.core.drafts import MEMORY_FINDING, Draft, draft_key
from foreigndesk.core.revisions import ARTICLES, Registered, article_key
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger
from foreigndesk.publish.channels import CHANNEL_NAMES

#: How far back "My reviews" looks for open reviews, whatever period the board shows.
MY_REVIEWS_LOOKBACK = timedelta(days=30)
PERIODS = (1, 7, 30, 90, 365)
DEFAULT_PERIOD = 30
_ARTICLE_NAME = re.compile(r"^(.+)--([0-9a-f]+)$")
_FAILED_KEY = re.compile(r"/failed-\d{3}\.json$")


# ---- slim copies of the records the board needs ---------------------------------------------------


@dataclass(frozen=True)
class ArticleInfo:
    article_id: str
    revision: str
    outlet: str
    title: str
    source_url: str
    registered_at: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class DecisionInfo:
    article_id: str
    revision: str
    language: str
    attempt: int
    outcome: str
    reviewer: str
    decided_at: str
    opened_at: str
    edit_distance: int
    machine_words: int
    approved: bool
    note: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class DraftInfo:
    model: str
    demo_model: bool
    #: QA findings per check (memory hits are not findings).
    findings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class UnitInfo:
    """One ledger unit, as the board needs it: its state, its failures, where it went out."""

    channel: str
    state: ledger.DeliveryState
    failures: tuple[str, ...]  # failure times (failed_at), one per failed attempt
    url: str = ""


class Reader:
    """Reads records through a Store, keeping slim copies of what it read (records never change).

    ``limit`` bounds the copies kept; one Reader serves every request of a process.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._copies: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()  # the API server answers requests on several threads

    def _cached(self, store: Store, key: str, make: Callable[[bytes], object]) -> object:
        slot = (store.url, key)
        with self._lock:
            if slot in self._copies:
                self._copies.move_to_end(slot)
                return self._copies[slot]
        value = make(store.read(key))  # KeyError when absent: absence is never cached
        with self._lock:
            self._copies[slot] = value
            if len(self._copies) > self.limit:
                self._copies.popitem(last=False)
        return value

    def article(self, store: Store, article_id: str, revision: str) -> ArticleInfo:
        def make(data: bytes) -> ArticleInfo:
            a = records.decode(Registered, data)
            return ArticleInfo(a.article_id, a.revision, a.outlet, a.title, a.source_url, a.registered_at,
                               tuple(a.languages))
        return self._cached(store, article_key(article_id, revision), make)  # type: ignore[return-value]

    def decision(self, store: Store, key: str) -> DecisionInfo:
        def make(data: bytes) -> DecisionInfo:
            d = records.decode(Decision, data)
            return DecisionInfo(d.article_id, d.revision, d.language, d.attempt, d.outcome, d.reviewer, d.decided_at,
                                d.opened_at, d.edit_distance, d.machine_words, d.approved, d.note, tuple(d.problems))
        return self._cached(store, key, make)  # type: ignore[return-value]

    def request(self, store: Store, key: str) -> ReviewRequest:
        return self._cached(store, key, lambda data: records.decode(ReviewRequest, data))  # type: ignore[return-value]

    def draft(self, store: Store, article_id: str, revision: str, language: str) -> DraftInfo | None:
        def make(data: bytes) -> DraftInfo:
            d = records.decode(Draft, data)
            checks = Counter(str(f.get("check", "?")) for f in d.findings if f.get("check") != MEMORY_FINDING)
            return DraftInfo(f"{d.model_name} {d.model_version}".strip(), d.demo_model, tuple(sorted(checks.items())))
        try:
            return self._cached(store, draft_key(article_id, revision, language), make)  # type: ignore[return-value]
        except KeyError:
            return None

    def load(self, store: Store) -> Callable[[type, str], object]:
        """A ``ledger.derive`` loader that keeps what it read."""
        return lambda kind, key: self._cached(store, key, lambda data: records.decode(kind, data))

    def unit(self, store: Store, unit: ledger.Delivery) -> UnitInfo | None:
        """One ledger unit's state, its failures and where it went out; None when it has no records."""
        keys = list(store.list(unit.prefix))
        if not keys:
            return None
        load = self.load(store)
        state = ledger.derive(unit, keys, load)
        failures = tuple(load(ledger.Failure, key).failed_at for key in keys if _FAILED_KEY.search(key))
        url = load(ledger.Published, f"{unit.prefix}published.json").url if state.state == ledger.PUBLISHED else ""
        return UnitInfo(unit.channel, state, failures, url)


# ---- the board's rows ---------------------------------------------------------------------------


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


def parse_moment(moment: str) -> datetime:
    value = datetime.fromisoformat(moment)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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
    rows = stop_reviews(rows, task_states)
    return sorted(rows, key=lambda row: (row.article.registered_at, row.article.article_id), reverse=True)


# ---- filters, counts, "my reviews" -----------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    outlet: str = ""
    language: str = ""
    state: str = ""
    period_days: int = DEFAULT_PERIOD
    search: str = ""


def fold(text: str) -> str:
    """Case- and accent-free text, so 'thai nguyen' finds 'Thái Nguyên' (đ folds to d)."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def filter_rows(rows: list[Row], filters: Filters) -> list[Row]:
    needle = fold(filters.search.strip())
    kept = []
    for row in rows:
        if filters.outlet and row.article.outlet != filters.outlet:
            continue
        if needle and needle not in fold(row.article.title) and needle not in fold(row.article.article_id):
            continue
        if filters.language:
            cells = tuple(cell for cell in row.cells if cell.language == filters.language)
            if not cells:
                continue
            row = Row(row.article, row.latest, cells)
        if filters.state and filters.state not in row.states():
            continue
        kept.append(row)
    return kept


def state_counts(rows: list[Row]) -> dict[str, int]:
    """Per state: language cells in it (language states) or channel cells in it (channel states)."""
    counts = Counter()
    for row in rows:
        for cell in row.cells:
            counts[cell.state.id] += 1
            for channel in cell.channels:
                counts[channel.state.id] += 1
    return {state.id: counts.get(state.id, 0) for state in states.ALL}


@dataclass(frozen=True)
class MyReview:
    article: ArticleInfo
    language: str
    attempt: int
    opened_at: str
    link: str


def my_reviews(rows: list[Row], user: str) -> list[MyReview]:
    """The open reviews ``user`` is assigned to, oldest first: what they should answer next."""
    mine = [MyReview(row.article, cell.language, cell.attempt, cell.since, cell.review_link)
            for row in rows for cell in row.cells if cell.state is states.IN_REVIEW and user in cell.reviewers]
    return sorted(mine, key=lambda review: (review.opened_at, review.article.article_id, review.language))


# ---- figures for the charts ----------------------------------------------------------------------


@dataclass
class ChartData:
    days: list[str]
    #: language -> [registered per day], [first published per day]
    intake: dict[str, list[int]] = field(default_factory=dict)
    published: dict[str, list[int]] = field(default_factory=dict)
    #: language -> (median, 90th percentile) hours from a review opening to its answer
    review_hours: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: (language, model) -> mean words changed per machine word, over approvals
    effort: dict[tuple[str, str], float] = field(default_factory=dict)
    qa_findings: dict[str, int] = field(default_factory=dict)
    channel_failures: dict[str, int] = field(default_factory=dict)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def chart_data(rows: list[Row], since: datetime, now: datetime, languages: tuple[str, ...]) -> ChartData:
    """The period's figures, from the same rows the grid shows (filters applied by the caller)."""
    first = since.astimezone(timezone.utc).date()
    days = [(first + timedelta(days=n)) for n in range((now.astimezone(timezone.utc).date() - first).days + 1)]
    index = {day: n for n, day in enumerate(days)}
    data = ChartData([day.isoformat() for day in days])
    for language in languages:
        data.intake[language] = [0] * len(days)
        data.published[language] = [0] * len(days)
    review_times: dict[str, list[float]] = defaultdict(list)
    efforts: dict[tuple[str, str], list[float]] = defaultdict(list)
    qa: Counter = Counter()
    failures: Counter = Counter()
    for row in rows:
        registered = index.get(parse_moment(row.article.registered_at).astimezone(timezone.utc).date())
        for cell in row.cells:
            if cell.language not in data.intake:
                continue
            if registered is not None:
                data.intake[cell.language][registered] += 1
            if cell.first_published_at:
                day = index.get(parse_moment(cell.first_published_at).astimezone(timezone.utc).date())
                if day is not None:
                    data.published[cell.language][day] += 1
            for decision in cell.decisions:
                if parse_moment(decision.decided_at) < since:
                    continue
                if decision.opened_at and decision.outcome != EXPIRED:
                    waited = parse_moment(decision.decided_at) - parse_moment(decision.opened_at)
                    hours = waited.total_seconds() / 3600
                    review_times[cell.language].append(max(0.0, hours))
                if decision.approved and decision.machine_words:
                    model = cell.draft.model if cell.draft is not None else "?"
                    efforts[(cell.language, model)].append(decision.edit_distance / decision.machine_words)
            if cell.draft is not None:
                qa.update(dict(cell.draft.findings))
            for channel in cell.channels:
                failures[channel.channel] += sum(1 for failed_at in channel.failures if parse_moment(failed_at) >= since)
    data.review_hours = {lang: (statistics.median(times), _percentile(times, 0.9))
                         for lang, times in sorted(review_times.items())}
    data.effort = {slot: statistics.fmean(values) for slot, values in sorted(efforts.items())}
    data.qa_findings = dict(qa.most_common())
    data.channel_failures = {channel: failures.get(channel, 0) for channel in CHANNEL_NAMES}
    return data


# ---- one article's history ---------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    revisions: list[ArticleInfo]
    rows: list[Row]


def article_history(store: Store, reader: Reader, revisions: list[ArticleInfo]) -> History:
    """Every revision of one article with its decisions and publications (one article: listing it is cheap)."""
    ordered = sorted(revisions, key=lambda a: (a.registered_at, a.revision))
    rows = []
    for n, article in enumerate(ordered):
        newer = n < len(ordered) - 1
        cells = []
        for language in article.languages:
            prefix = f"decisions/{article.article_id}/{article.revision}/{language}/"
            keys = [key for key in store.list(prefix) if key.endswith(".json")]
            cells.append(language_cell(reader, store, article, language, keys, newer))
        rows.append(Row(article, not newer, tuple(cells)))
    return History(ordered, rows)


def revisions_of(store: Store, reader: Reader, article_id: str) -> list[ArticleInfo]:
    keys = [key for key in store.list(f"articles/{article_id}/") if key.endswith("/article.json")]
    return [reader.article(store, article_id, key.split("/")[2]) for key in keys]


def period_start(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)

