"""Narrowing the board's rows to what a viewer asked for: the period, the filter form, their own reviews.

Plus the counts per state of what is left. Plain functions over rows already
read (:mod:`foreigndesk.board.rows`): nothing here touches the store.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from foreigndesk.board import states
from foreigndesk.board.copies import ArticleInfo
from foreigndesk.board.rows import Row

#: How far back "My reviews" looks for open reviews, whatever period the board shows.
MY_REVIEWS_LOOKBACK = timedelta(days=30)
PERIODS = (1, 7, 30, 90, 365)
DEFAULT_PERIOD = 30


def parse_moment(moment: str) -> datetime:
    value = datetime.fromisoformat(moment)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def period_start(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


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
