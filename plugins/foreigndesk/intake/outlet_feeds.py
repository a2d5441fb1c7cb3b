"""An outlet's own feed (RSS 2.0 or JSON Feed) as a source of approved articles.

The outlets already publish; an item they mark for foreign information (a
category/tag from ``FOREIGNDESK_FEED_MARKERS``, by default
``foreign-information`` or ``thông tin đối ngoại``) is an approved article for
the desk. Each such item is written out in the drop format (articles.to_markdown)
and goes through the same validation as a dropped file, so an unchanged item is
the same revision on every poll and a changed one is a new revision.

Polling is polite: a conditional GET with the ETag / Last-Modified the outlet
gave last time, kept as a record in the store (a cursor, replaced whole after
every feed body has been handled). A crash before the cursor is saved only means
the next poll fetches the same body again, which changes nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from foreigndesk.core import records
from foreigndesk.core.store import Store
from foreigndesk.intake.article_file import slugify, to_markdown
from foreigndesk.intake.sources import Drop, SourceError

TIMEOUT_SECONDS = 30
_NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}


class FeedError(SourceError):
    """The feed could not be fetched; the message names the URL and what it answered."""


@dataclass(frozen=True)
class FeedState:
    """The validators the outlet gave with the last feed body the desk handled."""

    url: str
    etag: str
    last_modified: str
    body_sha256: str
    fetched_at: str


@dataclass(frozen=True)
class FeedItem:
    """One item of an outlet feed, in the feed's own terms."""

    guid: str
    title: str
    link: str
    published: str  # the raw date text as the feed gave it
    categories: list[str]
    author: str
    summary_html: str
    content_html: str
    content_text: str
    image: str
    raw: bytes  # the item as received (its XML element or JSON object)
    raw_kind: str  # "xml" or "json"


def state_key(outlet: str, url: str) -> str:
    return f"sources/feeds/{outlet}/{hashlib.sha256(url.encode()).hexdigest()[:16]}/state.json"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def is_marked(item: FeedItem, markers: Iterable[str]) -> bool:
    wanted = {_norm(marker) for marker in markers}
    return any(_norm(category) in wanted for category in item.categories)


# --- parsing ---------------------------------------------------------------------------------

def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def parse_rss(body: bytes) -> list[FeedItem]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        line, column = error.position
        raise ValueError(f"not well-formed XML at line {line}, column {column}") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ValueError(f"the root element is <{root.tag}>, not <rss><channel>")
    items = []
    for element in channel.findall("item"):
        enclosure = element.find("enclosure")
        media = element.find("media:content", _NS)
        image = ""
        if enclosure is not None and enclosure.get("type", "").startswith("image/"):
            image = enclosure.get("url", "")
        elif media is not None and media.get("medium", "image") == "image":
            image = media.get("url", "")
        items.append(
            FeedItem(
                guid=_text(element.find("guid")),
                title=_text(element.find("title")),
                link=_text(element.find("link")),
                published=_text(element.find("pubDate")) or _text(element.find("dc:date", _NS)),
                categories=[_text(c) for c in element.findall("category") if _text(c)],
                author=_text(element.find("dc:creator", _NS)) or _text(element.find("author")),
                summary_html=_text(element.find("description")),
                content_html=_text(element.find("content:encoded", _NS)),
                content_text="",
                image=image,
                raw=ET.tostring(element, encoding="utf-8"),
                raw_kind="xml",
            )
        )
    return items


