"""Cut a Markdown article into the pieces a model should see, and put it back together.

The model must only ever see prose. Three layers keep everything else out:

* **Blocks** (:func:`parse`): heading marks, list bullets, quote marks, table
  pipes, code blocks, HTML blocks and link definitions are kept as literal text
  in a template; each piece of prose (a heading, a paragraph, a list item, a
  table cell) becomes a :class:`Unit`. Soft-wrapped lines of a paragraph are
  joined into one unit, so the model sees whole sentences.
* **Inline** (:func:`tokenize_inline`): inside a unit, code spans, URLs, HTML
  tags and escapes are verbatim; emphasis and link text stay in the sentence,
  wrapped in paired placeholders (the link's URL lives in the closing one);
  an image's alt text and title become child units of their own, its URL is kept.
* **Placeholders** (:func:`mask` / :func:`restore`): what the model must not
  touch is replaced by numbered placeholders (``[0]`` by default, see
  :data:`PLACEHOLDER_STYLES`), glossary terms included. After translation each
  placeholder is put back; one the model lost, duplicated or garbled is
  reported as a problem, and a lost term or URL is appended to the segment
  instead of vanishing.

Sentence splitting (:func:`split_sentences`) is rule-based and documented here
rather than a model: real Vietnamese packages may ship no splitter (DESIGN.md),
and the desk must never download one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

# --- Placeholders -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceholderStyle:
    """One placeholder format: ``open + number + close``, and how it may come back garbled."""

    name: str
    open: str
    close: str
    #: Variants a model may produce that still clearly mean placeholder n (spaces, full-width).
    loose_open: str
    loose_close: str

    def make(self, number: int) -> str:
        return f"{self.open}{number}{self.close}"

    @property
    def strict(self) -> re.Pattern[str]:
        return _compiled(f"{re.escape(self.open)}(\\d{{1,4}}){re.escape(self.close)}")

    @property
    def loose(self) -> re.Pattern[str]:
        return _compiled(f"(?:{self.loose_open})[ \\t]*(\\d{{1,4}})[ \\t]*(?:{self.loose_close})")


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


PLACEHOLDER_STYLES: dict[str, PlaceholderStyle] = {
    style.name: style
    for style in (
        PlaceholderStyle("[]", "[", "]", r"\[|［|【", r"\]|］|】"),
        PlaceholderStyle("{}", "{", "}", r"\{|｛", r"\}|｝"),
        PlaceholderStyle("##", "#", "#", r"#|＃", r"#|＃"),
        PlaceholderStyle("<t>", "<t", ">", r"<\s*t|＜\s*t", r">|＞"),
        PlaceholderStyle("⟦⟧", "⟦", "⟧", r"⟦|〚", r"⟧|〛"),
    )
}
DEFAULT_STYLE = PLACEHOLDER_STYLES["[]"]


# --- Units and documents ----------------------------------------------------------------------


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


@dataclass(frozen=True)
class Document:
    """A Markdown text as a template: literal strings and top-level units, in order."""

    parts: tuple[str | Unit, ...]
    units: tuple[Unit, ...]  # every unit, children (alt, image title) right after their parent

    def render(self, texts: Mapping[str, str]) -> str:
        return "".join(part if isinstance(part, str) else texts[part.id] for part in self.parts)

    def structure(self) -> tuple[tuple[str, str], ...]:
        """(id, kind) of every unit: two documents with the same structure pair up unit by unit."""
        return tuple((unit.id, unit.kind) for unit in self.units)


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


# --- Blocks ---------------------------------------------------------------------------------------

_QUOTE = re.compile(r"^((?: {0,3}>[ \t]?)*)")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_HEADING = re.compile(r"^( {0,3}(#{1,6})(?:[ \t]+|$))(.*?)((?:[ \t]+#+)?[ \t]*)$")
_ITEM = re.compile(r"^([ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)(?:\[[ xX]\][ \t]+)?)(.*)$")
_HTML_BLOCK = re.compile(r"^ {0,3}<(?:[A-Za-z][A-Za-z0-9-]*[\s/>]|[A-Za-z][A-Za-z0-9-]*$|!--|/[A-Za-z])")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S")
_TABLE_DELIMITER = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)")
_HARD_BREAK = re.compile(r"(?: {2,}|\\)$")


class _Pending:
    """A unit still collecting soft-wrapped lines."""

    def __init__(self, unit_id: str, kind: str, first_line: str, depth: int) -> None:
        self.unit_id = unit_id
        self.kind = kind
        self.lines = [first_line]
        self.depth = depth
        self.suffix = ""


class _Builder:
    def __init__(self, id_prefix: str, style: PlaceholderStyle) -> None:
        self.id_prefix = id_prefix
        self.style = style
        self.parts: list[str | _Pending] = []
        self.pending: _Pending | None = None
        self.count = 0

    def literal(self, text: str) -> None:
        self.parts.append(text)

    def close(self) -> None:
        self.pending = None

    def start(self, prefix: str, kind: str, text: str, depth: int, suffix: str = "", joinable: bool = True) -> None:
        """A new unit after ``prefix``; ``joinable`` units take the following soft-wrapped lines."""
        self.close()
        self.count += 1
        self.literal(prefix)
        pending = _Pending(f"{self.id_prefix}.{self.count}", ">" * depth + kind, text, depth)
        pending.suffix = suffix
        self.parts.append(pending)
        if joinable and not suffix:
            self.pending = pending

    def cells(self, quote: str, row: str, depth: int) -> None:
        self.close()
        self.literal(quote)
        for number, cell in enumerate(_split_row(row)):
            if number:
                self.literal("|")
            stripped = cell.strip()
            if not stripped:
                self.literal(cell)
                continue
            lead = cell[: len(cell) - len(cell.lstrip())]
            trail = cell[len(cell.rstrip()) :]
            self.start(lead, "cell", stripped, depth, joinable=False)
            self.literal(trail)
        self.close()

    def finish(self) -> Document:
        parts: list[str | Unit] = []
        units: list[Unit] = []
        for part in self.parts:
            if isinstance(part, str):
                if parts and isinstance(parts[-1], str):
                    parts[-1] += part
                else:
                    parts.append(part)
                continue
            text = " ".join(line.strip() for line in part.lines)
            family = inline_unit(part.unit_id, part.kind, text, style=self.style)
            units.extend(family)
            parts.append(family[0])
            if part.suffix:
                parts.append(part.suffix)
        return Document(tuple(parts), tuple(units))


def _split_row(row: str) -> list[str]:
    """Table cells split on '|' outside code spans and escapes (outer pipes give empty cells)."""
    cells, current, ticks, index = [], [], 0, 0
    while index < len(row):
        char = row[index]
        if char == "\\" and index + 1 < len(row):
            current.append(row[index : index + 2])
            index += 2
            continue
        if char == "`":
            run = len(row[index:]) - len(row[index:].lstrip("`"))
            ticks = 0 if ticks == run else (run if ticks == 0 else ticks)
            current.append("`" * run)
            index += run
            continue
        if char == "|" and not ticks:
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current))
    return cells


def _quote_split(line: str) -> tuple[str, str, int]:
    quote = _QUOTE.match(line).group(1)
    return quote, line[len(quote) :], quote.count(">")


def parse(markdown: str, id_prefix: str = "body", style: PlaceholderStyle = DEFAULT_STYLE) -> Document:
    """Split a Markdown body into a template and its prose units (see the module docstring)."""
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    build = _Builder(id_prefix, style)
    in_list = False
    index = 0
    while index < len(lines):
        line = lines[index]
        newline = "\n" if index < len(lines) - 1 else ""
        quote, rest, depth = _quote_split(line)
        pending = build.pending
        if not rest.strip():
            build.close()
            build.literal(line + newline)
            index += 1
            continue
        fence = _FENCE.match(rest)
        if fence:
            index = _verbatim_fence(lines, index, quote, fence.group(1), build)
            continue
        if pending is None and _HTML_BLOCK.match(rest):
            index = _verbatim_until_blank(lines, index, build)
            continue
        if _THEMATIC.match(rest) or (pending is not None and _SETEXT.match(rest)):
            build.close()
            build.literal(line + newline)
            index += 1
            continue
        heading = _HEADING.match(rest)
        if heading and not heading.group(3).strip():  # an empty heading: nothing to translate
            build.close()
            build.literal(line + newline)
            index += 1
            continue
        if heading:
            in_list = False
            build.start(quote + heading.group(1), f"h{len(heading.group(2))}", heading.group(3), depth,
                        suffix=heading.group(4), joinable=False)
            build.close()
            build.literal(newline)
            index += 1
            continue
        if "|" in rest and index + 1 < len(lines) and _TABLE_DELIMITER.match(_quote_split(lines[index + 1])[1]) \
                and "|" in lines[index + 1]:
            index = _table(lines, index, build)
            continue
        if pending is None and _LINK_DEFINITION.match(rest):
            build.literal(line + newline)
            index += 1
            continue
        if pending is None and not in_list and _INDENTED_CODE.match(rest):
            index = _verbatim_indented(lines, index, build)
            continue
        item = _ITEM.match(rest)
        if item and item.group(2).strip():
            in_list = True
            _text_line(build, quote + item.group(1), "li", item.group(2), depth, newline)
            index += 1
            continue
        if pending is not None and pending.depth == depth:
            text, suffix = _hard_break(rest)
            pending.lines.append(text)
            if suffix:
                pending.suffix = suffix
                build.close()
            index += 1
            continue
        indent = rest[: len(rest) - len(rest.lstrip())]
        if not indent:
            in_list = False
        _text_line(build, quote + indent, "p", rest[len(indent) :], depth, newline)
        index += 1
    return build.finish()


def _hard_break(text: str) -> tuple[str, str]:
    """Split a line's text from a trailing hard line break (two spaces or a backslash)."""
    match = _HARD_BREAK.search(text)
    if not match or not text[: match.start()].strip():
        return text.rstrip(), ""
    return text[: match.start()].rstrip(), text[len(text[: match.start()].rstrip()) :]


