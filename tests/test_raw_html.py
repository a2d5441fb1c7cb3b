"""Raw HTML in an article at intake: known video players become a Markdown link, the rest is removed,
every change flagged; and the web channel renders that link safely."""

from __future__ import annotations

import time

import pytest
from foreigndesk.intake.raw_html import EMBED_HOSTS, MAX_FLAGS, clean_html, video_link

WATCH = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.mark.parametrize(("player", "link"), [
    ('<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ?si=x" allowfullscreen></iframe>', WATCH),
    ("<iframe src='https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ'></iframe>", WATCH),
    ('<iframe src="//www.youtube.com/embed/dQw4w9WgXcQ"></iframe>', WATCH),
    ('<IFRAME SRC="https://youtu.be/dQw4w9WgXcQ"></IFRAME>', WATCH),
    ('<embed src="https://m.youtube.com/v/dQw4w9WgXcQ">', WATCH),
    ('<video controls><source src="https://media.tntv.vn/2025/le-hoi.mp4" type="video/mp4"></video>',
     "https://media.tntv.vn/2025/le-hoi.mp4"),
    ('<iframe src="http://player.thainguyentv.vn/embed/123?autoplay=1&amp;x=2"></iframe>',
     "https://player.thainguyentv.vn/embed/123?autoplay=1&x=2"),
])
def test_a_known_player_becomes_a_link_on_its_own_paragraph(player, link):
    text, flags = clean_html(f"Trước.\n{player}\nSau.\n", "body")
    name = "YouTube" if "youtube.com/watch" in link else "TNTV"
    assert text == f"Trước.\n\n[▶ Video: {name}]({link})\n\nSau.\n"
    assert len(flags) == 1 and flags[0].startswith("body line 2: video player <")
    assert f"turned into the link [▶ Video: {name}]({link})" in flags[0]


@pytest.mark.parametrize("player", [
    '<iframe src="https://evil.example/embed/x"></iframe>',
    '<iframe src="https://youtube.com.evil.example/embed/dQw4w9WgXcQ"></iframe>',
    '<iframe src="javascript:alert(1)//youtube.com"></iframe>',
    '<iframe src="https://www.youtube.com/embed/../../x"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>" src="https://evil.example"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
])
def test_any_other_player_is_removed_with_its_content_and_flagged(player):
    text, flags = clean_html(f"Trước.\n\n{player}\n\nSau.\n", "body", first_line=7)
    assert text == "Trước.\n\nSau.\n"
    assert flags and flags[0].startswith("body line 9: <"), flags
    assert "removed with its content" in flags[0], flags


def test_scripts_styles_and_comments_go_other_tags_keep_their_text():
    text, flags = clean_html("A <b>đậm</b> <span style='x'>chữ</span>.<!-- ghi chú -->\n"
                             "<script>alert(1)</script><style>p{}</style>B\n", "body")
    assert text == "A đậm chữ.\nB\n"
    assert [flag.split(": ", 1)[1].split(" removed")[0] for flag in flags] == [
        "raw HTML <b>", "raw HTML <span>", "raw HTML <!--", "<script>", "<style>"]


def test_an_unclosed_script_loses_its_tag_and_the_rest_stays_text():
    text, flags = clean_html("A <script>alert(1)\nB\n", "body")
    assert text == "A alert(1)\nB\n" and len(flags) == 1


def test_plain_text_and_code_are_left_alone():
    for text in ("5 < 7 và 9 > 3 -> tiếp <https://tntv.vn/a>\n", "Thẻ `<iframe src=x>` là mã.\n",
                 "```html\n<script>alert(1)</script>\n```\n"):
        assert clean_html(text, "body") == (text, [])


def test_a_body_full_of_tags_costs_one_pass_and_a_bounded_list_of_flags():
    hostile = "<script>x" * 100_000 + "<iframe src=https://www.youtube.com/embed/dQw4w9WgXcQ></iframe>" * 5000
    started = time.perf_counter()
    text, flags = clean_html(hostile, "body")
    elapsed = time.perf_counter() - started
    assert len(flags) == MAX_FLAGS + 1 and flags[-1].startswith("body: ") and "more pieces of raw HTML" in flags[-1]
    assert "<script>" not in text and text.count(WATCH) == 5000
    assert elapsed < 5, elapsed  # ~0.3 s idle for 1.2 MB; quadratic would be minutes


def test_the_documented_hosts_are_the_ones_in_the_code():
    from conftest import REPO

    readme = (REPO / "content" / "README.md").read_text()
    for host in EMBED_HOSTS:
        assert f"`{host}`" in readme, host


def test_video_link_refuses_what_is_not_a_video_id():
    assert video_link("https://www.youtube.com/embed/dQw4w9WgXcQ") == WATCH
    assert video_link("https://www.youtube.com/embed/<x>") == ""
    assert video_link("https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=1") == WATCH


def test_the_web_channel_renders_the_video_link_as_a_safe_link():
    from foreigndesk.publish.channels import Publication
    from foreigndesk.publish.channels.web import render_page

    item = Publication(article_id="tntv-video", revision="r1", language="en", title="Festival", summary="",
                       body=f"The festival opened.\n\n[▶ Video: YouTube]({WATCH})\n", outlet="tntv",
                       url="https://desk.example/en/tntv-video.html", guid="g", first_published_at="2025-05-18T00:00:00Z",
                       published_at="2025-05-18T00:00:00Z")
    page = render_page(item, {"en": item.url}, "https://desk.example").decode()
    assert f'<p><a href="{WATCH.replace("&", "&amp;")}" rel="noopener noreferrer">▶ Video: YouTube</a></p>' in page
    assert "<iframe" not in page
