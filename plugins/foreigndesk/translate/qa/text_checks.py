"""Checks on the text itself: numbers kept, nothing left untranslated, sane length, no loops, same structure."""

from __future__ import annotations

import functools
import re
from collections import Counter

from foreigndesk.core.drafts import MEMORY_FINDING
from foreigndesk.translate.markdown import parse
from foreigndesk.translate.markdown_inline import Image, Span, Verbatim, plain_text, tokenize_inline
from foreigndesk.translate.qa.base import Check, DocumentResult, SegmentResult, register

# --- numbers ------------------------------------------------------------------------------------------

_NUMBER = {
    "vi": re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d+|\d+(?:\.\d+)?)(?!\d)"),
    # 1,234.5 | 8.5 | 8,5 (not English notation: kept whole so it is reported as written) | 8
    "other": re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|\d+(?:[.,]\d+)+|\d+)(?!\d)"),
}
_SCALES = {
    "vi": {"nghìn tỷ": 1e12, "ngàn tỷ": 1e12, "nghìn": 1e3, "ngàn": 1e3, "triệu": 1e6, "tỷ": 1e9, "tỉ": 1e9},
    "en": {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12},
    "zh": {"万亿": 1e12, "千": 1e3, "万": 1e4, "亿": 1e8},
    "ko": {"천": 1e3, "만": 1e4, "억": 1e8, "조": 1e12},
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("January", "Jan"), ("February", "Feb"), ("March", "Mar"), ("April", "Apr"), ("May",), ("June", "Jun"),
         ("July", "Jul"), ("August", "Aug"), ("September", "Sep", "Sept"), ("October", "Oct"),
         ("November", "Nov"), ("December", "Dec")],
        start=1,
    )
    for name in names
}


def numbers(text: str, language: str) -> list[tuple[str, set[float]]]:
    """(as written, possible values) of each number: ``8,5`` in Vietnamese is 8.5, ``1.234`` is 1234;
    ``1,5 tỷ`` may also be 1.5e9 and ``15亿`` is 1.5e9 too."""
    pattern = _NUMBER["vi" if language == "vi" else "other"]
    scales = _SCALES.get(language, {})
    found = []
    for match in pattern.finditer(text):
        raw = match.group(1)
        if language == "vi":
            digits = raw.replace(".", "").replace(",", ".")
        else:
            digits = raw.replace(",", "") if raw.count(".") <= 1 else raw.replace(".", "")
        value = float(digits)
        values = {round(value, 6)}
        after = text[match.end() : match.end() + 12].lstrip()
        for word in sorted(scales, key=len, reverse=True):
            if after.startswith(word):
                values.add(round(value * scales[word], 3))
                break
        found.append((raw, values))
    return found


@register
class Numbers(Check):
    id = "numbers"
    name = "Numbers not preserved"
    description = ("Every number, date, percentage and amount of the source must be in the translation, "
                   "in the target language's notation (Vietnamese 1.234,5 is English 1,234.5).")
    severity = "error"

    def problems(self, item: SegmentResult) -> list[str]:
        source = numbers(plain_text(item.unit.text), "vi")
        target_text = plain_text(item.target)
        target = numbers(target_text, item.language)
        missing = []
        for raw, values in source:
            index = next((i for i, (_, other) in enumerate(target) if values & other), None)
            if index is None:
                missing.append((raw, values))
            else:
                target.pop(index)
        months = [number for name, number in _MONTHS.items() if re.search(rf"\b{name}\b", target_text)]
        missing = [(raw, values) for raw, values in missing if not _take_month(values, months)]
        out = [f"{raw} of the source is missing or changed in the translation" for raw, _ in missing]
        out += [f"{raw} in the translation is not in the source" for raw, _ in target]
        return out


def _take_month(values: set[float], months: list[int]) -> bool:
    for month in months:
        if float(month) in values:
            months.remove(month)
            return True
    return False


# --- untranslated text ------------------------------------------------------------------------------

#: Vietnamese letters outside Latin-1 (ă, đ, ơ, ư, and every letter with a hook, dot below or
#: stacked mark): a word with one is Vietnamese, where "café" or "Hôtel" is not.
VIETNAMESE_LETTERS = frozenset(
    char
    for char in "ăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    for char in (char, char.upper())
)
_LATIN_RUN = re.compile(r"(?:[A-Za-zÀ-ɏḀ-ỿ][\wÀ-ɏḀ-ỿ'’-]*[ \t]+){3,}[A-Za-zÀ-ɏḀ-ỿ][\wÀ-ɏḀ-ỿ'’-]*")


def _without_terms(text: str, item: SegmentResult) -> str:
    """The translation without glossary terms (names kept on purpose) before looking for leftovers."""
    for entry in sorted(set(item.terms), key=lambda e: len(e.target(item.language)), reverse=True):
        text = text.replace(entry.target(item.language), " ")
    return text


@register
class Untranslated(Check):
    id = "untranslated"
    name = "Untranslated text"
    description = ("Vietnamese words left in the translation, or (Chinese, Korean) a run of four or more "
                   "Latin-script words; glossary terms, code and URLs don't count.")
    severity = "warning"

    def problems(self, item: SegmentResult) -> list[str]:
        text = _without_terms(plain_text(item.target), item)
        out = []
        words = [word for word in re.findall(r"[\w'’-]+", text) if VIETNAMESE_LETTERS & set(word)]
        if words:
            shown = " ".join(words[:8]) + (" …" if len(words) > 8 else "")
            out.append(f"{len(words)} Vietnamese word(s) left in the translation: {shown}")
        if item.language in ("zh", "ko", "ja"):
            out += [f"Latin text left untranslated: {run.group(0).strip()!r}" for run in _LATIN_RUN.finditer(text)]
        return out


