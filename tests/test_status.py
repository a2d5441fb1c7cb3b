"""``foreigndesk status``: every state derived from the store's records, and the review figures per language."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from conftest import REPO
from foreigndesk.cli import main
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.review.form import build_form
from foreigndesk.review.rounds import ReviewPlan, open_review, record_decision, record_expiry
from foreigndesk.status import collect_status, format_status

NOW = datetime(2025, 5, 19, 10, 30, tzinfo=timezone.utc)


def _article(title: str, languages: str) -> bytes:
    return (f"---\ntitle: {title}\noutlet: tntv\napproved_by: Trần Thị Mai\napproved_at: 2025-05-18T16:00:00+07:00\n"
            f"languages: [{languages}]\n---\nTỉnh Thái Nguyên đón du khách quốc tế.\n").encode()


def _open(store, article, language, attempt, at):
    form = build_form(store, article.article_id, article.revision, language)
    open_review(store, article.article_id, article.revision, language, ReviewPlan(attempt), form, at, "http://ui/x")


@pytest.fixture
def desk_store(tmp_path, demo_models):
    """Four articles in every state the desk knows."""
    from foreigndesk.publish.run import desk_channels, publish
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")

    def add(raw: bytes, name: str, translate: bool = True):
        article = register(store, parse_article(raw, name, "tntv"), raw, name)
        if translate:
            translate_revision(store, shared_engine(), article.article_id, article.revision)
        return article

    tea = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"
    a = add(tea.read_bytes(), tea.name)                        # en published, zh in review, ko expired
    b = add(_article("Hội chợ OCOP", "en"), "b.md")             # en rejected
    c = add(_article("Đoàn Lào thăm tỉnh", "en"), "c.md")       # en needs fix, no attempt left
    d = add(_article("Tin mới nhận", "en, ko"), "d.md", False)  # still translating

    _open(store, a, "en", 1, "2025-05-19T08:00:00+00:00")
    record_decision(store, a.article_id, a.revision, "en", ["Approve"],
                    {"title": "Tan Cuong Tea Festival draws visitors"}, "reviewer_en", "2025-05-19T08:20:00+00:00")
    settings = load_settings()
    publish(store, settings, desk_channels(store, settings, None))
    _open(store, a, "zh", 1, "2025-05-19T09:45:00+00:00")
    _open(store, a, "ko", 1, "2025-05-17T08:00:00+00:00")
    record_expiry(store, a.article_id, a.revision, "ko", "2025-05-19T08:00:00+00:00")
    _open(store, b, "en", 1, "2025-05-19T07:00:00+00:00")
    record_decision(store, b.article_id, b.revision, "en", ["Reject"], {}, "reviewer_en", "2025-05-19T08:00:00+00:00")
    _open(store, c, "en", 1, "2025-05-19T09:00:00+00:00")
    record_decision(store, c.article_id, c.revision, "en", ["Approve"], {"body": ""}, "reviewer_en",
                    "2025-05-19T09:10:00+00:00")
    return store, {"a": a, "b": b, "c": c, "d": d}


def test_every_state_who_holds_it_and_for_how_long(desk_store):
    store, articles = desk_store
    report = collect_status(store, NOW, ("en", "zh", "ko"))
    rows = {(row.article_id, row.language): row for row in report.articles}
    a, b, c, d = (articles[k].article_id for k in "abcd")

    def view(key):
        row = rows[key]
        return row.state, row.holder, row.seconds, row.attempt

    assert view((a, "en"))[:2] == ("published", "portal-feed, web")
    assert rows[(a, "en")].channels == {"portal-feed": "published", "web": "published"}
    assert rows[(a, "zh")].channels == {}
    assert view((a, "zh")) == ("in review", "reviewer_zh", 45 * 60, 1)
    assert view((a, "ko")) == ("expired", "desk chief (re-open or drop)", 150 * 60, 1)
    assert view((b, "en")) == ("rejected", "desk (rejected)", 150 * 60, 1)
    assert view((c, "en")) == ("needs fix", "reviewer_en", 80 * 60, 1)
    assert view((d, "en"))[:2] == ("translating", "translate task")
    assert view((d, "ko"))[:2] == ("translating", "translate task")
    assert len(rows) == 3 + 1 + 1 + 2


def test_language_figures(desk_store):
    store, _ = desk_store
    stats = {s.language: s for s in collect_status(store, NOW, ("en", "zh", "ko")).languages}
    en = stats["en"]
    assert (en.approved, en.rejected, en.needs_fix, en.expired) == (1, 1, 1, 0)
    assert en.approval_rate == 0.5
    assert en.median_review_seconds == 20 * 60, "reviews took 20, 60 and 10 minutes"
    assert en.post_edit_effort is not None and 0 < en.post_edit_effort < 1
    ko = stats["ko"]
    assert (ko.approved, ko.rejected, ko.expired, ko.approval_rate, ko.median_review_seconds) == (0, 0, 1, None, None)
    assert stats["zh"].approval_rate is None and stats["zh"].post_edit_effort is None


def test_an_approval_not_yet_published_waits_for_the_publisher(tmp_path, demo_models):
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")
    raw = _article("Hội chợ OCOP", "en")
    article = register(store, parse_article(raw, "x.md", "tntv"), raw, "x.md")
    translate_revision(store, shared_engine(), article.article_id, article.revision)
    row = collect_status(store, NOW, ("en",)).articles[0]
    assert (row.state, row.holder) == ("translating", "translate task (draft ready)")
    record_decision(store, article.article_id, article.revision, "en", ["Approve"], {}, "reviewer_en",
                    "2025-05-19T10:00:00+00:00")
    row = collect_status(store, NOW, ("en",)).articles[0]
    assert (row.state, row.holder, row.seconds) == ("approved", "publisher (next run)", 30 * 60)


def test_cli_prints_a_table_and_json(desk_store, capsys):
    store, articles = desk_store
    assert main(["status", "--store", str(store.root)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["article", "lang", "state", "held", "by", "for", "attempt", "channels"]
    assert any("portal-feed published, web published" in line for line in text.splitlines())
    assert any(line.split()[1:3] == ["ko", "expired"] for line in text.splitlines())
    assert any(line.startswith("en ") and "50%" in line for line in text.splitlines())

    assert main(["status", "--json", "--store", str(store.root)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {(r["article_id"], r["language"], r["state"]) for r in payload["articles"]} >= {
        (articles["b"].article_id, "en", "rejected"), (articles["c"].article_id, "en", "needs fix")}
    assert [s["language"] for s in payload["languages"]] == ["en", "zh", "ko"]


def test_an_empty_store_says_so(tmp_path):
    report = collect_status(LocalStore(tmp_path / "empty"), NOW, ("en",))
    assert report.articles == []
    assert "(no articles registered)" in format_status(report)


def test_a_channel_that_refused_the_post_shows_as_failed_with_its_reason(tmp_path, demo_models):
    """A permanent 4xx from the fanpage (a real Graph API stand-in on loopback) is visible, not retried."""
    from channel_servers import GraphServer
    from foreigndesk.publish.channels.fanpage import FanpageConfig
    from foreigndesk.publish.run import run_publish
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")
    raw = _article("Hội chợ OCOP", "en")
    article = register(store, parse_article(raw, "x.md", "tntv"), raw, "x.md")
    translate_revision(store, shared_engine(), article.article_id, article.revision)
    record_decision(store, article.article_id, article.revision, "en", ["Approve"], {}, "reviewer_en",
                    "2025-05-19T10:00:00+00:00")
    graph = GraphServer()
    try:
        graph.faults.append("400")
        fanpage = FanpageConfig(base_url=graph.base_url, token=graph.token, page_id=graph.page_id)
        run_publish(store, load_settings(), fanpage=fanpage)
    finally:
        graph.stop()
    row = collect_status(store, NOW, ("en",)).articles[0]
    assert row.state == "published" and row.holder == "portal-feed, web"
    assert row.channels["fanpage"].startswith("failed: ")
    assert graph.token not in format_status(collect_status(store, NOW, ("en",)))
