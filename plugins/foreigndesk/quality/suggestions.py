"""Glossary suggestions: the same correction, typed by reviewers in several articles, offered as a row.

Every approved segment is compared with its machine text token by token
(words; each Chinese or Japanese character a token of its own, as Chinese has no
spaces; punctuation apart). A *replacement* — machine phrase X became approved
phrase Y — is a candidate; the same X → Y (ignoring case) in at least
``min_count`` different articles of one language, and in at least ``MIN_SHARE``
of the articles whose machine text has X, is a suggestion. Left out, on
purpose: insertions and deletions (style, not terms), rewrites longer than
``MAX_TOKENS`` tokens, anything with a digit or a month or weekday name
(numbers and dates are the QA checks' business, never glossary rows), and
phrases the glossary already covers in that language.

Each suggestion names the Vietnamese term it most likely renders: the word
sequence found in every source segment of the edit that is rarest in the other
approved sources (a copy of the source in the machine text, as an untranslated
term is, wins outright). The desk chief can give another with ``--vi``.

Accepting writes one row in the glossary's own CSV format to
``glossary/from-approvals.csv`` (the folder's other files are never touched)
and re-runs the glossary check, undoing the write if it fails; accepting and
dismissing are remembered as records in the store, so a dismissed suggestion
never comes back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from foreigndesk.core import records
from foreigndesk.translate.glossary import (
    OPTION_COLUMNS,
    REQUIRED_COLUMNS,
    TARGET_LANGUAGES,
    Glossary,
    check_glossary,
    fold,
)
from foreigndesk.core.store import Store
from foreigndesk.quality.approvals import Approval, load_approvals

DEFAULT_MIN_COUNT = 3
#: Of the articles whose machine text has the phrase, the share where reviewers made this very
#: replacement: a term is fixed nearly every time, a word swapped for style or by chance is not.
MIN_SHARE = 0.5
#: A replacement longer than this (either side) is a rewrite, not a term.
MAX_TOKENS = 6
#: Longest Vietnamese word sequence considered as the source term.
MAX_SOURCE_WORDS = 6
ACCEPTED_FILE = "from-approvals.csv"
PREFIX = "glossary-suggestions"
ACCEPTED, DISMISSED = "accepted", "dismissed"

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Tokens with their positions: a CJK character, a word, or one punctuation mark.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
_WORD = re.compile(r"\w+")
_DATE_WORDS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"tháng|ngày|năm|thứ)\b|[年月日]|[월일년]|星期|요일", re.IGNORECASE)


class SuggestionError(ValueError):
    """A suggestion can't be accepted or dismissed; the message says why and what to do."""


@dataclass(frozen=True)
class Suggestion:
    id: str
    language: str
    machine: str
    approved: str
    #: Distinct articles the edit was made in.
    count: int
    articles: list[str]
    #: The Vietnamese source segments the edit came from (at most five).
    sources: list[str]
    #: The Vietnamese term it most likely renders ("" when none stands out: give one with --vi).
    vi: str
    #: Of the articles whose machine text had the phrase, the share where it was replaced so.
    share: float = 1.0

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SuggestionMark:
    """The desk chief's answer to a suggestion, kept in the store (written once)."""

    suggestion_id: str
    action: str
    language: str
    machine: str
    approved: str
    at: str
    vi: str = ""
    row: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Edit:
    language: str
    machine: str
    approved: str
    article_id: str
    source: str


def tokens_with_spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _trim(tokens: Sequence[tuple[str, int, int]]) -> Sequence[tuple[str, int, int]]:
    """Drop punctuation at both ends of a phrase ("fair," → "fair")."""
    start, end = 0, len(tokens)
    while start < end and not _WORD.match(tokens[start][0]):
        start += 1
    while end > start and not _WORD.match(tokens[end - 1][0]):
        end -= 1
    return tokens[start:end]


def _phrase(text: str, tokens: Sequence[tuple[str, int, int]]) -> str:
    tokens = _trim(tokens)
    return text[tokens[0][1]:tokens[-1][2]] if tokens else ""