def _text_line(build: _Builder, prefix: str, kind: str, text: str, depth: int, newline: str) -> None:
    text, suffix = _hard_break(text)
    build.start(prefix, kind, text.strip(), depth, suffix=suffix)
    build.literal(newline)


def _verbatim_fence(lines: list[str], index: int, quote: str, opener: str, build: _Builder) -> int:
    build.close()
    closing = re.compile(rf"^[ \t]{{0,3}}{re.escape(opener[0])}{{{len(opener)},}}[ \t]*$")
    build.literal(lines[index] + ("\n" if index < len(lines) - 1 else ""))
    index += 1
    while index < len(lines):
        line = lines[index]
        build.literal(line + ("\n" if index < len(lines) - 1 else ""))
        index += 1
        inner_quote, rest, _ = _quote_split(line)
        if inner_quote == quote and closing.match(rest):
            break
    return index


def _verbatim_until_blank(lines: list[str], index: int, build: _Builder) -> int:
    build.close()
    while index < len(lines) and lines[index].strip():
        build.literal(lines[index] + ("\n" if index < len(lines) - 1 else ""))
        index += 1
    return index


def _verbatim_indented(lines: list[str], index: int, build: _Builder) -> int:
    build.close()
    while index < len(lines) and (not lines[index].strip() or _INDENTED_CODE.match(lines[index])):
        if not lines[index].strip() and not any(
            _INDENTED_CODE.match(later) for later in lines[index + 1 : index + 2] if later.strip()
        ):
            break
        build.literal(lines[index] + ("\n" if index < len(lines) - 1 else ""))
        index += 1
    return index


