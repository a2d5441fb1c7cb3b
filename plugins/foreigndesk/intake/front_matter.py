"""Reading an article's front matter: YAML, safely, and its values as typed fields.

The front matter is a dozen short fields (and an optional ``event:`` block), so it
is read strictly: anchors/aliases (the "billion laughs"), deep nesting and
duplicate keys are refused from the parser's events before any object is built,
dates stay text so *we* parse them and can say what is wrong, and every value
helper raises an :class:`ArticleError` that names the file, the field and the fix.
Shared by the article (:mod:`.article_file`) and its event block (:mod:`.event_block`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

#: Naive timestamps are the desk's local time (the province is UTC+7 all year).
LOCAL_TIMEZONE = "Asia/Ho_Chi_Minh"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
#: The front matter is a dozen short fields; anything much longer is not an article's header.
FRONT_MATTER_MAX_CHARS = 16 * 1024
FRONT_MATTER_MAX_LINES = 200
#: Front matter is flat (a few lists and the event block at most); deeper nesting is refused before it is built.
FRONT_MATTER_MAX_DEPTH = 4
#: A whole http(s) URL: scheme, host (no user@), optional port, then no space, quote, angle bracket or control.
_WHOLE_URL = re.compile(r"https?://[\w.-]+(?::\d{1,5})?(?:[/?#][^\s<>\"'`\\{}|^\x00-\x1f\x7f]*)?", re.IGNORECASE)


class ArticleError(ValueError):
    """A dropped file cannot be accepted; ``str()`` says where and how to fix it."""


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


def scalar(front: dict[str, Any], name: str, filename: str) -> str:
    value = front.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ArticleError(f"{filename}: field '{name}' must be a single line of text, not a list or mapping")
    return str(value).strip()


def required_text(front: dict[str, Any], name: str, filename: str) -> str:
    value = scalar(front, name, filename)
    if not value:
        raise ArticleError(f"{filename}: front matter field '{name}' is missing or empty; add '{name}: ...'")
    return value


def timestamp(front: dict[str, Any], name: str, filename: str) -> str:
    """ISO 8601 with an offset; a bare date or naive time is taken as Thái Nguyên local time."""
    value = scalar(front, name, filename)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ArticleError(
            f"{filename}: field '{name}' = {value!r} is not a date; write it as 2025-03-14T09:30:00+07:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(LOCAL_TIMEZONE))
    return parsed.isoformat()


def split_front_matter(text: str, filename: str) -> tuple[dict[str, Any], str, int]:
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


def whole_url(value: str) -> bool:
    """An http(s) URL from its scheme to its end: nothing before, nothing after, no space or quote in it."""
    if not _WHOLE_URL.fullmatch(value):
        return False
    try:
        return bool(urlsplit(value).hostname)
    except ValueError:  # e.g. a port out of range
        return False


def url_field(front: dict[str, Any], name: str, filename: str, relative_ok: bool = False) -> str:
    value = scalar(front, name, filename)
    if not value or whole_url(value):
        return value
    if relative_ok and re.match(r"^https?://", value, re.IGNORECASE) is None and not re.search(r"[\s<>\"'`]", value) \
            and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and not value.startswith("/") \
            and ".." not in value.split("/"):
        return value
    allowed = "a whole http(s) URL or a relative path inside the article folder" if relative_ok \
        else "a whole http(s) URL (https://host/path, nothing around it)"
    raise ArticleError(f"{filename}: field '{name}' = {value!r} is not {allowed}; fix '{name}'")
