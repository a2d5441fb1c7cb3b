"""Post-edit checks (is an approved text publishable?) and the post-editing effort figure."""

from __future__ import annotations

import pytest
from foreigndesk.core.decisions import Texts
from foreigndesk.core.zalo_limits import shorten
from foreigndesk.review.postedit import check_edit, edit_distance, tokens, urls, zalo_problems

SOURCE = """Hội chợ OCOP đã khai mạc. Xem [chương trình](https://tntv.vn/ocop-2025).

![Gian hàng chè](https://tntv.vn/anh/gian-hang.jpg)

Chi tiết: <https://tntv.vn/chi-tiet> và https://thainguyen.gov.vn/ocop.
"""
MACHINE = Texts(
    "OCOP fair opens",
    "The fair opened.",
    "The OCOP fair opened. See [the programme](https://tntv.vn/ocop-2025).\n\n"
    "![Tea stall](https://tntv.vn/anh/gian-hang.jpg)\n\n"
    "Details: <https://tntv.vn/chi-tiet> and https://thainguyen.gov.vn/ocop.\n",
)


def test_tokens_are_words_and_every_cjk_character():
    assert tokens("Thái Nguyên tea, 2025.") == ["Thái", "Nguyên", "tea,", "2025."]
    assert tokens("太原茶 festival") == ["太", "原", "茶", "festival"]
    assert tokens("타이응우옌 차 축제") == ["타이응우옌", "차", "축제"]


@pytest.mark.parametrize(
    ("machine", "final", "expected"),
    [
        ("a b c d", "a b c d", 0),
        ("a b c d", "a x c d", 1),
        ("a b c d", "a c d", 1),
        ("a b c d", "a b c d e f", 2),
        ("a b c d", "d c b a", 4),
        ("太原省与庆尚北道", "泰原省与庆尚北道", 1),
        ("", "new text here", 3),
    ],
)
def test_edit_distance_counts_word_edits(machine, final, expected):
    assert edit_distance(machine, final) == expected


@pytest.mark.parametrize("exact_cells", [1_000_000, 16])
def test_edit_distance_on_scattered_edits_exact_and_split(monkeypatch, exact_cells):
    """Beyond EXACT_CELLS the text is split at unchanged stretches: same figure for scattered edits."""
    import foreigndesk.review.postedit as postedit

    monkeypatch.setattr(postedit, "EXACT_CELLS", exact_cells)
    machine = " ".join(f"w{i}" for i in range(300))
    words = machine.split()
    words[10], words[150], words[290] = "x", "y", "z"
    del words[200]
    assert edit_distance(machine, " ".join(words)) == 4


def test_urls_finds_links_images_autolinks_and_bare_urls():
    assert urls(SOURCE) == {
        "https://tntv.vn/ocop-2025": "link",
        "https://tntv.vn/anh/gian-hang.jpg": "image",
        "https://tntv.vn/chi-tiet": "link",
        "https://thainguyen.gov.vn/ocop": "link",
    }


def test_an_unchanged_good_text_passes():
    assert check_edit(SOURCE, MACHINE, MACHINE) == []


def test_empty_fields_are_refused():
    problems = check_edit(SOURCE, MACHINE, Texts(" ", "", MACHINE.body))
    assert problems == ["Title is empty; write the headline.", "Summary is empty; write a one-sentence summary."]
    assert check_edit(SOURCE, MACHINE, Texts("T", "S", "\n  \n"))[0] == "Body is empty; the translation must have a text."