# --- length and loops ---------------------------------------------------------------------------------

#: Translation length / Vietnamese source length, in characters, outside which a segment is suspicious.
LENGTH_RATIOS = {"en": (0.5, 2.0), "zh": (0.12, 0.9), "ko": (0.2, 1.2)}
MIN_LENGTH_FOR_RATIO = 30


@register
class LengthRatio(Check):
    id = "length-ratio"
    name = "Length out of range"
    description = ("The translation is much shorter or longer than such translations usually are "
                   f"(per language, source of at least {MIN_LENGTH_FOR_RATIO} characters): text may be missing or added.")
    severity = "warning"

    def problems(self, item: SegmentResult) -> list[str]:
        source = plain_text(item.unit.text)
        if len(source) < MIN_LENGTH_FOR_RATIO or item.language not in LENGTH_RATIOS:
            return []
        low, high = LENGTH_RATIOS[item.language]
        ratio = len(plain_text(item.target)) / len(source)
        if low <= ratio <= high:
            return []
        return [f"the translation is {ratio:.2f}× the source's length; {item.language} is usually {low}–{high}×"]


_TOKEN = re.compile(r"[\u3400-\u9fff]|[\uac00-\ud7af]+|\w+|[^\w\s]")


def repeated_runs(text: str) -> dict[tuple[str, ...], int]:
    """n-grams (n ≤ 4) repeated back to back: 4+ times for one token, 3+ times for longer ones."""
    tokens = _TOKEN.findall(text.lower())
    found: dict[tuple[str, ...], int] = {}
    for size in range(1, 5):
        needed = 4 if size == 1 else 3
        index = 0
        while index + size <= len(tokens):
            gram = tuple(tokens[index : index + size])
            repeats = 1
            while tokens[index + repeats * size : index + (repeats + 1) * size] == list(gram):
                repeats += 1
            if repeats >= needed and any(re.match(r"\w", token) for token in gram):
                found[gram] = max(found.get(gram, 0), repeats)
                index += repeats * size
            else:
                index += 1
    return found


@register
class RepeatedTokens(Check):
    id = "repeated-tokens"
    name = "Repeated words"
    description = ("The same word or phrase repeats back to back in the translation more than anything "
                   "repeats in the source: the model looped.")
    severity = "error"

    def problems(self, item: SegmentResult) -> list[str]:
        source = repeated_runs(plain_text(item.unit.text))
        return [
            f"{' '.join(gram)!r} repeats {count} times in a row"
            for gram, count in repeated_runs(plain_text(item.target)).items()
            if not any(len(other) == len(gram) and times >= count for other, times in source.items())
        ]


# --- Markdown structure ------------------------------------------------------------------------------

_LABELS = {"li": "list items", "cell": "table cells", "alt": "images", ">": "quoted paragraphs"}


def structure(markdown: str) -> Counter:
    """What a reviewer would see broken: headings per level, list items, quotes, cells, links, images, code."""
    return Counter(dict(_structure(markdown)))


@functools.lru_cache(maxsize=256)
def _structure(markdown: str) -> tuple[tuple[str, int], ...]:
    document = parse(markdown)
    counts: Counter = Counter()
    for unit in document.units:
        kind = unit.kind.lstrip(">")
        if unit.kind.startswith(">"):
            counts["quoted paragraphs"] += 1
        if kind.startswith("h") and kind[1:].isdigit():
            counts[f"level-{kind[1:]} headings"] += 1
        elif kind in ("li", "cell"):
            counts[_LABELS[kind]] += 1
        if not unit.parent:
            _inline_counts(tokenize_inline(unit.text), counts)
    fences = sum(1 for part in document.parts if isinstance(part, str)
                 for line in part.splitlines() if re.match(r"^[ \t>]*(```|~~~)", line))
    counts["code block fences"] += fences
    return tuple(sorted((+counts).items()))


def _inline_counts(tokens, counts: Counter) -> None:
    for token in tokens:
        if isinstance(token, Span):
            if token.open == "[":
                counts["links"] += 1
            _inline_counts(token.children, counts)
        elif isinstance(token, Image) or (isinstance(token, Verbatim) and token.text.startswith("![")):
            counts["images"] += 1
        elif isinstance(token, Verbatim) and token.text.startswith("`"):
            counts["code spans"] += 1


@register
class MarkdownStructure(Check):
    id = "markdown-structure"
    name = "Markdown structure differs"
    description = "Headings, list items, quotes, table cells, links, images or code differ in number between source and translation."
    severity = "error"
    scope = "document"

    def problems(self, item: DocumentResult) -> list[str]:
        source, target = structure(item.source), structure(item.target)
        return [
            f"the source has {source[key]} {key}, the translation {target[key]}"
            for key in sorted(set(source) | set(target))
            if source[key] != target[key]
        ]


# --- memory ---------------------------------------------------------------------------------------------


@register
class MemoryHit(Check):
    id = MEMORY_FINDING
    name = "From translation memory"
    description = "This segment was not machine-translated: it is a translation a reviewer approved before, reused exactly."
    severity = "info"
    on_memory = True

    def problems(self, item: SegmentResult) -> list[str]:
        return [f"reused the translation {item.memory.describe()}"] if item.memory is not None else []