def _table(lines: list[str], index: int, build: _Builder) -> int:
    quote, header, depth = _quote_split(lines[index])
    build.cells(quote, header, depth)
    build.literal("\n")
    build.literal(lines[index + 1] + ("\n" if index + 1 < len(lines) - 1 else ""))
    index += 2
    while index < len(lines):
        quote, row, depth = _quote_split(lines[index])
        if not row.strip() or "|" not in row:
            break
        build.cells(quote, row, depth)
        build.literal("\n" if index < len(lines) - 1 else "")
        index += 1
    return index


# --- Masking and restoring -------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """What placeholder n stands for."""

    kind: str  # open, close, verbatim, term, image
    value: str  # the literal markup or text (for a term: the source words it replaced)
    partner: int = -1  # open <-> close
    term: object = None  # a glossary entry (glossary.Entry)
    image: Image | None = None


@dataclass(frozen=True)
class Masked:
    """A unit as the model sees it: placeholders instead of markup, code, URLs and glossary terms."""

    text: str
    slots: tuple[Slot, ...]
    style: PlaceholderStyle = DEFAULT_STYLE

    @property
    def terms(self) -> list[Slot]:
        return [slot for slot in self.slots if slot.kind == "term"]


TermFinder = Callable[[str], Iterable[tuple[int, int, object]]]


