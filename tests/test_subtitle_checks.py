"""The subtitle checks in the QA registry: reading speed and line width per language, empty cues.

The same text at the same timing passes in English and fails in Chinese and Korean: their
limits are lower (Netflix Timed Text Style Guides: EN 17 cps / 42 per line, ZH 9 cps / 16,
KO 12 cps / 16 with Latin letters and spaces counting half).
"""

from __future__ import annotations

from foreigndesk.core.cues import READING_LIMITS, Cue, cue_blocks, line_length
from foreigndesk.translate.qa import CHECKS, DocumentResult, run_checks
from foreigndesk.translate.qa.subtitle_checks import SEGMENT, SUBTITLE_CHECKS


def _findings(cues: list[Cue], language: str) -> list[tuple[str, str]]:
    document = DocumentResult(SEGMENT, language, "", cue_blocks(cues))
    return [(finding.check, finding.severity) for finding in run_checks([], [document])]


def test_the_checks_are_in_the_registry():
    assert set(SUBTITLE_CHECKS) <= set(CHECKS)


def test_the_limits_and_their_source():
    assert {lang: (limit.chars_per_second, limit.chars_per_line) for lang, limit in READING_LIMITS.items()} == \
        {"en": (17, 42), "zh": (9, 16), "ko": (12, 16)}
    assert all("Netflix Timed Text Style Guide" in limit.source for limit in READING_LIMITS.values())


def test_the_same_speed_is_fine_in_english_and_too_fast_in_chinese_and_korean():
    english = [Cue(0, 2000, "Tea season starts in March.")]  # 27 characters in 2 s: 13.5 cps
    assert _findings(english, "en") == []
    chinese = [Cue(0, 2000, "今年的采茶季从三月开始了呢")]  # 13 characters in 2 s: 6.5 cps
    assert _findings(chinese, "zh") == []
    assert _findings([Cue(0, 1000, "今年的采茶季从三月开始了")], "zh") == [("subtitle-reading-speed", "warning")]
    korean = [Cue(0, 1000, "올해 차 수확은 3월에 시작")]  # 10 Hangul + 5 half-width = 12.5 per second
    assert _findings(korean, "ko") == [("subtitle-reading-speed", "warning")]
    assert _findings([Cue(0, 1000, "Tea season starts.")], "en") == [("subtitle-reading-speed", "warning")]


def test_lines_wider_than_the_language_allows_and_a_third_line():
    assert _findings([Cue(0, 10000, "一二三四五六七八九十一二三四五六七")], "zh") == [("subtitle-line-length", "warning")]
    assert _findings([Cue(0, 10000, "一二三四五六七八九十一二三四五六")], "zh") == []
    assert line_length("차 AB", "ko") == 2.5
    assert _findings([Cue(0, 10000, "One\nTwo\nThree")], "en") == [("subtitle-line-length", "warning")]


def test_an_empty_cue_is_an_error():
    assert _findings([Cue(0, 2000, "Hello."), Cue(2000, 3000, "…")], "en") == [("subtitle-empty", "error")]


def test_articles_are_not_read_as_cues():
    document = DocumentResult("body", "zh", "", "今年的采茶季从三月开始了今年的采茶季从三月开始了")
    assert not [f for f in run_checks([], [document]) if f.check in SUBTITLE_CHECKS]
