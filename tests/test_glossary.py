"""The provincial glossary: the shipped CSV, matching rules, and ``foreigndesk glossary check``."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from foreigndesk import cli
from foreigndesk.translate.glossary import (
    OPTION_COLUMNS,
    REQUIRED_COLUMNS,
    Glossary,
    GlossaryError,
    check_glossary,
    fold,
    load_glossary,
)

SHIPPED = Path(__file__).resolve().parents[1] / "glossary"
HEADER = ",".join(REQUIRED_COLUMNS + OPTION_COLUMNS)


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "glossary.csv").write_text(text, encoding="utf-8")
    return folder


def test_shipped_glossary_is_clean_and_covers_the_plan():
    entries, problems = check_glossary(SHIPPED)
    assert problems == []
    assert len(entries) >= 80
    with open(SHIPPED / "glossary.csv", encoding="utf-8") as handle:
        assert next(csv.reader(handle))[:6] == list(REQUIRED_COLUMNS)
    by_vi = {entry.vi: entry for entry in entries}
    # partner provinces, outlets and channels, products, 2025 reorganisation: (vi, en, zh, ko)
    for vi, en, zh, ko in [
        ("tỉnh Luông Pha Băng", "Luang Prabang province", "琅勃拉邦省", "루앙프라방주"),
        ("tỉnh Gyeongsangbuk-do", "Gyeongsangbuk-do Province", "庆尚北道", "경상북도"),
        ("tỉnh Udon Thani", "Udon Thani province", "乌隆他尼府", "우돈타니주"),
        ("tỉnh Tứ Xuyên", "Sichuan province", "四川省", "쓰촨성"),
        ("tỉnh Cát Lâm", "Jilin province", "吉林省", "지린성"),
        ("Ủy ban nhân dân tỉnh Thái Nguyên", "Thai Nguyen Provincial People's Committee", "太原省人民委员会", "타이응우옌성 인민위원회"),
        ("chè Thái Nguyên", "Thai Nguyen tea", "太原茶", "타이응우옌 차"),
        ("Dynamic Thainguyen", "Dynamic Thainguyen", "Dynamic Thainguyen", "Dynamic Thainguyen"),
        ("Đặc san Trà Việt", "Tra Viet special edition", "《茶越》特刊", "《짜비엣》 특별호"),
    ]:
        entry = by_vi[vi]
        assert (entry.target("en"), entry.target("zh"), entry.target("ko")) == (en, zh, ko)
    for name in ("Inside Thainguyen", "Cửa sổ Thái Nguyên - Thainguyen Corner", "I love Thai Nguyen", "OCOP",
                 "Ban Tuyên giáo và Dân vận Tỉnh ủy", "Sở Văn hóa, Thể thao và Du lịch", "tỉnh Bắc Kạn",
                 "95 năm ngày thành lập Đảng", "50 năm Ngày giải phóng miền Nam, thống nhất đất nước"):
        assert name in by_vi, name
    former = {entry.vi: entry.successor for entry in entries if entry.status == "former"}
    assert former["Sở Thông tin và Truyền thông"] == "Sở Khoa học và Công nghệ"
    assert former["tỉnh Bắc Kạn"] == "tỉnh Thái Nguyên"
    assert all(successor in by_vi for successor in former.values())


def _find(glossary: Glossary, text: str, lang: str = "vi") -> list[tuple[str, str]]:
    return [(text[start:end], entry.target("en")) for start, end, entry in glossary.find(text, lang)]


@pytest.fixture(scope="module")
def shipped() -> Glossary:
    return load_glossary(SHIPPED)


def test_longest_match_first_whole_words_diacritics_required(shipped):
    text = "Ủy ban nhân dân tỉnh Thái Nguyên và tỉnh Thái Nguyên; Thai Nguyen; Thái Nguyênx; ĐạiThái Nguyên."
    assert _find(shipped, text) == [
        ("Ủy ban nhân dân tỉnh Thái Nguyên", "Thai Nguyen Provincial People's Committee"),
        ("tỉnh Thái Nguyên", "Thai Nguyen province"),
    ]


def test_longest_first_across_overlaps(tmp_path):
    glossary = load_glossary(_write(tmp_path / "g", HEADER + "\n"
        "Ủy ban nhân dân tỉnh,People's Committee,人民委员会,인민위원회,government,,,,,,,,\n"
        "tỉnh Thái Nguyên dài hơn,LONG,长,긴,place,,,,,,,,\n"))
    # leftmost-first would take "Ủy ban nhân dân tỉnh"; the longer term wins the shared word
    assert _find(glossary, "Ủy ban nhân dân tỉnh Thái Nguyên dài hơn") == [("tỉnh Thái Nguyên dài hơn", "LONG")]


def test_variants_tone_placement_and_sentence_capitals(shipped):
    assert fold("Uỷ ban hoà bình, khoẻ, Thuỷ") == "Ủy ban hòa bình, khỏe, Thủy"
    assert _find(shipped, "Uỷ ban nhân dân tỉnh Thái Nguyên") == [("Uỷ ban nhân dân tỉnh Thái Nguyên", "Thai Nguyen Provincial People's Committee")]
    assert _find(shipped, "UBND tỉnh Thái Nguyên họp.") == [("UBND tỉnh Thái Nguyên", "Thai Nguyen Provincial People's Committee")]
    assert _find(shipped, "Sở Văn hoá, Thể thao và Du lịch") == [("Sở Văn hoá, Thể thao và Du lịch", "Department of Culture, Sports and Tourism")]
    assert _find(shipped, "Chè Thái Nguyên ngon.") == [("Chè Thái Nguyên", "Thai Nguyen tea")]
    assert _find(shipped, "Kênh Dynamic Thai Nguyen.") == [("Dynamic Thai Nguyen", "Dynamic Thainguyen")]


def test_english_forms_for_the_pivot(shipped):
    assert _find(shipped, "The Thai Nguyen Provincial People's Committee met Jilin province officials.", "en") == [
        ("Thai Nguyen Provincial People's Committee", "Thai Nguyen Provincial People's Committee"),
        ("Jilin province", "Jilin province"),
    ]


BROKEN = HEADER + """
chè Thái Nguyên,Thai Nguyen tea,太原茶,타이응우옌 차,product,,,,,,,,
chè Thái Nguyên,Thai Nguyen tea,太原茶,타이응우옌 차,product,,,,,,,,
Thái Nguyên,Thai Nguyen,太原,타이응우옌,place,,,,,,,,
Thái Nguyên,Thainguyen,太原,타이응우옌,place,,,,,,,,
Hàn Quốc,,韩国,,country,,,,,,,,
Lào,Laos,老挝,라오스,country
Sở Ngoại vụ,Department of Foreign Affairs,外务厅,외무국,agency,,,,,,,former,
OCOP,OCOP,OCOP,OCOP,product,,,OCOP,,,maybe,,
 Tứ Xuyên,Sichuan,四川,쓰촨,partner,,,,,,,,
