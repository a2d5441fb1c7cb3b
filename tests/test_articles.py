"""The article format: what is accepted, how it is read, and what each refusal says."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import REPO
from drops import BASE_BODY, article_bytes
from foreigndesk.intake.article_file import (
    ArticleError,
    clean_field,
    parse_article,
    revision_of,
    slugify,
    to_markdown,
)

OUTLETS = ("baothainguyen", "tntv")


def parse(raw: bytes, outlet: str = "baothainguyen", **kwargs):
    return parse_article(raw, "drop.md", outlet, known_outlets=OUTLETS, **kwargs)


def refusal(raw: bytes, outlet: str = "baothainguyen", **kwargs) -> str:
    with pytest.raises(ArticleError) as caught:
        parse(raw, outlet, **kwargs)
    message = str(caught.value)
    assert message.startswith("drop.md: "), message
    return message


def test_the_examples_in_content_are_accepted():
    btn = parse((REPO / "content/examples/baothainguyen-hop-tac-gyeongsangbuk-do.md").read_bytes())
    assert btn.article_id == "btn-2025-03-hop-tac-gyeongsangbuk-do"
    assert btn.author == "Hà Linh" and btn.category == "Đối ngoại"
    assert btn.source_url.startswith("https://baothainguyen.vn/")
    assert btn.languages == ["en", "zh", "ko"] and btn.flags == []
    tntv = parse((REPO / "content/examples/tntv-le-hoi-tra-tan-cuong.md").read_bytes(), "tntv")
    assert tntv.article_id == "tntv-2025-05-18-le-hoi-tra-tan-cuong-thu-hut-du-khach-quoc-te"


def test_every_optional_field_is_read():
    raw = article_bytes(
        id="btn-2025-hop-tac", summary="Tóm tắt", author="Hà Linh", category="Đối ngoại",
        tags=["du lịch", "hợp tác"], image="https://baothainguyen.vn/anh.jpg", image_caption="Lễ ký kết",
        source_url="https://baothainguyen.vn/bai", publish_at="2025-03-15T07:00:00+07:00", languages=["en", "ko"],
    )
    article = parse(raw)
    assert (article.article_id, article.summary, article.author, article.category) == (
        "btn-2025-hop-tac", "Tóm tắt", "Hà Linh", "Đối ngoại")
    assert article.tags == ["du lịch", "hợp tác"]
    assert (article.image, article.image_caption) == ("https://baothainguyen.vn/anh.jpg", "Lễ ký kết")
    assert article.publish_at == "2025-03-15T07:00:00+07:00"
    assert article.languages == ["en", "ko"]
    assert article.revision == revision_of(raw)


def test_default_id_is_outlet_date_and_title_slug():
    article = parse(article_bytes())
    assert article.article_id == "baothainguyen-2025-03-14-thai-nguyen-don-doan-cong-tac-tinh-luong-pha-bang"
    assert slugify("Đường Hồ Chí Minh") == "duong-ho-chi-minh"


def test_naive_and_date_only_times_are_thai_nguyen_local_time():
    assert parse(article_bytes(approved_at="2025-03-14 09:30")).approved_at == "2025-03-14T09:30:00+07:00"
    assert parse(article_bytes(approved_at="2025-03-14")).approved_at == "2025-03-14T00:00:00+07:00"


def test_text_is_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Thái Nguyên — Hồ Núi Cốc")
    article = parse(article_bytes(body=decomposed + "\n", title=decomposed))
    assert article.title == "Thái Nguyên — Hồ Núi Cốc" and unicodedata.is_normalized("NFC", article.body)
    assert article.body == "Thái Nguyên — Hồ Núi Cốc\n"


def test_a_utf8_bom_and_crlf_line_ends_are_accepted():
    raw = b"\xef\xbb\xbf" + article_bytes().replace(b"\n", b"\r\n")
    assert parse(raw).title.startswith("Thái Nguyên")


# --- refusals: each names the field or line and the fix ---------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (BASE_BODY.encode(), ["no front matter", "start the file with a '---' line"]),
        (b"---\ntitle: x\n" + BASE_BODY.encode(), ["no closing '---'"]),
        (article_bytes(title='"unclosed'), ["not valid YAML at line 2", "quote"]),
        (b"---\n- a\n- b\n---\nbody\n", ["must be 'field: value' lines"]),
        (article_bytes(title=None), ["field 'title' is missing", "add 'title: ...'"]),
        (article_bytes(approved_by=""), ["field 'approved_by' is missing", "add 'approved_by: ...'"]),
        (article_bytes(approved_at=None), ["'approved_at' is missing"]),
        (article_bytes(outlet="vtv"), ["unknown outlet 'vtv'", "baothainguyen", "FOREIGNDESK_OUTLETS"]),
        (article_bytes(outlet="tntv"), ["does not match the drop zone 'baothainguyen'", "inbox/tntv/"]),
        (article_bytes(approved_at="14/03/2025"), ["'approved_at' = '14/03/2025' is not a date",
                                                   "2025-03-14T09:30:00+07:00"]),
        (article_bytes(approved_at="2025-02-30"), ["'2025-02-30' is not a date"]),
        (article_bytes(publish_at="soon"), ["'publish_at' = 'soon' is not a date"]),
        (article_bytes(body=""), ["body is empty", "below the closing '---'"]),
        (article_bytes(body="  \n\n"), ["body is empty"]),
        (b"", ["the file is empty"]),
        (article_bytes(id="../../etc/passwd"), ["id '../../etc/passwd' is not a safe slug", "lowercase letters"]),
        (article_bytes(id="Bài-Viết"), ["not a safe slug"]),
        (article_bytes(aproved_by="x"), ["unknown front matter field 'aproved_by'", "did you mean 'approved_by'"]),
        (article_bytes(languages=["en", "fr"]), ["'languages' has ['fr']"]),
        (article_bytes(source_url="javascript:alert(1)"), ["'source_url'", "not a whole http(s) URL"]),
        (article_bytes(image="../../secret.png"), ["'image'", "relative path inside"]),
        (article_bytes(image_caption="Ảnh"), ["'image_caption' is given without 'image'"]),
        (article_bytes(title=["a", "b"]), ["'title' must be a single line of text"]),
    ],
)
def test_refusals_name_the_problem_and_the_fix(raw, expected):
    message = refusal(raw)
    for part in expected:
        assert part in message, message


def test_not_utf8_names_the_byte_and_line():
    raw = article_bytes(body="Chè ngon.\n").replace("Chè".encode(), "Chè".encode("cp1258"))
    message = refusal(raw)
    assert "not UTF-8" in message and "line 7" in message and "save the file as UTF-8" in message


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "a ZIP archive (e.g. a Word .docx file)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"---\ntitle: x\x00\x01\x02\n---\n", "binary file (NUL byte at offset 12)"),
    ],
)
def test_binary_files_are_refused_as_binary(raw, kind):
    message = refusal(raw)
    assert kind in message and "Markdown" in message


def test_the_size_limit_is_checked_before_anything_else():
    raw = article_bytes(body="Thái Nguyên. " * 100)
    assert parse(raw, max_bytes=len(raw)).title
    message = refusal(raw, max_bytes=len(raw) - 1)
    assert f"{len(raw)} bytes, larger than the limit of {len(raw) - 1} bytes" in message
    assert "FOREIGNDESK_MAX_ARTICLE_BYTES" in message


# --- flags: accepted, but the reviewer must look ----------------------------------------------

def test_raw_html_is_removed_at_intake_and_each_removal_flagged():
    body = "Đoạn một.\n\n<script>alert('x')</script>\n\nĐoạn <b>hai</b> với [liên kết](javascript:alert(1)).\n"
    article = parse(article_bytes(body=body))
    assert article.body == "Đoạn một.\n\nĐoạn hai với [liên kết](javascript:alert(1)).\n"
    assert len(article.flags) == 3, article.flags
    script, bold, link = article.flags
    assert script.startswith("body line 9: <script> removed with its content at intake")
    assert bold.startswith("body line 11: raw HTML <b> removed at intake, its text kept")
    assert link.startswith("body line 11: link to a javascript: URL")


def test_html_in_the_title_is_removed_and_flagged_too():
    assert clean_field("title", "Tin <img src=x onerror=alert(1)> mới", one_line=True) == ("Tin mới", [
        "title line 1: raw HTML <img> removed at intake, its text kept (raw HTML is never published); "
        "check with the editor whether it belongs"
    ])


def test_markup_inside_code_is_text_and_left_alone():
    body = "Dùng thẻ `<b>` để in đậm.\n\n```\n<iframe src=\"https://x.example\"></iframe>\n```\n"
    article = parse(article_bytes(body=body))
    assert article.body == body and article.flags == []


def test_plain_text_with_angle_brackets_is_not_flagged():
    article = parse(article_bytes(body="Tăng trưởng 5 < 7 và 9 > 3; mũi tên -> tiếp.\n"))
    assert article.flags == []


def test_feeds_escape_what_was_flagged():
    from foreigndesk.publish.channels.render import render_markdown

    rendered = render_markdown("<script>alert('x')</script>\n\nĐoạn <b>hai</b>.")
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered and "<b>" not in rendered


# --- writing the format ------------------------------------------------------------------------

def test_to_markdown_writes_what_parse_reads_and_is_deterministic():
    front = {"title": "Trà: đặc sản", "outlet": "tntv", "approved_by": "tntv feed",
             "approved_at": "2025-05-18T16:00:00+07:00", "tags": ["chè", "OCOP"], "summary": ""}
    raw = to_markdown(front, "Nội dung.\n")
    assert raw == to_markdown(dict(reversed(front.items())), "Nội dung.")
    article = parse(raw, "tntv")
    assert (article.title, article.tags, article.approved_at) == ("Trà: đặc sản", ["chè", "OCOP"],
                                                                  "2025-05-18T16:00:00+07:00")


def test_the_examples_in_the_format_documentation_are_accepted():
    import re

    blocks = re.findall(r"```markdown\n(.*?)```", (REPO / "content" / "README.md").read_text(), re.DOTALL)
    assert len(blocks) == 2
    full, smallest = (parse(block.encode(), "baothainguyen" if "outlet: baothainguyen" in block else "tntv")
                      for block in blocks)
    assert full.image_caption and full.publish_at and full.tags == ["du lịch", "hợp tác", "Hàn Quốc"]
    assert smallest.article_id == "tntv-2025-05-18-le-hoi-tra-tan-cuong-thu-hut-du-khach-quoc-te"


def test_a_misspelt_embargo_is_refused_not_ignored():
    assert "did you mean 'publish_at'?" in refusal(article_bytes(**{"publish-at": "2025-03-15"}))
