"""Every QA check fires on a crafted defect and stays silent on the same segment done right."""

from __future__ import annotations

import pytest
from foreigndesk.translate.glossary import Term
from foreigndesk.translate.markdown_inline import inline_unit
from foreigndesk.translate.memory import MemoryRecord
from foreigndesk.translate.placeholders import mask, restore
from foreigndesk.translate.qa import (
    CHECKS,
    Check,
    DocumentResult,
    SegmentResult,
    numbers,
    repeated_runs,
    run_checks,
)

TEA = Term("chè Thái Nguyên", "Thai Nguyen tea", "太原茶", "타이응우옌 차", "product", where="g.csv:2")
TAN_CUONG = Term("chè Tân Cương", "Tan Cuong tea", "太原新疆茶", "떤끄엉 차", "product",
                  forbidden={"en": ("Xinjiang",), "ko": ("신장",)}, where="g.csv:3")
OLD_DEPT = Term("Sở Thông tin và Truyền thông", "Department of Information and Communications", "信息传媒厅", "정보통신국",
                 "government", note="Merged in 2025.", status="former", successor="Sở Khoa học và Công nghệ", where="g.csv:4")
PROGRAMME = Term("Việt Nam, you love?", "", "", "", "programme", dnt=True, where="g.csv:5")


def seg(source: str, target: str, language: str = "en", **extra) -> SegmentResult:
    return SegmentResult(unit=inline_unit("body.1", "p", source)[0], language=language, target=target, **extra)


def _restored(output: str):
    unit = inline_unit("body.1", "p", "Xem **chè** ở đây.")[0]
    masked = mask(unit.tokens)
    return restore(output, masked, lambda _, slot: slot.value)[1]


MEMORY = MemoryRecord("vi", "en", "Chè ngon.", "Good tea.", "tntv-1", "abc", "body.1", "reviewer_en",
                      "2025-05-19T09:00:00+00:00", "decisions/tntv-1/abc/en/001.json")
SOURCE_MD = "# Tiêu đề\n\n- Một\n- Hai\n\nXem [trang](https://a.vn) và ![ảnh](b.jpg).\n"

#: check id -> (defect, clean, a phrase the defect's message must contain)
CASES = {
    "glossary-missing": (
        seg("Chè Thái Nguyên và chè Thái Nguyên.", "Thai Nguyen tea and Thai tea.", terms=(TEA, TEA)),
        seg("Chè Thái Nguyên và chè Thái Nguyên.", "Thai Nguyen tea and thai Nguyen tea.", terms=(TEA, TEA)),
        "'chè Thái Nguyên' must be translated 'Thai Nguyen tea' (glossary g.csv:2); 2 in the source, 1 in the translation",
    ),
    "glossary-forbidden": (
        seg("Chè Tân Cương nổi tiếng.", "Tan Cuong tea, or Xinjiang tea, is famous.", terms=(TAN_CUONG,)),
        seg("Chè Tân Cương nổi tiếng.", "Tan Cuong tea is famous.", terms=(TAN_CUONG,)),
        "'Xinjiang' is a forbidden rendering of 'chè Tân Cương'",
    ),
    "glossary-former-name": (
        seg("Sở Thông tin và Truyền thông họp.", "Department of Information and Communications met.", terms=(OLD_DEPT,)),
        seg("Chè Thái Nguyên.", "Thai Nguyen tea.", terms=(TEA,)),
        "is a former name; now 'Sở Khoa học và Công nghệ'",
    ),
    "placeholders": (
        seg("Xem **chè** ở đây.", "See tea here.", placeholder_problems=tuple(_restored("See tea [1] here."))),
        seg("Xem **chè** ở đây.", "See **tea** here.", placeholder_problems=tuple(_restored("See [0] tea [1] here."))),
        "markup '**'…'**' lost",
    ),
    "placeholders-altered": (
        seg("Xem **chè** ở đây.", "See **tea** here.", placeholder_problems=tuple(_restored("See ［0］ tea [1] here."))),
        seg("Xem **chè** ở đây.", "See **tea** here.", placeholder_problems=tuple(_restored("See [0] tea [1] here."))),
        "came back as '［0］'",
    ),
    "numbers": (
        seg("Tăng 8,5% lên 1.234 tỷ đồng ngày 14/3/2025.", "Up 8,5% to 1,234 billion dong on 14 March 2025."),
        seg("Tăng 8,5% lên 1.234 tỷ đồng ngày 14/3/2025.", "Up 8.5% to 1,234 billion dong on 14 March 2025."),
        "8,5 of the source is missing or changed",
    ),
    "untranslated": (
        seg("Chè nổi tiếng với chương trình Việt Nam, you love?", "Tea nổi tiếng with the Việt Nam, you love? show.", terms=(PROGRAMME,)),
        seg("Chè nổi tiếng với chương trình Việt Nam, you love?", "Tea is famous for the Việt Nam, you love? show.", terms=(PROGRAMME,)),
        "2 Vietnamese word(s) left in the translation: nổi tiếng",
    ),
    "length-ratio": (
        seg("Chè Thái Nguyên nổi tiếng khắp cả nước và thế giới.", "Tea."),
        seg("Chè Thái Nguyên nổi tiếng khắp cả nước và thế giới.", "Thai Nguyen tea is famous nationwide and worldwide."),
        "the translation is 0.08× the source's length; en is usually 0.5–2.0×",
    ),
    "repeated-tokens": (
        seg("Chè của tỉnh.", "Tea of of of of the province.", ),
        seg("Rất rất rất rất ngon.", "Very very very very tasty."),
        "'of' repeats 4 times in a row",
    ),
    "markdown-structure": (
        DocumentResult("body", "en", SOURCE_MD, "# Title\n\n- One Two\n\nSee page and ![photo](b.jpg).\n"),
        DocumentResult("body", "en", SOURCE_MD, "# Title\n\n- One\n- Two\n\nSee [page](https://a.vn) and ![photo](b.jpg).\n"),
        "the source has 1 links, the translation 0",
    ),
    "subtitle-empty": (
        DocumentResult("cues", "en", "", "1\n00:00:01.000 --> 00:00:03.000\nTea.\n\n2\n00:00:03.000 --> 00:00:05.000\n…\n"),
        DocumentResult("cues", "en", "", "1\n00:00:01.000 --> 00:00:03.000\nTea\n\n2\n00:00:03.000 --> 00:00:05.000\nseason.\n"),
        "cue 2 (00:00:03.000 --> 00:00:05.000) has no text",
    ),
    "subtitle-reading-speed": (
        DocumentResult("cues", "zh", "", "1\n00:00:01.000 --> 00:00:02.000\n今年的采茶季从三月开始\n"),
        DocumentResult("cues", "en", "", "1\n00:00:01.000 --> 00:00:02.000\nTea season: March\n"),
        "11.0 characters per second, above 9 for 中文",
    ),
    "subtitle-line-length": (
        DocumentResult("cues", "ko", "", "1\n00:00:01.000 --> 00:00:09.000\n올해 차 수확은 삼월에 시작됩니다 여러분\n"),
        DocumentResult("cues", "ko", "", "1\n00:00:01.000 --> 00:00:09.000\n올해 차 수확은\n삼월에 시작됩니다\n"),
        "a line of 19.5 characters, above 16 for 한국어",
    ),
    "memory": (
        seg("Chè ngon.", "Good tea.", memory=MEMORY),
        seg("Chè ngon.", "Good tea."),
        "reused the translation approved by reviewer_en on 2025-05-19 (article tntv-1, body.1)",
    ),
}


