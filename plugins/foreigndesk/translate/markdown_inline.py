"""Inline Markdown: what inside one piece of prose the model may see, and what it must not.

Inside a unit, code spans, URLs, HTML tags and escapes are verbatim; emphasis
and link text stay in the sentence, wrapped in paired placeholders (the link's
URL lives in the closing one); an image's alt text and title become child units
of their own, its URL is kept. Blocks (paragraphs, lists, tables) are cut in
:mod:`foreigndesk.translate.markdown`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from foreigndesk.translate.placeholder_styles import DEFAULT_STYLE, PlaceholderStyle


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Verbatim:
    """Copied as is: code spans, URLs, HTML tags, escapes, text that looks like a placeholder."""

    text: str


@dataclass(frozen=True)
class Span:
    """Markup around translatable text: emphasis (``**``), links (``[`` … ``](url)``)."""

    open: str
    close: str
    children: tuple["Token", ...]


@dataclass(frozen=True)
class Image:
    """``![alt](dest "title")``: alt and title are child units, the destination is kept."""

    alt_id: str
    title_id: str
    dest: str  # everything between '](' and the title, whitespace included
    title_open: str
    title_close: str
    tail: str  # whitespace before ')'

    def render(self, alt: str, title: str) -> str:
        alt = re.sub(r"(?<!\\)([\[\]])", r"\\\1", alt)
        if self.title_id:
            closing = self.title_close
            title = re.sub(rf"(?<!\\){re.escape(closing)}", "\\\\" + closing, title)
            return f"![{alt}]({self.dest}{self.title_open}{title}{closing}{self.tail})"
        return f"![{alt}]({self.dest}{self.tail})"


Token = Text | Verbatim | Span | Image


@dataclass(frozen=True)
class Unit:
    """One piece of prose to translate. ``text`` is its source Markdown (what memory keys on)."""

    id: str
    kind: str  # title, summary, h1..h6, p, li, cell, alt, img-title; '>' per quote level in front
    text: str
    parent: str = ""
    tokens: tuple[Token, ...] = field(default=(), compare=False, repr=False)



# --- Inline tokens ------------------------------------------------------------------------------

_BALANCED = r"(?:\\.|[^\\\[\]]|\[(?:\\.|[^\\\[\]])*\])*"
_DEST = r"\s*(?:<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
_TITLE = r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\((?:\\.|[^()\\])*\)"
_INLINE = re.compile(
    "|".join(
        [
            r"(?P<code>(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`))",
            r"(?P<autolink><(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+\.[A-Za-z]{2,})>)",
            r"(?P<html></?[A-Za-z][A-Za-z0-9-]*(?:\s+[^<>]*?)?/?>|<!--.*?-->)",
            r"(?P<escape>\\[!-/:-@\[-`{-~])",
            rf"(?P<image>!\[(?P<alt>{_BALANCED})\]\((?P<idest>{_DEST})(?:(?P<isp>\s+)(?P<ititle>{_TITLE}))?(?P<itail>\s*)\))",
            rf"(?P<link>\[(?P<ltext>{_BALANCED})\](?P<ltarget>\({_DEST}(?:\s+(?:{_TITLE}))?\s*\)|\[[^\[\]]*\]))",
            r"(?P<url>(?:https?://|www\.)[^\s<>\[\]()]*[^\s<>\[\]().,;:!?'\"])",
            r"(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})",
            r"(?P<strong>\*\*(?=\S)(?P<stext>.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(?P<stext2>.+?)(?<=\S)__(?!\w))",
            r"(?P<em>\*(?=[^\s*])(?P<etext>.+?)(?<=[^\s*])\*|(?<!\w)_(?=\S)(?P<etext2>.+?)(?<=\S)_(?!\w))",
            r"(?P<strike>~~(?=\S)(?P<ktext>.+?)(?<=\S)~~)",
        ]
    ),
    re.DOTALL,
)


class _Children:
    """Numbers the child units (image alt/title) of one parent unit."""

    def __init__(self, parent_id: str, parent_kind: str, style: PlaceholderStyle) -> None:
        self.parent_id = parent_id
        self.style = style
        self.depth = len(parent_kind) - len(parent_kind.lstrip(">"))
        self.units: list[Unit] = []
        self.images = 0

    def image(self, alt: str, title: str) -> tuple[str, str]:
        self.images += 1
        base = f"{self.parent_id}.img{self.images}"
        quote = ">" * self.depth
        alt_unit = inline_unit(f"{base}.alt", quote + "alt", alt, parent=self.parent_id, style=self.style)
        self.units.extend(alt_unit)
        title_id = ""
        if title.strip():
            title_unit = inline_unit(f"{base}.title", quote + "img-title", title, parent=self.parent_id, style=self.style)
            self.units.extend(title_unit)
            title_id = title_unit[0].id
        return alt_unit[0].id, title_id


def _placeholder_lookalikes(text: str, style: PlaceholderStyle) -> list[Token]:
    """Text that already looks like a placeholder is kept verbatim, so it can't be mistaken for one."""
    tokens: list[Token] = []
    last = 0
    for match in style.loose.finditer(text):
        if match.start() > last:
            tokens.append(Text(text[last : match.start()]))
        tokens.append(Verbatim(match.group(0)))
        last = match.end()
    if last < len(text):
        tokens.append(Text(text[last:]))
    return tokens


