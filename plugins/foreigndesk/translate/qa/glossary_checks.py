"""Checks on glossary terms and placeholders: the official names must be there, and only they."""

from __future__ import annotations

import re
from collections import Counter

from foreigndesk.core.drafts import GLOSSARY_FORBIDDEN, GLOSSARY_FORMER_NAME, GLOSSARY_MISSING
from foreigndesk.translate.glossary import fold
from foreigndesk.translate.qa.base import Check, SegmentResult, register


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
    id = GLOSSARY_MISSING
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
    id = GLOSSARY_FORBIDDEN
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
    id = GLOSSARY_FORMER_NAME
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
