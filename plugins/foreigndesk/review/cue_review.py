"""A subtitled clip in review: the cue table the form shows, and the checks an approval must pass.

The reviewer edits the translation in the form's ``body`` field as cue blocks (number,
timing, text; :mod:`foreigndesk.core.cues`); the form shows the same cues as a table —
time, Vietnamese, translation, reading speed — above it. On Approve, the cues must come
back with every timing exactly as the clip has it, none emptied, and each readable at
the language's speed; anything else is a "needs fix" with the cue named.
"""

from __future__ import annotations

from foreigndesk.core.cues import (
    Cue,
    CueTextError,
    cues_of,
    is_empty,
    limit_for,
    read_cue_blocks,
    reading_speed,
    sentence_groups,
    timestamp,
    transcript,
)
from foreigndesk.core.decisions import Texts
from foreigndesk.core.drafts import Draft
from foreigndesk.core.names import SOURCE_LANGUAGE, language_name
from foreigndesk.core.revisions import Registered
from foreigndesk.review.quoting import quote


def _cell(text: str) -> str:
    return " / ".join(quote(line) for line in text.splitlines() if line.strip()) or " "


def _speed(cue: Cue, language: str) -> str:
    speed = reading_speed(cue, language)
    return f"{'⚠ ' if speed > limit_for(language).chars_per_second else ''}{speed:.1f}"


def cue_table(article: Registered, draft: Draft, language: str) -> list[str]:
    """The form's cue table for a clip ([] for an article): one row per cue, timings from the clip."""
    if not article.cues:
        return []
    source = cues_of(article.cues)
    try:
        machine = read_cue_blocks(draft.body)
    except CueTextError:
        machine = []
    limit = limit_for(language)
    lines = [
        f"### Subtitles: {len(source)} cues — the clip {_cell(article.video_url)}",
        "",
        f"| # | Time | {language_name(SOURCE_LANGUAGE)} | {language_name(language)} (machine) | chars/s |",
        "|---|---|---|---|---|",
    ]
    for number, cue in enumerate(source, 1):
        target = machine[number - 1] if number <= len(machine) else Cue(cue.start_ms, cue.end_ms, "")
        lines.append(f"| {number} | {timestamp(cue.start_ms)} → {timestamp(cue.end_ms)} | {_cell(cue.text)} | "
                     f"{_cell(target.text)} | {_speed(target, language)} |")
    lines += [
        "",
        f"Reading limits for {language_name(language)}: {limit.chars_per_second:g} characters per second, "
        f"{limit.chars_per_line} per line, two lines at most ({limit.source}).",
        "Edit the subtitles in the **body** field: keep each cue's number and timing lines exactly as they are "
        "and change only the text under them (two lines at most).",
        "",
    ]
    return lines


def cue_problems(article: Registered, final_body: str, language: str) -> list[str]:
    """Why approved subtitles can't be published ([] when they can, and for an article)."""
    if not article.cues:
        return []
    source = cues_of(article.cues)
    try:
        final = read_cue_blocks(final_body)
    except CueTextError as error:
        return [f"Subtitles: {error}."]
    if len(final) != len(source):
        return [f"Subtitles: {len(final)} cues where the clip has {len(source)}; keep every cue (its number and "
                "timing lines) and change only the text under them."]
    problems: list[str] = []
    limit = limit_for(language)
    for number, (clip, cue) in enumerate(zip(source, final), 1):
        if (clip.start_ms, clip.end_ms) != (cue.start_ms, cue.end_ms):
            problems.append(f"Subtitles, cue {number}: timing changed from {clip.timing()} to {cue.timing()}; "
                            "timings come from the clip, put the original back.")
        elif is_empty(cue.text):
            problems.append(f"Subtitles, cue {number} ({clip.timing()}): emptied; every cue needs its text.")
        elif reading_speed(cue, language) > limit.chars_per_second:
            problems.append(f"Subtitles, cue {number} ({clip.timing()}): {reading_speed(cue, language):.1f} "
                            f"characters per second, above {limit.chars_per_second:g} for {language_name(language)}; "
                            "shorten the text.")
    return problems


def as_checked(article: Registered, texts: Texts) -> Texts:
    """For a clip, the texts with the cue blocks read as the transcript (one paragraph per sentence run).

    The article checks (glossary renderings, Markdown, links) read the translation as text: a
    glossary term the spreading put across two cues is still one term of the sentence.
    """
    if not article.cues:
        return texts
    try:
        cues = read_cue_blocks(texts.body)
    except CueTextError:
        return texts
    source = cues_of(article.cues)
    if len(cues) != len(source):
        return texts
    return Texts(texts.title, texts.summary, transcript(cues, sentence_groups(source)))
