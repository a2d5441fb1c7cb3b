"""An approved Vietnamese article as editors drop it: Markdown with YAML front matter.

The format is documented, with examples, in content/README.md. Parsing is
strict because everything downstream (ids, revisions, reviews, feeds) trusts
it: a file that can't be read unambiguously is refused with an
:class:`ArticleError` that names the file, the field or line, and the fix, and
intake quarantines it instead of guessing. What can be read but deserves a
human look is accepted and *flagged* for the review step: raw HTML is taken out
of the text at intake (known video players become a link, :mod:`.raw_html`) and
a ``javascript:`` link is left for the reviewer to replace.

A hostile file costs milliseconds: the size is checked before anything else,
the front matter has its own cap, and YAML anchors/aliases (the "billion
laughs"), deep nesting and duplicate keys are refused from the parser's events
before any object is built (:mod:`.front_matter`). The optional ``event:`` block
is read by :mod:`.event_block`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml
from foreigndesk.core.names import TARGET_LANGUAGES
from foreigndesk.core.revisions import Article
from foreigndesk.intake.event_block import parse_event
from foreigndesk.intake.front_matter import (  # noqa: F401 - ArticleError, whole_url: this module's public names too
    ArticleError,
    required_text,
    scalar,
    split_front_matter,
    timestamp,
    url_field,
    whole_url,
)
from foreigndesk.intake.raw_html import clean_html

REQUIRED_FIELDS = ("title", "outlet", "approved_by", "approved_at")
OPTIONAL_FIELDS = (
    "id", "summary", "author", "category", "tags", "image", "image_caption", "source_url", "publish_at", "languages",
    "event",
)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (e.g. a Word .docx file)",
    b"\xd0\xcf\x11\xe0": "an old Word/Office document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"{\\rtf": "an RTF document",
}
_SCRIPT_URL = re.compile(r"\]\(\s*<?\s*(javascript|vbscript|data):", re.IGNORECASE)
#: More '<' than this in one article is an HTML page or a hostile file, not a Markdown article: refused
#: before the HTML cleaning looks at each tag (a real article has a handful; 5,000 cost ~50 ms).
MAX_ANGLE_BRACKETS = 5000
#: How far in the future an ``approved_at`` may lie: the editor's clock may be a little ahead.
APPROVED_AT_SKEW = timedelta(minutes=5)


def revision_of(raw: bytes) -> str:
    """A revision is named by its bytes: identical drops are the same revision."""
    return hashlib.sha256(raw).hexdigest()[:16]


def slugify(text: str) -> str:
    """ASCII slug of a Vietnamese title: diacritics dropped, đ → d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].rstrip("-")


def _not_in_future(value: str, name: str, filename: str, now: datetime | None) -> str:
    """An approval can't lie in the future (beyond a small clock skew): a typo'd year must not pass."""
    moment = datetime.fromisoformat(value)
    limit = (now or datetime.now(timezone.utc)) + APPROVED_AT_SKEW
    if moment > limit:
        raise ArticleError(
            f"{filename}: field '{name}' = {value} is in the future; write when the article was approved "
            "(for a later publication use 'publish_at')"
        )
    return value


def _check_not_binary(raw: bytes, filename: str) -> None:
    for signature, kind in _BINARY_SIGNATURES.items():
        if raw.startswith(signature):
            raise ArticleError(
                f"{filename}: this is {kind}, not a Markdown text file; "
                "export the article as Markdown (.md, UTF-8) with front matter"
            )
    nul = raw.find(b"\x00", 0, 65536)
    if nul >= 0:
        raise ArticleError(
            f"{filename}: binary file (NUL byte at offset {nul}), not a Markdown text file; "
            "save the article as Markdown (.md, UTF-8) with front matter"
        )


