"""The Vietnam.vn portal feed: one JSON Feed 1.1 document per language.

The feed is a public output: rebuilt whole from the published records and
swapped in, never patched. An item's id is the article id plus language, so a
corrected revision replaces its item instead of adding a second one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import markdown as markdown_lib

from foreigndesk.translation import DEMO_NOTICE

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class FeedItem:
    """One approved translation as the feed shows it."""

    article_id: str
    revision: str
    language: str
    title: str
    summary: str
    body: str
    published_at: str
    url: str
    demo_model: bool


def feed_key(language: str) -> str:
    return f"feeds/{language}/feed.json"


def render_html(markdown_text: str) -> str:
    """Markdown to HTML with raw HTML escaped, so nothing an article carries can run in a reader."""
    converter = markdown_lib.Markdown(extensions=["tables"])
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return converter.convert(markdown_text)


def _item(item: FeedItem) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": f"{item.article_id}:{item.language}",
        "url": item.url,
        "title": item.title,
        "content_text": item.body,
        "content_html": render_html(item.body),
        "date_published": item.published_at,
        "language": item.language,
        "_foreigndesk": {"article_id": item.article_id, "revision": item.revision, "demo_model": item.demo_model},
    }
    if item.demo_model:
        entry["summary"] = f"{DEMO_NOTICE}. {item.summary}".strip()
        entry["tags"] = ["demo-model"]
    elif item.summary:
        entry["summary"] = item.summary
    return entry


def build_json_feed(language: str, items: list[FeedItem], site_url: str, limit: int) -> bytes:
    """The newest ``limit`` items, newest first."""
    newest = sorted(items, key=lambda item: (item.published_at, item.article_id), reverse=True)[:limit]
    feed = {
        "version": JSON_FEED_VERSION,
        "title": f"Dynamic Thainguyen — Thái Nguyên province news ({language})",
        "home_page_url": f"{site_url}/{language}/",
        "feed_url": f"{site_url}/feeds/{language}/feed.json",
        "language": language,
        "authors": [{"name": "Thái Nguyên foreign-information desk"}],
        "items": [_item(item) for item in newest],
    }
    return json.dumps(feed, ensure_ascii=False, indent=1).encode()
