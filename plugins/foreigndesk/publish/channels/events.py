"""The events map outputs: ``events.ics`` (RFC 5545) and ``events.geojson`` (RFC 7946) per language.

Beside the portal feeds (``feeds/<lang>/``), written by the portal-feed channel
in the same flush, for Vietnam.vn's national events map. One event per article
and language, named by a UID that never changes (``<article>.<lang>@<site host>``):

* a **correction** (a newer approved revision) rewrites the same VEVENT in place
  with a higher ``SEQUENCE``, never a second UID;
* a **withdrawal**, or a correction that drops the ``event:`` block, keeps the
  VEVENT with ``STATUS:CANCELLED`` and a higher ``SEQUENCE``, so every calendar
  that imported it removes it (an event that simply vanished from a feed stays
  in the subscribers' calendars).

Times go out with their zone: ``DTSTART;TZID=Asia/Ho_Chi_Minh`` and a VTIMEZONE
(never a floating time); ``DTSTAMP`` and ``LAST-MODIFIED`` in UTC.

The GeoJSON is the state the next rebuild starts from: every event ever put out,
with its sequence and status in its properties. A rebuild reads it, applies the
items published in this run (and the withdrawn one), and writes both documents
(checked before they replace anything). The SEQUENCE is at least the revision's
place among the article's registered revisions, so it still rises if the GeoJSON
were lost. Events without coordinates are features with a null geometry (RFC
7946 §3.2): the map places them by commune.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from foreigndesk.core import records
from foreigndesk.core.events import TEXT_FIELDS, event_of
from foreigndesk.core.names import LANGUAGE_TAGS
from foreigndesk.core.revisions import revisions_of
from foreigndesk.core.store import Store
from foreigndesk.publish.channels import Publication
from foreigndesk.publish.channels.validate import check_output, write_output
from foreigndesk.publish.takedown_ledger import Withdrawal, request_key, withdrawn_slots

CONFIRMED, CANCELLED = "CONFIRMED", "CANCELLED"
PRODID = "-//Thai Nguyen foreign-information desk//foreigndesk events//EN"
#: The public event's members, in the order the portal push and the GeoJSON properties give them.
PUBLIC_FIELDS = ("uid", "status", "sequence", *TEXT_FIELDS, "start", "end", "timezone", "latitude", "longitude",
                 "link", "url", "article_id", "revision", "updated")


def ics_key(language: str) -> str:
    return f"feeds/{language}/events.ics"


def geojson_key(language: str) -> str:
    return f"feeds/{language}/events.geojson"


def event_uid(article_id: str, language: str, site_url: str) -> str:
    """The event's UID: one per article and language, the same for every revision (RFC 5545 §3.8.4.7)."""
    return f"{article_id}.{language}@{urlsplit(site_url).hostname or 'foreigndesk'}"


def public_event(record: Mapping[str, Any], texts: Mapping[str, str], uid: str) -> dict[str, Any]:
    """The event as channels put it out: the revision's facts with the reviewed texts; {} without an event."""
    event = event_of(record)
    if event is None:
        return {}
    reviewed = {name: str(texts.get(name) or "") for name in TEXT_FIELDS}
    return {"uid": uid, "status": CONFIRMED, **reviewed, "start": event.start, "end": event.end,
            "timezone": event.timezone, "latitude": event.latitude, "longitude": event.longitude, "link": event.link}


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def _entry(item: Publication, sequence: int) -> dict[str, Any]:
    return {**item.event, "status": CONFIRMED, "sequence": sequence, "url": item.url, "article_id": item.article_id,
            "revision": item.revision, "updated": item.published_at}


def _cancelled(entry: Mapping[str, Any], at: str) -> dict[str, Any]:
    if entry.get("status") == CANCELLED:
        return dict(entry)
    return {**entry, "status": CANCELLED, "sequence": int(entry.get("sequence", 0)) + 1, "updated": at}


def apply(previous: Mapping[str, dict[str, Any]], changed: Iterable[tuple[Publication, int]],
          withdrawn: Iterable[tuple[str, str]] = ()) -> dict[str, dict[str, Any]]:
    """The events after this run: ``changed`` (item, its revision's place) and ``withdrawn`` (uid, when) applied.

    Applying the same run twice gives the same result (a retried flush rewrites the same documents).
    """
    events = {uid: dict(entry) for uid, entry in previous.items()}
    for item, place in changed:
        uid = item.event.get("uid") if item.event else None
        old = events.get(uid or "") or next((e for e in events.values() if e.get("article_id") == item.article_id), None)
        if not item.event:
            if old is not None:
                events[old["uid"]] = _cancelled(old, item.published_at)
            continue
        sequence = place
        if old is not None:
            same = old.get("revision") == item.revision and old.get("status") == CONFIRMED
            sequence = int(old["sequence"]) if same else max(place, int(old.get("sequence", 0)) + 1)
        events[item.event["uid"]] = _entry(item, sequence)
    for uid, at in withdrawn:
        if uid in events:
            events[uid] = _cancelled(events[uid], at)
    return events


