"""Markdown units, placeholders and sentences: what the model sees and how it is put back."""

from __future__ import annotations

import textwrap

import pytest
from foreigndesk.translate.markdown import parse
from foreigndesk.translate.markdown_inline import inline_unit, plain_text
from foreigndesk.translate.placeholder_styles import PLACEHOLDER_STYLES
from foreigndesk.translate.placeholders import Slot, mask, restore
from foreigndesk.translate.sentences import join_sentences, split_sentences

DOC = textwrap.dedent("""\
    # Tiêu đề **đậm** #

    Dòng một
    dòng hai.  
    Dòng ba sau ngắt dòng.

    - Mục [liên kết](https://a.vn/x_y "t") một
    * [ ] Việc cần làm
      1. Mục con

    > Trích dẫn
    > nối tiếp
    >
    > > Lồng nhau

    | A | `b|c` |
    |:--|--:|
    |  ô 1 | ô \\| 2 |

    ![Ảnh *đẹp*](<https://a.vn/ảnh 1.jpg> 'Chú thích')

    ~~~
    # không phải tiêu đề
    ~~~

        mã thụt lề

    <div class="x">
    HTML giữ nguyên
    </div>

    [ref]: https://a.vn/ref "Tham chiếu"

    Tiêu đề setext
    ==============

    ***
    """)


def _texts(document):
    return {unit.id: unit.text for unit in document.units}


def test_units_of_every_block_kind():
    document = parse(DOC)
    assert [(unit.id, unit.kind, unit.text) for unit in document.units] == [
        ("body.1", "h1", "Tiêu đề **đậm**"),
        ("body.2", "p", "Dòng một dòng hai."),
        ("body.3", "p", "Dòng ba sau ngắt dòng."),
        ("body.4", "li", 'Mục [liên kết](https://a.vn/x_y "t") một'),
        ("body.5", "li", "Việc cần làm"),
        ("body.6", "li", "Mục con"),
        ("body.7", ">p", "Trích dẫn nối tiếp"),
        ("body.8", ">>p", "Lồng nhau"),
        ("body.9", "cell", "A"),
        ("body.10", "cell", "`b|c`"),
        ("body.11", "cell", "ô 1"),
        ("body.12", "cell", "ô \\| 2"),
        ("body.13", "p", "![Ảnh *đẹp*](<https://a.vn/ảnh 1.jpg> 'Chú thích')"),
        ("body.13.img1.alt", "alt", "Ảnh *đẹp*"),
        ("body.13.img1.title", "img-title", "Chú thích"),
        ("body.14", "p", "Tiêu đề setext"),
    ]


def test_template_keeps_every_mark_and_joins_soft_wraps():
    document = parse(DOC)
    rendered = document.render(_texts(document))
    assert rendered == DOC.replace("Dòng một\ndòng hai.  ", "Dòng một dòng hai.  ").replace(
        "> Trích dẫn\n> nối tiếp", "> Trích dẫn nối tiếp")
    again = parse(rendered)
    assert again.structure() == document.structure()
    assert again.render(_texts(again)) == rendered


def test_translated_units_land_behind_their_markup():
    document = parse(DOC)
    upper = {unit_id: text.upper() for unit_id, text in _texts(document).items()}
    rendered = document.render(upper)
    assert "# TIÊU ĐỀ **ĐẬM** #\n" in rendered
    assert "* [ ] VIỆC CẦN LÀM\n  1. MỤC CON\n" in rendered
    assert "|  Ô 1 | Ô \\| 2 |" in rendered and "|:--|--:|" in rendered
    assert "# không phải tiêu đề" in rendered and "    mã thụt lề" in rendered and "HTML giữ nguyên" in rendered


def test_inline_masking_and_restoring():
    unit = inline_unit("body.1", "p", 'Xem **chè [Tân Cương](https://x.vn/a_b)** và `mã_1`, ảnh ![Đồi](d.jpg "Tựa") tại https://t.vn/x_y.')
    parent, alt, title = unit
    masked = mask(parent.tokens)
    assert masked.text == "Xem [0] chè [1] Tân Cương [2] [3] và [4], ảnh [5] tại [6]."
    assert [slot.kind for slot in masked.slots] == ["open", "open", "close", "close", "verbatim", "image", "verbatim"]
    assert (alt.id, alt.text, title.id, title.text) == ("body.1.img1.alt", "Đồi", "body.1.img1.title", "Tựa")

    def value_of(_, slot: Slot) -> str:
        return slot.image.render("Hill [1]", 'Say "hi"') if slot.kind == "image" else slot.value

    text, problems = restore("See [0] tea [1] Tan Cuong [2] [3] and [4], photo [5] at [6].", masked, value_of)
    assert problems == []
    assert text == ('See **tea [Tan Cuong](https://x.vn/a_b)** and `mã_1`, photo '
                    '![Hill \\[1\\]](d.jpg "Say \\"hi\\"") at https://t.vn/x_y.')


def test_glossary_terms_become_placeholders():
    unit = inline_unit("title", "title", "Chè Thái Nguyên và chè")[0]
    masked = mask(unit.tokens, find_terms=lambda text: [(0, len("Chè Thái Nguyên"), "ENTRY")] if text.startswith("Chè") else [])
    assert masked.text == "[0] và chè"
    assert masked.terms == [Slot("term", "Chè Thái Nguyên", term="ENTRY")]
    text, problems = restore("[0] and tea", masked, lambda _, slot: "thai Nguyen tea")
    assert (text, problems) == ("Thai Nguyen tea and tea", [])  # a term opening a sentence gets its capital


