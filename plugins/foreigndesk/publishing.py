"""The publish stage: approved translations out to the portal feed, each exactly once.

What is due is derived from records alone: an approved decision with no ledger
entry for the channel. The feed is rebuilt whole *before* the ledger entries
are written, so a crash in between only means the next run rebuilds the same
feed again; a ledger entry never claims a publication that did not happen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from foreigndesk import records
from foreigndesk.feeds import FeedItem, build_json_feed, feed_key
from foreigndesk.review import Decision, all_decisions, decision_key
from foreigndesk.settings import Settings
from foreigndesk.store import Store

FEED_CHANNEL = "portal-feed"


@dataclass(frozen=True)
class LedgerEntry:
    """Proof that one (article, revision, language) went out on one channel."""

    channel: str
    article_id: str
    revision: str
    language: str
    decision: str
    published_at: str


@dataclass
class PublishResult:
    published: list[dict[str, str]] = field(default_factory=list)
    feeds_written: list[str] = field(default_factory=list)


def ledger_key(channel: str, article_id: str, revision: str, language: str) -> str:
    return f"ledger/{channel}/{article_id}/{revision}/{language}.json"


def latest_approvals(store: Store) -> list[Decision]:
    """Per (article, language), the most recent approved decision; rejected ones never appear."""
    latest: dict[tuple[str, str], Decision] = {}
    for decision in all_decisions(store):
        if not decision.approved:
            continue
        key = (decision.article_id, decision.language)
        if key not in latest or decision.decided_at > latest[key].decided_at:
            latest[key] = decision
    return list(latest.values())


def _ledger_entries(store: Store, channel: str) -> list[LedgerEntry]:
    return [records.load(store, LedgerEntry, key) for key in store.list(f"ledger/{channel}/")]


def _feed_item(decision: Decision, published_at: str, site_url: str) -> FeedItem:
    return FeedItem(
        article_id=decision.article_id,
        revision=decision.revision,
        language=decision.language,
        title=decision.title,
        summary=decision.summary,
        body=decision.body,
        published_at=published_at,
        url=f"{site_url}/{decision.language}/{decision.article_id}.html",
        demo_model=decision.demo_model,
    )


def _feed_items(store: Store, entries: list[LedgerEntry], site_url: str) -> dict[str, list[FeedItem]]:
    """The newest published revision of each article, per language."""
    newest: dict[tuple[str, str], LedgerEntry] = {}
    for entry in entries:
        key = (entry.article_id, entry.language)
        if key not in newest or entry.published_at > newest[key].published_at:
            newest[key] = entry
    items: dict[str, list[FeedItem]] = defaultdict(list)
    for entry in newest.values():
        decision = records.load(store, Decision, entry.decision)
        items[entry.language].append(_feed_item(decision, entry.published_at, site_url))
    return items


def publish_feeds(store: Store, settings: Settings) -> PublishResult:
    """Publish every due approval to the per-language feeds; a run with nothing due writes nothing."""
    result = PublishResult()
    published = _ledger_entries(store, FEED_CHANNEL)
    done = {(e.article_id, e.revision, e.language) for e in published}
    now = records.now_utc()
    due = [
        LedgerEntry(FEED_CHANNEL, d.article_id, d.revision, d.language,
                    decision_key(d.article_id, d.revision, d.language, d.attempt), now)
        for d in latest_approvals(store)
        if (d.article_id, d.revision, d.language) not in done
    ]
    if not due:
        return result
    items = _feed_items(store, published + due, settings.site_url)
    for language in sorted({entry.language for entry in due}):
        store.replace(feed_key(language), build_json_feed(language, items[language], settings.site_url, settings.feed_items))
        result.feeds_written.append(feed_key(language))
    for entry in due:
        records.write_once(store, ledger_key(FEED_CHANNEL, entry.article_id, entry.revision, entry.language), entry)
        result.published.append({"article_id": entry.article_id, "revision": entry.revision, "language": entry.language})
    return result
