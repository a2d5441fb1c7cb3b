"""The human pivot: Chinese and Korean drafted from the English a translator approved.

With ``FOREIGNDESK_PIVOT=approved`` the translate run drafts English first; the
other languages wait for the English review. Once it is decided, their drafts
are made from the **approved** English — the reviewer's corrections of names,
terms and meaning reach every language — instead of the raw machine English.
When the English was not approved (rejected, expired, or still needing a fix
after the last round), they are made from the machine English as before, and
the draft says so (``Draft.pivot``), so the review form can flag it.

The mechanism is the translate stage's own: the approved English units are
offered as English "memory" hits for this article (:class:`ApprovedEnglish`),
and units with an approved English pivot from it — re-masked for the English
glossary terms, so each language still gets its official term back — while the
translation memory answers as usual for everything else. Units the reviewer
restructured (merged or split paragraphs) can't be paired with their source and
pivot from the machine English.

The English review's outcome is read from its decision records through core
(:func:`english_outcome`), never through the review stage's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from foreigndesk.core.decisions import decision_key, decisions_for
from foreigndesk.core.drafts import Draft
from foreigndesk.core.names import PIVOT_LANGUAGE, SOURCE_LANGUAGE
from foreigndesk.core.revisions import load_revision
from foreigndesk.core.store import Store
from foreigndesk.translate.memory import MemoryRecord, aligned_units, normalise
from foreigndesk.translate.pipeline import Engine, Memory, translate_revision

MACHINE, APPROVED = "machine", "approved"
PIVOT_MODES = (MACHINE, APPROVED)


def first_languages(languages: Sequence[str], mode: str) -> list[str]:
    """The languages drafted at once: all of them, or only English when the others wait for its review."""
    if mode == APPROVED and PIVOT_LANGUAGE in languages:
        return [PIVOT_LANGUAGE]
    return list(languages)


def later_languages(languages: Sequence[str], mode: str) -> list[str]:
    """The languages drafted after the English review (none in machine mode)."""
    first = first_languages(languages, mode)
    return [lang for lang in languages if lang not in first]


@dataclass(frozen=True)
class EnglishOutcome:
    """What became of the English review: the approved texts, or why there are none."""

    approved: bool
    title: str = ""
    summary: str = ""
    body: str = ""
    reviewer: str = ""
    decided_at: str = ""
    #: The approved decision's key, or the state the English review ended in (rejected, expired …).
    reference: str = ""


def english_outcome(store: Store, article_id: str, revision: str) -> EnglishOutcome:
    """How the English review of a revision ended: its approved text, or the state it ended in."""
    decisions = decisions_for(store, article_id, revision, PIVOT_LANGUAGE)
    approved = [decision for decision in decisions if decision.approved]
    if approved:
        last = approved[-1]
        return EnglishOutcome(True, last.title, last.summary, last.body, last.reviewer, last.decided_at,
                              decision_key(article_id, revision, PIVOT_LANGUAGE, last.attempt))
    state = decisions[-1].outcome.replace("_", " ") if decisions else "without a decision"
    return EnglishOutcome(False, reference=state)


class ApprovedEnglish:
    """A memory that answers vi→en lookups of this article with the approved English, else asks ``fallback``."""

    def __init__(self, source: tuple[str, str, str], english: EnglishOutcome, article_id: str, revision: str,
                 fallback: Memory | None = None) -> None:
        self.fallback = fallback
        self.by_source: dict[str, MemoryRecord] = {}
        #: Unit id → the approved English of that unit (what the review form shows beside the draft).
        self.units: dict[str, str] = {}
        for source_unit, english_unit in aligned_units(source, (english.title, english.summary, english.body)):
            self.units[source_unit.id] = english_unit.text
            self.by_source[normalise(source_unit.text)] = MemoryRecord(
                source_language=SOURCE_LANGUAGE, target_language=PIVOT_LANGUAGE, source=normalise(source_unit.text),
                target=english_unit.text, article_id=article_id, revision=revision, unit=source_unit.id,
                reviewer=english.reviewer, decided_at=english.decided_at, decision=english.reference)

    def lookup(self, source_language: str, target_language: str, source: str) -> MemoryRecord | None:
        if (source_language, target_language) == (SOURCE_LANGUAGE, PIVOT_LANGUAGE):
            found = self.by_source.get(normalise(source))
            if found is not None:
                return found
        return self.fallback.lookup(source_language, target_language, source) if self.fallback else None


def draft_after_english(store: Store, engine: Engine, article_id: str, revision: str, languages: Sequence[str],
                        english: EnglishOutcome, memory: Memory | None = None, **options) -> list[Draft]:
    """Write the drafts of ``languages`` from the approved English, or from the machine English, flagged."""
    from foreigndesk.translate.memory import TranslationMemory

    memory = memory if memory is not None else TranslationMemory(store)
    if english.approved:
        article = load_revision(store, article_id, revision)
        memory = ApprovedEnglish((article.title, article.summary, article.body), english, article_id, revision,
                                 memory)
        pivot = {"from": APPROVED, "decision": english.reference, "reviewer": english.reviewer,
                 "units": dict(memory.units)}
    else:
        pivot = {"from": MACHINE, "reason": english.reference or "no English decision"}
    return translate_revision(store, engine, article_id, revision, memory=memory, languages=list(languages),
                              pivot=pivot, **options)
