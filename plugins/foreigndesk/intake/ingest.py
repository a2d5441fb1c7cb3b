"""Intake: from the sources (drop folders, S3 inboxes, outlet feeds) to registered revisions.

A readable drop becomes a revision record in the store; a drop that can't be
accepted is kept, byte for byte, in the store's quarantine with its reason.
The order of writes is what makes a crash harmless: the bytes are stored, then
the record, and only then is the drop taken out of its source, so a re-run
after any failure finds either the drop still waiting or nothing new (same
bytes, same revision, a no-op). Every step is one create-only write or a
lookup by key: intake never lists the archive, so its cost per drop does not
grow with the number of articles already registered (the one listing, in
:func:`recent_revisions`, is of the article journal's last day).

Records (keys under the store):

* ``articles/<id>/<revision>/source.md`` — the drop's bytes as received;
* ``journal/articles/<YYYY>/<MM>/<DD>/<HHMMSS.ffffff>Z-<id>--<revision>.json`` — the
  article journal (:mod:`foreigndesk.journal`), written just before the record, so
  :func:`recent_revisions` finds the last day's revisions without listing ``articles/``;
* ``articles/<id>/<revision>/article.json`` — the :class:`Registered` record;
* ``claims/<id>.json`` — which outlet an id belongs to (first come, first served);
* ``quarantine/<outlet>/<sha256>/original.bin`` + ``reason.json`` (+ evidence);
* ``quarantine/<outlet>/too-large-<id>/original.bin`` + ``reason.json`` — a drop over the
  size limit, moved there whole without being read (so its sha256 is not known; ``<id>``
  names where it was and which version).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from foreigndesk.core import journal, records
from foreigndesk.core.revisions import ARTICLES, Article, Registered, article_key, source_key
from foreigndesk.core.settings import Settings, SettingsError, outlet_variable
from foreigndesk.core.store import RecordExists, Store, open_store
from foreigndesk.intake import set_aside
from foreigndesk.intake.article_file import ArticleError, parse_article
from foreigndesk.intake.clip_drops import ClipDrops
from foreigndesk.intake.outlet_feeds import OutletFeed
from foreigndesk.intake.s3_inbox import S3Inbox
from foreigndesk.intake.sources import NO_OUTLET, Drop, Source, SourceError, inbox_folders

_SAFE_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def claim_key(article_id: str) -> str:
    return f"claims/{article_id}.json"


@dataclass(frozen=True)
class OutletClaim:
    """An article id belongs to the outlet that first registered it."""

    article_id: str
    outlet: str
    first_revision: str
    claimed_at: str


@dataclass(frozen=True)
class Quarantined:
    """Why a drop was refused; stored beside its bytes in quarantine/."""

    file: str
    outlet: str
    location: str
    reason: str
    sha256: str
    quarantined_at: str


@dataclass
class IntakeResult:
    accepted: list[Registered] = field(default_factory=list)
    #: (article id, revision) of drops whose exact bytes were already registered.
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    #: Drops that changed while being read (still being copied in): left for the next run.
    waiting: list[str] = field(default_factory=list)
    #: Sources that could not be read at all (e.g. a feed answering 500); the others were.
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "accepted": [item.article_id for item in self.accepted],
            "unchanged": [article_id for article_id, _ in self.unchanged],
            "quarantined": self.quarantined,
        }

    def revisions(self) -> list[tuple[str, str]]:
        """Every revision whose drop was handled this run: new ones, then already-known ones.

        A translate run is started for each (idempotently, by derived run id), so a
        revision recorded just before a crash still gets its translation on the re-run.
        """
        return [(item.article_id, item.revision) for item in self.accepted] + list(self.unchanged)


def _quarantine_folder(outlet: str, raw: bytes) -> str:
    segment = outlet if _SAFE_SEGMENT.match(outlet) else "no-outlet"
    return f"quarantine/{segment}/{hashlib.sha256(raw).hexdigest()}"


def _create(store: Store, key: str, data: bytes) -> None:
    """Create-only, where a record already there is the same record from an earlier attempt."""
    try:
        store.create(key, data)
    except RecordExists:
        pass


def quarantine(store: Store, drop: Drop, raw: bytes, reason: str) -> str:
    """Keep a refused drop intact, with its reason beside it, where the desk chief can find it.

    The folder is named by the bytes' sha256: dropping the same bad file twice keeps one copy.
    """
    folder = _quarantine_folder(drop.outlet, raw)
    _create(store, f"{folder}/original.bin", raw)
    for name, evidence in sorted(drop.evidence.items()):
        _create(store, f"{folder}/{name}", evidence)
    record = Quarantined(
        file=drop.name,
        outlet=drop.outlet,
        location=drop.location,
        reason=reason,
        sha256=hashlib.sha256(raw).hexdigest(),
        quarantined_at=records.now_utc(),
    )
    records.write_once(store, f"{folder}/reason.json", record)
    return folder


def quarantine_unread(store: Store, drop: Drop, reason: str) -> str:
    """Set a drop too large to read aside, whole, into quarantine; the source's own move or copy does it."""
    identity = hashlib.sha256(f"{drop.location}\n{drop.size}\n{drop.fingerprint}".encode()).hexdigest()[:32]
    segment = drop.outlet if _SAFE_SEGMENT.match(drop.outlet) else "no-outlet"
    folder = f"quarantine/{segment}/too-large-{identity}"
    assert drop.set_aside is not None
    # The reason first: a crash after it leaves the drop in the inbox, and the next run moves it.
    record = Quarantined(file=drop.name, outlet=drop.outlet, location=drop.location, reason=reason, sha256="",
                         quarantined_at=records.now_utc())
    records.write_once(store, f"{folder}/reason.json", record)
    drop.set_aside(store, f"{folder}/original.bin")
    return folder


