"""An article's event in the review: the facts shown, the fields pre-filled, the answer read back and checked.

The event's name, venue, commune/ward and province are translated with the
article and appear in the side-by-side table like the title (rows *Event
name* …). The form adds one editable field per text (``event_name`` …,
:data:`foreigndesk.core.events.FORM_FIELDS`), and the decision records the
reviewed texts (``Decision.event``), which is what publish puts on the map.
Times, coordinates and the link are not translated: the form shows them so the
reviewer can see what the map will show, and the editors correct them with a new
drop.
"""

from __future__ import annotations

from collections.abc import Mapping

from foreigndesk.core.events import FORM_FIELDS, TEXT_FIELDS, UNIT_PREFIX, event_of

LABELS = {"name": "Event name", "venue": "Event venue", "commune": "Event commune/ward",
          "province": "Event province", "organiser": "Event organiser"}


def unit_label(unit_id: str) -> str | None:
    """The form's row label of an event unit (``event.name`` → *Event name*); None for other units."""
    return LABELS.get(unit_id.removeprefix(UNIT_PREFIX)) if unit_id.startswith(UNIT_PREFIX) else None


def form_defaults(event: Mapping[str, str]) -> dict[str, str]:
    """The event's fields for the form, pre-filled with ``event`` (none when the article has no event)."""
    return {FORM_FIELDS[name]: str(event[name]) for name in TEXT_FIELDS if name in event}


def reviewed_event(fields: Mapping[str, object], fallback: Mapping[str, str]) -> dict[str, str]:
    """The event texts as answered; a field the form did not send keeps ``fallback`` (the pre-filled text)."""
    texts = {}
    for name in (name for name in TEXT_FIELDS if name in fallback):
        value = fields.get(FORM_FIELDS[name])
        texts[name] = str(fallback.get(name, "")) if value is None else " ".join(str(value).split())
    return texts


def event_problems(machine: Mapping[str, str], final: Mapping[str, str]) -> list[str]:
    """Why an approved event can't go on the map: a text the machine had is now empty."""
    return [f"{LABELS[name]} is empty; write it (the events map shows it)." for name in TEXT_FIELDS
            if str(machine.get(name, "")).strip() and not str(final.get(name, "")).strip()]


def facts(record: Mapping[str, object], quote_line) -> list[str]:
    """What the map will show besides the texts: when, where on the map, who, the link (quoted)."""
    event = event_of(record)
    if event is None:
        return []
    point = f"{event.latitude}, {event.longitude}" if event.located else "no coordinates (shown by commune)"
    return [
        "### Event (for the Vietnam.vn events map)",
        "",
        f"- **When:** {quote_line(event.start)} – {quote_line(event.end)} ({quote_line(event.timezone)})",
        f"- **Where:** {quote_line(event.venue)}, {quote_line(event.commune)}, {quote_line(event.province)} · {point}",
        *([f"- **Organiser:** {quote_line(event.organiser)}"] if event.organiser else []),
        *([f"- **Link:** {quote_line(event.link)}"] if event.link else []),
        "",
        "Check the event's name, venue and places in the table and in the *Event* fields below; "
        "times and coordinates are the editors' (a new drop corrects them).",
        "",
    ]
