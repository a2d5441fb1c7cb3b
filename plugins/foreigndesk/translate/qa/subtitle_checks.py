"""Subtitle checks: a translated clip's cues, read the way a viewer reads them.

Document checks on the cue blocks of one language (segment ``"cues"``; the translate
stage's :mod:`foreigndesk.translate.cues` runs them on every clip draft). The limits are
per language (:data:`foreigndesk.core.cues.READING_LIMITS`, with their sources): Chinese and
Korean are read more slowly per character than English, and their lines are shorter.
"""

from __future__ import annotations

from foreigndesk.core.cues import (MAX_LINES, Cue, CueTextError, is_empty, limit_for, line_length,
                                   read_cue_blocks, reading_speed)
from foreigndesk.core.names import language_name
from foreigndesk.translate.qa.base import Check, DocumentResult, register

SEGMENT = "cues"


def _cues(item: DocumentResult) -> list[Cue]:
    return read_cue_blocks(item.target) if item.segment == SEGMENT else []


def _where(number: int, cue: Cue) -> str:
    return f"cue {number} ({cue.timing()})"


@register
class EmptyCue(Check):
    id = "subtitle-empty"
    name = "Empty cue"
    description = "A cue with nothing to read: the translation did not reach it."
    severity = "error"
    scope = "document"

    def problems(self, item: DocumentResult) -> list[str]:
        try:
            cues = _cues(item)
        except CueTextError as error:
            return [str(error)]
        return [f"{_where(number, cue)} has no text; give it its part of the sentence"
                for number, cue in enumerate(cues, 1) if is_empty(cue.text)]


@register
class ReadingSpeed(Check):
    id = "subtitle-reading-speed"
    name = "Reading speed"
    description = "More characters per second than viewers of the language can read."
    scope = "document"

    def problems(self, item: DocumentResult) -> list[str]:
        limit = limit_for(item.language)
        found = []
        for number, cue in enumerate(_cues(item), 1):
            speed = reading_speed(cue, item.language)
            if speed > limit.chars_per_second and not is_empty(cue.text):
                found.append(f"{_where(number, cue)}: {speed:.1f} characters per second, above "
                             f"{limit.chars_per_second:g} for {language_name(item.language)} ({limit.source}); "
                             "shorten the text")
        return found


@register
class LineLength(Check):
    id = "subtitle-line-length"
    name = "Characters per line"
    description = "A subtitle line wider than the language's limit, or more than two lines."
    scope = "document"

    def problems(self, item: DocumentResult) -> list[str]:
        limit = limit_for(item.language)
        found = []
        for number, cue in enumerate(_cues(item), 1):
            lines = cue.text.splitlines()
            if len(lines) > MAX_LINES:
                found.append(f"{_where(number, cue)}: {len(lines)} lines; a subtitle has at most {MAX_LINES}")
            widest = max((line_length(line, item.language) for line in lines), default=0)
            if widest > limit.chars_per_line:
                found.append(f"{_where(number, cue)}: a line of {widest:g} characters, above "
                             f"{limit.chars_per_line} for {language_name(item.language)} ({limit.source}); "
                             "shorten the text")
        return found


SUBTITLE_CHECKS = (EmptyCue.id, ReadingSpeed.id, LineLength.id)
