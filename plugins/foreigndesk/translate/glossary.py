"""The provincial glossary: one CSV row per concept, enforced on every translation.

The desk chief keeps ``glossary/*.csv`` in a spreadsheet. The header starts
``vi,en,zh,ko,kind,note`` and may add the option columns in :data:`OPTION_COLUMNS`:

* ``variants`` — other Vietnamese spellings of the same concept, ``|``-separated
  (abbreviations such as ``UBND tỉnh``; the old tone placement ``Uỷ``/``hoà`` is
  matched anyway, see :func:`fold`);
* ``forbidden_en``, ``forbidden_zh``, ``forbidden_ko`` — renderings that must not
  appear for this concept, ``|``-separated (``Xinjiang`` for chè Tân Cương);
* ``dnt`` — ``yes`` keeps the term as written in every language (programme names);
* ``status`` — ``current`` or ``former`` (a name from before the 2025 reorganisation
  or the merger with Bắc Kạn), with ``successor``: the ``vi`` of the body that took over.

Enforcement is by masking: a term found in the source is replaced by a
placeholder the model copies, and the target term is put back in each language
(:mod:`foreigndesk.segment`). Matching is longest match first, on whole words,
with Vietnamese diacritics required (``Thai Nguyen`` does not match ``Thái Nguyên``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TARGET_LANGUAGES = ("en", "zh", "ko")
REQUIRED_COLUMNS = ("vi", "en", "zh", "ko", "kind", "note")
OPTION_COLUMNS = ("variants", "forbidden_en", "forbidden_zh", "forbidden_ko", "dnt", "status", "successor")
KINDS = (
    "party",  # Party bodies and posts
    "government",  # state bodies: People's Committee, departments, ministries, posts
    "association",  # journalists', writers' associations
    "outlet",  # newspapers, broadcasters, magazines, portals
    "programme",  # programmes, sections, special editions
    "channel",  # fanpages, web sections, social channels
    "place",  # the province, its places
    "partner",  # partner provinces abroad
    "country",
    "anniversary",
    "event",
    "product",
    "term",  # other official wording
    "document",
)
STATUSES = ("current", "former")


class GlossaryError(ValueError):
    """The glossary can't be used as it is; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Term:
    """One concept: its Vietnamese forms and the official term in each language."""

    vi: str
    en: str
    zh: str
    ko: str
    kind: str
    note: str = ""
    variants: tuple[str, ...] = ()
    forbidden: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    dnt: bool = False
    status: str = "current"
    successor: str = ""
    where: str = ""  # file:line, for messages

    def target(self, lang: str) -> str:
        if self.dnt or lang == "vi":
            return self.vi
        return getattr(self, lang)

    def forms(self, lang: str) -> tuple[str, ...]:
        """How the concept is written in a source text of ``lang``."""
        return (self.vi, *self.variants) if lang == "vi" else (self.target(lang),)


@dataclass(frozen=True)
class Problem:
    """One thing ``foreigndesk glossary check`` reports."""

    where: str  # file:line
    kind: str  # malformed, empty, duplicate, conflict
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.message}"


# --- Vietnamese tone placement --------------------------------------------------------------------

_OLD_TO_NEW = {}
for _vowel, _marked in (("o", "aàáảãạ"), ("o", "eèéẻẽẹ"), ("u", "yỳýỷỹỵ")):
    _plain, _tones = _marked[0], _marked[1:]
    for _tone in range(5):
        _old = _vowel + _tones[_tone]
        _new = unicodedata.normalize("NFC", _vowel + "\u0300\u0301\u0309\u0303\u0323"[_tone]) + _plain
        for _case in (str.lower, str.upper, str.capitalize):
            _OLD_TO_NEW[_case(_old)] = _case(_new)
_TONE = re.compile("|".join(map(re.escape, sorted(_OLD_TO_NEW, key=len, reverse=True))))


def fold(text: str) -> str:
    """NFC with the new tone placement (``hoà`` → ``hòa``, ``Uỷ`` → ``Ủy``), same length as NFC text.

    Both spellings appear in the province's own documents (``văn hoá`` and ``văn hóa``
    in the same plan), so terms match either way; the diacritics themselves still count.
    """
    return _TONE.sub(lambda match: _OLD_TO_NEW[match.group(0)], unicodedata.normalize("NFC", text))


# --- Matching -----------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_WORD_START = re.compile(r"(?<!\w)\w")


