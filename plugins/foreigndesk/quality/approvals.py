"""Approved decisions as evaluation data: source, machine and approved text, segment by segment.

A segment is a translation unit as the translate stage cuts it (title, summary,
each heading, paragraph, list item, cell …), aligned the way the translation
memory aligns them (:func:`foreigndesk.translate.memory.aligned_units`): title and summary
always, body units only when the text kept the source's structure. When a
reviewer restructured the body (merged or split paragraphs), the whole body is
one segment, so nothing the reviewer changed is left out of a score.

Segments the draft took from the translation memory are marked: they are a
reviewer's earlier text, not the model's, so model scores leave them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from foreigndesk.core.decisions import Decision, all_decisions
from foreigndesk.core.drafts import Draft, draft_key, load_draft
from foreigndesk.core.revisions import Registered, load_revision
from foreigndesk.core.store import Store
from foreigndesk.translate.markdown import parse
from foreigndesk.translate.memory import aligned_units

WHOLE_BODY = "body"


@dataclass(frozen=True)
class Segment:
    """One unit of one approved article: the Vietnamese source, the machine text, the approved text."""

    unit: str
    source: str
    machine: str
    approved: str
    #: Served from translation memory (a reviewer's earlier text), not produced by the model.
    memory: bool = False

    @property
    def unchanged(self) -> bool:
        return self.machine.strip() == self.approved.strip()


@dataclass(frozen=True)
class Approval:
    """An approved translation with what it is measured by: its article, model and segments."""

    decision: Decision
    article: Registered
    model: str
    segments: tuple[Segment, ...]

    @property
    def language(self) -> str:
        return self.decision.language

    @property
    def outlet(self) -> str:
        return self.article.outlet

    @property
    def period(self) -> str:
        """The month of the decision (``2025-03``), the unit of "over time"."""
        return self.decision.decided_at[:7]

    @property
    def model_segments(self) -> tuple[Segment, ...]:
        return tuple(segment for segment in self.segments if not segment.memory)


def model_label(draft: Draft) -> str:
    """``name (version)`` as the review form shows it; a draft all from memory says so."""
    return f"{draft.model_name} ({draft.model_version})" if draft.model_version else draft.model_name


def segments_of(article: Registered, decision: Decision, memory_units: frozenset[str] = frozenset()) -> tuple[Segment, ...]:
    """Source, machine and approved text per unit, aligned through the source's own cut."""
    source = (article.title, article.summary, article.body)
    machine = dict((src.id, unit.text) for src, unit in aligned_units(
        source, (decision.machine_title, decision.machine_summary, decision.machine_body)))
    approved = dict((src.id, unit.text) for src, unit in aligned_units(
        source, (decision.title, decision.summary, decision.body)))
    sources = {src.id: src.text for src, _ in aligned_units(source, source)}
    segments = [Segment(unit, sources[unit], machine[unit], approved[unit], unit in memory_units)
                for unit in sources if unit in machine and unit in approved]
    structure = parse(article.body).structure()
    if parse(decision.body).structure() != structure or parse(decision.machine_body).structure() != structure:
        segments = [segment for segment in segments if not segment.unit.startswith("body")]
        segments.append(Segment(WHOLE_BODY, article.body.strip(), decision.machine_body.strip(),
                                decision.body.strip(), False))
    return tuple(segments)


def _memory_units(draft: Draft) -> frozenset[str]:
    return frozenset(str(f.get("segment")) for f in draft.findings if f.get("check") == "memory")


def load_approvals(store: Store, language: str | None = None, since: date | None = None) -> list[Approval]:
    """Every approved decision (optionally of one language, decided on or after ``since``), oldest first."""
    found: list[Approval] = []
    for decision in all_decisions(store):
        if not decision.approved or (language and decision.language != language):
            continue
        if since is not None and decision.decided_at[:10] < since.isoformat():
            continue
        found.append(approval_of(store, decision))
    return sorted(found, key=lambda approval: (approval.decision.decided_at, approval.decision.article_id))


def approval_of(store: Store, decision: Decision) -> Approval:
    article = load_revision(store, decision.article_id, decision.revision)
    key = draft_key(decision.article_id, decision.revision, decision.language)
    draft = load_draft(store, decision.article_id, decision.revision, decision.language) if store.exists(key) else None
    memory = _memory_units(draft) if draft is not None else frozenset()
    return Approval(decision, article, model_label(draft) if draft is not None else "(unknown model)",
                    segments_of(article, decision, memory))


def latest_articles(approvals: list[Approval], limit: int) -> Iterator[Approval]:
    """The approvals of the ``limit`` most recently approved article revisions (any language), oldest first."""
    revisions = list(dict.fromkeys((a.decision.article_id, a.decision.revision) for a in reversed(approvals)))[:limit]
    wanted = set(revisions)
    return (a for a in approvals if (a.decision.article_id, a.decision.revision) in wanted)
