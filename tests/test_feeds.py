"""The portal feeds as a real feed client reads them: RSS 2.0 and JSON Feed 1.1, per language."""

from __future__ import annotations

import json

import feedparser
from foreigndesk.publish.channels import Publication
from foreigndesk.publish.channels.portal_feed import JSON_FEED_VERSION, build_json_feed, build_rss

SITE = "https://site.example"


def _item(article_id: str, first: str, language: str = "en", **changes) -> Publication:
    values = dict(article_id=article_id, revision="r1", language=language, title=f"Title {article_id}",
                  summary="Short.", body="Text with **bold**.\n", outlet="Báo Thái Nguyên",
                  url=f"{SITE}/{language}/{article_id}.html", guid=f"{article_id}:{language}",
                  first_published_at=first, published_at=first)
    values.update(changes)
    return Publication(**values)


ITEMS = [_item("a", "2025-01-01T00:00:00+00:00"), _item("b", "2025-03-01T00:00:00+00:00"),
         _item("c", "2025-02-01T00:00:00+07:00", image="/media/c.jpg", image_caption="Tea")]


def test_rss_parses_with_feedparser_newest_first_limited_with_full_content():
    parsed = feedparser.parse(build_rss("en", ITEMS, SITE, limit=2))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.language == "en"
    assert [entry.id for entry in parsed.entries] == ["b:en", "c:en"]
    first = parsed.entries[0]
    assert first.guidislink is False and first.link == f"{SITE}/en/b.html"
    assert first.published_parsed[:3] == (2025, 3, 1)
    assert first.content[0].value == "<p>Text with <strong>bold</strong>.</p>"
    figure = parsed.entries[1].content[0].value
    assert f'src="{SITE}/media/c.jpg"' in figure and "<figcaption>Tea</figcaption>" in figure


def test_rss_language_is_the_feeds_language():
    for language, expected in (("zh", "zh-cn"), ("ko", "ko")):
        parsed = feedparser.parse(build_rss(language, [_item("a", "2025-01-01T00:00:00+00:00", language)], SITE, 5))
        assert parsed.feed.language == expected and parsed.entries[0].id == f"a:{language}"


def test_json_feed_1_1_has_language_authors_and_content_html():
    raw = build_json_feed("ko", [_item("a", "2025-01-01T00:00:00+00:00", "ko")], SITE, limit=5)
    feed = json.loads(raw)
    assert feed["version"] == JSON_FEED_VERSION and feed["language"] == "ko"
    assert feed["authors"] == [{"name": "Thái Nguyên foreign-information desk"}]
    assert feed["feed_url"] == f"{SITE}/feeds/ko/feed.json"
    [item] = feed["items"]
    assert item["id"] == "a:ko" and item["language"] == "ko"
    assert item["authors"] == [{"name": "Thái Nguyên foreign-information desk"}]
    assert item["content_html"] == "<p>Text with <strong>bold</strong>.</p>"
    assert item["content_text"] == "Text with **bold**.\n"
    assert item["date_published"] == "2025-01-01T00:00:00+00:00" and item["summary"] == "Short."
    # feedparser 6.0 reads no JSON Feed (it parses RSS/Atom only), so the JSON Feed is checked field by field.


def test_json_feed_escapes_markup_characters():
    raw = build_json_feed("en", [_item("a", "2025-01-01T00:00:00+00:00", title="<b>&")], SITE, 5)
    assert b"<" not in raw and b"&" not in raw
    assert json.loads(raw)["items"][0]["title"] == "<b>&"


def test_demo_model_items_say_so_in_every_feed():
    item = _item("a", "2025-01-01T00:00:00+00:00", demo_model=True)
    entry = json.loads(build_json_feed("en", [item], SITE, 5))["items"][0]
    assert entry["summary"].startswith("DEMO MODEL — not a real translation") and entry["tags"] == ["demo-model"]
    rss = feedparser.parse(build_rss("en", [item], SITE, 5)).entries[0]
    assert rss.summary.startswith("DEMO MODEL") and rss.tags[0].term == "demo-model"