def replacements(machine: str, approved: str) -> list[tuple[str, str]]:
    """Every (machine phrase, approved phrase) a token-level diff finds replaced."""
    left, right = tokens_with_spans(machine), tokens_with_spans(approved)
    matcher = SequenceMatcher(None, [t[0] for t in left], [t[0] for t in right], autojunk=False)
    found = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace" or i2 - i1 > MAX_TOKENS or j2 - j1 > MAX_TOKENS:
            continue
        before, after = _phrase(machine, left[i1:i2]), _phrase(approved, right[j1:j2])
        if before and after and before.casefold() != after.casefold():
            found.append((before, after))
    return found


def _folded_tokens(text: str) -> str:
    return " ".join(token.casefold() for token, _, _ in tokens_with_spans(text))


def is_number_or_date(phrase: str) -> bool:
    return any(char.isdigit() for char in phrase) or bool(_DATE_WORDS.search(phrase))


def _glossary_forms(glossary: Glossary, language: str) -> set[str]:
    forms: set[str] = set()
    for entry in glossary.entries:
        forms.add(entry.target(language).casefold())
        forms.update(item.casefold() for item in entry.forbidden.get(language, ()))
    return forms


def _covered(glossary: Glossary, phrase: str, language: str) -> bool:
    """Is the whole phrase a glossary term (or inside one) in ``language``?"""
    return any(start == 0 and end >= len(fold(phrase).rstrip()) for start, end, _ in glossary.find(phrase, language))


def mine_edits(approvals: Iterable[Approval], glossary: Glossary) -> list[_Edit]:
    """The replacements of every approved, model-made segment that could be glossary terms."""
    edits: list[_Edit] = []
    forms: dict[str, set[str]] = {}
    for approval in approvals:
        language = approval.language
        if language not in forms:
            forms[language] = _glossary_forms(glossary, language)
        for segment in approval.model_segments:
            for before, after in replacements(segment.machine, segment.approved):
                if is_number_or_date(before) or is_number_or_date(after):
                    continue
                if {before.casefold(), after.casefold()} & forms[language] or _covered(glossary, before, language) \
                        or _covered(glossary, after, language):
                    continue
                edits.append(_Edit(language, before, after, approval.decision.article_id, segment.source))
    return edits


def suggestion_id(language: str, machine: str, approved: str) -> str:
    key = "\0".join((language, machine.casefold(), approved.casefold()))
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _ngrams(text: str) -> set[str]:
    words = _WORD.findall(fold(text).casefold())
    return {" ".join(words[i:i + n]) for n in range(1, MAX_SOURCE_WORDS + 1) for i in range(len(words) - n + 1)}


def source_term(machine: str, sources: Sequence[str], other_sources: Sequence[str], glossary: Glossary) -> str:
    """The Vietnamese word sequence the edit most likely renders, as written in the first source; "" if none.

    Candidates are the word sequences in every source of the edit and not in the
    glossary. A copy of the machine phrase (an untranslated term) wins; otherwise
    the candidate rarest among the other approved sources, then the longest.
    """
    common = set.intersection(*(_ngrams(source) for source in sources)) if sources else set()
    copied = " ".join(_WORD.findall(fold(machine).casefold()))
    if copied in common:
        candidates = [copied]
    else:
        counts = Counter(gram for source in other_sources for gram in _ngrams(source) & common)
        candidates = sorted(common, key=lambda gram: (counts[gram], -len(gram.split()), gram))
    for gram in candidates:
        written = _as_written(gram, sources[0])
        if written and not _covered(glossary, written, "vi") and not is_number_or_date(written):
            return written
    return ""


