"""What is due and what channels show: the latest approvals, embargoes, and the publication of each.

Read from records only: the review stage's decisions and intake's revisions,
through their record types in core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from foreigndesk.core import records
from foreigndesk.core.decisions import Decision, decision_key
from foreigndesk.core.names import outlet_name
from foreigndesk.core.revisions import Registered, load_revision
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger
from foreigndesk.publish.channels import Catalogue, CatalogueItem, Publication
from foreigndesk.publish.channels.events import event_uid, public_event
from foreigndesk.publish.channels.validate import clean_publication
from foreigndesk.publish.channels.video import with_clip
from foreigndesk.publish.channels.web import page_url


def latest_approvals_of(decisions: Iterable[Decision],
                        revision_rank: Callable[[str, str], Any] | None = None) -> list[Decision]:
    """Per (article, language), the approval of the newest approved revision; others never appear.

    Revisions are ordered by ``revision_rank(article_id, revision)`` — when intake
    registered them (:func:`foreigndesk.core.revisions.revision_order`), never by when a
    reviewer answered: a late approval of an older revision must not replace a newer one.
    Within one revision the latest answer counts. Without a rank (tests of one revision)
    the revision name stands in.
    """
    rank = revision_rank or (lambda _article, revision: revision)
    latest: dict[tuple[str, str], tuple[Any, Decision]] = {}
    for decision in decisions:
        if not decision.approved:
            continue
        key = (decision.article_id, decision.language)
        order = (rank(decision.article_id, decision.revision), decision.decided_at, decision.attempt)
        if key not in latest or order > latest[key][0]:
            latest[key] = (order, decision)
    return [decision for _order, decision in latest.values()]


def key_of(decision: Decision) -> str:
    return decision_key(decision.article_id, decision.revision, decision.language, decision.attempt)


def load_article(store: Store, article_id: str, revision: str) -> Registered:
    return load_revision(store, article_id, revision)


def _parse_time(value: str, zone: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def embargo_of(article: Registered, zone: str) -> datetime | None:
    """The article's ``publish_at`` embargo (naive times are the desk's timezone)."""
    return _parse_time(article.publish_at, zone) if article.publish_at.strip() else None


def publication(decision: Decision, article: Registered, site_url: str, first: str, published: str) -> Publication:
    """What every channel shows for one approved translation: texts cleaned of control characters, URLs checked."""
    outlet = outlet_name(article.outlet)
    return clean_publication(with_clip(Publication(
        article_id=decision.article_id, revision=decision.revision, language=decision.language,
        title=decision.title, summary=decision.summary, body=decision.body, outlet=outlet,
        url=page_url(site_url, decision.language, decision.article_id),
        guid=f"{decision.article_id}:{decision.language}", first_published_at=first, published_at=published,
        source_url=article.source_url, image=article.image, image_caption=article.image_caption,
        author=article.author or outlet, demo_model=decision.demo_model,
        event=public_event(article.event, decision.event,
                           event_uid(decision.article_id, decision.language, site_url)),
    ), article), site_url)


def catalogue(store: Store, site_url: str, channel: str, left_out: set[tuple[str, str]],
              changed: Mapping[tuple[str, str], Publication] | None = None) -> Catalogue:
    """What ``channel`` shows: the ledger's newest proof per (article, language), ``left_out`` (the withdrawn)
    removed, this run's ``changed`` items in their place.

    The one way a channel's whole outputs are rebuilt — by a publish run and by a
    withdrawal alike — so neither can drop an item the other recorded.
    """
    changed = dict(changed or {})
    proofs = {(p.article_id, p.language): p for p in ledger.published_records(store, channel)
              if (p.article_id, p.language) not in left_out}
    entries = [CatalogueItem(p.article_id, p.revision, p.language, p.title, p.summary, p.url, p.first_published_at,
                             p.published_at) for slot, p in proofs.items() if slot not in changed]
    entries += [CatalogueItem(i.article_id, i.revision, i.language, i.title, i.summary, i.url, i.first_published_at,
                              i.published_at) for i in changed.values()]

    def load(entry: CatalogueItem) -> Publication:
        slot = (entry.article_id, entry.language)
        if slot in changed:
            return changed[slot]
        proof = proofs[slot]
        decision = records.load(store, Decision, proof.decision)
        return publication(decision, load_article(store, proof.article_id, proof.revision), site_url,
                           proof.first_published_at, proof.published_at)

    return Catalogue(entries, list(changed.values()), load)