def test_every_registered_check_has_a_case():
    assert set(CASES) == set(CHECKS)
    for check in CHECKS.values():
        assert check.name and check.description and check.severity in ("error", "warning", "info")


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_fires_on_the_defect(check_id):
    defect, _, phrase = CASES[check_id]
    problems = CHECKS[check_id].problems(defect)
    assert problems and any(phrase in message for message in problems), problems


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_is_silent_on_clean_text(check_id):
    _, clean, _ = CASES[check_id]
    assert CHECKS[check_id].problems(clean) == []


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_clean_text_passes_every_check(check_id):
    """A clean case is clean for all checks, not only its own (except the memory marker)."""
    _, clean, _ = CASES[check_id]
    segments, documents = ([], [clean]) if isinstance(clean, DocumentResult) else ([clean], [])
    findings = [f for f in run_checks(segments, documents) if f.check != "glossary-former-name"]
    assert findings == []


def test_findings_carry_check_severity_segment_message():
    defect = CASES["numbers"][0]
    findings = run_checks([defect])
    assert [f.as_dict() for f in findings if f.check == "numbers"][0] == {
        "check": "numbers", "severity": "error", "segment": "body.1",
        "message": "8,5 of the source is missing or changed in the translation",
    }


def test_a_broken_check_is_a_finding_not_a_crash():
    class Broken(Check):
        id, name, description, severity = "broken", "Broken", "always fails", "warning"

        def problems(self, item):
            raise KeyError("x")

    findings = run_checks([CASES["memory"][1]], checks=[Broken()])
    assert [(f.check, f.severity) for f in findings] == [("broken", "error")]
    assert "the check itself failed (KeyError" in findings[0].message


@pytest.mark.parametrize(
    "source, target, language",
    [
        ("1.234,5 triệu", "1,234.5 million", "en"),
        ("1,5 tỷ đồng", "15亿越南盾", "zh"),
        ("1,5 tỷ đồng", "15억 동", "ko"),
        ("ngày 30/4/1975", "April 30, 1975", "en"),
        ("95 năm", "95th anniversary", "en"),
    ],
)
def test_numbers_in_each_notation(source, target, language):
    assert CHECKS["numbers"].problems(seg(source, target, language)) == []


def test_number_parsing():
    assert numbers("8,5% và 1.234.567", "vi") == [("8,5", {8.5}), ("1.234.567", {1234567.0})]
    assert numbers("8.5% and 1,234,567", "en") == [("8.5", {8.5}), ("1,234,567", {1234567.0})]


def test_untranslated_latin_runs_in_chinese_and_korean():
    check = CHECKS["untranslated"]
    assert check.problems(seg("Thái Nguyên hợp tác", "太原 cooperation with Luang Prabang today", "zh")) == [
        "Latin text left untranslated: 'cooperation with Luang Prabang today'"]
    assert check.problems(seg("Thái Nguyên hợp tác", "태원과 Luang Prabang 협력", "ko")) == []


def test_repeated_runs():
    assert repeated_runs("的的的的省") == {("的",): 4}
    assert repeated_runs("a b c a b c a b c") == {("a", "b", "c"): 3}
    assert repeated_runs("... ... ... ...") == {}


def test_units_from_memory_get_only_the_glossary_checks():
    """A person approved them: numbers or leftover words are not re-flagged, a glossary change is."""
    approved = seg("Chè Thái Nguyên tăng 8,5%.", "Thai tea nổi tiếng up 8,5%.", terms=(TEA,), memory=MEMORY)
    assert sorted(f.check for f in run_checks([approved])) == ["glossary-missing", "memory"]
    machine = seg("Chè Thái Nguyên tăng 8,5%.", "Thai tea nổi tiếng up 8,5%.", terms=(TEA,))
    assert {"glossary-missing", "numbers", "untranslated"} <= {f.check for f in run_checks([machine])}
