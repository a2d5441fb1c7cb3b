"""The ``event:`` block at intake: what is accepted, what each refusal says, and that a refused drop is kept.

Every refusal goes through a real drop folder and a real store: the quarantine must hold
the dropped bytes and a reason that names the event field and the fix.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import REPO
from drops import article_bytes
from foreigndesk.core.events import event_of
from foreigndesk.intake.article_file import ArticleError, parse_article
from foreigndesk.intake.ingest import ingest_inbox
from foreigndesk.core.store import LocalStore

EXAMPLE = REPO / "content" / "examples" / "tntv-su-kien-festival-tra.md"
OUTLETS = ("baothainguyen", "tntv")


def with_event(*replacements: tuple[str, str]) -> bytes:
    """The example drop with lines of its event block replaced (a replacement of "" drops the line)."""
    text = EXAMPLE.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def refusal(raw: bytes) -> str:
    with pytest.raises(ArticleError) as caught:
        parse_article(raw, "drop.md", "tntv", known_outlets=OUTLETS)
    return str(caught.value)


def test_the_example_event_is_read_with_its_zone_and_point():
    article = parse_article(EXAMPLE.read_bytes(), EXAMPLE.name, "tntv", known_outlets=OUTLETS)
    event = event_of(article.event)
    assert event is not None
    assert (event.name, event.venue, event.commune, event.province) == (
        "Lễ hội Trà Tân Cương", "Quảng trường Võ Nguyên Giáp", "phường Phan Đình Phùng", "tỉnh Thái Nguyên")
    assert event.start == "2025-12-12T08:00:00+07:00" and event.timezone == "Asia/Ho_Chi_Minh"
    assert (event.latitude, event.longitude) == (21.5929, 105.8441)
    assert event.organiser == "Ủy ban nhân dân tỉnh Thái Nguyên"
    assert event.link == "https://thainguyentv.vn/le-hoi-tra-tan-cuong"


def test_an_article_without_an_event_has_none():
    raw = with_event(*[(line + "\n", "") for line in EXAMPLE.read_text().splitlines()
                       if line.startswith("  ") or line == "event:"])
    assert parse_article(raw, "drop.md", "tntv").event == {}


def test_a_time_without_an_offset_is_taken_in_the_events_zone():
    raw = with_event(("start: 2025-12-12T08:00:00+07:00", "start: 2025-12-12T08:00:00"),
                     ("end: 2025-12-14T22:00:00+07:00", "end: 2025-12-12T20:00:00\n  timezone: Asia/Seoul"),
                     ("  latitude: 21.5929\n  longitude: 105.8441\n", ""))
    event = event_of(parse_article(raw, "drop.md", "tntv").event)
    assert event.start == "2025-12-12T08:00:00+09:00" and event.timezone == "Asia/Seoul"
    assert event.start_at().utcoffset().total_seconds() == 9 * 3600
    assert not event.located


REFUSALS = {
    "no name": ((("  name: Lễ hội Trà Tân Cương\n", ""),),
                ["event field 'name' is missing", "add 'name: "]),
    "a date without a time": ((("start: 2025-12-12T08:00:00+07:00", "start: 2025-12-12"),),
                              ["event field 'start' = '2025-12-12' has no time of day", "e.g. 2025-12-12T08:00:00+07:00"]),
    "not a date": ((("start: 2025-12-12T08:00:00+07:00", "start: 12/12/2025 8:00"),),
                   ["event field 'start' = '12/12/2025 8:00' is not a date and time", "(date, time and UTC offset)"]),
    "end before start": ((("end: 2025-12-14T22:00:00+07:00", "end: 2025-12-11T22:00:00+07:00"),),
                         ["event field 'end' = 2025-12-11T22:00:00+07:00 is not after start", "write when the event ends"]),
    "a year too long": ((("end: 2025-12-14T22:00:00+07:00", "end: 2026-12-14T22:00:00+07:00"),),
                        ["more than a year after start", "check the years"]),
    "an offset the zone does not have": ((("start: 2025-12-12T08:00:00+07:00", "start: 2025-12-12T08:00:00+08:00"),),
                                         ["UTC offset +0800, but Asia/Ho_Chi_Minh is UTC+7", "write the offset"]),
    "an unknown zone": ((("  organiser:", "  timezone: ICT\n  organiser:"),),
                        ["event field 'timezone' = 'ICT' is not a time zone name", "Asia/Ho_Chi_Minh"]),
    "a decimal comma": ((("latitude: 21.5929", "latitude: '21,5929'"),),
                        ["event field 'latitude' = '21,5929' is not a number", "decimal point, not a comma"]),
    "swapped coordinates": ((("latitude: 21.5929", "latitude: 105.8441"), ("longitude: 105.8441", "longitude: 21.5929")),
                            ["event field 'latitude' = 105.844 and longitude 21.5929 look swapped", "exchange them"]),
    "a latitude past the pole": ((("latitude: 21.5929", "latitude: 95"),), ["event field 'latitude' = 95 is outside -90…90"]),
    "a point outside Vietnam": ((("latitude: 21.5929", "latitude: 48.8566"), ("longitude: 105.8441", "longitude: 2.3522")),
                                ["is not in Vietnam", "check the coordinates"]),
    "half a point": ((("  longitude: 105.8441\n", ""),),
                     ["event field 'longitude' is missing while its pair is given", "give both"]),
    "a script link": ((("link: https://thainguyentv.vn/le-hoi-tra-tan-cuong", "link: javascript:alert(1)"),),
                      ["event field 'link' = 'javascript:alert(1)' is not a whole http(s) URL"]),
    "a ward field": ((("  commune: phường Phan Đình Phùng", "  ward: phường Phan Đình Phùng"),),
                     ["unknown event field 'ward'; did you mean 'commune'?"]),
    "markup in the name": ((("name: Lễ hội Trà Tân Cương", "name: <b>Lễ hội</b>"),),
                           ["event field 'name' = '<b>Lễ hội</b>' contains HTML markup", "plain text"]),
    "an empty venue": ((("venue: Quảng trường Võ Nguyên Giáp", "venue: ''"),),
                       ["event field 'venue' is empty"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_bad_value_is_refused_naming_the_field_and_the_fix(case):
    replacements, expected = REFUSALS[case]
    message = refusal(with_event(*replacements))
    assert message.startswith("drop.md: "), message
    for part in expected:
        assert part in message, message


def test_the_event_block_must_be_a_block():
    message = refusal(article_bytes(event="hôm nay", outlet="tntv"))
    assert "field 'event' must be a block of indented 'field: value' lines" in message, message


def test_a_bad_event_is_quarantined_with_its_bytes_and_reason(tmp_path):
    inbox, store = tmp_path / "inbox", LocalStore(tmp_path / "store")
    for outlet in OUTLETS:
        (inbox / outlet).mkdir(parents=True)
    raw = with_event(("start: 2025-12-12T08:00:00+07:00", "start: 2025-12-12"))
    path = inbox / "tntv" / "su-kien.md"
    path.write_bytes(raw)
    result = ingest_inbox(store, inbox, OUTLETS)
    assert result.accepted == [] and len(result.quarantined) == 1
    folder = f"quarantine/tntv/{hashlib.sha256(raw).hexdigest()}"
    assert store.read(f"{folder}/original.bin") == raw, "the quarantined bytes are the dropped bytes"
    reason = json.loads(store.read(f"{folder}/reason.json"))["reason"]
    assert "event field 'start' = '2025-12-12' has no time of day" in reason
    assert not path.exists() and list(store.list("articles/")) == []
