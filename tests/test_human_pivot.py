"""The human pivot without Airflow: Chinese and Korean drafted from the English a reviewer approved."""

from __future__ import annotations

import pytest

from foreigndesk.core.drafts import load_draft
from foreigndesk.core.settings import SettingsError, load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.review.form import build_form
from foreigndesk.translate.human_pivot import draft_after_english, first_languages, later_languages
from foreigndesk.translate.pipeline import translate_revision
from quality_desk import add_article, article_bytes, open_for, review

TITLE = "Hội chợ chè tỉnh Thái Nguyên"
BODY = "Hội chợ chè năm 2025 đón du khách.\n\n- Gian hàng chè\n"


@pytest.fixture
def english_first(tmp_path, demo_models):
    """An article whose English alone is drafted, as the translate task does with FOREIGNDESK_PIVOT=approved."""
    from foreigndesk.translate.engine import shared_engine

    store = LocalStore(tmp_path / "store")
    article = add_article(store, article_bytes(TITLE, BODY), "a.md", translate=False)
    drafts = translate_revision(store, shared_engine(), article.article_id, article.revision,
                                languages=first_languages(article.languages, "approved"))
    assert [d.language for d in drafts] == ["en"]
    assert not store.exists(f"drafts/{article.article_id}/{article.revision}/zh.json")
    return store, article


def test_modes_and_setting():
    assert first_languages(("en", "zh", "ko"), "machine") == ["en", "zh", "ko"]
    assert later_languages(("en", "zh", "ko"), "machine") == []
    assert (first_languages(("en", "zh", "ko"), "approved"), later_languages(("en", "zh", "ko"), "approved")) == (
        ["en"], ["zh", "ko"])
    assert first_languages(("zh", "ko"), "approved") == ["zh", "ko"], "no English review to wait for"
    assert load_settings({}).pivot == "machine"
    assert load_settings({"FOREIGNDESK_PIVOT": "approved"}).pivot == "approved"
    with pytest.raises(SettingsError, match="FOREIGNDESK_PIVOT"):
        load_settings({"FOREIGNDESK_PIVOT": "human"})


def test_an_english_edit_reaches_the_chinese_and_korean_drafts(english_first):
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.human_pivot import english_outcome

    store, article = english_first
    machine = load_draft(store, article.article_id, article.revision, "en")
    assert (machine.title, machine.body) == ("Hội chợ tea Thai Nguyen province",
                                             "Hội chợ tea year 2025 đón du khách.\n\n- Gian hàng tea\n")
    review(store, article, "en", "2025-05-19T08:00:00+00:00",
           fields={"title": "Thai Nguyen province tourism fair",
                   "body": "Tourism fair of tea, year 2025.\n\n- Tea cooperation\n"})
    english = english_outcome(store, article.article_id, article.revision)
    assert english.approved and english.reference.endswith("/en/001.json")
    drafts = {d.language: d for d in draft_after_english(store, shared_engine(), article.article_id,
                                                          article.revision, ["zh", "ko"], english)}
    # The reviewer's words, through the demo en→zh / en→ko lexicons; the glossary term masked in the
    # approved English comes back as each language's official term.
    assert drafts["zh"].title == "太原省 旅游 fair"
    assert drafts["zh"].body == "旅游 fair 的 茶, 年 2025.\n\n- 茶 合作\n"
    assert drafts["ko"].title == "타이응우옌성 관광 fair"
    assert drafts["ko"].body == "관광 fair 의 차, 년 2025.\n\n- 차 협력\n"
    assert drafts["zh"].pivot == {"from": "approved", "decision": english.reference, "reviewer": "reviewer_en",
                                  "units": {"title": "Thai Nguyen province tourism fair",
                                            "body.1": "Tourism fair of tea, year 2025.",
                                            "body.2": "Tea cooperation"}}
    assert drafts["zh"].model_name == "translate-en_zh-demo", "vi→en was never run for these units"

    form = build_form(store, article.article_id, article.revision, "zh")
    assert "**Drafted from the approved English** (by reviewer\\_en)" in form.body  # names quoted as text
    assert "| | Tiếng Việt (source) | English (approved) | 中文 (machine) |" in form.body
    assert any(line.startswith("| Title |") and "Thai Nguyen province tourism fair" in line and "旅游" in line
               for line in form.body.splitlines())


@pytest.mark.parametrize("answer", ["Reject", "expire"])
def test_without_an_approved_english_the_machine_english_is_used_and_flagged(english_first, answer):
    from foreigndesk.review.rounds import record_expiry
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.human_pivot import english_outcome

    store, article = english_first
    if answer == "Reject":
        review(store, article, "en", "2025-05-19T08:00:00+00:00", option="Reject",
               fields={"title": "Thai Nguyen province tourism fair"})
    else:
        open_for(store, article, "en", "2025-05-19T08:00:00+00:00")
        record_expiry(store, article.article_id, article.revision, "en", "2025-05-21T08:00:00+00:00")
    english = english_outcome(store, article.article_id, article.revision)
    assert not english.approved and english.reference == {"Reject": "rejected", "expire": "expired"}[answer]
    [zh] = draft_after_english(store, shared_engine(), article.article_id, article.revision, ["zh"], english)
    assert zh.title == "Hội chợ 茶 太原省", "from the machine English, not the rejected edit"
    assert zh.pivot == {"from": "machine", "reason": english.reference}
    form = build_form(store, article.article_id, article.revision, "zh")
    assert f"**⚠ Drafted from the machine English:** the English review ended {english.reference}" in form.body
    assert "English (approved)" not in form.body
