"""Revisions: the record intake writes for every accepted drop, and how later stages find them.

A revision is one version of one article, named by its bytes. Intake writes
``articles/<id>/<revision>/source.md`` (the drop as received) and
``articles/<id>/<revision>/article.json`` (the :class:`Registered` record), and
journals each revision just before its record (``journal/articles/``) so a
later stage can find the last day's revisions without listing the archive.
Every stage reads revisions through this module, never through intake's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from foreigndesk.core import journal, records
from foreigndesk.core.names import TARGET_LANGUAGES
from foreigndesk.core.store import Store


def source_key(article_id: str, revision: str) -> str:
    return f"articles/{article_id}/{revision}/source.md"


def article_key(article_id: str, revision: str) -> str:
    return f"articles/{article_id}/{revision}/article.json"


@dataclass(frozen=True)
class Article:
    """One revision of one article, as accepted by intake."""

    article_id: str
    revision: str
    outlet: str
    title: str
    body: str
    approved_by: str
    approved_at: str
    summary: str = ""
    source_url: str = ""
    languages: list[str] = field(default_factory=lambda: list(TARGET_LANGUAGES))
    author: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    image: str = ""
    image_caption: str = ""
    publish_at: str = ""  # embargo: not to be published before this moment
    #: Things the reviewer must look at (e.g. raw HTML kept as text); never blocks intake.
    flags: list[str] = field(default_factory=list)
    #: The ``event:`` block (:class:`foreigndesk.core.events.Event` as a mapping); empty: no event.
    event: dict[str, Any] = field(default_factory=dict)
    #: A subtitled clip (``core.cues``): the clip file's URL and its Vietnamese cues ({start, end, text});
    #: the body is then the clip's transcript, one paragraph per sentence run.
    video_url: str = ""
    cues: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Registered(Article):
    """An accepted revision: the parsed article plus where and when it came in."""

    source_file: str = ""
    registered_at: str = ""


#: The article journal's kind: ``journal/articles/``.
ARTICLES = "articles"
#: How far back each ingest run looks for registered revisions whose translation never started.
RETRIGGER_WINDOW = timedelta(hours=24)
#: An entry's name is ``<article id>--<revision>``; ids may hold ``--``, revisions (hex) do not.
_ARTICLE_NAME = re.compile(r"^(.+)--([0-9a-f]+)$")


def recent_revisions(store: Store, now: datetime, window: timedelta = RETRIGGER_WINDOW) -> list[Registered]:
    """Every revision journaled in ``window`` before ``now``, oldest first, each once.

    Only the journal's tail is listed and each revision costs one read, so the cost
    follows the window's volume, not the archive. An entry whose record is missing
    (a crash between the two writes) is ignored. The translate stage uses this to
    find revisions whose translation never started (``foreigndesk.translate.pipeline.untranslated_recent``).
    """
    found: list[Registered] = []
    seen: set[tuple[str, str]] = set()
    for entry in journal.since(store, ARTICLES, now - window):
        match = _ARTICLE_NAME.match(entry.name)
        if match is None or match.groups() in seen:
            continue
        article_id, revision = match.groups()
        seen.add((article_id, revision))
        try:
            found.append(load_revision(store, article_id, revision))
        except KeyError:
            continue
    return found


def revisions_of(store: Store, article_id: str) -> list[Registered]:
    """Every registered revision of one article, in the order intake registered them (oldest first)."""
    found = [records.load(store, Registered, key) for key in store.list(f"articles/{article_id}/")
             if key.endswith("/article.json")]
    return sorted(found, key=lambda item: revision_order(store, item))


def newer_revisions(store: Store, article_id: str, revision: str) -> list[Registered]:
    """The revisions of the article registered after ``revision`` (empty when it is the newest)."""
    ordered = revisions_of(store, article_id)
    names = [item.revision for item in ordered]
    return ordered[names.index(revision) + 1:] if revision in names else []


def load_revision(store: Store, article_id: str, revision: str) -> Registered:
    return records.load(store, Registered, article_key(article_id, revision))




def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _journal_stamp(store: Store, article_id: str, revision: str) -> str:
    """Where intake journaled this revision (its entry's key), or "" when no entry names it.

    Only asked for a revision whose ``registered_at`` is missing or unreadable, so the
    whole-journal listing this costs is the exception.
    """
    suffix = f"-{article_id}--{revision}.json"
    return next((key for key in store.list(journal.folder(ARTICLES)) if key.endswith(suffix)), "")


def revision_order(store: Store, article: Registered) -> tuple[datetime, str, str]:
    """Where a revision stands among its article's revisions: later registered sorts later.

    The order is when intake registered it (``registered_at``), then the article
    journal (whose entries are stamped with the same moment, so it only decides a
    record without a readable time), then the revision name so the order is total.
    Never when a reviewer answered: an approval of an older revision can come late.
    """
    try:
        return (_moment(article.registered_at), "", article.revision)
    except (TypeError, ValueError):
        return (datetime.min.replace(tzinfo=timezone.utc), _journal_stamp(store, article.article_id, article.revision),
                article.revision)