def mask(tokens: Iterable[Token], style: PlaceholderStyle = DEFAULT_STYLE, find_terms: TermFinder | None = None) -> Masked:
    """Replace everything but prose with numbered placeholders; ``find_terms`` marks glossary terms.

    Paired markup gets a space on its inner side (``[0] chè [1]``) so the model sees the word,
    not the word glued to a bracket; :func:`restore` removes those spaces again.
    """
    out: list[str] = []
    slots: list[Slot] = []

    def add(slot: Slot) -> str:
        slots.append(slot)
        return style.make(len(slots) - 1)

    def walk(items: Iterable[Token]) -> None:
        for token in items:
            if isinstance(token, Text):
                last = 0
                for start, end, entry in (find_terms(token.text) if find_terms else ()):
                    out.append(token.text[last:start])
                    out.append(add(Slot("term", token.text[start:end], term=entry)))
                    last = end
                out.append(token.text[last:])
            elif isinstance(token, Verbatim):
                out.append(add(Slot("verbatim", token.text)))
            elif isinstance(token, Image):
                out.append(add(Slot("image", "", image=token)))
            else:
                opening = len(slots)
                out.append(add(Slot("open", token.open)) + " ")
                walk(token.children)
                slots.append(Slot("close", token.close, partner=opening))
                slots[opening] = Slot("open", token.open, partner=len(slots) - 1)
                out.append(" " + style.make(len(slots) - 1))

    walk(tokens)
    return Masked(re.sub(r"[ \t]{2,}", " ", "".join(out)).strip(), tuple(slots), style)


@dataclass(frozen=True)
class RestoreProblem:
    severity: str  # error, warning
    message: str


def restore(output: str, masked: Masked, value_of: Callable[[int, Slot], str]) -> tuple[str, list[RestoreProblem]]:
    """Put every placeholder's value back into a model output; say what could not be put back.

    ``value_of(n, slot)`` gives the target text of a term, verbatim or image slot.
    A placeholder the model dropped is a problem, never a silent loss: a lost term,
    code span, URL or image is appended at the end; lost markup drops its partner too,
    so the Markdown stays balanced.
    """
    style, slots = masked.style, masked.slots
    problems: list[RestoreProblem] = []
    found: list[tuple[re.Match[str], int]] = []
    for match in style.loose.finditer(output):
        number = int(match.group(1))
        if number >= len(slots):
            problems.append(RestoreProblem("error", f"the model produced {match.group(0)!r}, which stands for nothing; removed"))
            found.append((match, -1))
            continue
        if match.group(0) != style.make(number):
            problems.append(RestoreProblem("warning", f"placeholder {style.make(number)} came back as {match.group(0)!r}; restored"))
        found.append((match, number))
    first: dict[int, int] = {}
    for position, (_, number) in enumerate(found):
        if number < 0:
            continue
        if number in first:
            slot = slots[number]
            problems.append(RestoreProblem("warning" if slot.kind in ("term", "verbatim", "image") else "error",
                                    f"placeholder {style.make(number)} ({_describe(slot)}) appears twice in the model output"))
            if slot.kind in ("open", "close"):
                found[position] = (found[position][0], -1)
        else:
            first[number] = position
    dropped: set[int] = set()
    for number, slot in enumerate(slots):
        if slot.kind != "open":
            continue
        close = slot.partner
        if number in first and close in first and first[number] < first[close]:
            continue
        dropped.update((number, close))
        what = "lost" if number not in first or close not in first else "out of order"
        problems.append(RestoreProblem("error", f"markup {slot.value!r}…{slots[close].value!r} {what} in the model output "
                                         f"(placeholders {style.make(number)}…{style.make(close)}); the markup was left out"))
    pieces: list[str] = []
    last = 0
    for match, number in found:
        pieces.append(output[last : match.start()])
        last = match.end()
        if number < 0 or number in dropped:
            pieces.append("\0gap")
            continue
        slot = slots[number]
        if slot.kind == "open":
            pieces.append(slot.value + "\0open")
        elif slot.kind == "close":
            pieces[-1] = pieces[-1].rstrip(" \t")
            pieces.append(slot.value)
        else:
            pieces.append(_capitalised(value_of(number, slot), "".join(pieces)))
    pieces.append(output[last:])
    text = _close_gaps(re.sub("\0open[ \t]*", "", "".join(pieces)))
    for number, slot in enumerate(slots):
        if number not in first and slot.kind in ("term", "verbatim", "image"):
            value = value_of(number, slot)
            text = f"{text} {value}".strip()
            problems.append(RestoreProblem("error", f"placeholder {style.make(number)} ({_describe(slot)}) was lost by the model; "
                                             f"{value!r} was appended at the end of the segment"))
    if style.name == "⟦⟧" and re.search("[⟦⟧〚〛]", text):
        problems.append(RestoreProblem("error", "a garbled placeholder bracket is left in the output"))
    return text, problems


