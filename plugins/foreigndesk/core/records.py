"""JSON encoding for the desk's records, the same way for every stage.

Records are dataclasses; they are stored as UTF-8 JSON with sorted keys so the
same record always has the same bytes (a re-written identical record can be
recognised, and diffs between revisions stay readable).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from typing import Any, TypeVar

from foreigndesk.core.store import RecordExists, Store

RecordT = TypeVar("RecordT")


def now_utc() -> str:
    """A timestamp for records: UTC, ISO 8601, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def encode(record: Any) -> bytes:
    return json.dumps(dataclasses.asdict(record), ensure_ascii=False, sort_keys=True, indent=1).encode()


def decode(record_type: type[RecordT], data: bytes) -> RecordT:
    fields = {field.name for field in dataclasses.fields(record_type)}  # type: ignore[arg-type]
    raw = json.loads(data)
    return record_type(**{key: value for key, value in raw.items() if key in fields})


def load(store: Store, record_type: type[RecordT], key: str) -> RecordT:
    return decode(record_type, store.read(key))


def write_once(store: Store, key: str, record: Any) -> bool:
    """Create the record; return False when one is already there (the first one stands).

    Records are never edited: a retried task that finds its record written
    simply goes on with the stored one instead of failing or overwriting it.
    """
    try:
        store.create(key, encode(record))
        return True
    except RecordExists:
        return False
