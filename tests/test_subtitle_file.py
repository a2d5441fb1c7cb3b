"""Clip drops at intake: a .vtt/.srt with its sidecar registered as one revision, or both quarantined whole.

Through the real intake (``ingest_inbox`` over a local drop folder and store): every
bad drop is quarantined with its original bytes and a reason that names the file,
the field or line, and the fix.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from clip_rig import CLIP, CLIP_ID, EXAMPLES, drop_clip
from foreigndesk.core.cues import cues_of
from foreigndesk.core.revisions import load_revision, source_key
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.article_file import ArticleError
from foreigndesk.intake.ingest import ingest_inbox
from foreigndesk.intake.subtitle_file import parse_subtitles

OUTLETS = ("baothainguyen", "tntv")
SIDECAR = (EXAMPLES / f"{CLIP}.yaml").read_bytes()
VTT = (EXAMPLES / f"{CLIP}.vtt").read_bytes()


@pytest.fixture
def inbox(tmp_path):
    for outlet in OUTLETS:
        (tmp_path / "inbox" / outlet).mkdir(parents=True)
    return tmp_path / "inbox"


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def _quarantined(store, raw: bytes, outlet: str = "tntv") -> tuple[bytes, dict]:
    folder = f"quarantine/{outlet}/{hashlib.sha256(raw).hexdigest()}"
    return store.read(f"{folder}/original.bin"), json.loads(store.read(f"{folder}/reason.json"))


def _drop(inbox, files: dict[str, bytes], outlet: str = "tntv") -> None:
    for name, raw in files.items():
        (inbox / outlet / name).write_bytes(raw)


def test_the_example_clip_is_one_revision_with_its_cues_and_transcript(inbox, store):
    drop_clip(inbox)
    result = ingest_inbox(store, inbox, OUTLETS)
    assert [item.article_id for item in result.accepted] == [CLIP_ID] and not result.quarantined
    clip = load_revision(store, CLIP_ID, result.accepted[0].revision)
    cues = cues_of(clip.cues)
    assert [cue.timing() for cue in cues][:2] == ["00:00:01.000 --> 00:00:04.500", "00:00:04.500 --> 00:00:08.000"]
    assert cues[0].text == "Chào mừng quý vị đến với\nvùng chè Tân Cương,"
    assert clip.body.split("\n\n")[0] == "Chào mừng quý vị đến với vùng chè Tân Cương, tỉnh Thái Nguyên."
    assert clip.video_url.endswith("che-tan-cuong.mp4") and clip.outlet == "tntv"
    assert store.read(source_key(CLIP_ID, clip.revision)).endswith(VTT), "the source record keeps the subtitles"
    assert not list((inbox / "tntv").iterdir()), "both halves are taken once registered"
    again = drop_clip(inbox)
    assert ingest_inbox(store, inbox, OUTLETS).unchanged == [(CLIP_ID, clip.revision)] and not any(
        path.exists() for path in again)


def test_srt_gives_the_same_cues_as_vtt():
    srt = (b"1\r\n00:00:01,000 --> 00:00:04,500\r\nXin ch\xc3\xa0o.\r\n\r\n"
           b"2\r\n00:00:05,000 --> 00:00:06,000\r\nT\xe1\xba\xa1m bi\xe1\xbb\x87t.\r\n")
    vtt = "WEBVTT\n\n00:01.000 --> 00:04.500\nXin chào.\n\n00:00:05.000 --> 00:00:06.000 align:start\nTạm biệt.\n"
    assert parse_subtitles(srt, "a.srt") == parse_subtitles(vtt.encode(), "a.vtt")


def test_a_half_waits_for_its_partner_untouched_then_both_are_taken(inbox, store):
    _drop(inbox, {f"{CLIP}.vtt": VTT})
    result = ingest_inbox(store, inbox, OUTLETS)
    assert not result.accepted and not result.quarantined
    assert len(result.waiting) == 1 and f"{CLIP}.yaml" in result.waiting[0]
    assert (inbox / "tntv" / f"{CLIP}.vtt").read_bytes() == VTT
    _drop(inbox, {f"{CLIP}.yaml": SIDECAR})
    assert [item.article_id for item in ingest_inbox(store, inbox, OUTLETS).accepted] == [CLIP_ID]


def test_a_half_whose_partner_never_comes_is_quarantined_with_its_bytes_after_the_wait(inbox, store):
    """A forgotten half does not wait in the drop zone forever: past the wait it is set aside, intact, with why."""
    import os
    import time

    _drop(inbox, {f"{CLIP}.vtt": VTT})
    path = inbox / "tntv" / f"{CLIP}.vtt"
    waited = ingest_inbox(store, inbox, OUTLETS, clip_partner_wait=3600)
    assert not waited.quarantined and waited.waiting, "an hour's wait has not passed: it waits"
    two_hours_ago = time.time() - 7200
    os.utime(path, (two_hours_ago, two_hours_ago))
    result = ingest_inbox(store, inbox, OUTLETS, clip_partner_wait=3600)
    assert not result.waiting and not path.exists()
    original, reason = _quarantined(store, VTT)
    assert original == VTT
    assert f"{CLIP}.yaml" in reason["reason"] and "never arrived" in reason["reason"]
    assert "drop a clip's subtitles and its sidecar together" in reason["reason"]


BAD_SUBTITLES = {
    "no header": (b"00:00:01.000 --> 00:00:02.000\nA\n", "line 1: a WebVTT file starts with the line 'WEBVTT'"),
    "bad timestamp": (b"WEBVTT\n\n00:00:01.000 --> 00:00:02,5\nA\n", "line 3: timing '00:00:01.000 --> 00:00:02,5' is not"),
    "ends before it starts": (b"WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nA\n", "before or when it starts"),
    "out of order": (b"WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nA\n\n00:00:01.000 --> 00:00:02.000\nB\n",
                     "cue 2 starts at 00:00:01.000, before cue 1 ends (00:00:06.000)"),
    "overlap": (b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nA\n\n00:00:02.000 --> 00:00:04.000\nB\n",
                "before cue 1 ends"),
    "cue without text": (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\n00:00:03.000 --> 00:00:04.000\nB\n",
                         "has no text; write its text or remove the cue"),
    "no cues": (b"WEBVTT\n\nNOTE only a note\n", "no cues"),
    "not utf-8": (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nXin ch\xe0o\n", "not UTF-8"),
    "a Word file": (b"PK\x03\x04 docx", "a ZIP archive"),
}


@pytest.mark.parametrize("case", sorted(BAD_SUBTITLES))
def test_bad_subtitles_quarantine_both_halves_with_their_bytes(inbox, store, case):
    raw, reason = BAD_SUBTITLES[case]
    _drop(inbox, {"clip.vtt": raw, "clip.yaml": SIDECAR})
    result = ingest_inbox(store, inbox, OUTLETS)
    assert not result.accepted and len(result.quarantined) == 2
    for original in (raw, SIDECAR):
        kept, record = _quarantined(store, original)
        assert kept == original and reason in record["reason"], record["reason"]
        assert record["reason"].startswith("clip.vtt")
    assert not list((inbox / "tntv").iterdir())


BAD_SIDECARS = {
    "no video_url": (SIDECAR.replace(b"video_url", b"#video_url"), "field 'video_url' is missing or empty"),
    "a page, not the clip": (SIDECAR.replace(b"che-tan-cuong.mp4", b"che-tan-cuong"), "is not a link to the clip file"),
    "a typo'd field": (SIDECAR.replace(b"approved_by", b"aproved_by"), "did you mean 'approved_by'?"),
    "the other outlet": (SIDECAR.replace(b"outlet: tntv", b"outlet: baothainguyen"), "does not match the drop zone"),
    "approved in the future": (SIDECAR.replace(b"2025-05-20", b"2099-05-20"), "is in the future"),
    "not a date": (SIDECAR.replace(b"2025-05-20T10:00:00+07:00", b"yesterday"), "is not a date"),
    "text after the fields": (b"---\n" + SIDECAR + b"---\nsubtitles here\n", "text after the closing '---'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SIDECARS))
def test_a_bad_sidecar_quarantines_the_pair_naming_the_field(inbox, store, case):
    raw, reason = BAD_SIDECARS[case]
    _drop(inbox, {"clip.srt": b"1\n00:00:01,000 --> 00:00:02,000\nA.\n", "clip.yml": raw})
    result = ingest_inbox(store, inbox, OUTLETS)
    assert not result.accepted and len(result.quarantined) == 2
    kept, record = _quarantined(store, raw)
    assert kept == raw and record["reason"].startswith("clip.yml") and reason in record["reason"], record["reason"]


def test_two_subtitle_files_for_one_clip_are_refused(inbox, store):
    _drop(inbox, {"clip.vtt": VTT, "clip.srt": b"1\n00:00:01,000 --> 00:00:02,000\nA.\n", "clip.yaml": SIDECAR})
    result = ingest_inbox(store, inbox, OUTLETS)
    assert not result.accepted and len(result.quarantined) == 3
    assert all("keep one .vtt or .srt" in item["reason"] for item in result.quarantined)


def test_a_clip_outside_an_outlet_folder_is_quarantined_like_an_article(inbox, store):
    (inbox / "clip.vtt").write_bytes(VTT)
    assert len(ingest_inbox(store, inbox, OUTLETS).quarantined) == 1
    kept, record = _quarantined(store, VTT, "no-outlet")
    assert kept == VTT and "inbox/<outlet>/" in record["reason"]


def test_parse_errors_name_the_file_and_line():
    with pytest.raises(ArticleError, match=r"^x\.srt line 1: a SubRip cue starts with its number"):
        parse_subtitles(b"one\n00:00:01,000 --> 00:00:02,000\nA\n", "x.srt")
