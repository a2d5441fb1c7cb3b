"""Publishing to the portal feed: only approvals, each once, crash-safe, quiet when nothing is due."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO
from foreigndesk.publishing import FEED_CHANNEL, ledger_key, publish_feeds
from foreigndesk.review import record_decision
from foreigndesk.settings import load_settings
from foreigndesk.store import LocalStore

EXAMPLE = REPO / "content" / "examples" / "baothainguyen-hop-tac-gyeongsangbuk-do.md"


@pytest.fixture
def translated(translate_example):
    store, article, _ = translate_example(EXAMPLE.name, "baothainguyen")
    return store, article


def _decide(store, article, language, option, body=None, when="2025-03-15T10:00:00+00:00"):
    fields = {"body": body} if body is not None else {}
    return record_decision(store, article.article_id, article.revision, language, [option], fields, f"reviewer_{language}", when)


def _items(store: LocalStore, language: str) -> list[dict]:
    return json.loads(store.read(f"feeds/{language}/feed.json"))["items"]


def test_only_approved_translations_are_published_once(translated):
    store, article = translated
    _decide(store, article, "en", "Approve", body="Approved English.\n")
    _decide(store, article, "ko", "Reject")
    settings = load_settings()

    first = publish_feeds(store, settings)
    assert first.published == [{"article_id": article.article_id, "revision": article.revision, "language": "en"}]
    assert [item["content_text"] for item in _items(store, "en")] == ["Approved English.\n"]
    assert not store.exists("feeds/ko/feed.json")
    assert store.exists(ledger_key(FEED_CHANNEL, article.article_id, article.revision, "en"))

    again = publish_feeds(store, settings)
    assert again.published == [] and again.feeds_written == []


def test_a_later_approval_is_published_at_the_next_run(translated):
    store, article = translated
    _decide(store, article, "en", "Approve")
    publish_feeds(store, load_settings())
    _decide(store, article, "zh", "Approve", body="中文。\n")
    result = publish_feeds(store, load_settings())
    assert [entry["language"] for entry in result.published] == ["zh"]
    assert result.feeds_written == ["feeds/zh/feed.json"]
    assert len(_items(store, "en")) == 1


class FailingLedgerStore(LocalStore):
    """A real store that crashes on the first ledger write, as a dying worker would."""

    def create(self, key: str, data: bytes) -> None:
        if key.startswith("ledger/") and not getattr(self, "crashed", False):
            self.crashed = True
            raise OSError("worker lost between the feed and the ledger")
        super().create(key, data)


def test_crash_between_feed_and_ledger_republishes_the_same_feed(translated, tmp_path):
    store, article = translated
    _decide(store, article, "en", "Approve", body="Once only.\n")
    crashing = FailingLedgerStore(Path(store.root))
    with pytest.raises(OSError):
        publish_feeds(crashing, load_settings())
    assert [item["content_text"] for item in _items(store, "en")] == ["Once only.\n"]
    assert not store.exists(ledger_key(FEED_CHANNEL, article.article_id, article.revision, "en"))

    result = publish_feeds(store, load_settings())
    assert [entry["language"] for entry in result.published] == ["en"]
    assert [item["content_text"] for item in _items(store, "en")] == ["Once only.\n"]


def test_feed_items_say_when_a_demo_model_made_them(translated):
    store, article = translated
    _decide(store, article, "en", "Approve")
    publish_feeds(store, load_settings())
    item = _items(store, "en")[0]
    assert item["summary"].startswith("DEMO MODEL — not a real translation")
    assert item["tags"] == ["demo-model"]
    assert item["id"] == f"{article.article_id}:en"
