"""Every public output is valid or it is not written.

Three walls, each for a way a bad output has reached readers:

* **Control characters.** Text pasted from Word carries ``\\x0b`` (Word's manual
  line break) and ``\\x0c`` (its page break); other C0 controls arrive from
  copy-paste and OCR. XML 1.0 forbids them, so one of them makes a whole RSS feed
  unreadable for every reader. :func:`clean_text` turns Word's two breaks into a
  newline and removes the rest (C0 except tab and newline, DEL, C1, and the
  non-characters U+FFFE/U+FFFF) from every text a channel is handed
  (:func:`clean_publication`).
* **URLs.** Every URL a channel puts out (the page URL, the image, the source
  link) goes through :func:`~foreigndesk.publish.channels.render.safe_url`, the
  same check as the web pages: http(s) with a host, or nothing.
* **Parse before replace.** :func:`write_output` parses each document it is
  given the way a reader would (XML for RSS, JSON with the JSON Feed's required
  members, HTML tag balance for pages) and scans its bytes for control
  characters; a document that fails is not written — the previous one stays —
  and :class:`InvalidOutput` fails the run, naming the key and the reason.
"""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from html.parser import HTMLParser

from foreigndesk.core.store import Store
from foreigndesk.publish.channels import Publication
from foreigndesk.publish.channels.render import safe_url
from foreigndesk.publish.channels.video import check_webvtt

#: Word's manual line break (VT) and page break (FF): a line break in the text the translator meant.
_BREAKS = re.compile("[\x0b\x0c]")
#: Never in an output: C0 controls but tab, newline and carriage return; DEL; C1; U+FFFE/U+FFFF; lone surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
#: The same, read on an output's bytes (a carriage return is allowed there: XML and HTML read it as a newline).
_FORBIDDEN_IN_OUTPUT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")

_URL_FIELDS = ("url", "image", "source_url")
_HTML_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class InvalidOutput(Exception):
    """A rendered output did not pass its check; it was not written. The message names the key and why."""


def clean_text(value: str) -> str:
    """The text with Word's breaks as newlines, carriage returns as newlines, and every other control removed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", _BREAKS.sub("\n", value))


def clean_publication(item: Publication, site_url: str) -> Publication:
    """The publication every channel is handed: its texts cleaned, its URLs checked (unsafe ones become '')."""
    changes: dict[str, object] = {}
    for spec in dataclasses.fields(item):
        value = getattr(item, spec.name)
        if isinstance(value, str):
            changes[spec.name] = clean_text(value)
    changes["url"] = safe_url(str(changes["url"]))
    changes["image"] = safe_url(str(changes["image"]), site_url)
    changes["source_url"] = safe_url(str(changes["source_url"]))
    if item.event:  # the event's texts cleaned the same way, its link checked the same way
        event = {name: clean_text(value) if isinstance(value, str) else value for name, value in item.event.items()}
        changes["event"] = {**event, "link": safe_url(str(event.get("link") or ""))}
    return dataclasses.replace(item, **changes)


def control_characters(text: str) -> list[str]:
    """The forbidden characters in an output's text, as ``U+XXXX at N`` (the first five)."""
    return [f"U+{ord(match.group()):04X} at {match.start()}" for match in _FORBIDDEN_IN_OUTPUT.finditer(text)][:5]


def _check_rss(data: bytes) -> None:
    root = ET.fromstring(data)  # a ParseError is the reason a reader would give up
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ValueError("not an RSS 2.0 document (<rss><channel> missing)")
    for tag in ("title", "link", "description"):
        if not (channel.findtext(tag) or "").strip():
            raise ValueError(f"the channel has no <{tag}>")
    for number, item in enumerate(channel.findall("item"), 1):
        if not (item.findtext("title") or item.findtext("description")):
            raise ValueError(f"item {number} has neither title nor description")
        link = item.findtext("link") or ""
        if link and not safe_url(link):
            raise ValueError(f"item {number} links to {link!r}, not an http(s) URL")


