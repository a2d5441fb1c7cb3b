"""A subtitled clip on the web: its WebVTT file per language, and the page's ``<video>`` with one track each.

An approved clip translation is cue blocks (:mod:`foreigndesk.core.cues`); its
publication carries the clip's transcript as its body (what the feeds and the
fanpage show) and its subtitles as WebVTT, timed by the clip's own cues. The web
channel writes ``web/<lang>/<article>.vtt`` beside ``web/<lang>/<article>.html`` and
gives every version's page the same ``<video>``: one ``<track kind="subtitles">`` per
published language (``srclang`` and ``label``), the page's own language the default.
"""

from __future__ import annotations

import dataclasses

from foreigndesk.core.cues import Cue, cues_of, parse_timing, read_cue_blocks, sentence_groups, transcript, webvtt
from foreigndesk.core.names import LANGUAGE_NAMES, LANGUAGE_TAGS
from foreigndesk.core.revisions import Registered
from foreigndesk.publish.channels import Publication
from foreigndesk.publish.channels.render import safe_url, text

#: What a withdrawn clip's subtitles become: a valid WebVTT file with no cue.
EMPTY_WEBVTT = "WEBVTT\n"


def vtt_key(language: str, article_id: str) -> str:
    return f"web/{language}/{article_id}.vtt"


def vtt_url(page_url: str) -> str:
    """The subtitles' public URL: beside the page, same name, ``.vtt``."""
    return page_url.removesuffix(".html") + ".vtt"


def with_clip(item: Publication, article: Registered) -> Publication:
    """For a clip: the approved cue blocks as transcript (body) and WebVTT (subtitles); an article as it is.

    The timings are the clip's (an approval that changed one never counts: the review's checks).
    """
    if not article.cues:
        return item
    clip = cues_of(article.cues)
    approved = read_cue_blocks(item.body)
    if len(approved) != len(clip):
        raise ValueError(f"{item.article_id} {item.language}: {len(approved)} approved cues for a clip of {len(clip)}")
    final = [Cue(source.start_ms, source.end_ms, cue.text) for source, cue in zip(clip, approved)]
    return dataclasses.replace(item, body=transcript(final, sentence_groups(clip)), subtitles=webvtt(final),
                               video_url=safe_url(article.video_url))


def video_element(item: Publication, versions: dict[str, str], order: list[str]) -> str:
    """The page's player: the clip, and a subtitle track for every published language."""
    tracks = [
        f'<track kind="subtitles" src="{text(vtt_url(versions[lang]))}" srclang="{LANGUAGE_TAGS.get(lang, lang)}" '
        f'label="{text(LANGUAGE_NAMES.get(lang, lang))}"{" default" if lang == item.language else ""}>'
        for lang in order
    ]
    link = f'<a href="{text(item.video_url)}">{text(item.title)}</a>'
    return "\n".join([f'<figure class="clip"><video controls preload="metadata" src="{text(item.video_url)}" '
                      'crossorigin="anonymous">', *tracks, link, "</video></figure>"])


def check_webvtt(data: bytes) -> None:
    """Raise ValueError unless ``data`` reads as WebVTT: the header, then cues with valid, ordered timings."""
    lines = data.decode().replace("\r\n", "\n").split("\n")
    if not lines or not (lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t"))):
        raise ValueError("no 'WEBVTT' header")
    previous = -1
    for number, line in enumerate(lines, 1):
        if "-->" not in line:
            continue
        timing = parse_timing(line)
        if timing is None or timing[1] <= timing[0] or timing[0] < previous:
            raise ValueError(f"line {number}: bad or out-of-order timing {line!r}")
        previous = timing[0]