def _decode(raw: bytes, filename: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ArticleError(
            f"{filename}: not UTF-8 (byte 0x{raw[error.start]:02x} at line {line}); save the file as UTF-8"
        ) from None
    return unicodedata.normalize("NFC", text.removeprefix("\ufeff"))


def _check_fields(front: dict[str, Any], filename: str) -> None:
    for name in front:
        if str(name) not in FIELDS:
            close = difflib.get_close_matches(str(name), FIELDS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"the fields are {', '.join(FIELDS)}"
            raise ArticleError(f"{filename}: unknown front matter field '{name}'; {hint}")


def _languages(front: dict[str, Any], filename: str) -> list[str]:
    value = front.get("languages", list(TARGET_LANGUAGES))
    languages = [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value or [])
    unknown = [lang for lang in languages if lang not in TARGET_LANGUAGES]
    if unknown or not languages:
        raise ArticleError(f"{filename}: 'languages' has {unknown or 'nothing'}; use some of {list(TARGET_LANGUAGES)}")
    return languages


def _tags(front: dict[str, Any], filename: str) -> list[str]:
    value = front.get("tags")
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or any(isinstance(item, (dict, list)) for item in items):
        raise ArticleError(f"{filename}: 'tags' must be a list like [du lịch, hợp tác] or 'du lịch, hợp tác'")
    return [str(item).strip() for item in items if str(item).strip()]


def article_id_for(front: dict[str, Any], outlet: str, approved_at: str, title: str, filename: str) -> str:
    """The stable id: front matter ``id``, else outlet + approval date + title slug."""
    given = front.get("id")
    if given is not None:
        article_id = str(given).strip()
        if not _SAFE_ID.match(article_id):
            raise ArticleError(
                f"{filename}: id {article_id!r} is not a safe slug; use lowercase letters, digits and '-' only "
                "(at most 120 characters), e.g. 'btn-2025-03-hop-tac-du-lich'"
            )
        return article_id
    slug = slugify(title) or hashlib.sha256(title.encode()).hexdigest()[:12]
    return f"{outlet}-{approved_at[:10]}-{slug}".rstrip("-")


def _line_of(text: str, offset: int, first_line: int) -> int:
    return first_line + text.count("\n", 0, offset)


def script_url_flags(name: str, text: str, first_line: int = 1) -> list[str]:
    """Markdown links to ``javascript:``/``data:`` URLs: never published as links, flagged for the reviewer."""
    return [
        f"{name} line {_line_of(text, match.start(), first_line)}: link to a {match.group(1).lower()}: URL — "
        "it must not be published as a link; replace it with an https link"
        for match in _SCRIPT_URL.finditer(text)
    ]


def _flag_line(flag: str) -> int:
    found = re.search(r" line (\d+)", flag)
    return int(found.group(1)) if found else 0


def clean_field(name: str, text: str, first_line: int = 1, *, one_line: bool = False) -> tuple[str, list[str]]:
    """A field without raw HTML (:func:`.raw_html.clean_html`), with every flag the reviewer must see."""
    cleaned, flags = clean_html(text, name, first_line)
    if one_line:
        cleaned = " ".join(cleaned.split())
    # Line numbers as the editor sees them: read off the text as dropped.
    return cleaned, sorted(flags + script_url_flags(name, text, first_line), key=_flag_line)


def parse_article(
    raw: bytes,
    filename: str,
    outlet: str,
    *,
    known_outlets: Collection[str] | None = None,
    max_bytes: int | None = None,
    now: datetime | None = None,
) -> Article:
    """Read one dropped file of ``outlet``'s drop zone, or say exactly why not."""
    if max_bytes is not None and len(raw) > max_bytes:
        raise ArticleError(
            f"{filename}: {len(raw)} bytes, larger than the limit of {max_bytes} bytes; "
            "split the article, move images out of the text, or raise FOREIGNDESK_MAX_ARTICLE_BYTES"
        )
    if not raw.strip():
        raise ArticleError(f"{filename}: the file is empty; write the front matter and the article text")
    _check_not_binary(raw, filename)
    text = _decode(raw, filename)
    front, body, body_line = split_front_matter(text, filename)
    _check_fields(front, filename)
    for name in REQUIRED_FIELDS:
        required_text(front, name, filename)
    declared_outlet = required_text(front, "outlet", filename)
    if known_outlets is not None and declared_outlet not in known_outlets:
        raise ArticleError(
            f"{filename}: unknown outlet {declared_outlet!r}; use one of {sorted(known_outlets)} "
            "(or add it to FOREIGNDESK_OUTLETS)"
        )
    if declared_outlet != outlet:
        raise ArticleError(
            f"{filename}: outlet {declared_outlet!r} does not match the drop zone {outlet!r}; "
            f"drop it into inbox/{declared_outlet}/ or fix 'outlet'"
        )
    title = required_text(front, "title", filename)
    approved_at = _not_in_future(timestamp(front, "approved_at", filename), "approved_at", filename, now)
    publish_at = timestamp(front, "publish_at", filename) if scalar(front, "publish_at", filename) else ""
    image = url_field(front, "image", filename, relative_ok=True)
    image_caption = scalar(front, "image_caption", filename)
    if image_caption and not image:
        raise ArticleError(f"{filename}: 'image_caption' is given without 'image'; add 'image: ...' or drop the caption")
    article_id = article_id_for(front, outlet, approved_at, title, filename)
    if not body.strip():
        raise ArticleError(f"{filename}: the article body is empty; write the text below the closing '---'")
    brackets = text.count("<")
    if brackets > MAX_ANGLE_BRACKETS:
        raise ArticleError(
            f"{filename}: {brackets} '<' characters — this is an HTML page, not a Markdown article "
            f"(at most {MAX_ANGLE_BRACKETS}); export the article as Markdown"
        )
    title, title_flags = clean_field("title", title, one_line=True)
    if not title:
        raise ArticleError(f"{filename}: the title is only HTML markup; write the headline as text")
    summary, summary_flags = clean_field("summary", scalar(front, "summary", filename), one_line=True)
    body, body_flags = clean_field("body", body, body_line)
    if not body.strip():
        raise ArticleError(f"{filename}: the article body is only HTML markup; write the text as Markdown")
    flags = title_flags + summary_flags + body_flags
    return Article(
        article_id=article_id,
        revision=revision_of(raw),
        outlet=outlet,
        title=title,
        body=body.strip() + "\n",
        approved_by=required_text(front, "approved_by", filename),
        approved_at=approved_at,
        summary=summary,
        source_url=url_field(front, "source_url", filename),
        languages=_languages(front, filename),
        author=scalar(front, "author", filename),
        category=scalar(front, "category", filename),
        tags=_tags(front, filename),
        image=image,
        image_caption=image_caption,
        publish_at=publish_at,
        flags=flags,
        event=parse_event(front.get("event"), filename),
    )


def to_markdown(front: dict[str, Any], body: str) -> bytes:
    """Write an article in the drop format: the same fields always give the same bytes.

    Used for articles that arrive as feed items, so a feed item that did not
    change is the same revision on every poll.
    """
    ordered = {name: front[name] for name in FIELDS if front.get(name) not in (None, "", [])}
    header = yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{header}---\n{body.strip()}\n".encode()
