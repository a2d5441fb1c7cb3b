"""A clip published: WebVTT per language beside its page, the page's <video> with one <track> per language.

The clip goes through the real stages in process (intake, demo-model translation, review
records, a publish run); the outputs are read with real parsers: webvtt-py for the
subtitles, the standard library's HTML parser for the page.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import webvtt
from clip_rig import CLIP_ID, ZH_CUES, drop_clip, ingest_and_translate, with_texts
from foreigndesk.core.cues import cues_of
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.publish.channels.validate import InvalidOutput, check_output
from foreigndesk.publish.run import desk_channels, publish
from foreigndesk.review.rounds import record_decision


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tracks: list[dict[str, str]] = []
        self.videos: list[dict[str, str]] = []
        self.alternates: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        found = {name: value or "" for name, value in attrs}
        if tag == "track":
            self.tracks.append(found)
        elif tag == "video":
            self.videos.append(found)
        elif tag == "link" and found.get("rel") == "alternate":
            self.alternates[found["hreflang"]] = found["href"]


def _page(store_root, language: str) -> _Page:
    parser = _Page()
    parser.feed((store_root / "web" / language / f"{CLIP_ID}.html").read_text())
    return parser


def _approve(store, clip, draft, body: str):
    language = draft.language
    fields = {"title": draft.title, "summary": draft.summary, "body": body, "note": ""}
    return record_decision(store, clip.article_id, clip.revision, language, ["Approve"], fields,
                           reviewer=f"reviewer_{language}", decided_at="2025-05-21T09:00:00+00:00")


@pytest.fixture
def published(desk, demo_models):
    store = LocalStore(desk / "store")
    drop_clip(desk / "inbox")
    clip, drafts = ingest_and_translate(store, desk / "inbox")
    assert _approve(store, clip, drafts["en"], drafts["en"].body).approved
    assert _approve(store, clip, drafts["zh"], with_texts(drafts["zh"].body, ZH_CUES)).approved
    settings = load_settings()
    result = publish(store, settings, desk_channels(store, settings, None))
    assert not result.errors, result.errors
    return desk / "store", clip, drafts


def test_each_language_gets_webvtt_that_webvtt_py_reads_with_the_clips_timings(published):
    root, clip, drafts = published
    source = cues_of(clip.cues)
    for language in ("en", "zh"):
        captions = webvtt.read(str(root / "web" / language / f"{CLIP_ID}.vtt")).captions
        assert [(c.start, c.end) for c in captions] == [(cue.timing().split(" --> ")[0], cue.timing().split(" --> ")[1])
                                                         for cue in source]
        assert all(caption.text.strip() for caption in captions)
    zh = webvtt.read(str(root / "web" / "zh" / f"{CLIP_ID}.vtt")).captions
    assert [caption.text for caption in zh] == ZH_CUES
    assert not (root / "web" / "ko" / f"{CLIP_ID}.vtt").exists(), "no approval, no subtitles"


def test_the_page_has_a_video_with_one_track_per_published_language(published):
    root, clip, _ = published
    site = load_settings().site_url
    for language in ("en", "zh"):
        page = _page(root, language)
        assert [video["src"] for video in page.videos] == [clip.video_url]
        tracks = {track["srclang"]: track for track in page.tracks}
        assert sorted(tracks) == ["en", "zh-Hans"]
        assert tracks["en"]["src"] == f"{site}/en/{CLIP_ID}.vtt" and tracks["en"]["label"] == "English"
        assert tracks["zh-Hans"]["src"] == f"{site}/zh/{CLIP_ID}.vtt"
        assert all(track["kind"] == "subtitles" for track in page.tracks)
        assert [srclang for srclang, track in tracks.items() if "default" in track] == \
            [{"en": "en", "zh": "zh-Hans"}[language]]
        assert page.alternates == {"en": f"{site}/en/{CLIP_ID}.html", "zh-Hans": f"{site}/zh/{CLIP_ID}.html",
                                   "x-default": f"{site}/en/{CLIP_ID}.html"}


def test_the_feed_carries_the_transcript_not_cue_blocks(published):
    import json

    root, _, _ = published
    items = json.loads((root / "feeds" / "zh" / "feed.json").read_text())["items"]
    assert [item["content_text"] for item in items] == ["欢迎来到太原新疆茶产区，太原省。\n\n今年的采茶季从三月开始。\n\n外国游客可以和村民一起采茶。\n"]


def test_a_broken_webvtt_is_never_written():
    with pytest.raises(InvalidOutput, match="WEBVTT"):
        check_output("web/en/x.vtt", b"1\n00:00:01.000 --> 00:00:02.000\nHi\n")
    with pytest.raises(InvalidOutput, match="out-of-order"):
        check_output("web/en/x.vtt", b"WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nA\n\n00:00:01.000 --> 00:00:02.000\nB\n")


def test_a_withdrawn_language_loses_its_subtitles_and_its_track(published):
    from foreigndesk.publish.withdrawals import withdraw

    root, _, _ = published
    settings = load_settings()
    store = LocalStore(root)
    result = withdraw(store, settings.site_url, desk_channels(store, settings, None), CLIP_ID, who="chief",
                      reason="wrong clip", languages=["en"])
    assert result.complete, result
    assert webvtt.read(str(root / "web" / "en" / f"{CLIP_ID}.vtt")).captions == []
    assert [track["srclang"] for track in _page(root, "zh").tracks] == ["zh-Hans"]
    assert len(webvtt.read(str(root / "web" / "zh" / f"{CLIP_ID}.vtt")).captions) == 5
