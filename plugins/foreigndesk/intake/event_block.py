"""The optional ``event:`` block of an article's front matter, read strictly.

An article about a festival, a fair or a conference can carry the event itself,
for the Vietnam.vn events map (an iCalendar feed, a GeoJSON layer, schema.org on
the page)::

    event:
      name: Lễ hội Trà Tân Cương lần thứ nhất
      start: 2025-12-12T08:00:00+07:00
      end: 2025-12-14T22:00:00+07:00
      venue: Quảng trường Võ Nguyên Giáp
      commune: phường Phan Đình Phùng
      province: tỉnh Thái Nguyên
      latitude: 21.5942
      longitude: 105.8482
      organiser: Ủy ban nhân dân tỉnh Thái Nguyên
      link: https://thainguyen.gov.vn/le-hoi-tra

A map shows what it is given, so a wrong value is refused here, never guessed:
each :class:`ArticleError` names the field (``event.start``) and the fix, and
intake quarantines the drop with its bytes as for any other field. Times are
kept as instants with their offset plus the zone they are shown in; a time
without an offset is the event's ``timezone`` (default Asia/Ho_Chi_Minh), and
an offset that is not that zone's at that moment is refused (a "+08:00" typed
for Vietnam would move the event by an hour). Place names are kept as the
editor wrote them: the translate stage maps names from before the 2025 merger
to the new ones through the glossary, which it owns.
"""

from __future__ import annotations

import difflib
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foreigndesk.core.events import DEFAULT_TIMEZONE, Event
from foreigndesk.intake.front_matter import ArticleError, whole_url

REQUIRED = ("name", "start", "end", "venue", "commune", "province")
OPTIONAL = ("timezone", "latitude", "longitude", "organiser", "link")
KEYS = REQUIRED + OPTIONAL
#: Longest text each field may hold (a map label, not a paragraph).
MAX_CHARS = {"name": 200, "venue": 200, "commune": 100, "province": 100, "organiser": 200}
#: An event longer than this is a typo'd date (a year too far), not a festival.
MAX_DURATION = timedelta(days=366)
#: Vietnam's extent, mainland and islands, with a margin: a point outside it is a wrong or swapped value.
VIETNAM_LATITUDE = (8.0, 23.5)
VIETNAM_LONGITUDE = (102.0, 117.5)
_EXAMPLE = {
    "name": "Lễ hội Trà Tân Cương", "start": "2025-12-12T08:00:00+07:00", "end": "2025-12-14T22:00:00+07:00",
    "venue": "Quảng trường Võ Nguyên Giáp", "commune": "phường Phan Đình Phùng", "province": "tỉnh Thái Nguyên",
}
#: Names editors reach for that mean a field of ours.
_ALIASES = {"ward": "commune", "xa": "commune", "phuong": "commune", "place": "venue", "location": "venue",
            "organizer": "organiser", "url": "link", "lat": "latitude", "lon": "longitude", "lng": "longitude",
            "tz": "timezone", "title": "name"}


def _fail(filename: str, key: str, problem: str, fix: str) -> ArticleError:
    return ArticleError(f"{filename}: event field '{key}' {problem}; {fix}")


def _text(block: dict[str, Any], key: str, filename: str) -> str:
    value = block.get(key)
    if value is None:
        if key in REQUIRED:
            raise _fail(filename, key, "is missing", f"add '{key}: {_EXAMPLE[key]}' under 'event:'")
        return ""
    if isinstance(value, (dict, list)):
        raise _fail(filename, key, "must be a single line of text, not a list or mapping", f"write '{key}: ...'")
    text = " ".join(str(value).split())
    if not text and key in REQUIRED:
        raise _fail(filename, key, "is empty", f"write it, e.g. '{key}: {_EXAMPLE[key]}'")
    if "<" in text and ">" in text:
        raise _fail(filename, key, f"= {text[:60]!r} contains HTML markup", "write plain text")
    limit = MAX_CHARS.get(key)
    if limit and len(text) > limit:
        raise _fail(filename, key, f"is {len(text)} characters long (at most {limit})",
                    "keep it to the name as the map shows it; put details in the article")
    return text


def _zone(block: dict[str, Any], filename: str) -> str:
    name = _text(block, "timezone", filename) or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(filename, "timezone", f"= {name!r} is not a time zone name",
                    f"write an IANA name such as {DEFAULT_TIMEZONE}, or leave it out") from None
    return name


