"""Cues: the timed lines of a subtitled clip, and the one text form every stage reads and writes.

A clip's revision (:class:`foreigndesk.core.revisions.Article` with ``cues``) carries its
Vietnamese cues; a draft and a decision carry a translation's cues as *cue blocks*, the
text a reviewer edits in the form::

    1
    00:00:01.000 --> 00:00:04.200
    Good morning from Thái Nguyên.

    2
    00:00:04.200 --> 00:00:07.000
    …

The timings come from the revision and must come back untouched; only the text under
them is the translation. Intake, translate, review and publish all read cues through
this module (never through each other), so there is one format and one parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: ``HH:MM:SS.mmm`` (WebVTT; hours may be omitted there) or ``HH:MM:SS,mmm`` (SubRip).
_TIMESTAMP = re.compile(r"^(?:(\d{1,3}):)?([0-5]\d):([0-5]\d)[.,](\d{3})$")
_TIMING = re.compile(r"^(\S+)\s+-->\s+(\S+)(?:\s+.*)?$")


class CueTextError(ValueError):
    """Cue blocks that cannot be read back; ``str()`` names the cue and the fix."""


@dataclass(frozen=True)
class Cue:
    """One subtitle: shown from ``start_ms`` to ``end_ms`` (milliseconds into the clip)."""

    start_ms: int
    end_ms: int
    text: str

    @property
    def seconds(self) -> float:
        return (self.end_ms - self.start_ms) / 1000

    def timing(self) -> str:
        return f"{timestamp(self.start_ms)} --> {timestamp(self.end_ms)}"

    def as_record(self) -> dict[str, str]:
        """How a revision stores it: readable times, the text as dropped."""
        return {"start": timestamp(self.start_ms), "end": timestamp(self.end_ms), "text": self.text}


def timestamp(ms: int, separator: str = ".") -> str:
    """``HH:MM:SS.mmm`` (``,`` for SubRip)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def parse_timestamp(value: str) -> int | None:
    """Milliseconds, or None when ``value`` is not a WebVTT/SubRip timestamp."""
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    hours, minutes, seconds, millis = (int(part or 0) for part in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def parse_timing(line: str) -> tuple[int, int] | None:
    """(start, end) of a ``start --> end`` line (cue settings after it are ignored), or None."""
    match = _TIMING.match(line.strip())
    if match is None:
        return None
    start, end = parse_timestamp(match.group(1)), parse_timestamp(match.group(2))
    return None if start is None or end is None else (start, end)


def cues_of(records: Iterable[Mapping[str, str]]) -> list[Cue]:
    """A revision's stored cues as :class:`Cue` (the records intake wrote)."""
    cues = []
    for record in records:
        start, end = parse_timestamp(str(record["start"])), parse_timestamp(str(record["end"]))
        if start is None or end is None:
            raise ValueError(f"cue record {record!r} has no valid times")
        cues.append(Cue(start, end, str(record.get("text", ""))))
    return cues


def cue_blocks(cues: Sequence[Cue]) -> str:
    """The editable text form: number, timing, text; blocks separated by a blank line."""
    return "\n\n".join(f"{number}\n{cue.timing()}\n{cue.text.strip()}" for number, cue in enumerate(cues, 1)) + "\n"


def read_cue_blocks(text: str) -> list[Cue]:
    """Cue blocks back into cues, or a :class:`CueTextError` naming the block.

    Lenient where a reviewer's editor may differ (CRLF, extra blank lines, a missing
    number line); strict where it matters: every block has a timing line.
    """
    blocks = [block for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if block.strip()]
    cues = []
    for number, block in enumerate(blocks, 1):
        lines = block.split("\n")
        if lines and lines[0].strip().isdigit() and len(lines) > 1:
            lines = lines[1:]
        timing = parse_timing(lines[0]) if lines else None
        if timing is None:
            raise CueTextError(f"cue {number}: the line '{lines[0].strip()[:60]}' is not a timing "
                               "'00:00:01.000 --> 00:00:03.000'; keep each cue's number and timing lines as they were")
        body = "\n".join(line.strip() for line in lines[1:] if line.strip())
        cues.append(Cue(timing[0], timing[1], body))
    return cues


def _vtt_text(text: str) -> str:
    """Cue text as WebVTT payload: no blank line (it would end the cue), no '-->', markup characters escaped."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    payload = "\n".join(lines).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return payload.replace("--&gt;", "→")


def webvtt(cues: Sequence[Cue]) -> str:
    """A WebVTT file of the cues (W3C WebVTT: header, blank line, then id, timing, payload per cue)."""
    parts = ["WEBVTT", ""]
    for number, cue in enumerate(cues, 1):
        parts += [str(number), cue.timing(), _vtt_text(cue.text) or "…", ""]
    return "\n".join(parts)


def sentence_groups(cues: Sequence[Cue]) -> list[list[int]]:
    """Indices of consecutive cues that form one sentence run: a run ends at a cue whose text ends a sentence.

    A sentence spanning cues is translated as one text and spread back over them
    (translate's :mod:`foreigndesk.translate.cues`); the transcript is one paragraph per run.
    """
    groups: list[list[int]] = []
    current: list[int] = []
    for index, cue in enumerate(cues):
        current.append(index)
        if re.search(r"[.!?…。！？」”\"')\]]\s*$", cue.text.strip()):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _spaced(left: str, right: str) -> str:
    """Two pieces of a line: a space between them, but none between two Chinese (or Japanese) characters."""
    if not left or not right:
        return left or right
    return left + right if _WIDE.match(left[-1]) and _WIDE.match(right[0]) else f"{left} {right}"


def joined(cues: Sequence[Cue], group: Sequence[int]) -> str:
    """The text of a run of cues as one line (cue and line breaks become spaces, none inside Chinese)."""
    text = ""
    for index in group:
        for line in cues[index].text.split():
            text = _spaced(text, line)
    return text.strip()


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(#|[-+>]|\d+[.)])")


def as_markdown(text: str) -> str:
    """One run's text as a Markdown paragraph that reads as exactly this text (no list, heading or emphasis)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _LINE_START.sub(lambda match: match.group(1)[:-1] + "\\" + match.group(1)[-1], escaped)


def from_markdown(text: str) -> str:
    """A paragraph made by :func:`as_markdown` (or its translation) back as plain text."""
    return re.sub(r"\\([\\`*_\[\]<>|~#+\-.)!])", r"\1", text).strip()


def transcript(cues: Sequence[Cue], groups: Sequence[Sequence[int]] | None = None) -> str:
    """The clip's text as Markdown: one paragraph per sentence run (``groups``: the Vietnamese cues' runs)."""
    runs = sentence_groups(cues) if groups is None else groups
    paragraphs = [as_markdown(joined(cues, group)) for group in runs]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph) + "\n"


# --- reading limits -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadingLimit:
    """How fast and how wide a subtitle may be in one language, and where the figures come from."""

    chars_per_second: float
    chars_per_line: int
    source: str
    #: Korean counts Latin letters, spaces and punctuation as half a character (Netflix's Korean guide).
    half_width_latin: bool = False


_NETFLIX = "Netflix Timed Text Style Guides (partnerhelp.netflixstudios.com)"
#: EN: English Template guide, adult programs 17 cps (200 wpm), 42 characters per line.
#: ZH: Simplified Chinese guide, 16 characters per line; 9 cps as the Netflix per-language reading-speed
#: table gives it. KO: Korean guide, 16 characters per line (Latin, spaces, punctuation count 0.5);
#: 12 cps from the same table. Vietnamese (the source) is shown against the English figures.
READING_LIMITS: dict[str, ReadingLimit] = {
    "en": ReadingLimit(17, 42, f"{_NETFLIX}, English Template: adult programs"),
    "zh": ReadingLimit(9, 16, f"{_NETFLIX}, Simplified Chinese"),
    "ko": ReadingLimit(12, 16, f"{_NETFLIX}, Korean", half_width_latin=True),
}
MAX_LINES = 2


def limit_for(language: str) -> ReadingLimit:
    return READING_LIMITS.get(language, READING_LIMITS["en"])


def line_length(line: str, language: str) -> float:
    """Characters of one line as the language's guide counts them."""
    if not limit_for(language).half_width_latin:
        return float(len(line))
    return sum(0.5 if ord(char) < 0x2E80 else 1.0 for char in line)


def reading_speed(cue: Cue, language: str) -> float:
    """Characters per second (line breaks not counted); a cue of no duration reads infinitely fast."""
    characters = sum(line_length(line, language) for line in cue.text.splitlines())
    return characters / cue.seconds if cue.seconds > 0 else float("inf")


def is_empty(text: str) -> bool:
    """No letter or digit: nothing to read (an ellipsis alone is a cue the translation did not fill)."""
    return not any(char.isalnum() for char in text)