def parse_json_feed(body: bytes) -> list[FeedItem]:
    try:
        feed = json.loads(body)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error})") from None
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise ValueError("not a JSON Feed: 'version' must be https://jsonfeed.org/version/1.1")
    items = []
    for entry in feed.get("items") or []:
        if not isinstance(entry, dict):
            continue
        authors = entry.get("authors") or ([entry["author"]] if isinstance(entry.get("author"), dict) else [])
        items.append(
            FeedItem(
                guid=str(entry.get("id", "")).strip(),
                title=str(entry.get("title") or "").strip(),
                link=str(entry.get("url") or "").strip(),
                published=str(entry.get("date_modified") or entry.get("date_published") or "").strip(),
                categories=[str(tag) for tag in entry.get("tags") or [] if str(tag).strip()],
                author=str((authors[0] or {}).get("name", "")) if authors else "",
                summary_html=html.escape(str(entry.get("summary") or "")),
                content_html=str(entry.get("content_html") or ""),
                content_text=str(entry.get("content_text") or ""),
                image=str(entry.get("image") or ""),
                raw=json.dumps(entry, ensure_ascii=False, sort_keys=True, indent=1).encode(),
                raw_kind="json",
            )
        )
    return items


def parse_feed(body: bytes, content_type: str = "") -> list[FeedItem]:
    """RSS 2.0 or JSON Feed, told apart by the content type or, failing that, the first byte."""
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return parse_json_feed(body)
    return parse_rss(body)


# --- HTML to the article's Markdown ----------------------------------------------------------

