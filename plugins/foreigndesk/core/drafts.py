"""Drafts: the record the translate stage writes, one machine translation per revision and language.

``drafts/<id>/<revision>/<language>.json``, written once. The review stage
reads a draft to build its form and to check an edited text against the
machine's; it reads it here, never through the translate stage's code. A draft
carries its own cut into translation units (source and machine text by unit
id), so no later stage has to cut Markdown a second way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from foreigndesk.core import records
from foreigndesk.core.store import Store

#: Finding check ids later stages act on (the QA checks declare theirs with these constants):
#: a unit taken from the translation memory, and the glossary checks whose errors an approval must fix.
MEMORY_FINDING = "memory"
GLOSSARY_MISSING = "glossary-missing"
GLOSSARY_FORBIDDEN = "glossary-forbidden"
GLOSSARY_FORMER_NAME = "glossary-former-name"
GLOSSARY_FINDINGS = frozenset({GLOSSARY_MISSING, GLOSSARY_FORBIDDEN, GLOSSARY_FORMER_NAME})


def draft_key(article_id: str, revision: str, language: str) -> str:
    return f"drafts/{article_id}/{revision}/{language}.json"


@dataclass(frozen=True)
class Draft:
    """The machine translation of one revision into one language."""

    article_id: str
    revision: str
    language: str
    source_language: str
    title: str
    summary: str
    body: str
    model_name: str
    model_version: str
    demo_model: bool
    created_at: str
    #: QA findings ({check, severity, segment, message}) for the reviewer; ``segment`` is the unit id
    #: ("title", "summary", "body.3", ...); memory hits are findings of the MEMORY_FINDING check.
    findings: list[dict[str, str]] = field(default_factory=list)
    segments: int = 0
    #: Glossary terms applied, each {"source": Vietnamese term, "target": rendering in this language}.
    glossary_terms: list[dict[str, str]] = field(default_factory=list)
    #: The translation units as the translate stage cut them, by unit id ("title", "summary", "body.3",
    #: "body.3.alt"): the Vietnamese source and this draft's machine text. Findings and memory hits name
    #: these ids; the review form and the post-edit checks read them instead of cutting the text again.
    source_units: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    #: For a draft made after the English review (FOREIGNDESK_PIVOT=approved): which English it was
    #: translated from — {"from": "approved", "decision": key, "reviewer": who, "units": {unit id: the
    #: approved English it was translated from}} or {"from": "machine", "reason": how the English
    #: review ended}. Empty: drafted from the machine English at once.
    pivot: dict[str, Any] = field(default_factory=dict)
    #: The article's event texts in this language ({name, venue, commune, province}: ``core.events``); empty: none.
    event: dict[str, str] = field(default_factory=dict)

    @property
    def memory_hits(self) -> int:
        """Units reused from the translation memory: read off the findings, not stored twice."""
        return len(self.remembered_units())

    def remembered_units(self) -> set[str]:
        return {str(finding.get("segment")) for finding in self.findings if finding.get("check") == MEMORY_FINDING}


def load_draft(store: Store, article_id: str, revision: str, language: str) -> Draft:
    return records.load(store, Draft, draft_key(article_id, revision, language))