def test_an_empty_summary_is_fine_when_the_source_has_none():
    assert check_edit("Text.", Texts("T", "", "Text."), Texts("T", "", "Text.")) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Text.\n\n```\ncode\n", "Body: a code block opened with ``` is never closed; add the closing ``` line."),
        ("See [the programme](https://tntv.vn/ocop-2025 now.", "Body, paragraph 1: a link '](' is never closed with ')'."),
        ("Text.\n\nA **bold claim.", "Body, paragraph 2: bold '**' is opened and never closed."),
        ("Text <script>alert(1)</script>", "Body: raw HTML (<script>, <iframe>, <object>, <embed>) is not allowed; remove it."),
    ],
)
def test_broken_markdown_is_refused(body, problem):
    assert problem in check_edit("Text.", Texts("T", "", "Text."), Texts("T", "", body))


def test_lost_links_and_images_are_named():
    edited = Texts(MACHINE.title, MACHINE.summary, "The OCOP fair opened. See the programme.\n")
    assert check_edit(SOURCE, MACHINE, edited) == [
        "Body: the link https://tntv.vn/ocop-2025 from the source is missing; put it back.",
        "Body: the image https://tntv.vn/anh/gian-hang.jpg from the source is missing; put it back.",
        "Body: the link https://tntv.vn/chi-tiet from the source is missing; put it back.",
        "Body: the link https://thainguyen.gov.vn/ocop from the source is missing; put it back.",
    ]


def test_a_link_the_model_broke_must_be_repaired():
    broken = Texts("T", "", "See [the programme](https://tntv.vn/ocop 2025).")
    problems = check_edit("Xem [chương trình](https://tntv.vn/ocop_2025).", broken, broken)
    assert problems == ["Body: the link https://tntv.vn/ocop_2025 from the source is missing; put it back."]


def test_a_glossary_rendering_may_not_be_lost():
    machine = Texts("Thai Nguyen tea festival", "", "The Thai Nguyen Provincial People's Committee met.")
    terms = [{"source": "Ủy ban nhân dân tỉnh Thái Nguyên", "target": "Thai Nguyen Provincial People's Committee"}]
    edited = Texts(machine.title, "", "The Thai Nguyen People's Council met.")
    assert check_edit("Ủy ban nhân dân tỉnh Thái Nguyên họp.", machine, edited, terms) == [
        "Glossary: 'Ủy ban nhân dân tỉnh Thái Nguyên' must be rendered "
        "'Thai Nguyen Provincial People's Committee'; it is missing from your text."]
    assert check_edit("…", machine, machine, terms) == []


def test_a_glossary_error_left_in_an_unchanged_segment_is_still_an_error():
    machine = Texts("Tan Cuong tea festival", "", "Thai Nguyen Province People Committee met.\n\nTea is good.\n")
    segments = {"title": machine.title, "summary": machine.summary,
                "body.1": "Thai Nguyen Province People Committee met.", "body.2": "Tea is good."}
    findings = [
        {"check": "glossary-missing", "severity": "error", "segment": "body.1",
         "message": "'Ủy ban nhân dân' not rendered as glossary"},
        {"check": "glossary-forbidden", "severity": "warning", "segment": "body.2", "message": "style"},
        {"check": "numbers", "severity": "error", "segment": "title", "message": "not a glossary check"},
    ]
    problems = check_edit("…", machine, machine, (), findings, segments)
    assert problems == ["Glossary error still present (unchanged text): 'Ủy ban nhân dân' not rendered as glossary"]
    fixed = Texts(machine.title, "", "The Thai Nguyen Provincial People's Committee met.\n\nTea is good.\n")
    assert check_edit("…", machine, fixed, (), findings, segments) == []


# --- raw HTML: the checks never contradict each other ------------------------------------------

PLAYER = '<iframe width="560" src="https://www.youtube.com/embed/dQw4w9WgXcQ" frameborder="0"></iframe>'
#: A revision registered before intake removed raw HTML: its source body still holds the player.
OLD_SOURCE = f"Lễ hội đã khai mạc. Xem https://tntv.vn/le-hoi.\n\n{PLAYER}\n"


def test_a_url_inside_raw_html_is_not_a_link_the_translation_must_keep():
    assert urls(OLD_SOURCE) == {"https://tntv.vn/le-hoi": "link"}
    assert urls('Xem https://tntv.vn/a" và <a href="https://tntv.vn/b">b</a>.') == {"https://tntv.vn/a": "link"}


def test_removing_the_player_as_told_is_approvable_and_keeping_it_asks_only_to_remove_it():
    final = Texts("Festival", "", "The festival opened. See https://tntv.vn/le-hoi.\n")
    assert check_edit(OLD_SOURCE, final, final) == []
    kept = Texts("Festival", "", f"The festival opened. See https://tntv.vn/le-hoi.\n\n{PLAYER}\n")
    assert check_edit(OLD_SOURCE, kept, kept) == [
        "Body: raw HTML (<script>, <iframe>, <object>, <embed>) is not allowed; remove it."]


def test_the_link_intake_made_of_a_player_must_be_kept_like_any_link():
    source = "Lễ hội.\n\n[▶ Video: YouTube](https://www.youtube.com/watch?v=dQw4w9WgXcQ)\n"
    kept = Texts("Festival", "", "Festival.\n\n[▶ Video: YouTube](https://www.youtube.com/watch?v=dQw4w9WgXcQ)\n")
    assert check_edit(source, kept, kept) == []
    lost = Texts("Festival", "", "Festival.\n")
    assert check_edit(source, lost, lost) == [
        "Body: the link https://www.youtube.com/watch?v=dQw4w9WgXcQ from the source is missing; put it back."]


def test_zalo_cuts_the_form_did_not_show_send_the_approval_back():
    long_title = "word " * 40
    long_summary = "A sentence about the tea festival in Tan Cuong. " * 8
    shown = Texts(long_title, "Short.", "Body.")
    assert zalo_problems(shown, shown, "TNTV") == [], "the form showed this very cut"
    assert zalo_problems(shown, Texts("Short title", "Short.", "Body."), "TNTV") == [], "shortened by hand: no cut"
    [problem] = zalo_problems(shown, Texts(long_title, long_summary, "Body."), "TNTV")
    assert problem.startswith("Description: too long for TNTV's Zalo OA") and shorten(long_summary, 300) in problem
    [problem] = zalo_problems(Texts("Short", "S.", "B."), Texts(long_title + "more", "S.", "B."), "TNTV")
    assert problem.startswith("Title: ")
    assert zalo_problems(shown, shown, "A very long author name of a provincial department, " * 2) == [], \
        "the author comes from intake, the same in the form and on approval"
