"""Markdown to safe HTML: the structure an article needs survives, nothing executable does."""

from __future__ import annotations

import pytest
from foreigndesk.publish.channels.render import render_markdown, safe_url, sanitise
from test_channels_contract import XSS_PAYLOADS, _executable


def test_markdown_structure_is_rendered():
    html = render_markdown("## Heading\n\n- one\n- two\n\n[link](https://example.org) and *em*\n\n"
                           "| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<h2>Heading</h2>" in html and "<li>one</li>" in html and "<em>em</em>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer">link</a>' in html
    assert "<table>" in html and "<td>1</td>" in html


def test_raw_html_in_an_article_is_shown_as_text_not_run():
    html = render_markdown('Hello <script>alert(1)</script>\n\n<div onclick="x()">block</div>\n')
    assert "<script" not in html and "<div" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_survives_as_executable_markup(payload):
    html = render_markdown(f"Before.\n\n{payload}\n\nAfter {payload}\n")
    assert _executable(html) == []
    assert "<script" not in html.lower()


def test_the_sanitiser_alone_removes_what_markdown_lets_through():
    dirty = ('<p onclick="x()">t</p><a href="javascript:alert(1)">a</a><script>alert(2)</script>'
             '<img src="x" onerror="alert(3)"><custom-tag>c</custom-tag><iframe src="//e"></iframe>')
    clean = sanitise(dirty)
    assert clean == '<p>t</p><a rel="noopener noreferrer">a</a><img src="x">c'


@pytest.mark.parametrize("value,expected", [
    ("https://img.example/a.jpg", "https://img.example/a.jpg"),
    ("/media/a.jpg", "https://site.example/media/a.jpg"),
    ("javascript:alert(1)", ""),
    ("data:image/png;base64,AAAA", ""),
    ("", ""),
])
def test_safe_url_allows_only_http_urls(value, expected):
    assert safe_url(value, "https://site.example") == expected
