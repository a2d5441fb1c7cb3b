"""Translation by cue: sentences spread back over their cues, and the cue text form every stage shares.

Properties (hypothesis): whatever the cue lengths and the translation, every cue keeps its
timing, none is dropped or merged, none is empty while the translation has text for it,
and the parts read back as the whole translation.
"""

from __future__ import annotations

import re

from foreigndesk.core.cues import (
    Cue,
    CueTextError,
    as_markdown,
    cue_blocks,
    from_markdown,
    joined,
    read_cue_blocks,
    sentence_groups,
    timestamp,
    transcript,
)
from foreigndesk.translate.cues import CONTINUED, distribute, translated_cues, wrap
from foreigndesk.translate.markdown import parse
from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

WORD = st.text(alphabet=st.sampled_from("abcdefghij太原茶龍한국어ÀàĐđ.,!?-*#1"), min_size=1, max_size=8)
TEXT = st.lists(WORD, min_size=1, max_size=40).map(" ".join)
CUE_TEXT = st.lists(WORD, min_size=1, max_size=6).map(" ".join)


@st.composite
def clips(draw):
    """Cues in time order, gaps allowed, each with some Vietnamese-like text."""
    cues, at = [], draw(st.integers(0, 5000))
    for text in draw(st.lists(CUE_TEXT, min_size=1, max_size=12)):
        start = at + draw(st.integers(0, 2000))
        end = start + draw(st.integers(1, 7000))
        cues.append(Cue(start, end, text))
        at = end
    return cues


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, weights=st.lists(st.integers(0, 80), min_size=1, max_size=12))
def test_distribute_keeps_every_part_and_the_whole_text(text, weights):
    parts = distribute(text, weights)
    assert len(parts) == len(weights)
    assert all(part.strip() for part in parts), "no empty cue while the text is not empty"
    filled = [part for part in parts if part != CONTINUED]
    assert _squeezed("".join(filled)) == _squeezed(text)
    if len(text.split()) >= len(weights) and not re.search("[太原茶龍한국어]", text):
        assert " ".join(filled) == " ".join(text.split()), "cut between words, every word kept once"


@settings(max_examples=200, deadline=None)
@given(cues=clips(), language=st.sampled_from(["en", "zh", "ko"]), data=st.data())
def test_translated_cues_keep_count_and_timings(cues, language, data):
    runs = sentence_groups(cues)
    translations = [data.draw(TEXT) for _ in runs]
    out = translated_cues(cues, [as_markdown(text) for text in translations], language)
    assert [(cue.start_ms, cue.end_ms) for cue in out] == [(cue.start_ms, cue.end_ms) for cue in cues]
    assert all(cue.text.strip() for cue in out)
    assert all(len(cue.text.splitlines()) <= 2 for cue in out)
    for group, text in zip(runs, translations):
        spread = "".join(out[index].text for index in group if out[index].text != CONTINUED)
        assert _squeezed(spread) == _squeezed(text)


@settings(max_examples=200, deadline=None)
@given(cues=clips())
def test_cue_blocks_read_back_as_the_same_cues(cues):
    assert read_cue_blocks(cue_blocks(cues)) == [Cue(c.start_ms, c.end_ms, " ".join(c.text.split())) for c in cues]


@settings(max_examples=200, deadline=None)
@given(cues=clips())
def test_the_transcript_is_one_paragraph_per_sentence_run(cues):
    units = parse(transcript(cues)).units
    runs = sentence_groups(cues)
    assert [unit.id for unit in units] == [f"body.{n}" for n in range(1, len(runs) + 1)]
    for unit, run in zip(units, runs):
        assert from_markdown(unit.text) == joined(cues, run)


def test_a_sentence_over_two_cues_is_one_run_and_spread_by_length():
    cues = [Cue(0, 2000, "Chào mừng quý vị đến với vùng chè Tân Cương,"), Cue(2000, 4000, "tỉnh Thái Nguyên."),
            Cue(4500, 6000, "Xin cảm ơn!")]
    assert sentence_groups(cues) == [[0, 1], [2]]
    out = translated_cues(cues, ["Welcome to the Tan Cuong tea region, Thai Nguyen province.", "Thank you!"], "en")
    assert [cue.text for cue in out] == ["Welcome to the Tan Cuong tea region,", "Thai Nguyen province.", "Thank you!"]


def test_chinese_is_cut_between_characters():
    assert distribute("欢迎来到太原省新疆茶区。", [30, 30]) == ["欢迎来到太原", "省新疆茶区。"]


def test_a_long_line_is_wrapped_to_two_balanced_lines():
    assert wrap("Visitors from abroad can pick tea together with the local farmers.", "en") == \
        "Visitors from abroad can pick tea\ntogether with the local farmers."
    assert wrap("Short line.", "en") == "Short line."


def test_a_block_without_its_timing_line_names_the_cue():
    with pytest.raises(CueTextError, match="cue 2: the line 'Hello' is not a timing"):
        read_cue_blocks("1\n00:00:01.000 --> 00:00:02.000\nHi\n\n2\nHello\n")


def test_timestamps():
    assert timestamp(3_723_004) == "01:02:03.004" and timestamp(5, ",") == "00:00:00,005"
