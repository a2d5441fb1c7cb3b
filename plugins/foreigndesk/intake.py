"""Intake: from the editors' drop zones to registered article revisions.

Each outlet has a drop folder (``<inbox>/<outlet>/*.md``). A readable file
becomes a revision record in the store; a file that can't be accepted is moved,
byte for byte, into the store's quarantine with the reason. The order of writes
is what makes a crash harmless: the bytes are stored, then the record, and only
then is the drop removed, so a re-run after any failure finds either nothing
new (same bytes, same revision) or the drop still waiting.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from foreigndesk import records
from foreigndesk.articles import Article, ArticleError, parse_article
from foreigndesk.store import Store


def source_key(article_id: str, revision: str) -> str:
    return f"articles/{article_id}/{revision}/source.md"


def article_key(article_id: str, revision: str) -> str:
    return f"articles/{article_id}/{revision}/article.json"


@dataclass(frozen=True)
class Registered(Article):
    """An accepted revision: the parsed article plus where and when it came in."""

    source_file: str = ""
    registered_at: str = ""


@dataclass
class IntakeResult:
    accepted: list[Registered] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "accepted": [item.article_id for item in self.accepted],
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }


def load_revision(store: Store, article_id: str, revision: str) -> Registered:
    return records.load(store, Registered, article_key(article_id, revision))


def quarantine(store: Store, outlet: str, drop: Path, raw: bytes, reason: str) -> str:
    """Keep a refused drop intact, with its reason beside it, where the desk chief can find it."""
    digest = hashlib.sha256(raw).hexdigest()[:16]
    folder = f"quarantine/{outlet}/{digest}"
    store.replace(f"{folder}/original.bin", raw)
    reason_record = {"file": drop.name, "outlet": outlet, "reason": reason, "quarantined_at": records.now_utc()}
    store.replace(f"{folder}/reason.json", json.dumps(reason_record, ensure_ascii=False, indent=1).encode())
    return folder


def register(store: Store, article: Article, raw: bytes, source_file: str) -> Registered | None:
    """Record one revision; None when this exact revision was already registered."""
    if store.exists(article_key(article.article_id, article.revision)):
        return None
    if not store.exists(source_key(article.article_id, article.revision)):
        store.create(source_key(article.article_id, article.revision), raw)
    registered = Registered(
        **dataclasses.asdict(article), source_file=source_file, registered_at=records.now_utc()
    )
    if not records.write_once(store, article_key(article.article_id, article.revision), registered):
        return None
    return registered


def ingest_drop(store: Store, outlet: str, drop: Path, result: IntakeResult) -> None:
    raw = drop.read_bytes()
    try:
        article = parse_article(raw, drop.name, outlet)
    except ArticleError as error:
        quarantine(store, outlet, drop, raw, str(error))
        result.quarantined.append({"file": str(drop), "reason": str(error)})
    else:
        registered = register(store, article, raw, f"{outlet}/{drop.name}")
        if registered is None:
            result.unchanged.append(article.article_id)
        else:
            result.accepted.append(registered)
    drop.unlink()


def ingest_inbox(store: Store, inbox: Path, outlets: tuple[str, ...]) -> IntakeResult:
    """Take every ``*.md`` drop of every outlet, oldest first."""
    result = IntakeResult()
    for outlet in outlets:
        folder = inbox / outlet
        drops = sorted(folder.glob("*.md"), key=lambda path: (path.stat().st_mtime, path.name)) if folder.is_dir() else []
        for drop in drops:
            ingest_drop(store, outlet, drop, result)
    return result
