"""The JSON Feed: the fields the portal reads, newest first, and no markup an article smuggled in."""

from __future__ import annotations

import json

from foreigndesk.feeds import JSON_FEED_VERSION, FeedItem, build_json_feed, render_html


def _item(article_id: str, published_at: str, body: str = "Text.\n") -> FeedItem:
    return FeedItem(article_id, "r1", "en", f"Title {article_id}", "", body, published_at,
                    f"https://site/en/{article_id}.html", False)


def test_feed_is_json_feed_1_1_newest_first_and_limited():
    items = [_item("a", "2025-01-01T00:00:00+00:00"), _item("b", "2025-03-01T00:00:00+00:00"),
             _item("c", "2025-02-01T00:00:00+00:00")]
    feed = json.loads(build_json_feed("en", items, "https://site", limit=2))
    assert feed["version"] == JSON_FEED_VERSION
    assert feed["language"] == "en"
    assert feed["feed_url"] == "https://site/feeds/en/feed.json"
    assert [item["id"] for item in feed["items"]] == ["b:en", "c:en"]
    assert feed["items"][0]["content_html"] == "<p>Text.</p>"
    assert "summary" not in feed["items"][0] and "tags" not in feed["items"][0]


def test_raw_html_in_an_article_is_escaped_not_rendered():
    html = render_html('Hello <script>alert(1)</script> <img src=x onerror="alert(2)">\n\n<div onclick="x()">block</div>\n')
    assert "<script" not in html and "<img" not in html and "<div" not in html
    assert "&lt;script&gt;" in html


def test_markdown_structure_is_rendered():
    html = render_html("## Heading\n\n- one\n- two\n\n[link](https://example.org)\n")
    assert "<h2>Heading</h2>" in html and "<li>one</li>" in html
    assert '<a href="https://example.org">link</a>' in html