def _ordered(events: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(events.values(), key=lambda entry: (str(entry.get("start")), str(entry.get("uid"))))


def build_ics(language: str, events: Mapping[str, Mapping[str, Any]]) -> bytes:
    """One VCALENDAR, one VEVENT per UID, times with their TZID and the VTIMEZONEs they need."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Dynamic Thainguyen — events ({language})")
    for entry in _ordered(events):
        zone = ZoneInfo(str(entry["timezone"]))
        vevent = icalendar.Event()
        vevent.add("uid", entry["uid"])
        vevent.add("sequence", int(entry["sequence"]))
        vevent.add("status", entry["status"])
        vevent.add("dtstamp", _utc(entry["updated"]))
        vevent.add("last-modified", _utc(entry["updated"]))
        vevent.add("dtstart", datetime.fromisoformat(entry["start"]).astimezone(zone))
        vevent.add("dtend", datetime.fromisoformat(entry["end"]).astimezone(zone))
        vevent.add("summary", entry["name"])
        vevent.add("location", ", ".join(str(entry[name]) for name in ("venue", "commune", "province") if entry.get(name)))
        if entry.get("latitude") is not None and entry.get("longitude") is not None:
            vevent.add("geo", (float(entry["latitude"]), float(entry["longitude"])))
        if entry.get("organiser"):  # CONTACT is text; ORGANIZER would need an e-mail address the desk does not have
            vevent.add("contact", entry["organiser"])
        vevent.add("url", entry.get("link") or entry["url"])
        vevent.add("description", entry["url"], parameters={"LANGUAGE": LANGUAGE_TAGS.get(language, language)})
        calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def build_geojson(language: str, events: Mapping[str, Mapping[str, Any]]) -> bytes:
    """A FeatureCollection: one Feature per UID, a Point at [longitude, latitude] (RFC 7946 order) or null."""
    features = []
    for entry in _ordered(events):
        located = entry.get("latitude") is not None and entry.get("longitude") is not None
        geometry = {"type": "Point", "coordinates": [float(entry["longitude"]), float(entry["latitude"])]} \
            if located else None
        properties = {name: entry.get(name) for name in PUBLIC_FIELDS if name not in ("latitude", "longitude")}
        features.append({"type": "Feature", "id": entry["uid"], "geometry": geometry,
                         "properties": {**properties, "language": language}})
    encoded = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def schema_org_event(item: Publication) -> dict[str, Any]:
    """schema.org ``Event`` for the article's page (JSON-LD), in the page's language; {} without an event."""
    event = item.event
    if not event:
        return {}
    place: dict[str, Any] = {"@type": "Place", "name": event.get("venue", ""), "address": {
        "@type": "PostalAddress", "addressLocality": event.get("commune", ""),
        "addressRegion": event.get("province", ""), "addressCountry": "VN"}}
    if event.get("latitude") is not None and event.get("longitude") is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": event["latitude"], "longitude": event["longitude"]}
    found: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Event", "@id": f"{item.url}#event", "name": event.get("name", ""),
        "startDate": event["start"], "endDate": event["end"], "location": place,
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "inLanguage": LANGUAGE_TAGS.get(item.language, item.language), "mainEntityOfPage": item.url,
        "url": event.get("link") or item.url,
    }
    if event.get("organiser"):
        found["organizer"] = {"@type": "Organization", "name": event["organiser"]}
    return found


def json_ld_script(item: Publication) -> list[str]:
    """The page's ``<script type="application/ld+json">`` for its event ('<', '>', '&' escaped); [] without one."""
    found = schema_org_event(item)
    if not found:
        return []
    encoded = json.dumps(found, ensure_ascii=False)
    encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return [f'<script type="application/ld+json">{encoded}</script>']


def read_events(store: Store, language: str) -> dict[str, dict[str, Any]]:
    """The events the last rebuild put out (uid → entry), read back from its GeoJSON."""
    try:
        document = json.loads(store.read(geojson_key(language)))
    except KeyError:
        return {}
    events = {}
    for feature in document.get("features", []):
        entry = dict(feature.get("properties") or {})
        entry.pop("language", None)
        coordinates = (feature.get("geometry") or {}).get("coordinates") or [None, None]
        entry["longitude"], entry["latitude"] = coordinates[0], coordinates[1]
        events[str(feature.get("id"))] = entry
    return events


def revision_place(store: Store, article_id: str, revision: str) -> int:
    """Where the revision stands among its article's registered revisions (0 for the first)."""
    names = [registered.revision for registered in revisions_of(store, article_id)]
    return names.index(revision) if revision in names else 0


def withdrawn_events(store: Store, language: str, events: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(uid, when) of every event still CONFIRMED whose article the desk withdrew in this language.

    A withdrawal does not take the publish lease: a flush that read the events before the withdrawal
    wrote them could put the event back. Every rebuild cancels such an event again from the
    withdrawal's own record, so the cancellation can be late but never lost.
    """
    if not any(entry.get("status") == CONFIRMED for entry in events.values()):
        return []  # nothing to cancel: no listing of the withdrawals
    slots = withdrawn_slots(store)
    return [(uid, records.load(store, Withdrawal, request_key(entry["article_id"], language)).requested_at)
            for uid, entry in events.items()
            if entry.get("status") == CONFIRMED and (entry.get("article_id"), language) in slots]


def write_events(store: Store, language: str, changed: Sequence[Publication],
                 withdrawn: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Rebuild a language's two event documents; nothing is written when no event is touched."""
    mine = [item for item in changed if item.language == language]
    previous = read_events(store, language)
    withdrawn = [*withdrawn, *withdrawn_events(store, language, previous)]
    touched = [item for item in mine if item.event or any(e.get("article_id") == item.article_id
                                                           for e in previous.values())]
    if not touched and not any(uid in previous for uid, _ in withdrawn):
        return []
    events = apply(previous, [(item, revision_place(store, item.article_id, item.revision)) for item in touched],
                   withdrawn)
    ics, geojson = build_ics(language, events), build_geojson(language, events)
    check_output(ics_key(language), ics)
    check_output(geojson_key(language), geojson)
    write_output(store, ics_key(language), ics)
    write_output(store, geojson_key(language), geojson)
    return [ics_key(language), geojson_key(language)]
