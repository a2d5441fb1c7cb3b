"""An approved Vietnamese article as editors drop it: Markdown with YAML front matter.

The format is documented, with examples, in content/README.md. Parsing is
strict because everything downstream (ids, revisions, reviews, feeds) trusts
it: a file that can't be read unambiguously is refused with an
:class:`ArticleError` that names the file, the field or line, and the fix, and
intake quarantines it instead of guessing. What can be read but deserves a
human look (raw HTML or script in the text) is accepted as plain text and
*flagged* for the review step.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Collection
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from foreigndesk.core.names import TARGET_LANGUAGES
from foreigndesk.core.revisions import Article

REQUIRED_FIELDS = ("title", "outlet", "approved_by", "approved_at")
OPTIONAL_FIELDS = (
    "id", "summary", "author", "category", "tags", "image", "image_caption", "source_url", "publish_at", "languages",
)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
#: Naive timestamps are the desk's local time (the province is UTC+7 all year).
LOCAL_TIMEZONE = "Asia/Ho_Chi_Minh"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
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
_HTML_TAG = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])[^<>]*>")
_SCRIPT_URL = re.compile(r"\]\(\s*<?\s*(javascript|vbscript|data):", re.IGNORECASE)
_DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "style", "form", "input", "link", "meta", "svg"}


class ArticleError(ValueError):
    """A dropped file cannot be accepted; ``str()`` says where and how to fix it."""


def revision_of(raw: bytes) -> str:
    """A revision is named by its bytes: identical drops are the same revision."""
    return hashlib.sha256(raw).hexdigest()[:16]


def slugify(text: str) -> str:
    """ASCII slug of a Vietnamese title: diacritics dropped, đ → d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].rstrip("-")


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so *we* parse them and can say what is wrong."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _scalar(front: dict[str, Any], name: str, filename: str) -> str:
    value = front.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ArticleError(f"{filename}: field '{name}' must be a single line of text, not a list or mapping")
    return str(value).strip()


def _text(front: dict[str, Any], name: str, filename: str) -> str:
    value = _scalar(front, name, filename)
    if not value:
        raise ArticleError(f"{filename}: front matter field '{name}' is missing or empty; add '{name}: ...'")
    return value


def _timestamp(front: dict[str, Any], name: str, filename: str) -> str:
    """ISO 8601 with an offset; a bare date or naive time is taken as Thái Nguyên local time."""
    value = _scalar(front, name, filename)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ArticleError(
            f"{filename}: field '{name}' = {value!r} is not a date; write it as 2025-03-14T09:30:00+07:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(LOCAL_TIMEZONE))
    return parsed.isoformat()


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


def _split_front_matter(text: str, filename: str) -> tuple[dict[str, Any], str, int]:
    """(fields, body, line number where the body starts)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        if re.match(r"\A---[ \t]*\r?\n", text):
            raise ArticleError(f"{filename}: front matter starts with '---' but has no closing '---' line; add one")
        raise ArticleError(
            f"{filename}: no front matter; start the file with a '---' line, the fields, and a closing '---'"
        )
    try:
        front = yaml.load(match.group(1) or "", Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as error:
        # The line where the broken construct starts (e.g. an unclosed quote) says more than where it ended.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = " ".join(filter(None, [getattr(error, "context", None), getattr(error, "problem", None)]))
        problem = problem or "syntax error"
        raise ArticleError(
            f"{filename}: front matter is not valid YAML{where} ({problem}); "
            "write 'field: value' lines and quote values containing ': ' or starting with a quote"
        ) from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise ArticleError(f"{filename}: front matter must be 'field: value' lines")
    return front, text[match.end() :], text[: match.end()].count("\n") + 1


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


def _url(front: dict[str, Any], name: str, filename: str, relative_ok: bool = False) -> str:
    value = _scalar(front, name, filename)
    if not value or re.match(r"^https?://[^\s/]+", value):
        return value
    if relative_ok and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and ".." not in value.split("/") \
            and not value.startswith("/"):
        return value
    allowed = "an http(s) URL or a relative path inside the article folder" if relative_ok else "an http(s) URL"
    raise ArticleError(f"{filename}: field '{name}' = {value!r} is not {allowed}; fix '{name}'")


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


def html_flags(name: str, text: str, first_line: int = 1) -> list[str]:
    """Raw HTML, comments and script URLs in a field: kept as text, flagged for the reviewer."""
    flags: list[str] = []
    seen: set[str] = set()
    for match in _HTML_TAG.finditer(text):
        tag = "<!--" if match.group(0) == "<!--" else f"<{match.group(2).lower()}>"
        if tag in seen:
            continue
        seen.add(tag)
        kind = "script/active content" if match.group(2) and match.group(2).lower() in _DANGEROUS_TAGS else "raw HTML"
        flags.append(
            f"{name} line {_line_of(text, match.start(), first_line)}: {kind} {tag} — kept as plain text and "
            "escaped in every output; check with the editor whether it belongs"
        )
    for match in _SCRIPT_URL.finditer(text):
        flags.append(
            f"{name} line {_line_of(text, match.start(), first_line)}: link to a {match.group(1).lower()}: URL — "
            "it must not be published as a link; replace it with an https link"
        )
    return flags


def parse_article(
    raw: bytes,
    filename: str,
    outlet: str,
    *,
    known_outlets: Collection[str] | None = None,
    max_bytes: int | None = None,
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
    front, body, body_line = _split_front_matter(text, filename)
    _check_fields(front, filename)
    for name in REQUIRED_FIELDS:
        _text(front, name, filename)
    declared_outlet = _text(front, "outlet", filename)
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
    title = _text(front, "title", filename)
    approved_at = _timestamp(front, "approved_at", filename)
    publish_at = _timestamp(front, "publish_at", filename) if _scalar(front, "publish_at", filename) else ""
    image = _url(front, "image", filename, relative_ok=True)
    image_caption = _scalar(front, "image_caption", filename)
    if image_caption and not image:
        raise ArticleError(f"{filename}: 'image_caption' is given without 'image'; add 'image: ...' or drop the caption")
    article_id = article_id_for(front, outlet, approved_at, title, filename)
    if not body.strip():
        raise ArticleError(f"{filename}: the article body is empty; write the text below the closing '---'")
    summary = _scalar(front, "summary", filename)
    flags = html_flags("title", title) + html_flags("summary", summary) + html_flags("body", body, body_line)
    return Article(
        article_id=article_id,
        revision=revision_of(raw),
        outlet=outlet,
        title=title,
        body=body.strip() + "\n",
        approved_by=_text(front, "approved_by", filename),
        approved_at=approved_at,
        summary=summary,
        source_url=_url(front, "source_url", filename),
        languages=_languages(front, filename),
        author=_scalar(front, "author", filename),
        category=_scalar(front, "category", filename),
        tags=_tags(front, filename),
        image=image,
        image_caption=image_caption,
        publish_at=publish_at,
        flags=flags,
    )


def to_markdown(front: dict[str, Any], body: str) -> bytes:
    """Write an article in the drop format: the same fields always give the same bytes.

    Used for articles that arrive as feed items, so a feed item that did not
    change is the same revision on every poll.
    """
    ordered = {name: front[name] for name in FIELDS if front.get(name) not in (None, "", [])}
    header = yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{header}---\n{body.strip()}\n".encode()
