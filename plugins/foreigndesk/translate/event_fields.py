"""An article's event, as the translate stage sees it: four short units beside the title.

The event's name and venue are translated with the article, in the same engine
call, so the glossary masks official names in them as it does in the title
(``Lễ hội Trà Tân Cương`` is the glossary's *Tan Cuong Tea Festival*, never the
model's). The commune/ward and the province are official place names: they are
looked up in the glossary first. A name from before the 2025 merger (glossary
``status: former``) is replaced by its successor before translation, and the
reviewer is told; a place the glossary does not know is translated like the rest
and flagged, so the reviewer checks the official name.

The mapping happens here, not at intake, because the glossary is this stage's:
the revision keeps what the editor wrote, and a glossary correction applies to
the next translation without a new drop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from foreigndesk.core.events import event_of, texts_from_units, unit_id
from foreigndesk.translate.glossary import Glossary, Term, fold

#: The QA check ids of the findings this module adds (shown in the review form like every finding).
PLACE_RENAMED = "event-place-renamed"
PLACE_UNKNOWN = "event-place-unknown"
PLACE_FIELDS = ("commune", "province")


def place_term(glossary: Glossary, name: str) -> Term | None:
    """The glossary concept that is the whole of ``name`` (its ``vi`` or a variant), or None."""
    found = glossary.find(name, "vi")
    if len(found) == 1 and found[0][0] == 0 and found[0][1] == len(name):
        return found[0][2]
    return glossary.by_vi.get(fold(name))


def _finding(name: str, severity: str, check: str, message: str) -> dict[str, str]:
    return {"check": check, "severity": severity, "segment": unit_id(name), "message": message}


def event_sources(event_record: Mapping[str, Any], glossary: Glossary) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(unit id → Vietnamese text to translate, findings for every language's draft); empty without an event."""
    event = event_of(event_record)
    if event is None:
        return {}, []
    texts = event.texts()
    findings: list[dict[str, str]] = []
    for name in PLACE_FIELDS:
        value = texts.get(unit_id(name), "")
        if not value:
            continue
        term = place_term(glossary, value)
        if term is None:
            findings.append(_finding(name, "warning", PLACE_UNKNOWN,
                                     f"event {name} '{value}' is not in the glossary: check its official name in this "
                                     "language (and add it to the glossary)"))
        elif term.status == "former" and term.successor:
            texts[unit_id(name)] = term.successor
            findings.append(_finding(name, "info", PLACE_RENAMED,
                                     f"event {name} '{value}' is a name from before the 2025 merger; the event is "
                                     f"published under '{term.successor}'. {term.note}".strip()))
    return texts, findings


def draft_event(units: Mapping[str, str]) -> dict[str, str]:
    """The translated event texts of a draft (by field name), read off its units."""
    return texts_from_units(units)
