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

The checks themselves are in :mod:`~foreigndesk.translate.qa.glossary_checks`
(glossary and placeholders) and :mod:`~foreigndesk.translate.qa.text_checks`
(numbers, untranslated text, length, loops, Markdown structure, memory);
importing this package registers them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from foreigndesk.translate.glossary import Term
from foreigndesk.translate.markdown_inline import Unit
from foreigndesk.translate.placeholders import RestoreProblem

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class SegmentResult:
    """One unit of one translation, with what is known about how it was made."""

    unit: Unit  # the source unit (Vietnamese)
    language: str
    target: str  # the translated Markdown of the unit
    terms: tuple[Term, ...] = ()  # glossary entries found in the source, once per occurrence
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
