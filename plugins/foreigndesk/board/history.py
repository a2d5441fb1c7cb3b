"""One article's history: every revision, its decisions and its publications."""

from __future__ import annotations

from dataclasses import dataclass

from foreigndesk.board.copies import ArticleInfo, Reader
from foreigndesk.board.rows import Row, language_cell
from foreigndesk.core.store import Store


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
