"""The review form a translator sees, and the decision record their answer leaves."""

from __future__ import annotations

import pytest

from conftest import REPO
from foreigndesk.review import build_form, decision_key, record_decision, reviewers_for

EXAMPLE = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"


@pytest.fixture
def translated(translate_example):
    return translate_example(EXAMPLE.name, "tntv")


def test_form_shows_demo_warning_first_then_source_and_translation(translated):
    store, article, drafts = translated
    form = build_form(store, article.article_id, article.revision, "zh")
    lines = form.body.splitlines()
    assert lines[0].startswith("**⚠ DEMO MODEL — not a real translation")
    assert form.subject == "[ZH] Lễ hội Trà Tân Cương thu hút du khách quốc tế — Đài PT-TH Thái Nguyên (TNTV)"
    assert "**¶1 — vi**" in form.body and "**¶3 — zh**" in form.body
    assert "> Chè Thái Nguyên là sản phẩm OCOP chủ lực của tỉnh." in form.body
    assert f"> {drafts['zh'].body.split(chr(10))[2]}" in form.body
    assert form.defaults == {"title": drafts["zh"].title, "summary": drafts["zh"].summary,
                             "body": drafts["zh"].body, "note": ""}
    assert form.assigned_users == ["reviewer_zh"]


def test_reviewers_come_from_configuration_with_a_default_per_language():
    assert reviewers_for("ko", None) == ["reviewer_ko"]
    assert reviewers_for("ko", {"ko": ["kim", "park"]}) == ["kim", "park"]
    assert reviewers_for("en", {"ko": ["kim"]}) == ["reviewer_en"]


def test_decision_is_written_once_and_a_retry_gets_the_first(translated):
    store, article, drafts = translated
    first = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                            {"title": "Edited", "body": "Edited body.\n", "note": "ok"}, "reviewer_en",
                            "2025-05-19T08:00:00+00:00")
    retry = record_decision(store, article.article_id, article.revision, "en", ["Reject"], {}, "reviewer_en",
                            "2025-05-19T09:00:00+00:00")
    assert retry == first
    assert first.approved and first.title == "Edited" and first.machine_body == drafts["en"].body
    assert store.exists(decision_key(article.article_id, article.revision, "en"))


def test_missing_fields_fall_back_to_the_machine_text(translated):
    store, article, drafts = translated
    decision = record_decision(store, article.article_id, article.revision, "ko", ["Reject"], {}, "reviewer_ko",
                               "2025-05-19T08:00:00+00:00")
    assert not decision.approved
    assert decision.body == drafts["ko"].body and decision.note == ""