def tokenize_inline(
    text: str, children: _Children | None = None, style: PlaceholderStyle = DEFAULT_STYLE, in_link: bool = False
) -> tuple[Token, ...]:
    """Inline Markdown to tokens (code, URLs, links, images, emphasis); the rest is Text."""
    tokens: list[Token] = []
    position = 0

    def text_until(end: int) -> None:
        if end > position:
            tokens.extend(_placeholder_lookalikes(text[position:end], style))

    for match in _INLINE.finditer(text):
        kind = _top_group(match)
        if kind == "link" and in_link:
            continue
        text_until(match.start())
        whole = match.group(0)
        if kind in ("code", "autolink", "html", "escape", "url", "email"):
            tokens.append(Verbatim(whole))
        elif kind == "image":
            if children is None:
                tokens.append(Verbatim(whole))
            else:
                title = match.group("ititle") or ""
                alt_id, title_id = children.image(match.group("alt"), title[1:-1] if title else "")
                tokens.append(
                    Image(
                        alt_id=alt_id,
                        title_id=title_id,
                        dest=match.group("idest") + (match.group("isp") or ""),
                        title_open=title[:1],
                        title_close=title[-1:],
                        tail=match.group("itail"),
                    )
                )
        elif kind == "link":
            inner = tokenize_inline(match.group("ltext"), children, style, in_link=True)
            tokens.append(Span("[", "]" + match.group("ltarget"), inner))
        else:
            inner_text, marker = _emphasis(match, kind)
            tokens.append(Span(marker, marker, tokenize_inline(inner_text, children, style, in_link)))
        position = match.end()
    text_until(len(text))
    return tuple(tokens)


_TOP_GROUPS = ("code", "autolink", "html", "escape", "image", "link", "url", "email", "strong", "em", "strike")


def _top_group(match: re.Match[str]) -> str:
    for name in _TOP_GROUPS:
        if match.group(name) is not None:
            return name
    raise AssertionError(match.group(0))


def _emphasis(match: re.Match[str], kind: str) -> tuple[str, str]:
    whole = match.group(0)
    if kind == "strong":
        return (match.group("stext") or match.group("stext2")), whole[:2]
    if kind == "strike":
        return match.group("ktext"), "~~"
    return (match.group("etext") or match.group("etext2")), whole[:1]


def inline_tokens(unit_id: str, kind: str, text: str, style: PlaceholderStyle = DEFAULT_STYLE) -> tuple[tuple[Token, ...], list[Unit]]:
    """Tokens of a unit's text, and the child units (alt, image title) its images refer to by id."""
    children = _Children(unit_id, kind, style)
    return tokenize_inline(text, children, style), children.units


def inline_unit(unit_id: str, kind: str, text: str, parent: str = "", style: PlaceholderStyle = DEFAULT_STYLE) -> list[Unit]:
    """A unit of inline Markdown (a title, a cell, an alt text) followed by its image children."""
    tokens, children = inline_tokens(unit_id, kind, text, style)
    return [Unit(unit_id, kind, text, parent, tokens), *children]


@functools.lru_cache(maxsize=8192)
def plain_text(text: str) -> str:
    """A unit's prose only: code spans, URLs, HTML and link destinations removed, markup dropped."""
    return _plain(tokenize_inline(text))


def _plain(tokens: Iterable[Token]) -> str:
    out = []
    for token in tokens:
        if isinstance(token, Text):
            out.append(token.text)
        elif isinstance(token, Span):
            out.append(_plain(token.children))
        elif isinstance(token, Verbatim):
            out.append(" ")
    return re.sub(r"\s+", " ", "".join(out)).strip()