@pytest.mark.parametrize(
    "output, expected_text, expected",
    [
        # a lost term is appended, never dropped
        ("See [0] x [1] and .", "See **x** and . TERM", ["error: placeholder [2] (glossary term 'chè') was lost"]),
        # a lost half of a pair drops the other half
        ("See x [1] and [2].", "See x and TERM.", ["error: markup '**'…'**' lost"]),
        # a pair out of order is left out
        ("See [1] x [0] and [2].", "See x and TERM.", ["error: markup '**'…'**' out of order"]),
        # a term twice is rendered twice, with a warning
        ("See [0] x [1] [2] and [2].", "See **x** TERM and TERM.", ["warning: placeholder [2] (glossary term 'chè') appears twice"]),
        # an unknown number is removed
        ("See [0] x [1] and [2] [7].", "See **x** and TERM.", ["error: the model produced '[7]'"]),
        # full-width brackets or spaces inside still mean the placeholder
        ("See ［0］ x [ 1 ] and 【2】.", "See **x** and TERM.",
         ["warning: placeholder [0] came back as '［0］'", "warning: placeholder [1] came back as '[ 1 ]'",
          "warning: placeholder [2] came back as '【2】'"]),
    ],
)
def test_restore_reports_what_the_model_broke(output, expected_text, expected):
    unit = inline_unit("body.1", "p", "Xem **x** và chè.")[0]
    masked = mask(unit.tokens, find_terms=lambda text: [(text.index("chè"), text.index("chè") + 3, "E")] if "chè" in text else [])
    assert masked.text == "Xem [0] x [1] và [2]."
    text, problems = restore(output, masked, lambda _, slot: "TERM" if slot.kind == "term" else slot.value)
    assert text == expected_text
    assert [f"{p.severity}: {p.message}"[: len(e)] for p, e in zip(problems, expected)] == expected
    assert len(problems) == len(expected)


def test_text_that_looks_like_a_placeholder_is_kept_verbatim():
    unit = inline_unit("body.1", "p", "Theo tài liệu [3] và {4}.")[0]
    masked = mask(unit.tokens)
    assert masked.text == "Theo tài liệu [0] và {4}."
    assert restore("By document [0] and {4}.", masked, lambda _, slot: slot.value)[0] == "By document [3] and {4}."
    braces = PLACEHOLDER_STYLES["{}"]
    masked = mask(inline_unit("body.1", "p", "Theo [3] và {4}.", style=braces)[0].tokens, braces)
    assert masked.text == "Theo [3] và {0}."


@pytest.mark.parametrize("style", sorted(PLACEHOLDER_STYLES))
def test_every_style_round_trips(style):
    chosen = PLACEHOLDER_STYLES[style]
    unit = inline_unit("body.1", "p", "A **b** `c` d", style=chosen)[0]
    masked = mask(unit.tokens, chosen)
    assert masked.text == f"A {chosen.make(0)} b {chosen.make(1)} {chosen.make(2)} d"
    assert restore(masked.text, masked, lambda _, slot: slot.value) == ("A **b** `c` d", [])


def test_plain_text_drops_code_urls_and_markup():
    assert plain_text("Xem **chè** tại https://x.vn/1_2 và `a 3` [trang](https://y.vn/4).") == "Xem chè tại và trang."


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("Một. Hai! Ba? Bốn", ["Một.", "Hai!", "Ba?", "Bốn"]),
        ("TP. Hồ Chí Minh và Th.S Lan. ThS. Nam đến.", ["TP. Hồ Chí Minh và Th.S Lan.", "ThS. Nam đến."]),
        ("Ông Nguyễn V. An nói. Xong.", ["Ông Nguyễn V. An nói.", "Xong."]),
        ('Ông nói: "Tốt." Sau đó đi.', ['Ông nói: "Tốt."', "Sau đó đi."]),
        ("Tăng 8.5 lần. 3 người đến.", ["Tăng 8.5 lần.", "3 người đến."]),
        ("Vậy à? được thôi.", ["Vậy à? được thôi."]),
        ("Giá 1.234,5 đồng v.v. và hết", ["Giá 1.234,5 đồng v.v. và hết"]),
        ("Xong. [0] đến.", ["Xong.", "[0] đến."]),
        ("Mr. Smith came. Dr. Lee too.", ["Mr. Smith came.", "Dr. Lee too."]),
        ("好。你好！再见", ["好。", "你好！", "再见"]),
        ("", []),
    ],
)
def test_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_joining_sentences():
    assert join_sentences(["A.", "B."], "en") == "A. B."
    assert join_sentences(["你好。", "再见。"], "zh") == "你好。再见。"
    assert join_sentences(["안녕.", "잘 가."], "ko") == "안녕. 잘 가."


@pytest.mark.parametrize(
    "text",
    [
        "#\n\n## \n\nChữ\n",
        "```\nkhông đóng\n",
        "Dấu `mở không đóng và **đậm lẻ\n",
        "a | b\nkhông phải bảng\n",
        "Dòng một\r\nDòng hai\r\n\r\n- mục\r\n",
        "[[lồng]](u) ![a](b) ![](c) [x][y] <b>in</b> \\* sao\n",
        "> - trích mục\n>   tiếp\n> \n> 1) số\n",
        "",
    ],
)
def test_odd_markdown_never_breaks(text):
    document = parse(text)
    once = document.render({unit.id: unit.text for unit in document.units})
    again = parse(once)
    assert again.structure() == document.structure()
    assert again.render({unit.id: unit.text for unit in again.units}) == once
    texts = {unit.id: unit.text for unit in document.units}

    def value_of(_, slot: Slot) -> str:
        if slot.kind == "image":
            return slot.image.render(texts[slot.image.alt_id], texts.get(slot.image.title_id, ""))
        return slot.value

    for unit in document.units:
        masked = mask(unit.tokens)
        assert restore(masked.text, masked, value_of) == (unit.text, [])
