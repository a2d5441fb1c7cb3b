"""Hide what the model must not touch behind numbered placeholders, and put it back.

What the model must not touch (markup, code, URLs, glossary terms) is replaced
by numbered placeholders (``[0]`` by default, see
:mod:`foreigndesk.translate.placeholder_styles`). After translation each
placeholder is put back; one the model lost, duplicated or garbled is reported
as a problem, and a lost term or URL is appended to the segment instead of
vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from foreigndesk.translate.markdown_inline import Image, Text, Token, Verbatim
from foreigndesk.translate.placeholder_styles import DEFAULT_STYLE, PlaceholderStyle


@dataclass(frozen=True)
class Slot:
    """What placeholder n stands for."""

    kind: str  # open, close, verbatim, term, image
    value: str  # the literal markup or text (for a term: the source words it replaced)
    partner: int = -1  # open <-> close
    term: object = None  # a glossary entry (glossary.Term)
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
