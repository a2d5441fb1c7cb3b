"""Events: the optional ``event:`` block of an article, as every stage reads it.

The province's plan asks the desk to keep local events up to date on Vietnam.vn's
events map. An editor adds an ``event:`` block to an article's front matter;
intake validates it (``intake/event_block.py``) and the revision record carries
it (:attr:`foreigndesk.core.revisions.Article.event`, a plain mapping so the
record stays JSON). Translate turns its name, venue and places into units of the
article, review edits them in the same form, publish puts them out. Each stage
reads the block through :class:`Event` here, never through another stage's code.

The translated texts travel as a mapping of the :data:`TEXT_FIELDS`: in a draft
(``Draft.event``) and in a decision (``Decision.event``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

#: The event's texts that are translated and reviewed (by the model, glossary first; places by the glossary).
TEXT_FIELDS = ("name", "venue", "commune", "province", "organiser")
#: Unit id of each text field in a draft: ``event.name`` … (the article's units are ``title``, ``body.3`` …).
UNIT_PREFIX = "event."
#: The review form's field for each text field (names that collide with no DAG param or run conf key).
FORM_FIELDS = {name: f"event_{name}" for name in TEXT_FIELDS}
#: Where times without a zone are taken to be, and the zone an event is shown in by default.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def unit_id(name: str) -> str:
    return UNIT_PREFIX + name


@dataclass(frozen=True)
class Event:
    """One event as intake accepted it: Vietnamese texts, times with their zone, an optional point."""

    name: str
    start: str  # ISO 8601 with its UTC offset
    end: str
    venue: str
    commune: str  # commune or ward (xã / phường), as the editor wrote it
    province: str
    timezone: str = DEFAULT_TIMEZONE  # IANA name the times are shown in
    latitude: float | None = None
    longitude: float | None = None
    organiser: str = ""
    link: str = ""

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    def texts(self) -> dict[str, str]:
        """The Vietnamese texts to translate, by unit id."""
        return {unit_id(name): getattr(self, name) for name in TEXT_FIELDS if getattr(self, name)}

    def start_at(self) -> datetime:
        return datetime.fromisoformat(self.start).astimezone(ZoneInfo(self.timezone))

    def end_at(self) -> datetime:
        return datetime.fromisoformat(self.end).astimezone(ZoneInfo(self.timezone))

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def event_of(record: Mapping[str, Any] | None) -> Event | None:
    """The event a revision record carries, or None (an article without an ``event:`` block)."""
    if not record:
        return None
    known = Event.__dataclass_fields__
    return Event(**{key: value for key, value in record.items() if key in known})


def texts_from_units(units: Mapping[str, str]) -> dict[str, str]:
    """A draft's event texts (by field name) read off its units; empty when it has none."""
    return {name: units[unit_id(name)] for name in TEXT_FIELDS if unit_id(name) in units}
