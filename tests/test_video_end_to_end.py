"""A subtitled clip from drop to web page, through the three real DAGs.

Ingest, translate and publish run with ``dag.test()`` on a real (SQLite) Airflow; the
reviews are answered through Airflow's real REST app by the background responder:
English approved as machine-drafted, Chinese approved with the cues rewritten (timings
kept), Korean rejected. The web section must then hold a WebVTT file per approved
language (read by webvtt-py) and a page whose <video> has exactly those tracks.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import webvtt
from clip_rig import CLIP_ID, ZH_CUES, drop_clip, with_texts
from conftest import TEST_PASSWORDS
from hitl_responder import Responder, prefilled, run_answered
from test_end_to_end import _dag, _triggered_runs

pytestmark = pytest.mark.airflow


class _Tracks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tracks: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "track":
            self.tracks.append({name: value or "" for name, value in attrs})


def _answers():
    def approve(detail):
        return {"chosen_options": ["Approve"], "params_input": prefilled(detail)}

    def approve_edited(detail):
        fields = prefilled(detail)
        fields["body"] = with_texts(fields["body"], ZH_CUES)
        return {"chosen_options": ["Approve"], "params_input": fields}

    def reject(detail):
        return {"chosen_options": ["Reject"], "params_input": prefilled(detail)}

    return {"en": approve, "zh": approve_edited, "ko": reject}


def test_clip_drop_to_subtitled_page(desk, demo_models, airflow_db):
    store = desk / "store"
    drop_clip(desk / "inbox")
    _dag("foreigndesk_ingest").test()
    runs = [conf for run_id, conf in _triggered_runs("foreigndesk_translate") if conf.get("article_id") == CLIP_ID]
    assert len(runs) == 1, runs
    assert not list((desk / "inbox" / "tntv").iterdir()), "both halves taken once registered"

    responder = Responder(TEST_PASSWORDS, _answers())
    translate_run = run_answered(_dag("foreigndesk_translate"), runs[0], responder)
    assert translate_run.state == "success"
    opened = {detail["subject"][:4]: detail for detail in responder.seen}
    assert sorted(opened) == ["[EN]", "[KO]", "[ZH]"]
    zh_form = opened["[ZH]"]["body"]
    assert "| 1 | 00:00:01.000 → 00:00:04.500 | Chào mừng quý vị đến với / vùng chè Tân Cương, |" in zh_form
    assert opened["[ZH]"]["params"]["body"]["value"].startswith("1\n00:00:01.000 --> 00:00:04.500\n")

    assert _dag("foreigndesk_publish").test().state == "success"
    web = store / "web"
    zh = webvtt.read(str(web / "zh" / f"{CLIP_ID}.vtt"))
    assert [caption.text for caption in zh.captions] == ZH_CUES
    assert [(c.start, c.end) for c in zh.captions][1] == ("00:00:04.500", "00:00:08.000")
    en = webvtt.read(str(web / "en" / f"{CLIP_ID}.vtt"))
    assert len(en.captions) == 5 and all(caption.text.strip() for caption in en.captions)
    assert not (web / "ko" / f"{CLIP_ID}.vtt").exists(), "a rejected translation is never published"
    page = _Tracks()
    page.feed((web / "en" / f"{CLIP_ID}.html").read_text())
    assert sorted((track["srclang"], track["label"]) for track in page.tracks) == [("en", "English"), ("zh-Hans", "中文")]
    assert all(track["src"].endswith(f"/{CLIP_ID}.vtt") for track in page.tracks)