def _close_gaps(text: str) -> str:
    """Where a placeholder was left out, leave one space (none at the ends or before punctuation)."""

    def gap(match: re.Match[str]) -> str:
        before, after = text[: match.start()], text[match.end() :]
        if not before or not after or after[0] in ".,;:!?)]}。，、！？" or before[-1] in "([{":
            return ""
        return " "

    return re.sub("[ \t]*\0gap(?:[ \t]*\0gap)*[ \t]*", gap, text)


def _describe(slot: Slot) -> str:
    if slot.kind == "term":
        return f"glossary term {slot.value!r}"
    if slot.kind == "image":
        return "an image"
    return f"{slot.kind} {slot.value!r}"


def _capitalised(value: str, before: str) -> str:
    """A term opening a sentence starts with a capital in Latin scripts."""
    head = before.replace("\0open", "").rstrip()
    if value[:1].isascii() and value[:1].islower() and (not head or head[-1] in ".!?"):
        return value[:1].upper() + value[1:]
    return value


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


# --- Sentences ------------------------------------------------------------------------------------

#: Words that end with a period without ending a sentence (Vietnamese and English news usage).
ABBREVIATIONS = frozenset(
    """TP Tp TT TS ThS Th.S PGS GS BS KS CN NSƯT NSND NXB Q P H X Đ/c UBND HĐND
    Mr Mrs Ms Dr Prof St No Nos Vol Fig Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
    e.g i.e vs approx Co Corp Ltd Gen Col Lt Sen Rep Gov""".split()
)
_SENTENCE_END = re.compile(
    r"(?<=[.!?…。！？])[\"'”’»)\]]*(?=\s+[\"'“‘«(\[{#<⟦\d\w])"
)


def split_sentences(text: str) -> list[str]:
    """Sentences of one unit, for the model; joined back with one space (or none after CJK).

    A sentence ends at ``. ! ? …`` (plus closing quotes/brackets) followed by a space
    and a capital, digit, opening quote or placeholder; not after an abbreviation
    from :data:`ABBREVIATIONS` (``TP. Hồ Chí Minh``), an initial (``Nguyễn V. An``)
    or a lowercase word start. ``。！？`` end a sentence even without a space.
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        candidate = text[start:end].strip()
        following = text[end:].lstrip()[:1]
        if following.islower() or _ends_with_abbreviation(candidate):
            continue
        sentences.append(candidate)
        start = end
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    final: list[str] = []
    for sentence in sentences:
        final.extend(part for part in re.split(r"(?<=[。！？])", sentence) if part.strip())
    return final


def _ends_with_abbreviation(candidate: str) -> bool:
    body = candidate.rstrip("\"'”’»)]")
    if not body.endswith("."):
        return False
    word = body[:-1].split()[-1] if body[:-1].split() else ""
    word = word.lstrip("(\"'“‘«[")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word.isupper())


def join_sentences(sentences: list[str], to_code: str) -> str:
    """Sentences back into one text: no space after a CJK sentence end in Chinese or Japanese."""
    out = ""
    for sentence in sentences:
        if out and not (to_code in ("zh", "ja") and out[-1] in "。！？」』）"):
            out += " "
        out += sentence
    return out