tỉnh Bắc Kạn,Bac Kan province,北件省,박깐성,place,,,,,,,former,tỉnh Không Có
"""


def test_check_reports_every_problem_with_its_line(tmp_path):
    _, problems = check_glossary(_write(tmp_path / "g", BROKEN))
    assert [(p.where, p.kind) for p in problems] == [
        ("glossary.csv:3", "duplicate"),
        ("glossary.csv:5", "conflict"),
        ("glossary.csv:6", "empty"),
        ("glossary.csv:6", "empty"),
        ("glossary.csv:7", "malformed"),
        ("glossary.csv:8", "malformed"),
        ("glossary.csv:8", "malformed"),
        ("glossary.csv:9", "malformed"),
        ("glossary.csv:9", "conflict"),
        ("glossary.csv:10", "malformed"),
        ("glossary.csv:11", "conflict"),
    ]
    messages = "\n".join(str(p) for p in problems)
    assert "'chè Thái Nguyên' is already defined at glossary.csv:2" in messages
    assert "also defined at glossary.csv:4 with en='Thai Nguyen'" in messages
    assert "en is empty for 'Hàn Quốc'; fill it or set dnt=yes" in messages
    assert "5 fields, the header has 13" in messages
    assert "kind 'agency' is not one of" in messages and "a former name needs a successor" in messages
    assert "dnt 'maybe' must be yes, no or empty" in messages and "forbidden_en lists the required en term 'OCOP'" in messages
    assert "has spaces at its ends" in messages
    assert "successor 'tỉnh Không Có' has no row of its own" in messages
    with pytest.raises(GlossaryError, match=r"11 problem\(s\).*run `foreigndesk glossary check`"):
        load_glossary(tmp_path / "g")


def test_check_refuses_a_bad_header_and_an_empty_folder(tmp_path):
    _, problems = check_glossary(_write(tmp_path / "g", "en,vi,zh,ko,kind,note\nx,y,z,w,term,\n"))
    assert [str(p) for p in problems] == ["glossary.csv:1: malformed: header is en,vi,zh,ko,kind,note; it must start with vi,en,zh,ko,kind,note"]
    _, problems = check_glossary(tmp_path / "empty")
    assert "no *.csv glossary here" in problems[0].message


def test_cli_glossary_check(tmp_path, capsys):
    assert cli.main(["glossary", "check", "--dir", str(SHIPPED)]) == 0
    assert capsys.readouterr().out.startswith("glossary OK: ")
    folder = _write(tmp_path / "g", BROKEN)
    assert cli.main(["glossary", "check", "--dir", str(folder)]) == 1
    captured = capsys.readouterr()
    assert f"{folder}/glossary.csv:3: duplicate: 'chè Thái Nguyên'" in captured.out
    assert "11 problem(s)" in captured.err
