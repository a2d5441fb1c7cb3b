"""Journals: where a stage says, in time order, "I wrote a record", so a later stage reads only what is new.

A journal of one kind (``decisions``, ``articles``) is a folder of create-only
entries named by the UTC moment they were written and by what they announce:
``journal/<kind>/<YYYY>/<MM>/<DD>/<HHMMSS.ffffff>Z-<name>.json``. Names sort as
moments do, so ``Store.list_after(folder(kind), mark(kind, since))`` reads the
entries written after ``since`` at a cost set by how many there are, not by the
archive. An entry is written *before* its record: a crash between the two leaves
an entry without a record, which readers ignore; the other order could leave a
record no entry announces. The record is always the truth, the entry only a pointer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from foreigndesk.core.store import RecordExists, Store

ROOT = "journal/"
_STAMP = "%Y/%m/%d/%H%M%S.%f"
_ENTRY = re.compile(r"^(\d{4}/\d{2}/\d{2}/\d{6}\.\d{6})Z-(.+)\.json$")


@dataclass(frozen=True)
class JournalEntry:
    """What a journal key says: when it was written, and the name of what it announces."""

    key: str
    written_at: datetime
    name: str


def folder(kind: str) -> str:
    """``journal/<kind>/``: the listing prefix of one journal."""
    return f"{ROOT}{kind}/"


def mark(kind: str, moment: datetime) -> str:
    """The position of a moment in a journal: every entry written after it sorts after this string."""
    return f"{folder(kind)}{moment.astimezone(timezone.utc):{_STAMP}}Z"


def key(kind: str, moment: datetime, name: str) -> str:
    """The entry announcing ``name``, written at ``moment``."""
    return f"{mark(kind, moment)}-{name}.json"


def parse(kind: str, entry_key: str) -> JournalEntry | None:
    """Read a key of the ``kind`` journal back (no store access); None for a name it never writes."""
    prefix = folder(kind)
    match = _ENTRY.match(entry_key.removeprefix(prefix)) if entry_key.startswith(prefix) else None
    if match is None:
        return None
    stamp, name = match.groups()
    return JournalEntry(entry_key, datetime.strptime(stamp, _STAMP).replace(tzinfo=timezone.utc), name)


def write(store: Store, kind: str, moment: datetime, name: str, record_key: str) -> str:
    """Create the entry announcing ``record_key``; the entry's bytes are that key.

    Two writers of the same name in the same microsecond make one entry, which is enough.
    """
    entry_key = key(kind, moment, name)
    try:
        store.create(entry_key, record_key.encode())
    except RecordExists:
        pass
    return entry_key


def since(store: Store, kind: str, moment: datetime) -> list[JournalEntry]:
    """The readable entries written after ``moment``, oldest first (only the journal's tail is listed)."""
    found = (parse(kind, entry_key) for entry_key in store.list_after(folder(kind), mark(kind, moment)))
    return [entry for entry in found if entry is not None]
