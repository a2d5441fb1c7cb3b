"""Translation memory: what a reviewer approved is reused exactly, without calling the model.

A memory record is one approved unit (a heading, paragraph, list item, cell,
title, alt text…) in one language pair. It is derived from a review
:class:`~foreigndesk.core.decisions.Decision` (the review stage's record, read
from the store): the approved Markdown is cut into units the same way as the
source (:func:`foreigndesk.translate.markdown.parse`), and when both
have the same structure the units pair up one to one. Records are written once
under ``memory/<src>-<tgt>/<hash of the normalised source>/<hash of the target>.json``:
feeding the same decision twice writes nothing new, and a later, different
approval of the same source sits beside the earlier one — the newest wins.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from foreigndesk.core import records
from foreigndesk.core.cues import CueTextError, cues_of, read_cue_blocks, sentence_groups, transcript
from foreigndesk.core.decisions import Decision, all_decisions, decision_key
from foreigndesk.core.names import SOURCE_LANGUAGE
from foreigndesk.core.revisions import load_revision
from foreigndesk.core.store import Store
from foreigndesk.translate.markdown import parse
from foreigndesk.translate.markdown_inline import Unit, inline_unit

MEMORY_PREFIX = "memory"


def normalise(text: str) -> str:
    """The form a segment is looked up by: NFC, whitespace runs as one space, no outer spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def source_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:40]


def memory_prefix(source_language: str, target_language: str, source: str) -> str:
    return f"{MEMORY_PREFIX}/{source_language}-{target_language}/{source_hash(source)}/"


@dataclass(frozen=True)
class MemoryRecord:
    """One approved unit: source and target Markdown, and whose approval it was."""

    source_language: str
    target_language: str
    source: str
    target: str
    article_id: str
    revision: str
    unit: str
    reviewer: str
    decided_at: str
    decision: str  # the Decision record's key

    def describe(self) -> str:
        return f"approved by {self.reviewer} on {self.decided_at[:10]} (article {self.article_id}, {self.unit})"


class TranslationMemory:
    """Look up and add approved units in a store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def lookup(self, source_language: str, target_language: str, source: str) -> MemoryRecord | None:
        """The newest approved translation of exactly this source text, or None."""
        if not normalise(source):
            return None
        found = [records.load(self.store, MemoryRecord, key)
                 for key in self.store.list(memory_prefix(source_language, target_language, source))
                 if key.endswith(".json")]
        found = [record for record in found if normalise(record.source) == normalise(source)]
        return max(found, key=lambda record: record.decided_at) if found else None

    def remember(self, record: MemoryRecord) -> bool:
        """Write the record once; False when this exact source→target pair is already there."""
        target_hash = hashlib.sha256(record.target.encode()).hexdigest()[:24]
        key = memory_prefix(record.source_language, record.target_language, record.source) + f"{target_hash}.json"
        return records.write_once(self.store, key, record)


def _units(title: str, summary: str, body: str) -> tuple[list[Unit], tuple]:
    units = inline_unit("title", "title", title) + (inline_unit("summary", "summary", summary) if summary.strip() else [])
    document = parse(body)
    return units + list(document.units), document.structure()


def aligned_units(source: tuple[str, str, str], target: tuple[str, str, str]) -> list[tuple[Unit, Unit]]:
    """Pairs of (source unit, approved unit) that certainly correspond.

    Title and summary always pair. Body units pair only when the approved body has
    exactly the source's structure (same headings, items, cells, images in the same
    order); if the reviewer restructured the text, no body unit is guessed.
    """
    source_units, source_structure = _units(*source)
    target_units, target_structure = _units(*target)
    by_id = {unit.id: unit for unit in target_units}
    body_ok = source_structure == target_structure
    pairs = []
    for unit in source_units:
        other = by_id.get(unit.id)
        if other is None or other.kind != unit.kind or not unit.text.strip() or not other.text.strip():
            continue
        if unit.id.startswith("body") and not body_ok:
            continue
        pairs.append((unit, other))
    return pairs


def remember_approval(store: Store, source: tuple[str, str, str], decision: Decision, decision_ref: str) -> int:
    """Feed one approved translation to the memory; returns how many new records were written.

    ``source`` is the article's (title, summary, body); ``decision`` carries the
    approved (title, summary, body), its language and who approved it;
    ``decision_ref`` names the decision record the memory points back to.
    """
    memory = TranslationMemory(store)
    written = 0
    pairs = aligned_units(source, (decision.title, decision.summary, decision.body))
    for source_unit, target_unit in pairs:
        record = MemoryRecord(
            source_language=SOURCE_LANGUAGE,
            target_language=decision.language,
            source=normalise(source_unit.text),
            target=target_unit.text,
            article_id=decision.article_id,
            revision=decision.revision,
            unit=source_unit.id,
            reviewer=decision.reviewer,
            decided_at=decision.decided_at,
            decision=decision_ref,
        )
        written += memory.remember(record)
    return written


def remember_decision(store: Store, decision: Decision) -> int:
    """Approved segments feed the translation memory; anything else teaches nothing."""
    if not decision.approved:
        return 0
    article = load_revision(store, decision.article_id, decision.revision)
    if article.cues:  # a clip: its approved cues, read back as one paragraph per sentence run, pair with the source's
        decision = dataclasses.replace(decision, body=_approved_transcript(article.cues, decision.body))
    key = decision_key(decision.article_id, decision.revision, decision.language, decision.attempt)
    return remember_approval(store, (article.title, article.summary, article.body), decision, key)


def _approved_transcript(cue_records: list[dict], body: str) -> str:
    """An approved clip's cue blocks as its transcript, sentence runs as the Vietnamese cues make them."""
    source = cues_of(cue_records)
    try:
        approved = read_cue_blocks(body)
    except CueTextError:
        return ""
    return transcript(approved, sentence_groups(source)) if len(approved) == len(source) else ""


def rebuild_memory(store: Store) -> int:
    """Feed every recorded decision (idempotent: already remembered units are skipped)."""
    return sum(remember_decision(store, decision) for decision in all_decisions(store))