def too_large(drop: Drop, max_bytes: int) -> str:
    return (f"{drop.name}: {drop.size} bytes, larger than the limit of {max_bytes} bytes (not read); "
            "split the article, move images out of the text, or raise FOREIGNDESK_MAX_ARTICLE_BYTES")


def _claim(store: Store, article: Article, filename: str) -> None:
    """Create-only claim of the id for the article's outlet; another outlet's claim refuses it."""
    claim = OutletClaim(article.article_id, article.outlet, article.revision, records.now_utc())
    if records.write_once(store, claim_key(article.article_id), claim):
        return
    owner = records.load(store, OutletClaim, claim_key(article.article_id))
    if owner.outlet != article.outlet:
        raise ArticleError(
            f"{filename}: id {article.article_id!r} already belongs to outlet {owner.outlet!r} "
            f"(first registered {owner.claimed_at}); give this {article.outlet} article its own 'id', "
            f"e.g. '{article.outlet}-{article.article_id}'"
        )


def register(
    store: Store, article: Article, raw: bytes, source_file: str, name: str = "", at: datetime | None = None
) -> Registered | None:
    """Record one revision; None when this exact revision was already registered.

    ``at`` (default: now) is for building archives with a past, in tests and benchmarks.
    """
    if store.exists(article_key(article.article_id, article.revision)):
        return None
    _claim(store, article, name or source_file.rsplit("/", 1)[-1])
    _create(store, source_key(article.article_id, article.revision), raw)
    moment = at or datetime.now(timezone.utc)
    registered = Registered(**dataclasses.asdict(article), source_file=source_file, registered_at=moment.isoformat())
    # The entry first: a crash here leaves an entry without a record (ignored), never a record no entry names.
    journal.write(store, ARTICLES, moment, f"{article.article_id}--{article.revision}",
                  article_key(article.article_id, article.revision))
    if not records.write_once(store, article_key(article.article_id, article.revision), registered):
        return None
    return registered


def _refuse(store: Store, drop: Drop, raw: bytes, reason: str, result: IntakeResult) -> None:
    quarantine(store, drop, raw, reason)
    result.quarantined.append({"file": drop.location, "reason": reason})