def _urls_in(value: object, name: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _urls_in(inner, str(key))
    elif isinstance(value, list):
        for inner in value:
            found += _urls_in(inner, name)
    elif isinstance(value, str) and (name == "url" or name.endswith("_url") or name in ("image", "icon", "favicon")):
        found.append((name, value))
    return found


def check_urls(document: object) -> None:
    """Every URL-valued member of a JSON document (``url``, ``*_url``, ``image``) is empty or passes safe_url."""
    for name, value in _urls_in(document):
        if value and safe_url(value) != value.strip():
            raise ValueError(f"{name} {value!r} is not an http(s) URL")


def _check_json_feed(data: bytes) -> None:
    feed = json.loads(data)
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise ValueError("not a JSON Feed (no version)")
    if not feed.get("title") or not isinstance(feed.get("items"), list):
        raise ValueError("a JSON Feed needs a title and an items list")
    for number, item in enumerate(feed["items"], 1):
        if not isinstance(item, dict) or not item.get("id"):
            raise ValueError(f"item {number} has no id")
        if not (item.get("content_html") or item.get("content_text")):
            raise ValueError(f"item {number} has no content")
    check_urls(feed)


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _HTML_VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes nothing open (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def _check_html(data: bytes) -> None:
    parser = _Balance()
    parser.feed(data.decode())
    parser.close()
    if parser.errors or parser.stack:
        raise ValueError("; ".join(parser.errors) or f"left open: {parser.stack}")


def check_output(key: str, data: bytes) -> None:
    """Raise :class:`InvalidOutput` when the document at ``key`` would not read as what it claims to be."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidOutput(f"{key}: not UTF-8 ({error}); not written") from None
    found = control_characters(text)
    if found:
        raise InvalidOutput(f"{key}: control characters ({', '.join(found)}); not written")
    try:
        if key.endswith(".xml"):
            _check_rss(data)
        elif key.endswith(".json"):
            _check_json_feed(data)
        elif key.endswith(".html"):
            _check_html(data)
        elif key.endswith(".geojson"):
            check_geojson(json.loads(data))
        elif key.endswith(".ics"):
            check_ics(data)
        elif key.endswith(".vtt"):
            check_webvtt(data)
    except (ET.ParseError, ValueError) as error:
        raise InvalidOutput(f"{key}: does not parse ({error}); not written, the previous version stays") from None


def check_geojson(document: object) -> None:
    """RFC 7946 as the events map needs it: a FeatureCollection of Features, Points at [lon, lat] in range."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise ValueError("not a GeoJSON FeatureCollection with a 'features' list")
    for number, feature in enumerate(document["features"]):
        if not isinstance(feature, dict) or feature.get("type") != "Feature" or "geometry" not in feature \
                or not isinstance(feature.get("properties"), (dict, type(None))):
            raise ValueError(f"feature {number}: not a Feature with 'geometry' and 'properties'")
        geometry = feature["geometry"]
        if geometry is None:
            continue
        point = geometry.get("coordinates") if isinstance(geometry, dict) and geometry.get("type") == "Point" else None
        if not isinstance(point, list) or len(point) not in (2, 3) \
                or not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in point):
            raise ValueError(f"feature {number}: geometry is not a Point [longitude, latitude]")
        if not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90):
            raise ValueError(f"feature {number}: coordinates {point} out of range (longitude first, then latitude)")


def check_ics(data: bytes) -> None:
    """RFC 5545 as calendars need it: parses; every VEVENT has a UID, a DTSTAMP and zoned start and end."""
    import icalendar

    calendar = icalendar.Calendar.from_ical(data)
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID") or "")
        if not uid or event.get("DTSTAMP") is None:
            raise ValueError(f"a VEVENT without UID or DTSTAMP ({uid or 'no UID'})")
        for name in ("DTSTART", "DTEND"):
            value = event.decoded(name, None)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError(f"{uid}: {name} is missing or a floating time; it must carry TZID or be UTC")


def write_output(store: Store, key: str, data: bytes) -> None:
    """Check the document, then — only then — swap it in whole."""
    check_output(key, data)
    store.replace(key, data)
