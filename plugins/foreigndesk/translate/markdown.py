"""Cut a Markdown article into the pieces a model should see, and put it back together.

The model must only ever see prose. Blocks are cut here, inline markup in
:mod:`foreigndesk.translate.markdown_inline`, and what is left to hide is hidden
by :mod:`foreigndesk.translate.placeholders`.

* **Blocks** (:func:`parse`): heading marks, list bullets, quote marks, table
  pipes, code blocks, HTML blocks and link definitions are kept as literal text
  in a template; each piece of prose (a heading, a paragraph, a list item, a
  table cell) becomes a :class:`Unit`. Soft-wrapped lines of a paragraph are
  joined into one unit, so the model sees whole sentences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from foreigndesk.translate.markdown_inline import Unit, inline_unit
from foreigndesk.translate.placeholder_styles import DEFAULT_STYLE, PlaceholderStyle


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