class _HtmlToMarkdown(HTMLParser):
    """Outlet CMS HTML to plain Markdown. Formatting tags become Markdown; any other tag
    (script, iframe, style, …) is kept *as text*, so intake flags it for the reviewer."""

    BLOCKS = {"p", "div", "section", "article", "figure", "figcaption", "header", "footer", "table", "tr", "ul", "ol"}
    INLINE = {"span", "small", "u", "sup", "sub", "time", "abbr", "cite", "mark", "font", "picture", "source",
              "tbody", "thead", "td", "th", "main"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("\n")
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * max(2, int(tag[1])) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "blockquote":
            self.out.append("\n\n> ")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "a":
            href = attributes.get("href") or ""
            self.links.append(href if re.match(r"^https?://", href) else None)
            if self.links[-1]:
                self.out.append("[")
        elif tag == "img":
            src = attributes.get("src") or ""
            if re.match(r"^https?://", src):
                self.out.append(f"![{(attributes.get('alt') or '').strip()}]({src})")
        elif tag not in self.INLINE:
            self.out.append(self.get_starttag_text() or f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS or tag == "blockquote" or re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "a":
            href = self.links.pop() if self.links else None
            if href:
                self.out.append(f"]({href})")
        elif tag not in self.INLINE and tag not in ("br", "img", "li"):
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(re.sub(r"\s+", " ", data))


def html_to_markdown(fragment: str) -> str:
    parser = _HtmlToMarkdown()
    parser.feed(fragment)
    parser.close()
    text = "".join(parser.out)
    lines = [line.strip() for line in text.split("\n")]
    paragraphs = re.split(r"\n{2,}", "\n".join(lines))
    return "\n\n".join(part.strip() for part in paragraphs if part.strip())


# --- items to articles -----------------------------------------------------------------------

def item_id(outlet: str, item: FeedItem) -> str:
    """Stable across polls and edits: built from the item's guid (else link, else title)."""
    identity = item.guid or item.link or item.title
    tail = re.sub(r"\.[a-z0-9]{2,5}$", "", identity.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0])
    slug = slugify(tail)[:60].rstrip("-")
    digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
    return f"{outlet}-{slug}-{digest}" if slug else f"{outlet}-{digest}"


def _date(text: str) -> str:
    """RFC 822 (RSS) or ISO 8601 (JSON Feed, dc:date) → ISO 8601; '' when unreadable."""
    if not text:
        return ""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def item_problem(item: FeedItem, url: str) -> str:
    """What makes an item unusable, in the outlet's terms ('' when nothing)."""
    where = f"{url} item {item.guid or item.link or item.title!r}"
    if not item.title:
        return f"{where}: the item has no title; the outlet must give every item a <title> / \"title\""
    if not _date(item.published):
        shown = repr(item.published) if item.published else "no date"
        return (f"{where}: {shown} is not a date; the outlet must date every item "
                "(RSS pubDate like 'Fri, 14 Mar 2025 09:30:00 +0700', JSON Feed date_published in ISO 8601)")
    return ""


def item_markdown(item: FeedItem, outlet: str, markers: Iterable[str]) -> bytes:
    """The item in the drop format. Markers are dropped from the tags (they only route the item)."""
    wanted = {_norm(marker) for marker in markers}
    tags = [category for category in item.categories if _norm(category) not in wanted]
    body = item.content_text.strip() or html_to_markdown(item.content_html or item.summary_html)
    summary = html_to_markdown(item.summary_html) if item.content_html or item.content_text else ""
    front: dict[str, Any] = {
        "id": item_id(outlet, item),
        "title": html.unescape(item.title),
        "outlet": outlet,
        "approved_by": f"{outlet} (published in the outlet's feed)",
        "approved_at": _date(item.published),
        "summary": summary.replace("\n", " "),
        "author": item.author,
        "category": tags[0] if tags else "",
        "tags": tags,
        "image": item.image if re.match(r"^https?://", item.image) else "",
        "source_url": item.link if re.match(r"^https?://", item.link) else "",
    }
    return to_markdown(front, body)


class OutletFeed:
    """Polls one outlet feed with a ``requests.Session`` handed in."""

    def __init__(self, session: Any, url: str, outlet: str, store: Store, markers: Iterable[str]) -> None:
        self.session = session
        self.url = url
        self.outlet = outlet
        self.store = store
        self.markers = tuple(markers)
        self.description = url
        self.skipped = 0  # items not marked for foreign information, last poll
        self._pending: FeedState | None = None

    def _state(self) -> FeedState | None:
        try:
            return records.load(self.store, FeedState, state_key(self.outlet, self.url))
        except KeyError:
            return None

    def _fetch(self) -> tuple[bytes, str] | None:
        import requests

        headers = {"Accept": "application/feed+json, application/rss+xml, application/xml;q=0.9, */*;q=0.5"}
        state = self._state()
        if state is not None and state.etag:
            headers["If-None-Match"] = state.etag
        if state is not None and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        try:
            response = self.session.get(self.url, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise FeedError(f"{self.url}: could not fetch the feed ({type(error).__name__})") from None
        if response.status_code == 304:
            return None
        if response.status_code != 200:
            raise FeedError(f"{self.url}: the outlet answered HTTP {response.status_code}; check the feed URL")
        body = response.content
        self._pending = FeedState(
            url=self.url,
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            body_sha256=hashlib.sha256(body).hexdigest(),
            fetched_at=records.now_utc(),
        )
        return body, response.headers.get("Content-Type", "")

    def drops(self) -> Iterator[Drop]:
        self._pending = None
        self.skipped = 0
        fetched = self._fetch()
        if fetched is None:
            return
        body, content_type = fetched
        try:
            items = parse_feed(body, content_type)
        except ValueError as error:
            yield Drop(self.outlet, self.url.rsplit("/", 1)[-1] or "feed", self.url, read=lambda: body,
                       problem=f"{self.url}: the feed is not RSS 2.0 or JSON Feed: {error}; ask the outlet to fix it")
            return
        for item in items:
            if not is_marked(item, self.markers):
                self.skipped += 1
                continue
            yield self._drop(item)

    def _drop(self, item: FeedItem) -> Drop:
        document = item_markdown(item, self.outlet, self.markers)
        return Drop(
            outlet=self.outlet,
            name=item.title or item.guid or "untitled item",
            location=f"{self.url}#{item.guid or item.link}",
            read=lambda: document,
            evidence={f"item.{item.raw_kind}": item.raw},
            problem=item_problem(item, self.url),
        )

    def finish(self) -> None:
        """Every item of the body was handled: next time, ask only for something newer."""
        if self._pending is not None:
            self.store.replace(state_key(self.outlet, self.url), records.encode(self._pending))
            self._pending = None