class _Matcher:
    """Finds terms by their first word, then the longest form that fits; then longest first overall."""

    def __init__(self, forms: Iterable[tuple[str, Term]]) -> None:
        self.by_first: dict[str, list[tuple[str, Term]]] = {}
        seen: set[str] = set()
        for form, entry in forms:
            for variant in {form, form[:1].upper() + form[1:]}:
                key = fold(variant)
                first = _WORD.match(key)
                if not first or key in seen:
                    continue
                seen.add(key)
                self.by_first.setdefault(first.group(0), []).append((key, entry))
        for candidates in self.by_first.values():
            candidates.sort(key=lambda item: len(item[0]), reverse=True)

    def find(self, text: str) -> list[tuple[int, int, Term]]:
        folded = fold(text)
        candidates: list[tuple[int, int, Term]] = []
        for start_match in _WORD_START.finditer(folded):
            start = start_match.start()
            first = _WORD.match(folded, start).group(0)
            for form, entry in self.by_first.get(first, ()):
                end = start + len(form)
                if folded.startswith(form, start) and not (end < len(folded) and _is_word(folded[end])):
                    candidates.append((start, end, entry))
                    break
        taken: list[tuple[int, int, Term]] = []
        for start, end, entry in sorted(candidates, key=lambda item: (item[0] - item[1], item[0])):
            if all(end <= other_start or start >= other_end for other_start, other_end, _ in taken):
                taken.append((start, end, entry))
        return sorted(taken, key=lambda item: item[0])


def _is_word(char: str) -> bool:
    return bool(_WORD.match(char))


class Glossary:
    """The loaded glossary: entries plus a matcher per source language."""

    def __init__(self, entries: Iterable[Term]) -> None:
        self.entries = tuple(entries)
        self._matchers: dict[str, _Matcher] = {}
        self.by_vi = {fold(entry.vi): entry for entry in self.entries}

    def find(self, text: str, lang: str = "vi") -> list[tuple[int, int, Term]]:
        """(start, end, entry) of each term in ``text``: whole words, longest match first, no overlaps."""
        if lang not in self._matchers:
            self._matchers[lang] = _Matcher(
                (form, entry) for entry in self.entries for form in entry.forms(lang) if form
            )
        return self._matchers[lang].find(text)

    def __len__(self) -> int:
        return len(self.entries)


# --- Reading and checking -----------------------------------------------------------------------


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split("|") if part.strip())


def _read_rows(path: Path) -> tuple[list[Term], list[Problem]]:
    """Parse one CSV; every row that can't be an entry is a problem, never skipped silently."""
    problems: list[Problem] = []
    entries: list[Term] = []
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [], [Problem(f"{path.name}:1", "malformed", f"not UTF-8 (byte {error.start}); save the file as UTF-8 CSV")]
    reader = csv.reader(io.StringIO(raw, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], [Problem(f"{path.name}:1", "malformed", f"no header; the first line must be {','.join(REQUIRED_COLUMNS)}")]
    header = [name.strip() for name in header]
    if tuple(header[: len(REQUIRED_COLUMNS)]) != REQUIRED_COLUMNS:
        return [], [Problem(f"{path.name}:1", "malformed",
                            f"header is {','.join(header)}; it must start with {','.join(REQUIRED_COLUMNS)}")]
    unknown = [name for name in header[len(REQUIRED_COLUMNS) :] if name not in OPTION_COLUMNS]
    if unknown or len(set(header)) != len(header):
        return [], [Problem(f"{path.name}:1", "malformed",
                            f"header has unknown or repeated columns {unknown or header}; options are {','.join(OPTION_COLUMNS)}")]
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(f"{path.name}:{line}", "malformed", f"{error}; check the quotes on this line"))
            break
        where = f"{path.name}:{line}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(where, "malformed", f"{len(row)} fields, the header has {len(header)}; "
                                                        "quote cells that contain commas"))
            continue
        entry, row_problems = _entry(dict(zip(header, row)), where)
        problems.extend(row_problems)
        if entry is not None:
            entries.append(entry)
    return entries, problems