def _as_written(folded_words: str, text: str) -> str:
    """The span of ``text`` whose folded, lower-cased words are ``folded_words``.

    A capital that only starts a sentence ("Hội chợ …") is lowered: the glossary
    matches a capitalised first letter anyway, proper names keep theirs.
    """
    words = folded_words.split()
    spans = list(_WORD.finditer(text))
    for i in range(len(spans) - len(words) + 1):
        if [fold(m.group(0)).casefold() for m in spans[i:i + len(words)]] == words:
            written = text[spans[i].start():spans[i + len(words) - 1].end()]
            first, *rest = written.split()
            if first[1:].islower() and all(word[:1].islower() for word in rest) and rest:
                written = written[:1].lower() + written[1:]
            return written
    return ""


def _most_common(values: Iterable[str]) -> str:
    counted = Counter(values)
    return max(counted, key=lambda value: (counted[value], value[:1].islower(), value))


def suggestions_from(approvals: Sequence[Approval], glossary: Glossary, min_count: int = DEFAULT_MIN_COUNT,
                     hidden: Iterable[str] = ()) -> list[Suggestion]:
    """Replacements seen in ``min_count`` or more distinct articles, most frequent first."""
    groups: dict[tuple[str, str, str], list[_Edit]] = defaultdict(list)
    for edit in mine_edits(approvals, glossary):
        groups[(edit.language, edit.machine.casefold(), edit.approved.casefold())].append(edit)
    hidden = set(hidden)
    all_sources = {(a.language, s.source) for a in approvals for s in a.model_segments}
    machine_texts: dict[str, dict[str, str]] = defaultdict(dict)  # language -> article -> its machine tokens
    for approval in approvals:
        text = machine_texts[approval.language].setdefault(approval.decision.article_id, " ")
        machine_texts[approval.language][approval.decision.article_id] = text + " ".join(
            _folded_tokens(segment.machine) for segment in approval.model_segments) + " "
    found = []
    for (language, _, _), edits in groups.items():
        articles = sorted({edit.article_id for edit in edits})
        machine, approved = _most_common(e.machine for e in edits), _most_common(e.approved for e in edits)
        sid = suggestion_id(language, machine, approved)
        if len(articles) < min_count or sid in hidden:
            continue
        needle = f" {_folded_tokens(machine)} "
        having = sum(needle in text for text in machine_texts[language].values())
        share = len(articles) / max(having, len(articles))
        if share < MIN_SHARE:
            continue
        sources = list(dict.fromkeys(edit.source for edit in edits))
        others = [source for lang, source in all_sources if lang == language and source not in sources]
        found.append(Suggestion(sid, language, machine, approved, len(articles), articles, sources[:5],
                                source_term(machine, sources, others, glossary), round(share, 2)))
    return sorted(found, key=lambda s: (-s.count, s.language, s.machine.casefold()))


def mark_key(suggestion_id: str) -> str:
    return f"{PREFIX}/{suggestion_id}.json"


def marked(store: Store) -> dict[str, SuggestionMark]:
    return {mark.suggestion_id: mark for mark in (records.load(store, SuggestionMark, key)
                                                   for key in store.list(f"{PREFIX}/") if key.endswith(".json"))}


def suggest(store: Store, glossary: Glossary, min_count: int = DEFAULT_MIN_COUNT,
            language: str | None = None) -> list[Suggestion]:
    """Open suggestions: neither accepted nor dismissed."""
    return suggestions_from(load_approvals(store, language), glossary, min_count, marked(store))


def _find(store: Store, glossary: Glossary, suggestion: str, min_count: int) -> Suggestion:
    mark = marked(store).get(suggestion)
    if mark is not None:
        raise SuggestionError(f"suggestion {suggestion} was already {mark.action} on {mark.at[:10]}")
    for found in suggest(store, glossary, min_count):
        if found.id == suggestion:
            return found
    raise SuggestionError(f"no open suggestion {suggestion!r}; `foreigndesk glossary suggest` lists them "
                          f"(with --min-count {min_count})")


def dismiss(store: Store, glossary: Glossary, suggestion: str, min_count: int = DEFAULT_MIN_COUNT) -> SuggestionMark:
    found = _find(store, glossary, suggestion, min_count)
    mark = SuggestionMark(found.id, DISMISSED, found.language, found.machine, found.approved, records.now_utc(), found.vi)
    records.write_once(store, mark_key(found.id), mark)
    return mark


