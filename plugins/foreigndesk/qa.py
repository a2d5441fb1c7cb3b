"""Quality checks on machine translations: say plainly what looks wrong, segment by segment.

Modelled on Weblate's ``weblate/checks``: each check is a tiny class with an
``id``, a human ``name`` and ``description``, a fixed ``severity`` and one method,
:meth:`Check.problems`, that returns what is wrong (an empty list when nothing
is). :data:`CHECKS` is the registry; :func:`run_checks` turns problems into
findings ``{check, severity, segment, message}`` stored with the draft and shown
to the reviewer.

Segment checks look at one translated unit (:class:`SegmentResult`); document
checks at a whole body (:class:`DocumentResult`). Severities: ``error`` (the
reviewer must fix it), ``warning`` (look at it), ``info`` (for the record).
A unit reused from the translation memory was already approved by a person:
only the checks marked ``on_memory`` (the glossary may have changed since, and
the reuse itself is marked) look at it again.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from foreigndesk.glossary import Entry, fold
from foreigndesk.segment import Image, RestoreProblem, Span, Unit, Verbatim, parse, plain_text, tokenize_inline

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class SegmentResult:
    """One unit of one translation, with what is known about how it was made."""

    unit: Unit  # the source unit (Vietnamese)
    language: str
    target: str  # the translated Markdown of the unit
    terms: tuple[Entry, ...] = ()  # glossary entries found in the source, once per occurrence
    placeholder_problems: tuple[RestoreProblem, ...] = ()
    memory: object = None  # memory.MemoryRecord when the unit came from the translation memory


@dataclass(frozen=True)
class DocumentResult:
    segment: str  # "body"
    language: str
    source: str
    target: str


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    segment: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "severity": self.severity, "segment": self.segment, "message": self.message}


class Check:
    """One kind of problem. Subclasses set the class attributes and implement :meth:`problems`."""

    id: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[str] = "warning"
    scope: ClassVar[str] = "segment"  # or "document"
    on_memory: ClassVar[bool] = False  # also look at units reused from the translation memory

    def problems(self, item) -> list[str]:
        """What is wrong with ``item`` (a :class:`SegmentResult` or :class:`DocumentResult`)."""
        raise NotImplementedError


CHECKS: dict[str, Check] = {}


def register(cls: type[Check]) -> type[Check]:
    if cls.severity not in SEVERITIES or cls.scope not in ("segment", "document"):
        raise ValueError(f"check {cls.__name__}: bad severity or scope")
    CHECKS[cls.id] = cls()
    return cls


def run_checks(segments: list[SegmentResult], documents: list[DocumentResult] = (), checks=None) -> list[Finding]:
    """Every check on every item, in unit order; a crashing check is itself a finding, never silent."""
    findings: list[Finding] = []
    active = list(checks if checks is not None else CHECKS.values())
    for item in segments:
        for check in active:
            if check.scope == "segment" and (item.memory is None or check.on_memory):
                findings.extend(_run(check, item, item.unit.id))
    for document in documents:
        for check in active:
            if check.scope == "document":
                findings.extend(_run(check, document, document.segment))
    return findings


def _run(check: Check, item, segment: str) -> list[Finding]:
    try:
        return [Finding(check.id, check.severity, segment, message) for message in check.problems(item)]
    except Exception as error:  # a bug in one check must not hide the translation
        return [Finding(check.id, "error", segment, f"the check itself failed ({type(error).__name__}: {error})")]


# --- glossary -----------------------------------------------------------------------------------


def _count(text: str, term: str) -> int:
    """Occurrences of a term, first letter in either case (a term may open a sentence)."""
    if not term:
        return 0
    folded = fold(text)
    term = fold(term)
    variants = {term, term[:1].upper() + term[1:], term[:1].lower() + term[1:]}
    return len(re.findall("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)), folded))


@register
class GlossaryMissing(Check):
    id = "glossary-missing"
    name = "Glossary term missing"
    description = "A term of the provincial glossary in the source does not appear, as the glossary writes it, in the translation."
    severity = "error"
    on_memory = True

    def problems(self, item: SegmentResult) -> list[str]:
        out = []
        for entry, count in Counter(item.terms).items():
            wanted = entry.target(item.language)
            found = _count(item.target, wanted)
            if found < count:
                out.append(f"{entry.vi!r} must be translated {wanted!r} (glossary {entry.where}); "
                           f"{count} in the source, {found} in the translation")
        return out


@register
class GlossaryForbidden(Check):
    id = "glossary-forbidden"
    name = "Forbidden rendering"
    description = "The translation uses a rendering the glossary forbids for a term of the source."
    severity = "error"
    on_memory = True

    def problems(self, item: SegmentResult) -> list[str]:
        out = []
        for entry in dict.fromkeys(item.terms):
            forbidden = entry.forbidden.get(item.language, ())
            if not forbidden:
                continue
            rest = fold(item.target).replace(fold(entry.target(item.language)), " ")
            for bad in forbidden:
                if fold(bad) in rest:
                    out.append(f"{bad!r} is a forbidden rendering of {entry.vi!r}; the glossary says "
                               f"{entry.target(item.language)!r} ({entry.where})")
        return out


@register
class FormerName(Check):
    id = "glossary-former-name"
    name = "Former name"
    description = "The source names a body by a name it no longer has (2025 reorganisation, merger with Bắc Kạn)."
    severity = "info"
    on_memory = True

    def problems(self, item: SegmentResult) -> list[str]:
        return [
            f"{entry.vi!r} is a former name; now {entry.successor!r}. Check the article means the body as it was. {entry.note}".strip()
            for entry in dict.fromkeys(item.terms)
            if entry.status == "former"
        ]


# --- placeholders ---------------------------------------------------------------------------------


@register
class PlaceholdersLost(Check):
    id = "placeholders"
    name = "Placeholder lost"
    description = ("The model dropped, duplicated or garbled a placeholder standing for a glossary term, "
                   "a URL, code or markup; what it stood for was appended or left out, as the message says.")
    severity = "error"

    def problems(self, item: SegmentResult) -> list[str]:
        return [problem.message for problem in item.placeholder_problems if problem.severity == "error"]


@register
class PlaceholdersAltered(Check):
    id = "placeholders-altered"
    name = "Placeholder altered"
    description = "A placeholder came back altered or twice; it was restored, but the sentence around it may be off."
    severity = "warning"

    def problems(self, item: SegmentResult) -> list[str]:
        return [problem.message for problem in item.placeholder_problems if problem.severity != "error"]


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
    id = "memory"
    name = "From translation memory"
    description = "This segment was not machine-translated: it is a translation a reviewer approved before, reused exactly."
    severity = "info"
    on_memory = True

    def problems(self, item: SegmentResult) -> list[str]:
        return [f"reused the translation {item.memory.describe()}"] if item.memory is not None else []
