"""A subtitled clip as editors drop it: Vietnamese subtitles (``.vtt``/``.srt``) and a front-matter sidecar.

``inbox/tntv/le-hoi-tra.vtt`` (or ``.srt``) and ``inbox/tntv/le-hoi-tra.yaml`` (or ``.yml``) are
one drop: the sidecar holds ``title``, ``outlet``, ``approved_by``, ``approved_at`` and
``video_url`` (a direct link to the clip file) — with or without the ``---`` lines — and may hold
``id``, ``summary``, ``source_url``, ``languages``. The same rules as an article file hold
(:mod:`.article_file` and :mod:`.front_matter`, whose field readers this module uses): a clear reason naming the file,
the field or line, and the fix; nothing guessed. The cues must be well formed and in order:
every timing ``start --> end`` readable, start before end, no cue starting before the one
before it ends, no cue without text.

The revision is the pair: its source record is the sidecar as front matter followed by the
subtitles as dropped, so the same two files are the same revision.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from foreigndesk.core.cues import Cue, parse_timing, transcript
from foreigndesk.core.revisions import Article
from foreigndesk.intake.article_file import (
    ArticleError,
    _check_not_binary,
    _decode,
    _languages,
    _not_in_future,
    article_id_for,
    clean_field,
    revision_of,
)
from foreigndesk.intake.front_matter import required_text as _text
from foreigndesk.intake.front_matter import scalar as _scalar
from foreigndesk.intake.front_matter import split_front_matter as _split_front_matter
from foreigndesk.intake.front_matter import timestamp as _timestamp
from foreigndesk.intake.front_matter import url_field as _url

SUBTITLE_SUFFIXES = (".vtt", ".srt")
SIDECAR_SUFFIXES = (".yaml", ".yml")
REQUIRED_FIELDS = ("title", "outlet", "approved_by", "approved_at", "video_url")
OPTIONAL_FIELDS = ("id", "summary", "source_url", "languages")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
#: A clip file the browser's <video> can play (the page gets one <track> per language).
VIDEO_SUFFIXES = (".mp4", ".webm", ".m4v", ".ogv", ".mov")
#: A TNTV clip runs minutes, not hours: more cues than this is not one clip's subtitles.
MAX_CUES = 2000


def part_of(name: str) -> tuple[str, str] | None:
    """(stem, "subtitles" | "sidecar") when ``name`` is half of a clip drop, else None."""
    lower = name.lower()
    for suffix in SUBTITLE_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)], "subtitles"
    for suffix in SIDECAR_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)], "sidecar"
    return None


def partner_names(stem: str, kind: str) -> list[str]:
    """The names the other half may have."""
    return [stem + suffix for suffix in (SIDECAR_SUFFIXES if kind == "subtitles" else SUBTITLE_SUFFIXES)]


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of every blank-line separated block."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            if not current:
                start = number
            current.append(line.rstrip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _cue(filename: str, line: int, lines: list[str], srt: bool) -> Cue | None:
    """One block as a cue; None for a WebVTT NOTE/STYLE/REGION block."""
    if not srt and lines[0].startswith(("NOTE", "STYLE", "REGION")):
        return None
    timing_at = next((i for i, text in enumerate(lines[:2]) if "-->" in text), None)
    if timing_at is None:
        raise ArticleError(f"{filename} line {line}: a cue without a timing line 'start --> end' "
                           f"(found {lines[0][:60]!r}); write e.g. 00:00:01.000 --> 00:00:03.500")
    if srt and timing_at == 1 and not lines[0].strip().isdigit():
        raise ArticleError(f"{filename} line {line}: a SubRip cue starts with its number, not {lines[0][:40]!r}; "
                           "number the cues 1, 2, 3 …")
    timing = parse_timing(lines[timing_at].replace(",", ".") if srt else lines[timing_at])
    if timing is None:
        separator = "," if srt else "."
        raise ArticleError(f"{filename} line {line + timing_at}: timing {lines[timing_at].strip()[:60]!r} is not "
                           f"'HH:MM:SS{separator}mmm --> HH:MM:SS{separator}mmm'; fix the timestamps")
    start, end = timing
    if end <= start:
        raise ArticleError(f"{filename} line {line + timing_at}: the cue ends ({lines[timing_at].split('-->')[1].strip()}) "
                           "before or when it starts; the end time must be after the start time")
    text = "\n".join(part.strip() for part in lines[timing_at + 1:])
    if not text.strip():
        raise ArticleError(f"{filename} line {line}: the cue at {lines[timing_at].strip()} has no text; "
                           "write its text or remove the cue")
    return Cue(start, end, text)


def parse_subtitles(raw: bytes, filename: str) -> list[Cue]:
    """The Vietnamese cues of a ``.vtt`` or ``.srt`` file, or an :class:`ArticleError` saying what to fix."""
    if not raw.strip():
        raise ArticleError(f"{filename}: the file is empty; export the clip's Vietnamese subtitles into it")
    _check_not_binary(raw, filename)
    text = _decode(raw, filename).replace("\r\n", "\n").replace("\r", "\n")
    srt = filename.lower().endswith(".srt")
    blocks = _blocks(text)
    if not srt:
        if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0][1][0]):
            raise ArticleError(f"{filename} line 1: a WebVTT file starts with the line 'WEBVTT'; add it "
                               "(or save the subtitles as .srt)")
        header = blocks[0][1]
        blocks = blocks[1:] if not any("-->" in line for line in header) else [(blocks[0][0] + 1, header[1:])]
    cues: list[Cue] = []
    for line, lines in blocks:
        cue = _cue(filename, line, lines, srt)
        if cue is None:
            continue
        if cues and cue.start_ms < cues[-1].end_ms:
            raise ArticleError(f"{filename} line {line}: cue {len(cues) + 1} starts at {cue.timing().split(' ')[0]}, "
                               f"before cue {len(cues)} ends ({cues[-1].timing().split(' ')[-1]}); put the cues in "
                               "time order without overlaps")
        cues.append(cue)
    if not cues:
        raise ArticleError(f"{filename}: no cues; export the clip's Vietnamese subtitles (timing and text per cue)")
    if len(cues) > MAX_CUES:
        raise ArticleError(f"{filename}: {len(cues)} cues, more than {MAX_CUES}; split the clip's subtitles")
    return cues


def _sidecar(raw: bytes, filename: str) -> tuple[dict[str, Any], str]:
    """The sidecar's fields, and its text as front matter (with the ``---`` lines)."""
    if not raw.strip():
        raise ArticleError(f"{filename}: the sidecar is empty; write title, outlet, approved_by, approved_at, video_url")
    _check_not_binary(raw, filename)
    text = _decode(raw, filename).replace("\r\n", "\n")
    framed = text if text.startswith("---") else f"---\n{text.rstrip()}\n---\n"
    front, rest, _ = _split_front_matter(framed, filename)
    if rest.strip():
        raise ArticleError(f"{filename}: text after the closing '---'; the sidecar holds only 'field: value' lines "
                           "(the subtitles go in the .vtt/.srt file)")
    for name in front:
        if str(name) not in FIELDS:
            close = difflib.get_close_matches(str(name), FIELDS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"the fields are {', '.join(FIELDS)}"
            raise ArticleError(f"{filename}: unknown field '{name}'; {hint}")
    return front, framed


def _video_url(front: dict[str, Any], filename: str) -> str:
    url = _url(front, "video_url", filename)
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    if not path.endswith(VIDEO_SUFFIXES):
        raise ArticleError(f"{filename}: 'video_url' = {url!r} is not a link to the clip file itself; give the "
                           f"direct URL of the {'/'.join(VIDEO_SUFFIXES)} file the page's player will play")
    return url


def parse_clip(
    subtitles_raw: bytes,
    subtitles_name: str,
    sidecar_raw: bytes,
    sidecar_name: str,
    outlet: str,
    *,
    known_outlets: Collection[str] | None = None,
    max_bytes: int | None = None,
    now: datetime | None = None,
) -> tuple[Article, bytes]:
    """The clip as a revision, and the bytes its source record keeps (sidecar as front matter + subtitles)."""
    for raw, name in ((subtitles_raw, subtitles_name), (sidecar_raw, sidecar_name)):
        if max_bytes is not None and len(raw) > max_bytes:
            raise ArticleError(f"{name}: {len(raw)} bytes, larger than the limit of {max_bytes} bytes; "
                               "split the clip or raise FOREIGNDESK_MAX_ARTICLE_BYTES")
    front, framed = _sidecar(sidecar_raw, sidecar_name)
    for field_name in REQUIRED_FIELDS:
        _text(front, field_name, sidecar_name)
    declared = _text(front, "outlet", sidecar_name)
    if known_outlets is not None and declared not in known_outlets:
        raise ArticleError(f"{sidecar_name}: unknown outlet {declared!r}; use one of {sorted(known_outlets)}")
    if declared != outlet:
        raise ArticleError(f"{sidecar_name}: outlet {declared!r} does not match the drop zone {outlet!r}; "
                           f"drop both files into inbox/{declared}/ or fix 'outlet'")
    cues = parse_subtitles(subtitles_raw, subtitles_name)
    approved_at = _not_in_future(_timestamp(front, "approved_at", sidecar_name), "approved_at", sidecar_name, now)
    title, flags = clean_field("title", _text(front, "title", sidecar_name), one_line=True)
    if not title:
        raise ArticleError(f"{sidecar_name}: the title is only HTML markup; write the clip's title as text")
    summary, summary_flags = clean_field("summary", _scalar(front, "summary", sidecar_name), one_line=True)
    record = framed.encode() + subtitles_raw
    article = Article(
        article_id=article_id_for(front, outlet, approved_at, title, sidecar_name),
        revision=revision_of(record),
        outlet=outlet,
        title=title,
        body=transcript(cues),
        approved_by=_text(front, "approved_by", sidecar_name),
        approved_at=approved_at,
        summary=summary,
        source_url=_url(front, "source_url", sidecar_name),
        languages=_languages(front, sidecar_name),
        flags=flags + summary_flags,
        video_url=_video_url(front, sidecar_name),
        cues=[cue.as_record() for cue in cues],
    )
    return article, record