def _entry(cells: dict[str, str], where: str) -> tuple[Term | None, list[Problem]]:
    problems: list[Problem] = []
    for name, value in cells.items():
        if value != value.strip():
            problems.append(Problem(where, "malformed", f"{name} {value!r} has spaces at its ends"))
        if value != unicodedata.normalize("NFC", value):
            problems.append(Problem(where, "malformed", f"{name} {value!r} is not NFC; retype it or save as NFC"))
    values = {name: value.strip() for name, value in cells.items()}
    if not values["vi"]:
        return None, problems + [Problem(where, "empty", "vi is empty; every row needs its Vietnamese term")]
    for form in (values["vi"], *_split_list(values.get("variants", ""))):
        if not _WORD.match(form[:1]):
            problems.append(Problem(where, "malformed", f"{form!r} must start with a letter or digit"))
    if values["kind"] not in KINDS:
        problems.append(Problem(where, "malformed", f"kind {values['kind']!r} is not one of {', '.join(KINDS)}"))
    dnt = values.get("dnt", "").lower()
    if dnt not in ("", "yes", "no"):
        problems.append(Problem(where, "malformed", f"dnt {values['dnt']!r} must be yes, no or empty"))
    status = values.get("status", "") or "current"
    if status not in STATUSES:
        problems.append(Problem(where, "malformed", f"status {status!r} must be current or former"))
    if status == "former" and not values.get("successor"):
        problems.append(Problem(where, "malformed", "a former name needs a successor (the vi of the body that took over)"))
    if dnt != "yes":
        for lang in TARGET_LANGUAGES:
            if not values[lang]:
                problems.append(Problem(where, "empty", f"{lang} is empty for {values['vi']!r}; fill it or set dnt=yes"))
    forbidden = {lang: _split_list(values.get(f"forbidden_{lang}", "")) for lang in TARGET_LANGUAGES}
    entry = Term(
        vi=values["vi"],
        en=values["en"],
        zh=values["zh"],
        ko=values["ko"],
        kind=values["kind"],
        note=values["note"],
        variants=_split_list(values.get("variants", "")),
        forbidden={lang: items for lang, items in forbidden.items() if items},
        dnt=dnt == "yes",
        status=status,
        successor=values.get("successor", ""),
        where=where,
    )
    for lang, items in entry.forbidden.items():
        if entry.target(lang) in items:
            problems.append(Problem(where, "conflict", f"forbidden_{lang} lists the required {lang} term {entry.target(lang)!r}"))
    return entry, problems


def _cross_checks(entries: list[Term]) -> list[Problem]:
    """Duplicates (same form, same targets) and conflicts (same form, other targets; unknown successors)."""
    problems: list[Problem] = []
    first: dict[str, Term] = {}
    for entry in entries:
        for form in dict.fromkeys(fold(f) for f in entry.forms("vi")):
            other = first.get(form)
            if other is None:
                first[form] = entry
            elif all(other.target(lang) == entry.target(lang) for lang in TARGET_LANGUAGES):
                problems.append(Problem(entry.where, "duplicate", f"{form!r} is already defined at {other.where}; delete one row"))
            else:
                theirs = ", ".join(f"{lang}={other.target(lang)!r}" for lang in TARGET_LANGUAGES)
                problems.append(Problem(entry.where, "conflict",
                                        f"{form!r} is also defined at {other.where} with {theirs}; keep one translation"))
    known = {fold(entry.vi) for entry in entries}
    for entry in entries:
        if entry.successor and fold(entry.successor) not in known:
            problems.append(Problem(entry.where, "conflict", f"successor {entry.successor!r} has no row of its own; add it"))
    return problems


def glossary_files(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("*.csv"))


def check_glossary(folder: Path) -> tuple[list[Term], list[Problem]]:
    """Read every ``*.csv`` in ``folder``; return the entries and every problem found, in file order."""
    files = glossary_files(folder)
    if not files:
        return [], [Problem(str(folder), "malformed", "no *.csv glossary here; set FOREIGNDESK_GLOSSARY_DIR to the glossary folder")]
    entries: list[Term] = []
    problems: list[Problem] = []
    for path in files:
        file_entries, file_problems = _read_rows(path)
        entries.extend(file_entries)
        problems.extend(file_problems)
    problems.extend(_cross_checks(entries))
    return entries, sorted(problems, key=_problem_order)


def _problem_order(problem: Problem) -> tuple[str, int]:
    name, _, line = problem.where.rpartition(":")
    return (name, int(line)) if line.isdigit() else (problem.where, 0)


def load_glossary(folder: Path) -> Glossary:
    """The glossary to translate with; refused whole if ``foreigndesk glossary check`` would fail."""
    entries, problems = check_glossary(folder)
    if problems:
        shown = "; ".join(str(problem) for problem in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise GlossaryError(f"glossary {folder} has {len(problems)} problem(s): {shown}{more}; "
                            "run `foreigndesk glossary check` and fix them")
    return Glossary(entries)