def ingest_drop(
    store: Store,
    drop: Drop,
    result: IntakeResult,
    known_outlets: Collection[str],
    max_bytes: int | None = None,
) -> None:
    """Handle one drop completely: recorded or quarantined, then taken out of its source.

    Or, before anything is read: left where it is while it settles, or, when its size is
    known and over ``max_bytes``, moved into quarantine whole without being read.
    """
    if drop.not_yet:
        result.waiting.append(drop.location)
        return
    if max_bytes is not None and drop.size is not None and drop.size > max_bytes and drop.set_aside is not None \
            and set_aside.can_take(store):
        reason = too_large(drop, max_bytes)
        quarantine_unread(store, drop, reason)
        result.quarantined.append({"file": drop.location, "reason": reason})
        return
    raw = drop.read()
    if drop.still_writing(raw):
        result.waiting.append(drop.location)
        return
    if drop.problem:
        _refuse(store, drop, raw, drop.problem, result)
    elif drop.outlet == NO_OUTLET:
        _refuse(store, drop, raw, f"{drop.name}: files go into an outlet's folder, inbox/<outlet>/ with <outlet> "
                                  f"one of {sorted(known_outlets)}; move it there", result)
    else:
        try:
            article = parse_article(raw, drop.name, drop.outlet, known_outlets=known_outlets, max_bytes=max_bytes)
            registered = register(store, article, raw, drop.location, drop.name)
        except ArticleError as error:
            _refuse(store, drop, raw, str(error), result)
        else:
            if registered is None:
                result.unchanged.append((article.article_id, article.revision))
            else:
                result.accepted.append(registered)
    drop.remove()


def ingest(
    store: Store,
    sources: Iterable[Source],
    known_outlets: Collection[str],
    max_bytes: int | None = None,
    clip_partner_wait: float = 24 * 3600,
) -> IntakeResult:
    """Take every drop of every source. A source that can't be read is reported, not fatal to
    the others; a store failure is fatal (the run failed, and a re-run picks up where it stopped)."""
    result = IntakeResult()
    for source in sources:
        clips = ClipDrops(clip_partner_wait)  # a clip is two files: paired, then handled together
        try:
            for drop in source.drops():
                if not clips.take(drop):
                    ingest_drop(store, drop, result, known_outlets, max_bytes)
            clips.ingest(store, result, known_outlets, max_bytes, register, _refuse)
        except SourceError as error:
            result.errors.append(str(error))
            continue
        source.finish()
    return result


def ingest_inbox(store: Store, inbox: Path, outlets: tuple[str, ...], max_bytes: int | None = None,
                 settle_seconds: float = 0.0, clip_partner_wait: float = 24 * 3600) -> IntakeResult:
    """Take every drop of every outlet folder of ``inbox`` (and quarantine strays), oldest first."""
    return ingest(store, inbox_folders(inbox, outlets, settle_seconds), outlets, max_bytes, clip_partner_wait)


def configured_sources(
    settings: Settings,
    store: Store,
    *,
    inbox: Path | None = None,
    s3_client: Any = None,
    session: Any = None,
) -> list[Source]:
    """Every source the settings name, in a fixed order: folders, S3 inboxes, feeds.

    Clients are only needed (and only asked for) when a source of that kind is
    configured; a missing one is a configuration error naming the setting.
    """
    sources: list[Source] = list(inbox_folders(inbox or settings.inbox, settings.outlets, settings.settle_seconds))
    for outlet_sources in settings.sources:
        if outlet_sources.s3_inbox:
            if s3_client is None:
                raise SettingsError(f"{outlet_variable('FOREIGNDESK_S3_INBOX', outlet_sources.outlet)}: no S3 client")
            sources.append(S3Inbox(s3_client, outlet_sources.s3_inbox, outlet_sources.outlet))
    for outlet_sources in settings.sources:
        if outlet_sources.feed_url:
            if session is None:
                raise SettingsError(f"{outlet_variable('FOREIGNDESK_FEED', outlet_sources.outlet)}: no HTTP session")
            sources.append(
                OutletFeed(session, outlet_sources.feed_url, outlet_sources.outlet, store, settings.feed_markers)
            )
    return sources


def run_intake(
    settings: Settings,
    make_s3_client: Callable[[], object],
    store_url: str | None = None,
    inbox: Path | None = None,
) -> IntakeResult:
    """One intake run over every configured source, as the CLI and the ingest DAG do it.

    ``make_s3_client`` is only called when the store or an inbox is on S3 (the CLI
    builds it from the standard AWS settings, the DAG from an Airflow Connection).
    """
    import requests

    store_url = store_url or settings.store
    needs_s3 = store_url.startswith("s3://") or any(source.s3_inbox for source in settings.sources)
    client = make_s3_client() if needs_s3 else None
    store = open_store(store_url, client)
    with requests.Session() as session:
        session.headers["User-Agent"] = "foreigndesk-intake"
        sources = configured_sources(settings, store, inbox=inbox, s3_client=client, session=session)
        return ingest(store, sources, settings.outlets, settings.max_article_bytes, settings.clip_partner_wait_seconds)
