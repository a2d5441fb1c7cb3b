"""Translation memory records: written once from approved decisions, found again by exact source."""

from __future__ import annotations

import unicodedata

import pytest
from foreigndesk.core import records
from foreigndesk.core.drafts import Draft, draft_key
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.review.rounds import record_decision
from foreigndesk.translate.memory import (
    MemoryRecord,
    TranslationMemory,
    aligned_units,
    memory_prefix,
    normalise,
    rebuild_memory,
    remember_decision,
    source_hash,
)

BODY = "## Hợp tác\n\nChè Thái Nguyên\nnổi tiếng.\n\n- Một\n- Hai\n\n![Đồi chè](a.jpg)\n"
RAW = ("---\nid: btn-memory\ntitle: Chè và du lịch\noutlet: baothainguyen\napproved_by: An\n"
       "approved_at: 2025-03-14T09:30:00+07:00\nsummary: Tóm tắt.\n---\n" + BODY).encode()


def _record(target: str, decided_at: str, source: str = "Chè ngon.") -> MemoryRecord:
    return MemoryRecord("vi", "en", source, target, "a", "r", "body.1", "reviewer_en", decided_at, "decisions/a/r/en/001.json")


def test_lookup_key_is_the_normalised_source():
    decomposed = unicodedata.normalize("NFD", "Chè  ngon.\n")
    assert normalise(decomposed) == "Chè ngon."
    assert source_hash(decomposed) == source_hash(" Chè ngon. ")
    assert source_hash("chè ngon.") != source_hash("Chè ngon.")
    assert memory_prefix("vi", "zh", "Chè ngon.") == f"memory/vi-zh/{source_hash('Chè ngon.')}/"


def test_written_once_newest_wins(tmp_path):
    memory = TranslationMemory(LocalStore(tmp_path))
    assert memory.lookup("vi", "en", "Chè ngon.") is None
    assert memory.remember(_record("Good tea.", "2025-01-01T00:00:00+00:00"))
    assert not memory.remember(_record("Good tea.", "2025-01-01T00:00:00+00:00"))
    assert memory.remember(_record("Fine tea.", "2025-02-01T00:00:00+00:00"))
    assert memory.lookup("vi", "en", "Chè   ngon.").target == "Fine tea."
    assert memory.lookup("vi", "zh", "Chè ngon.") is None
    assert memory.lookup("vi", "en", "   ") is None


def test_units_align_only_when_the_structure_matches():
    source = ("Chè", "Tóm tắt.", BODY)
    same = ("Tea", "Summary.", "## Cooperation\n\nThai Nguyen tea is famous.\n\n- One\n- Two\n\n![Tea hill](a.jpg)\n")
    pairs = [(s.id, s.text, t.text) for s, t in aligned_units(source, same)]
    assert pairs == [
        ("title", "Chè", "Tea"), ("summary", "Tóm tắt.", "Summary."),
        ("body.1", "Hợp tác", "Cooperation"), ("body.2", "Chè Thái Nguyên nổi tiếng.", "Thai Nguyen tea is famous."),
        ("body.3", "Một", "One"), ("body.4", "Hai", "Two"),
        ("body.5", "![Đồi chè](a.jpg)", "![Tea hill](a.jpg)"), ("body.5.img1.alt", "Đồi chè", "Tea hill"),
    ]
    restructured = ("Tea", "Summary.", "## Cooperation\n\nThai Nguyen tea is famous. One, two.\n\n![Tea hill](a.jpg)\n")
    assert [s.id for s, _ in aligned_units(source, restructured)] == ["title", "summary"]


@pytest.fixture
def desk_store(tmp_path):
    """A store holding one registered article with en and zh drafts."""
    store = LocalStore(tmp_path / "store")
    article = register(store, parse_article(RAW, "x.md", "baothainguyen"), RAW, "baothainguyen/x.md")
    for lang in ("en", "zh"):
        draft = Draft(article.article_id, article.revision, lang, "vi", "T", "S", "B", "m", "1", False, "2025-03-14T00:00:00+00:00")
        records.write_once(store, draft_key(article.article_id, article.revision, lang), draft)
    return store, article


def _decide(desk_store, lang, option, body, decided_at="2025-03-15T10:00:00+00:00", title="Tea and tourism"):
    store, article = desk_store
    return record_decision(store, article.article_id, article.revision, lang, [option],
                           {"title": title, "summary": "Summary.", "body": body}, f"reviewer_{lang}", decided_at)


EN_BODY = "## Cooperation\n\nThai Nguyen tea is famous.\n\n- One\n- Two\n\n![Tea hill](a.jpg)\n"


def test_approved_decisions_feed_the_memory_once(desk_store):
    store, article = desk_store
    memory = TranslationMemory(store)
    assert remember_decision(store, _decide(desk_store, "zh", "Reject", "拒绝")) == 0
    decision = _decide(desk_store, "en", "Approve", EN_BODY)
    assert remember_decision(store, decision) == 8
    assert remember_decision(store, decision) == 0
    found = memory.lookup("vi", "en", "Chè Thái Nguyên nổi tiếng.")
    assert (found.target, found.reviewer, found.unit) == ("Thai Nguyen tea is famous.", "reviewer_en", "body.2")
    assert found.decision == f"decisions/{article.article_id}/{article.revision}/en/001.json"
    assert memory.lookup("vi", "zh", "Chè Thái Nguyên nổi tiếng.") is None
    assert rebuild_memory(store) == 0


def test_rebuild_memory_feeds_every_decision(desk_store):
    store, _ = desk_store
    _decide(desk_store, "en", "Approve", EN_BODY)
    _decide(desk_store, "zh", "Approve", "## 合作\n\n太原茶很有名。\n\n- 一\n- 二\n\n![茶山](a.jpg)\n", title="茶与旅游")
    assert rebuild_memory(store) == 16
    assert TranslationMemory(store).lookup("vi", "zh", "Chè và du lịch").target == "茶与旅游"
    assert rebuild_memory(store) == 0
