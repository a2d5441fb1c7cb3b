"""An article's event through translate, review and publish: the events map outputs, read by real parsers.

The chain is the desk's own: the example drop is parsed and registered, translated
with the demo models through argostranslate (glossary first), answered through the
review stage's ``record_decision``, and published by the publish runner to the feed,
the web pages and a loopback portal that speaks docs/portal-push.openapi.yaml. The
outputs are read back with ``icalendar`` (RFC 5545), the ``geojson`` package plus the
desk's RFC 7946 check, Python's HTML parser (the JSON-LD) and ``jsonschema`` against
the OpenAPI file's ``Item`` schema.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import geojson
import icalendar
import jsonschema
import pytest
import yaml
from channel_rigs import FAST, Rig
from channel_servers import PortalServer
from conftest import REPO
from foreigndesk.core.decisions import NEEDS_FIX
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.publish.channels.validate import check_geojson, check_ics
from foreigndesk.publish.run import publish
from foreigndesk.publish.withdrawals import withdraw
from foreigndesk.review.form import build_form
from foreigndesk.review.rounds import record_decision
from foreigndesk.translate.engine import shared_engine
from foreigndesk.translate.event_fields import PLACE_RENAMED, PLACE_UNKNOWN
from foreigndesk.translate.pipeline import translate_revision

EXAMPLE = REPO / "content" / "examples" / "tntv-su-kien-festival-tra.md"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2025, 11, 20, 4, 0, tzinfo=timezone.utc)


def drop(*replacements: tuple[str, str]) -> bytes:
    text = EXAMPLE.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


class Desk:
    """One local store, the three local/loopback channels, and the stages called as the DAGs call them."""

    def __init__(self, root) -> None:
        self.store = LocalStore(root / "store")
        self.portal = PortalServer()
        self.rigs = [Rig("portal-feed", self.store), Rig("web", self.store), Rig("portal-push", self.store, self.portal)]

    def register(self, raw: bytes, at: datetime):
        return register(self.store, parse_article(raw, EXAMPLE.name, "tntv"), raw, EXAMPLE.name, at=at)

    def translate(self, article):
        return {d.language: d for d in translate_revision(self.store, shared_engine(), article.article_id, article.revision)}

    def answer(self, article, language: str, edits: dict[str, str] | None = None, at: datetime = T0):
        defaults = build_form(self.store, article.article_id, article.revision, language).defaults
        return record_decision(self.store, article.article_id, article.revision, language, ["Approve"],
                               {**defaults, **(edits or {})}, f"reviewer_{language}", at.isoformat())

    def publish(self, at: datetime):
        result = publish(self.store, self.rigs[0].settings, [rig.channel() for rig in self.rigs], policy=FAST, now=at)
        assert not result.errors, result.errors
        return result

    def withdraw(self, article_id: str, language: str):
        return withdraw(self.store, self.rigs[0].settings.site_url, [rig.channel() for rig in self.rigs], article_id,
                        languages=[language], who="desk-chief", reason="the festival was called off", policy=FAST)

    def calendar(self, language: str) -> icalendar.Calendar:
        return icalendar.Calendar.from_ical(self.store.read(f"feeds/{language}/events.ics"))

    def geojson(self, language: str) -> dict:
        return json.loads(self.store.read(f"feeds/{language}/events.geojson"))

    def close(self) -> None:
        for rig in self.rigs:
            rig.close()


@pytest.fixture
def desk(tmp_path, demo_models):
    made = Desk(tmp_path)
    yield made
    made.close()


def approve_all(desk: Desk, article, at: datetime, edits: dict[str, dict[str, str]] | None = None) -> None:
    for language in desk.translate(article):
        decision = desk.answer(article, language, (edits or {}).get(language), at)
        assert decision.approved, decision.problems


# --- translate and review ---------------------------------------------------------------------------


def test_the_events_texts_are_translated_glossary_first_and_reviewed_in_the_same_form(desk):
    article = desk.register(EXAMPLE.read_bytes(), T0)
    drafts = desk.translate(article)
    english = drafts["en"].event
    # Official names come from the glossary, whatever the (demo) model does with the rest.
    assert english["name"] == "Tan Cuong Tea Festival"
    assert english["province"] == "Thai Nguyen province"
    assert english["organiser"] == "Thai Nguyen Provincial People's Committee"
    assert drafts["zh"].event["province"] == "太原省" and drafts["ko"].event["province"] == "타이응우옌성"
    assert {"source": "Lễ hội Trà Tân Cương", "target": "Tan Cuong Tea Festival"} in drafts["en"].glossary_terms
    unknown = [f for f in drafts["en"].findings if f["check"] == PLACE_UNKNOWN]
    assert [f["segment"] for f in unknown] == ["event.commune"], "the ward is not in the glossary yet: flagged"

    form = build_form(desk.store, article.article_id, article.revision, "en")
    assert form.defaults["event_name"] == "Tan Cuong Tea Festival"
    assert form.defaults["event_venue"] == english["venue"]
    assert "| Event name | **Lễ hội Trà Tân Cương** |" in form.body
    assert "### Event (for the Vietnam.vn events map)" in form.body
    assert "2025-12-12T08:00:00+07:00" in form.body and "21.5929, 105.8441" in form.body

    decision = desk.answer(article, "en", {"event_venue": "Vo Nguyen Giap Square"})
    assert decision.approved and decision.event["venue"] == "Vo Nguyen Giap Square"
    assert decision.event["name"] == "Tan Cuong Tea Festival"


def test_an_event_name_emptied_in_review_needs_a_fix(desk):
    article = desk.register(EXAMPLE.read_bytes(), T0)
    desk.translate(article)
    decision = desk.answer(article, "zh", {"event_name": "  "})
    assert decision.outcome == NEEDS_FIX
    assert "Event name is empty; write it (the events map shows it)." in decision.problems


def test_a_province_name_from_before_the_merger_is_published_under_the_new_name(desk):
    article = desk.register(drop(("province: tỉnh Thái Nguyên", "province: tỉnh Bắc Kạn")), T0)
    assert article.event["province"] == "tỉnh Bắc Kạn", "the record keeps what the editor wrote"
    draft = desk.translate(article)["en"]
    assert draft.source_units["event.province"] == "tỉnh Thái Nguyên"
    assert draft.event["province"] == "Thai Nguyen province"
    renamed = [f for f in draft.findings if f["check"] == PLACE_RENAMED]
    assert len(renamed) == 1 and "'tỉnh Bắc Kạn' is a name from before the 2025 merger" in renamed[0]["message"]


# --- publish: the events map outputs ------------------------------------------------------------------


def vevents(calendar: icalendar.Calendar) -> list:
    return list(calendar.walk("VEVENT"))


def test_published_events_parse_round_trip_and_keep_their_time_zone(desk):
    article = desk.register(EXAMPLE.read_bytes(), T0)
    approve_all(desk, article, T0, {"en": {"event_venue": "Vo Nguyen Giap Square"}})
    desk.publish(T0 + timedelta(minutes=1))

    data = desk.store.read("feeds/en/events.ics")
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.to_ical() == data, "the calendar round-trips byte for byte"
    (event,) = vevents(calendar)
    assert str(event["UID"]) == f"{article.article_id}.en@dynamic.thainguyen.example"
    assert str(event["SUMMARY"]) == "Tan Cuong Tea Festival" and int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]).startswith("Vo Nguyen Giap Square, ") and "Thai Nguyen province" in str(event["LOCATION"])
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh", "a zoned time, never a floating one"
    assert start == datetime(2025, 12, 12, 8, 0, tzinfo=HCM) and start.utcoffset() == timedelta(hours=7)
    assert end == datetime(2025, 12, 14, 22, 0, tzinfo=HCM)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert event.decoded("GEO") is not None and str(event["URL"]) == "https://thainguyentv.vn/le-hoi-tra-tan-cuong"
    assert [str(e["SUMMARY"]) for e in vevents(desk.calendar("zh"))] == ["太原新疆茶文化节"]
    assert [str(e["SUMMARY"]) for e in vevents(desk.calendar("ko"))] == ["떤끄엉 차 축제"]

    document = desk.geojson("en")
    parsed = geojson.loads(json.dumps(document))
    assert parsed.is_valid, parsed.errors()
    check_geojson(document)
    (feature,) = document["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [105.8441, 21.5929]}, "longitude first (RFC 7946)"
    assert feature["id"] == str(event["UID"]) and feature["properties"]["venue"] == "Vo Nguyen Giap Square"
    assert feature["properties"]["start"] == "2025-12-12T08:00:00+07:00"


def test_the_portal_push_carries_the_event_as_the_openapi_file_says(desk):
    article = desk.register(EXAMPLE.read_bytes(), T0)
    approve_all(desk, article, T0)
    desk.publish(T0 + timedelta(minutes=1))
    spec = yaml.safe_load((REPO / "docs" / "portal-push.openapi.yaml").read_text())
    schema = {**spec["components"]["schemas"]["Item"], "components": spec["components"]}
    item = desk.portal.items[f"{article.article_id}:en"]
    jsonschema.Draft202012Validator(schema).validate(item)
    event = item["event"]
    assert event["uid"] == f"{article.article_id}.en@dynamic.thainguyen.example"
    assert (event["start"], event["end"], event["timezone"]) == (
        "2025-12-12T08:00:00+07:00", "2025-12-14T22:00:00+07:00", "Asia/Ho_Chi_Minh")
    assert (event["latitude"], event["longitude"], event["country"]) == (21.5929, 105.8441, "VN")
    assert event["name"] == "Tan Cuong Tea Festival" and event["status"] == "CONFIRMED"
    with pytest.raises(jsonschema.ValidationError):  # the schema really checks the event object
        jsonschema.Draft202012Validator(schema).validate({**item, "event": {**event, "start": 5}})


class JsonLd(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        self._inside = tag == "script" and ("type", "application/ld+json") in attrs

    def handle_endtag(self, tag):
        self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.found.append(data)


def test_the_web_page_carries_a_schema_org_event(desk):
    article = desk.register(EXAMPLE.read_bytes(), T0)
    approve_all(desk, article, T0, {"en": {"event_venue": "Vo Nguyen Giap Square </script><script>alert(1)"}})
    desk.publish(T0 + timedelta(minutes=1))
    parser = JsonLd()
    parser.feed(desk.store.read(f"web/en/{article.article_id}.html").decode())
    (script,) = parser.found
    found = json.loads(script)
    assert found["@type"] == "Event" and found["@context"] == "https://schema.org"
    assert found["name"] == "Tan Cuong Tea Festival"
    assert found["startDate"] == "2025-12-12T08:00:00+07:00" and found["endDate"] == "2025-12-14T22:00:00+07:00"
    assert found["location"]["name"] == "Vo Nguyen Giap Square </script><script>alert(1)", "escaped, not cut short"
    assert found["location"]["geo"] == {"@type": "GeoCoordinates", "latitude": 21.5929, "longitude": 105.8441}
    assert found["location"]["address"]["addressCountry"] == "VN"
    assert found["organizer"]["name"] == "Thai Nguyen Provincial People's Committee"
    assert found["inLanguage"] == "en"


def test_a_correction_updates_the_event_in_place_and_a_withdrawal_cancels_it(desk):
    first = desk.register(EXAMPLE.read_bytes(), T0)
    approve_all(desk, first, T0)
    desk.publish(T0 + timedelta(minutes=1))
    (before,) = vevents(desk.calendar("en"))

    corrected = desk.register(drop(("start: 2025-12-12T08:00:00+07:00", "start: 2025-12-13T09:30:00+07:00")),
                              T0 + timedelta(hours=1))
    approve_all(desk, corrected, T0 + timedelta(hours=1))
    desk.publish(T0 + timedelta(hours=1, minutes=1))
    (after,) = vevents(desk.calendar("en"))
    assert str(after["UID"]) == str(before["UID"]), "a correction never adds a second UID"
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTART") == datetime(2025, 12, 13, 9, 30, tzinfo=HCM)
    assert len(desk.geojson("en")["features"]) == 1
    assert desk.geojson("en")["features"][0]["properties"]["revision"] == corrected.revision

    result = desk.withdraw(first.article_id, "en")
    assert not result.pending and not result.failed, result.as_json()
    (cancelled,) = vevents(desk.calendar("en"))
    assert str(cancelled["UID"]) == str(before["UID"]) and str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == int(after["SEQUENCE"]) + 1
    (feature,) = desk.geojson("en")["features"]
    assert feature["properties"]["status"] == "CANCELLED"
    assert [str(e["STATUS"]) for e in vevents(desk.calendar("zh"))] == ["CONFIRMED"], "other languages stay"
    # A later publish run keeps the cancellation (the state is read back from the GeoJSON).
    desk.publish(T0 + timedelta(hours=2))
    assert [str(e["STATUS"]) for e in vevents(desk.calendar("en"))] == ["CANCELLED"]


def test_a_cancellation_lost_to_a_racing_flush_is_made_again_by_the_next_rebuild(desk):
    first = desk.register(EXAMPLE.read_bytes(), T0)
    approve_all(desk, first, T0)
    desk.publish(T0 + timedelta(minutes=1))
    before = {key: desk.store.read(key) for key in ("feeds/en/events.ics", "feeds/en/events.geojson")}
    desk.withdraw(first.article_id, "en")
    for key, data in before.items():  # a flush that read the events before the withdrawal wrote them
        desk.store.replace(key, data)
    assert [str(e["STATUS"]) for e in vevents(desk.calendar("en"))] == ["CONFIRMED"]

    other = desk.register(drop(("title: Thái Nguyên tổ chức", "id: tntv-hoi-cho\ntitle: Thái Nguyên tổ chức")),
                          T0 + timedelta(hours=1))
    approve_all(desk, other, T0 + timedelta(hours=1))
    desk.publish(T0 + timedelta(hours=1, minutes=1))
    by_article = {str(e["UID"]).split(".")[0]: e for e in vevents(desk.calendar("en"))}
    assert str(by_article[first.article_id]["STATUS"]) == "CANCELLED"
    assert str(by_article["tntv-hoi-cho"]["STATUS"]) == "CONFIRMED"


def test_a_correction_that_drops_the_event_cancels_it(desk):
    first = desk.register(EXAMPLE.read_bytes(), T0)
    approve_all(desk, first, T0)
    desk.publish(T0 + timedelta(minutes=1))
    lines = [line for line in EXAMPLE.read_text().splitlines(keepends=True)
             if not (line.startswith("  ") or line == "event:\n")]
    without = desk.register("".join(lines).encode(), T0 + timedelta(hours=1))
    assert without.event == {}
    approve_all(desk, without, T0 + timedelta(hours=1))
    desk.publish(T0 + timedelta(hours=1, minutes=1))
    (event,) = vevents(desk.calendar("en"))
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1


# --- the output checks refuse what a calendar or a map would misread -------------------------------------


FLOATING = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//\r
BEGIN:VEVENT\r
UID:x@y\r
DTSTAMP:20251120T000000Z\r
DTSTART:20251212T080000\r
DTEND:20251212T100000\r
SUMMARY:floating\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_a_floating_time_or_latitude_first_point_is_never_written():
    with pytest.raises(ValueError, match="floating time"):
        check_ics(FLOATING)
    check_ics(FLOATING.replace(b"DTSTART:", b"DTSTART;TZID=Asia/Ho_Chi_Minh:").replace(b"DTEND:20251212T100000",
                                                                                      b"DTEND:20251212T030000Z"))
    point = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [21.59, 105.84]}, "properties": {}}]}
    with pytest.raises(ValueError, match="longitude first"):
        check_geojson(point)
    point["features"][0]["geometry"]["coordinates"] = [105.84, 21.59]
    check_geojson(point)
