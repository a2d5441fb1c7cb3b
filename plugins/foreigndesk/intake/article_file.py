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
before any object is built.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from foreigndesk.core.names import TARGET_LANGUAGES
from foreigndesk.core.revisions import Article
from foreigndesk.intake.raw_html import clean_html

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
_SCRIPT_URL = re.compile(r"\]\(\s*<?\s*(javascript|vbscript|data):", re.IGNORECASE)
#: The front matter is a dozen short fields; anything much longer is not an article's header.
FRONT_MATTER_MAX_CHARS = 16 * 1024
FRONT_MATTER_MAX_LINES = 200
#: Front matter is flat (a few lists at most); deeper nesting is refused before it is built.
FRONT_MATTER_MAX_DEPTH = 4
#: More '<' than this in one article is an HTML page or a hostile file, not a Markdown article: refused
#: before the HTML cleaning looks at each tag (a real article has a handful; 5,000 cost ~50 ms).
MAX_ANGLE_BRACKETS = 5000
#: How far in the future an ``approved_at`` may lie: the editor's clock may be a little ahead.
APPROVED_AT_SKEW = timedelta(minutes=5)
#: A whole http(s) URL: scheme, host (no user@), optional port, then no space, quote, angle bracket or control.
_WHOLE_URL = re.compile(r"https?://[\w.-]+(?::\d{1,5})?(?:[/?#][^\s<>\"'`\\{}|^\x00-\x1f\x7f]*)?", re.IGNORECASE)


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


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML that leaves dates as text, so *we* parse them and can say what is wrong.

    On LibYAML's parser when PyYAML has it (the wheels do): the pure-Python scanner takes ~1 s on
    16 KiB of nested ``[`` (it looks ahead quadratically), LibYAML refuses it in milliseconds.
    """


class _Refused(Exception):
    """A construct the front matter must not use, with the file line where it is."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _no_duplicate_keys(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 2
        try:
            first = seen.setdefault(key, line)
        except TypeError:  # an unhashable key: SafeLoader says so itself
            break
        if first != line:
            raise _Refused(line, f"field '{key}' is given twice (lines {first} and {line}); keep one")
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def _check_events(text: str) -> None:
    """Refuse anchors, aliases and deep nesting from the parser's events, before anything is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 2
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(line, f"a YAML alias '*{event.anchor}' is not allowed; write the value itself")
        if getattr(event, "anchor", None):
            raise _Refused(line, f"a YAML anchor '&{event.anchor}' is not allowed; write plain 'field: value' lines")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > FRONT_MATTER_MAX_DEPTH:
                raise _Refused(line, f"values nested more than {FRONT_MATTER_MAX_DEPTH} deep; "
                                     "write plain 'field: value' lines")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


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
    match = _FRONT_MATTER.match(text[: FRONT_MATTER_MAX_CHARS + 16])
    if match and len(match.group(1) or "") > FRONT_MATTER_MAX_CHARS:
        match = None
    if not match and re.match(r"\A---[ \t]*\r?\n", text) and "\n---" in text[FRONT_MATTER_MAX_CHARS:]:
        raise ArticleError(
            f"{filename}: the front matter is longer than {FRONT_MATTER_MAX_CHARS} characters; "
            "it holds a few short fields — put the text below the closing '---'"
        )
    if match and (match.group(1) or "").count("\n") > FRONT_MATTER_MAX_LINES:
        raise ArticleError(
            f"{filename}: the front matter has more than {FRONT_MATTER_MAX_LINES} lines; "
            "it holds a few short fields — put the text below the closing '---'"
        )
    if not match:
        if re.match(r"\A---[ \t]*\r?\n", text):
            raise ArticleError(f"{filename}: front matter starts with '---' but has no closing '---' line; add one")
        raise ArticleError(
            f"{filename}: no front matter; start the file with a '---' line, the fields, and a closing '---'"
        )
    try:
        _check_events(match.group(1) or "")
        front = yaml.load(match.group(1) or "", Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _Refused as refused:
        raise ArticleError(f"{filename}: front matter line {refused.line}: {refused}") from None
    except (RecursionError, MemoryError):
        raise ArticleError(f"{filename}: front matter nested too deep; write plain 'field: value' lines") from None
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


def whole_url(value: str) -> bool:
    """An http(s) URL from its scheme to its end: nothing before, nothing after, no space or quote in it."""
    if not _WHOLE_URL.fullmatch(value):
        return False
    try:
        return bool(urlsplit(value).hostname)
    except ValueError:  # e.g. a port out of range
        return False


def _url(front: dict[str, Any], name: str, filename: str, relative_ok: bool = False) -> str:
    value = _scalar(front, name, filename)
    if not value or whole_url(value):
        return value
    if relative_ok and re.match(r"^https?://", value, re.IGNORECASE) is None and not re.search(r"[\s<>\"'`]", value) \
            and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and not value.startswith("/") \
            and ".." not in value.split("/"):
        return value
    allowed = "a whole http(s) URL or a relative path inside the article folder" if relative_ok \
        else "a whole http(s) URL (https://host/path, nothing around it)"
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
    approved_at = _not_in_future(_timestamp(front, "approved_at", filename), "approved_at", filename, now)
    publish_at = _timestamp(front, "publish_at", filename) if _scalar(front, "publish_at", filename) else ""
    image = _url(front, "image", filename, relative_ok=True)
    image_caption = _scalar(front, "image_caption", filename)
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
    summary, summary_flags = clean_field("summary", _scalar(front, "summary", filename), one_line=True)
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
