"""Sentence splitting, rule-based and documented here rather than a model.

Real Vietnamese packages may ship no splitter, and the desk must never
download one at run time (docs/argos-offline.md); the engine splits before the
model and joins after it.
"""

from __future__ import annotations

import re

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