def glossary_row(found: Suggestion, vi: str, targets: Mapping[str, str]) -> dict[str, str]:
    articles = ", ".join(found.articles[:3]) + (" …" if len(found.articles) > 3 else "")
    row = {name: "" for name in REQUIRED_COLUMNS + OPTION_COLUMNS}
    row.update(vi=vi, kind="term", **{lang: targets[lang] for lang in TARGET_LANGUAGES},
               note=f"From approvals: reviewers wrote '{found.approved}' for '{found.machine}' in "
                    f"{found.count} articles ({articles}); suggestion {found.id}.")
    return row


def _append_row(folder: Path, row: dict[str, str]) -> Path:
    path = Path(folder) / ACCEPTED_FILE
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not path.exists():
        writer.writerow(REQUIRED_COLUMNS + OPTION_COLUMNS)
    writer.writerow([row[name] for name in REQUIRED_COLUMNS + OPTION_COLUMNS])
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())
    return path


def accept(store: Store, glossary_dir: Path, glossary: Glossary, suggestion: str, vi: str = "",
           targets: Mapping[str, str] | None = None, min_count: int = DEFAULT_MIN_COUNT) -> SuggestionMark:
    """Write the suggestion as a glossary row; the other languages come from ``targets`` or from open
    suggestions for the same Vietnamese term (accepted with it)."""
    found = _find(store, glossary, suggestion, min_count)
    vi = (vi or found.vi).strip()
    if not vi:
        raise SuggestionError(f"suggestion {found.id}: no Vietnamese term stands out in its sources; "
                              "give it with --vi TERM")
    chosen = {found.language: found.approved} | {k: v.strip() for k, v in (targets or {}).items() if v and v.strip()}
    siblings = [other for other in suggest(store, glossary, min_count)
                if other.id != found.id and fold(other.vi).casefold() == fold(vi).casefold()
                and other.language not in chosen]
    for other in siblings:
        chosen.setdefault(other.language, other.approved)
    missing = [lang for lang in TARGET_LANGUAGES if not chosen.get(lang)]
    if missing:
        raise SuggestionError(f"suggestion {found.id} ('{vi}' → {found.language} '{found.approved}'): the glossary "
                              f"needs every language; give {' '.join(f'--{lang} TERM' for lang in missing)}")
    row = glossary_row(found, vi, chosen)
    path = Path(glossary_dir) / ACCEPTED_FILE
    before = path.read_bytes() if path.exists() else None
    _append_row(glossary_dir, row)
    _, problems = check_glossary(glossary_dir)
    if problems:
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before)
        raise SuggestionError(f"suggestion {found.id} was not written: the glossary check would fail "
                              f"({'; '.join(str(p) for p in problems[:3])})")
    now = records.now_utc()
    mark = SuggestionMark(found.id, ACCEPTED, found.language, found.machine, found.approved, now, vi, row)
    records.write_once(store, mark_key(found.id), mark)
    for other in siblings:
        records.write_once(store, mark_key(other.id), SuggestionMark(
            other.id, ACCEPTED, other.language, other.machine, other.approved, now, vi, row))
    return mark


def format_suggestions(found: Sequence[Suggestion]) -> str:
    if not found:
        return "no glossary suggestion (an edit must recur in enough different articles)"
    lines = []
    for s in found:
        lines.append(f"{s.id}  [{s.language}] '{s.machine}' → '{s.approved}'  in {s.count} articles ({s.share:.0%} "
                     "of those with the phrase)"
                     f"  vi: {s.vi or '(unclear: accept with --vi TERM)'}")
        lines += [f"          from: {source[:100]}" for source in s.sources[:3]]
    lines.append("accept: foreigndesk glossary accept ID [--vi TERM] [--en/--zh/--ko TERM] · "
                 "dismiss: foreigndesk glossary dismiss ID")
    return "\n".join(lines)

