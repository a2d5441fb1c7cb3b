"""An approved Vietnamese article as editors drop it: Markdown with YAML front matter.

Parsing is strict because everything downstream (ids, revisions, reviews,
feeds) trusts it: a file that can't be read unambiguously is refused with an
:class:`ArticleError` that names the field and the fix, and intake quarantines
it instead of guessing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from foreigndesk.settings import DEFAULT_LANGUAGES

REQUIRED_FIELDS = ("title", "outlet", "approved_by", "approved_at")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")


class ArticleError(ValueError):
    """A dropped file cannot be accepted; ``str()`` says where and how to fix it."""


@dataclass(frozen=True)
class Article:
    """One revision of one article, as accepted by intake."""

    article_id: str
    revision: str
    outlet: str
    title: str
    body: str
    approved_by: str
    approved_at: str
    summary: str = ""
    source_url: str = ""
    languages: list[str] = field(default_factory=lambda: list(DEFAULT_LANGUAGES))


def revision_of(raw: bytes) -> str:
    """A revision is named by its bytes: identical drops are the same revision."""
    return hashlib.sha256(raw).hexdigest()[:16]


def slugify(text: str) -> str:
    """ASCII slug of a Vietnamese title: diacritics dropped, đ → d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].rstrip("-")


def _text(front: dict[str, Any], name: str, filename: str) -> str:
    value = front.get(name)
    if value is None or str(value).strip() == "":
        raise ArticleError(f"{filename}: front matter field '{name}' is missing or empty; add '{name}: ...'")
    return str(value).strip()


def _timestamp(front: dict[str, Any], name: str, filename: str) -> str:
    value = front.get(name)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    try:
        return datetime.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ArticleError(
            f"{filename}: field '{name}' = {value!r} is not a date; write it as 2025-03-14T09:30:00+07:00"
        ) from None


def _split_front_matter(text: str, filename: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ArticleError(
            f"{filename}: no front matter; start the file with a '---' line, the fields, and a closing '---'"
        )
    try:
        front = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise ArticleError(f"{filename}: front matter is not valid YAML{where}; check quotes and colons") from None
    if not isinstance(front, dict):
        raise ArticleError(f"{filename}: front matter must be 'field: value' lines")
    return front, text[match.end() :]


def _languages(front: dict[str, Any], filename: str) -> list[str]:
    value = front.get("languages", list(DEFAULT_LANGUAGES))
    languages = [value] if isinstance(value, str) else list(value)
    unknown = [lang for lang in languages if lang not in DEFAULT_LANGUAGES]
    if unknown or not languages:
        raise ArticleError(f"{filename}: 'languages' has {unknown or 'nothing'}; use some of {list(DEFAULT_LANGUAGES)}")
    return languages


def article_id_for(front: dict[str, Any], outlet: str, approved_at: str, title: str, filename: str) -> str:
    """The stable id: front matter ``id``, else outlet + approval date + title slug."""
    given = front.get("id")
    if given is not None:
        article_id = str(given).strip()
        if not _SAFE_ID.match(article_id):
            raise ArticleError(
                f"{filename}: id {article_id!r} is not a safe slug; use lowercase letters, digits and '-' only"
            )
        return article_id
    return f"{outlet}-{approved_at[:10]}-{slugify(title)}".rstrip("-")


def parse_article(raw: bytes, filename: str, outlet: str) -> Article:
    """Read one dropped file of ``outlet``'s drop zone, or say exactly why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArticleError(f"{filename}: not UTF-8 (byte {error.start}); save the file as UTF-8") from None
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    front, body = _split_front_matter(text, filename)
    for name in REQUIRED_FIELDS:
        _text(front, name, filename)
    declared_outlet = _text(front, "outlet", filename)
    if declared_outlet != outlet:
        raise ArticleError(
            f"{filename}: outlet {declared_outlet!r} does not match the drop zone {outlet!r}; "
            f"drop it into inbox/{declared_outlet}/ or fix 'outlet'"
        )
    if not body.strip():
        raise ArticleError(f"{filename}: the article body is empty; write the text below the closing '---'")
    title = _text(front, "title", filename)
    approved_at = _timestamp(front, "approved_at", filename)
    return Article(
        article_id=article_id_for(front, outlet, approved_at, title, filename),
        revision=revision_of(raw),
        outlet=outlet,
        title=title,
        body=body.strip() + "\n",
        approved_by=_text(front, "approved_by", filename),
        approved_at=approved_at,
        summary=str(front.get("summary") or "").strip(),
        source_url=str(front.get("source_url") or "").strip(),
        languages=_languages(front, filename),
    )
