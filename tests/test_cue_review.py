"""A clip in review: the cue table in the form, and what an Approve must keep.

Real records: the example clip registered and translated with the demo models, the
review's decision recorded through ``record_decision`` (the same call the review task makes).
"""

from __future__ import annotations

import pytest
from clip_rig import ZH_CUES, drop_clip, ingest_and_translate, with_texts
from foreigndesk.core.cues import read_cue_blocks
from foreigndesk.core.store import LocalStore
from foreigndesk.review.form import build_form
from foreigndesk.review.rounds import record_decision
from foreigndesk.translate.memory import TranslationMemory, remember_decision


@pytest.fixture
def clip(tmp_path, demo_models):
    store = LocalStore(tmp_path / "store")
    drop_clip(tmp_path / "inbox")
    registered, drafts = ingest_and_translate(store, tmp_path / "inbox")
    return store, registered, drafts


def _answer(store, registered, draft, body: str, option: str = "Approve"):
    fields = {"title": draft.title, "summary": draft.summary, "body": body, "note": ""}
    return record_decision(store, registered.article_id, registered.revision, draft.language, [option], fields,
                           reviewer=f"reviewer_{draft.language}", decided_at="2025-05-21T09:00:00+00:00")


def test_the_form_shows_a_cue_table_and_prefills_the_cue_blocks(clip):
    store, registered, drafts = clip
    form = build_form(store, registered.article_id, registered.revision, "zh")
    rows = [line for line in form.body.splitlines() if line.startswith("| 1 |") or line.startswith("| 5 |")]
    assert rows[0].startswith("| 1 | 00:00:01.000 → 00:00:04.500 | Chào mừng quý vị đến với / vùng chè Tân Cương, |")
    assert rows[1].startswith("| 5 | 00:00:16.500 → 00:00:21.000 | Du khách quốc tế")
    assert "9 characters per second, 16 per line" in form.body and "Netflix Timed Text Style Guide" in form.body
    assert form.defaults["body"] == drafts["zh"].body
    assert len(read_cue_blocks(form.defaults["body"])) == 5


def test_edited_text_with_the_timings_kept_is_approved_and_teaches_the_memory(clip):
    store, registered, drafts = clip
    decision = _answer(store, registered, drafts["zh"], with_texts(drafts["zh"].body, ZH_CUES))
    assert decision.approved, decision.problems
    assert remember_decision(store, decision) >= 3
    memory = TranslationMemory(store)
    hit = memory.lookup("vi", "zh", "Chào mừng quý vị đến với vùng chè Tân Cương, tỉnh Thái Nguyên.")
    assert hit is not None and hit.target == "欢迎来到太原新疆茶产区，太原省。", "the sentence over two cues is remembered whole"


def test_a_changed_timing_is_sent_back(clip):
    store, registered, drafts = clip
    body = with_texts(drafts["zh"].body, ZH_CUES).replace("00:00:12.000 --> 00:00:16.000", "00:00:12.000 --> 00:00:18.000")
    decision = _answer(store, registered, drafts["zh"], body)
    assert decision.outcome == "needs_fix"
    assert decision.problems == ["Subtitles, cue 4: timing changed from 00:00:12.000 --> 00:00:16.000 to "
                                 "00:00:12.000 --> 00:00:18.000; timings come from the clip, put the original back."]


def test_an_emptied_or_removed_cue_is_sent_back(clip):
    store, registered, drafts = clip
    emptied = _answer(store, registered, drafts["zh"], with_texts(drafts["zh"].body, ZH_CUES[:2] + ["…"] + ZH_CUES[3:]))
    assert emptied.outcome == "needs_fix" and emptied.problems == [
        "Subtitles, cue 3 (00:00:08.500 --> 00:00:12.000): emptied; every cue needs its text."]
    blocks = drafts["en"].body.split("\n\n")  # another language: one answer per review attempt
    removed = _answer(store, registered, drafts["en"], "\n\n".join(blocks[:4]))
    assert removed.outcome == "needs_fix"
    assert any("4 cues where the clip has 5; keep every cue" in problem for problem in removed.problems)


def test_reading_too_fast_is_sent_back(clip):
    store, registered, drafts = clip
    fast = [ZH_CUES[0], "太原省是越南北部的一个省份以茶叶\n闻名全国每年吸引很多外国游客来访"] + ZH_CUES[2:]  # 32 in 3.5 s
    decision = _answer(store, registered, drafts["zh"], with_texts(drafts["zh"].body, fast))
    assert decision.outcome == "needs_fix"
    assert decision.problems == ["Subtitles, cue 2 (00:00:04.500 --> 00:00:08.000): 9.1 characters per second, "
                                 "above 9 for 中文; shorten the text."]
    english = ["Welcome to the Tan Cuong tea region,", "Thai Nguyen province.", "This year's tea harvest",
               "begins in March.", "Visitors from abroad can pick tea with the villagers."]
    assert _answer(store, registered, drafts["en"], with_texts(drafts["en"].body, english)).approved, \
        "the same pace in English is readable"