def _moment(block: dict[str, Any], key: str, zone: str, filename: str) -> datetime:
    value = _text(block, key, filename)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(filename, key, f"= {value!r} is not a date and time",
                    f"write it as {_EXAMPLE[key]} (date, time and UTC offset)") from None
    if len(value) <= 10:
        raise _fail(filename, key, f"= {value!r} has no time of day",
                    f"write when it {'starts' if key == 'start' else 'ends'}, e.g. {_EXAMPLE[key]}")
    local = ZoneInfo(zone)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=local)
    expected = moment.astimezone(local).utcoffset()
    if moment.utcoffset() != expected:
        hours = expected.total_seconds() / 3600 if expected is not None else 0
        raise _fail(filename, key, f"= {value} has the UTC offset {moment.strftime('%z')}, but {zone} is "
                    f"UTC{hours:+g} then", f"write the offset {zone} has, or set 'timezone' to the zone meant")
    return moment


def _number(block: dict[str, Any], key: str, low: float, high: float, filename: str) -> float | None:
    value = block.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _fail(filename, key, f"= {value!r} is not a number", f"write decimal degrees, e.g. '{key}: 21.5942'")
    try:
        number = float(value)
    except (TypeError, ValueError):
        hint = " with a decimal point, not a comma" if isinstance(value, str) and "," in value else ""
        raise _fail(filename, key, f"= {value!r} is not a number",
                    f"write decimal degrees{hint}, e.g. '{key}: 21.5942'") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _fail(filename, key, f"= {value!r} is outside {low:g}…{high:g}", "write decimal degrees")
    return number


def _in_vietnam(latitude: float, longitude: float) -> bool:
    return VIETNAM_LATITUDE[0] <= latitude <= VIETNAM_LATITUDE[1] and VIETNAM_LONGITUDE[0] <= longitude <= VIETNAM_LONGITUDE[1]


def _point(block: dict[str, Any], filename: str) -> tuple[float | None, float | None]:
    latitude = _number(block, "latitude", -180.0, 180.0, filename)
    longitude = _number(block, "longitude", -180.0, 180.0, filename)
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise _fail(filename, missing, "is missing while its pair is given", "give both latitude and longitude, or neither")
    if latitude is None or longitude is None:
        return None, None
    if _in_vietnam(latitude, longitude):
        return latitude, longitude
    if _in_vietnam(longitude, latitude):
        raise _fail(filename, "latitude", f"= {latitude:g} and longitude {longitude:g} look swapped",
                    "latitude is north (about 21.6 in Thái Nguyên), longitude east (about 105.8); exchange them")
    if not -90.0 <= latitude <= 90.0:
        raise _fail(filename, "latitude", f"= {latitude:g} is outside -90…90", "write decimal degrees north")
    raise _fail(filename, "latitude", f"= {latitude:g} with longitude {longitude:g} is not in Vietnam",
                "the events map shows events in Vietnam; check the coordinates (Thái Nguyên is about 21.6 N, 105.8 E)")


def _check_keys(block: dict[str, Any], filename: str) -> None:
    for key in block:
        name = str(key)
        if name in KEYS:
            continue
        close = _ALIASES.get(name.lower()) or next(iter(difflib.get_close_matches(name, KEYS, n=1)), None)
        hint = f"did you mean '{close}'?" if close else f"the event fields are {', '.join(KEYS)}"
        raise ArticleError(f"{filename}: unknown event field '{name}'; {hint}")


def parse_event(value: object, filename: str) -> dict[str, Any]:
    """The ``event:`` block as the revision record keeps it (:meth:`Event.as_record`); {} when there is none."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ArticleError(f"{filename}: field 'event' must be a block of indented 'field: value' lines "
                           f"({', '.join(REQUIRED)}, and optionally {', '.join(OPTIONAL)}), not {value!r:.40}")
    if not value:
        raise ArticleError(f"{filename}: field 'event' is empty; give the event's {', '.join(REQUIRED)} "
                           "under it, or remove 'event:'")
    _check_keys(value, filename)
    zone = _zone(value, filename)
    start, end = _moment(value, "start", zone, filename), _moment(value, "end", zone, filename)
    if end <= start:
        raise _fail(filename, "end", f"= {end.isoformat()} is not after start {start.isoformat()}",
                    "write when the event ends (after it starts)")
    if end - start > MAX_DURATION:
        raise _fail(filename, "end", f"= {end.isoformat()} is more than a year after start {start.isoformat()}",
                    "check the years of start and end")
    link = _text(value, "link", filename)
    if link and not whole_url(link):
        raise _fail(filename, "link", f"= {link!r} is not a whole http(s) URL", "write https://host/path, nothing around it")
    latitude, longitude = _point(value, filename)
    return Event(
        name=_text(value, "name", filename), start=start.isoformat(), end=end.isoformat(),
        venue=_text(value, "venue", filename), commune=_text(value, "commune", filename),
        province=_text(value, "province", filename), timezone=zone, latitude=latitude, longitude=longitude,
        organiser=_text(value, "organiser", filename), link=link,
    ).as_record()
