"""What is due and what channels show: the latest approvals, embargoes, and the publication of each.

Read from records only: the review stage's decisions and intake's revisions,
through their record types in core.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from foreigndesk.core.decisions import Decision, decision_key
from foreigndesk.core.names import outlet_name
from foreigndesk.core.revisions import Registered, load_revision
from foreigndesk.core.store import Store
from foreigndesk.publish.channels import Publication
from foreigndesk.publish.channels.validate import clean_publication
from foreigndesk.publish.channels.web import page_url


def latest_approvals_of(decisions: Iterable[Decision]) -> list[Decision]:
    """Per (article, language), the most recent approved decision; others never appear."""
    latest: dict[tuple[str, str], Decision] = {}
    for decision in decisions:
        if not decision.approved:
            continue
        key = (decision.article_id, decision.language)
        if key not in latest or decision.decided_at > latest[key].decided_at:
            latest[key] = decision
    return list(latest.values())


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
    return clean_publication(Publication(
        article_id=decision.article_id, revision=decision.revision, language=decision.language,
        title=decision.title, summary=decision.summary, body=decision.body, outlet=outlet,
        url=page_url(site_url, decision.language, decision.article_id),
        guid=f"{decision.article_id}:{decision.language}", first_published_at=first, published_at=published,
        source_url=article.source_url, image=article.image, image_caption=article.image_caption,
        author=article.author or outlet, demo_model=decision.demo_model,
    ), site_url)
