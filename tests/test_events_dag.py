"""An article with an event from drop to the events map, through the three real DAGs.

Ingest, translate and publish run with ``dag.test()`` on a real (SQLite) Airflow; the
reviews are answered through Airflow's real REST app by the background responder: the
English reviewer corrects the event's venue in the form's event field, Chinese is
approved as is, Korean rejected. The events documents must then hold exactly the
approved events, with the reviewer's venue, and the page its schema.org Event.
"""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser

import icalendar
import pytest
from conftest import REPO, TEST_PASSWORDS
from hitl_responder import Responder, prefilled, run_answered
from test_end_to_end import _dag, _triggered_runs

pytestmark = pytest.mark.airflow

EXAMPLE = REPO / "content" / "examples" / "tntv-su-kien-festival-tra.md"
VENUE = "Vo Nguyen Giap Square"


def _answers():
    def approve_with_venue(detail):
        fields = prefilled(detail)
        fields["event_venue"] = VENUE
        return {"chosen_options": ["Approve"], "params_input": fields}

    def approve(detail):
        return {"chosen_options": ["Approve"], "params_input": prefilled(detail)}

    def reject(detail):
        return {"chosen_options": ["Reject"], "params_input": prefilled(detail)}

    return {"en": approve_with_venue, "zh": approve, "ko": reject}


class _JsonLd(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside, self.found = False, []

    def handle_starttag(self, tag, attrs):
        self.inside = tag == "script" and dict(attrs).get("type") == "application/ld+json"

    def handle_endtag(self, tag):
        self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.found.append(json.loads(data))


def test_an_event_goes_from_drop_to_the_events_map(desk, demo_models, airflow_db):
    store = desk / "store"
    shutil.copy(EXAMPLE, desk / "inbox" / "tntv" / EXAMPLE.name)

    _dag("foreigndesk_ingest").test()
    ((_run_id, conf),) = [(run_id, conf) for run_id, conf in _triggered_runs("foreigndesk_translate")
                          if conf.get("article_id", "").startswith("tntv-2025-11-20-")]
    responder = Responder(TEST_PASSWORDS, _answers())
    translate_run = run_answered(_dag("foreigndesk_translate"), conf, responder)
    assert translate_run.state == "success"
    opened = {detail["subject"][:4]: detail for detail in responder.seen}
    assert sorted(opened) == ["[EN]", "[KO]", "[ZH]"]
    params = opened["[EN]"]["params"]
    assert params["event_name"]["value"] == "Tan Cuong Tea Festival", "the event is reviewed in the same form"
    assert {"event_venue", "event_commune", "event_province", "event_organiser"} <= set(params)

    assert _dag("foreigndesk_publish").test().state == "success"
    article_id = conf["article_id"]
    decision = json.loads((store / "decisions" / article_id / conf["revision"] / "en" / "001.json").read_text())
    assert decision["event"]["venue"] == VENUE

    (event,) = icalendar.Calendar.from_ical((store / "feeds" / "en" / "events.ics").read_bytes()).walk("VEVENT")
    assert str(event["UID"]) == f"{article_id}.en@dynamic.thainguyen.example"
    assert str(event["LOCATION"]).startswith(VENUE) and event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    (zh_event,) = icalendar.Calendar.from_ical((store / "feeds" / "zh" / "events.ics").read_bytes()).walk("VEVENT")
    assert str(zh_event["SUMMARY"]) == "太原新疆茶文化节"
    assert not (store / "feeds" / "ko").exists(), "a rejected translation puts no event on the map"
    (feature,) = json.loads((store / "feeds" / "en" / "events.geojson").read_text())["features"]
    assert feature["geometry"]["coordinates"] == [105.8441, 21.5929] and feature["properties"]["venue"] == VENUE

    page = _JsonLd()
    page.feed((store / "web" / "en" / f"{article_id}.html").read_text())
    (found,) = page.found
    assert found["@type"] == "Event" and found["location"]["name"] == VENUE
