"""Translation by cue: a clip's sentences are translated whole, then spread back over their cues.

The Vietnamese cues of a clip (:mod:`foreigndesk.core.cues`) are grouped into sentence runs;
intake made the transcript one Markdown paragraph per run, so the pipeline translates each
run as one unit, with the same engine, glossary and memory as an article. This module
takes each run's translation and spreads it over the run's cues in proportion to the
Vietnamese cue lengths, cutting only between words (between characters for Chinese):
every cue keeps its timing, no cue is dropped or merged, and a cue is never left empty
while the run has text for it. Each cue is then wrapped to at most two lines, and the
subtitle checks (:mod:`foreigndesk.translate.qa.subtitle_checks`) run on the result.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from foreigndesk.core.cues import (
    MAX_LINES,
    Cue,
    cue_blocks,
    cues_of,
    from_markdown,
    joined,
    limit_for,
    line_length,
    sentence_groups,
)
from foreigndesk.translate.qa import CHECKS, DocumentResult, run_checks
from foreigndesk.translate.qa.subtitle_checks import SEGMENT, SUBTITLE_CHECKS

#: What a cue shows when its run's translation is shorter than its cues (fewer characters than cues).
CONTINUED = "…"
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
#: A piece: leading spaces, then one CJK character (with the punctuation after it) or one word.
#: A piece ending in punctuation: a cue boundary there reads better, so a cut may move a little to reach it.
_PAUSE = re.compile(r"[,;:.!?…、。，！？：；]$")
PAUSE_PULL = 0.1
_PIECE = re.compile(rf"\s*(?:[{_CJK}][、。，！？：；」』）]*|[^\s{_CJK}]+)")


def pieces(text: str) -> list[str]:
    """The text cut where a subtitle may break: words, and single CJK characters; each with its leading space."""
    return _PIECE.findall(text.strip())


def _cuts(lengths: Sequence[int], weights: Sequence[float], count: int, pauses: Sequence[bool]) -> list[int]:
    """Where to cut ``len(lengths)`` pieces into ``count`` slices, each slice at least one piece.

    Cut ``k`` falls where the pieces' running length best matches the running share of the weights;
    after a piece ending in punctuation (``pauses``) it may move by up to :data:`PAUSE_PULL` of the run.
    """
    total_length, total_weight = sum(lengths) or 1, sum(weights) or 1
    running, ends = 0, []
    for length in lengths:
        running += length
        ends.append(running)
    cuts, share, previous = [], 0.0, 0
    for k in range(1, count):
        share += weights[k - 1]
        goal = share / total_weight * total_length
        lowest, highest = previous + 1, len(lengths) - (count - k)
        best = min(range(lowest, highest + 1),
                   key=lambda cut: (abs(ends[cut - 1] - goal) / total_length - PAUSE_PULL * pauses[cut - 1], cut))
        cuts.append(best)
        previous = best
    return cuts


def distribute(text: str, weights: Sequence[float]) -> list[str]:
    """``text`` cut into ``len(weights)`` consecutive parts sized like ``weights``.

    Joined back (with their spaces) the parts are exactly the text; a part is empty only when
    the text has fewer pieces than there are parts, and then shows :data:`CONTINUED`.
    """
    count = len(weights)
    if count == 0:
        return []
    parts = pieces(text)
    if len(parts) < count:  # too few words: cut between characters instead
        parts = [char for char in text.strip() if not char.isspace()]
    if len(parts) < count:
        return [part.strip() for part in parts] + [CONTINUED] * (count - len(parts))
    pauses = [bool(_PAUSE.search(part)) for part in parts]
    cuts = [0, *_cuts([len(part.strip()) for part in parts], [max(w, 1) for w in weights], count, pauses), len(parts)]
    return ["".join(parts[cuts[i]:cuts[i + 1]]).strip() for i in range(count)]


def wrap(text: str, language: str) -> str:
    """One cue's text on one line, or on two balanced lines when it is wider than the language allows."""
    text = " ".join(text.split())
    limit = limit_for(language).chars_per_line
    if line_length(text, language) <= limit:
        return text
    parts = pieces(text)
    if len(parts) < MAX_LINES:
        return text
    best = min(range(1, len(parts)), key=lambda cut: max(line_length("".join(parts[:cut]).strip(), language),
                                                       line_length("".join(parts[cut:]).strip(), language)))
    return "".join(parts[:best]).strip() + "\n" + "".join(parts[best:]).strip()


def translated_cues(cues: Sequence[Cue], run_translations: Sequence[str], language: str) -> list[Cue]:
    """The clip's cues in ``language``: each run's translation spread over its cues, timings untouched."""
    out: list[Cue] = list(cues)
    for group, translation in zip(sentence_groups(cues), run_translations):
        weights = [len(cues[index].text) for index in group]
        for index, part in zip(group, distribute(from_markdown(translation), weights)):
            out[index] = Cue(cues[index].start_ms, cues[index].end_ms, wrap(part, language))
    return out


def run_units(cues: Sequence[Cue], source_units: dict[str, str]) -> list[str]:
    """The pipeline's unit id of each sentence run (``body.1`` …), checked against the transcript intake made."""
    groups = sentence_groups(cues)
    ids = [f"body.{number}" for number in range(1, len(groups) + 1)]
    for unit_id, group in zip(ids, groups):
        if " ".join(from_markdown(source_units.get(unit_id, "")).split()) != joined(cues, group):
            raise ValueError(f"clip transcript and cues disagree at {unit_id}: re-drop the clip (its transcript "
                             "must be one paragraph per sentence run)")
    return ids


def subtitle_translation(cue_records: Sequence[dict], translation):
    """A pipeline :class:`~foreigndesk.translate.pipeline.Translation` of a clip, with its body as cue blocks.

    The sentence units stay as the pipeline made them (the form shows them side by side);
    the body becomes the translated cues, and the subtitle checks' findings are added.
    """
    cues = cues_of(cue_records)
    ids = run_units(cues, translation.source_units)
    translated = translated_cues(cues, [translation.units.get(unit_id, "") for unit_id in ids], translation.language)
    body = cue_blocks(translated)
    document = DocumentResult(SEGMENT, translation.language, cue_blocks(cues), body)
    findings = run_checks([], [document], checks=[CHECKS[check] for check in SUBTITLE_CHECKS])
    return dataclasses.replace(translation, body=body,
                               findings=list(translation.findings) + [finding.as_dict() for finding in findings])
