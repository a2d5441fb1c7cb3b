"""What waits in the drop zones right now — names and versions only, never the bytes.

The intake trigger (``foreigndesk.airflow_side.drop_trigger``) polls this every couple of
seconds from Airflow's triggerer and starts an ingest run when something new
appears, so an editor's drop is picked up within seconds rather than at the next
minute. It has to be cheap (one ``stat`` per file, one ListObjectsV2 page per S3
inbox) and it decides nothing: intake still reads, validates and records every
drop, and its create-only records are what make a second run over the same drop
a no-op.

A drop's identity includes its version (size and mtime, or the S3 ETag), so a
corrected article dropped under the same name counts as new.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foreigndesk.core.settings import Settings
from foreigndesk.core.store import parse_s3_url
from foreigndesk.intake.sources import in_progress, settled


def _folder_drops(inbox: Path, settle_seconds: float, now: float) -> set[str]:
    """Every drop intake would take now in the inbox and its first-level folders (unknown ones too).

    A file still settling (written in place, changed less than ``settle_seconds`` ago) is not
    counted yet: an event for it would start an ingest run that leaves it for the next minute's.
    It counts — and is new — on the first look after it settled. Links and special files count at
    once: intake quarantines them without waiting.
    """
    found: set[str] = set()
    if not inbox.is_dir():
        return found
    candidates = []
    for entry in inbox.iterdir():
        if in_progress(entry.name):
            continue
        candidates.extend(entry.iterdir() if entry.is_dir() and not entry.is_symlink() else [entry])
    for path in candidates:
        if in_progress(path.name):
            continue
        try:
            info = path.lstat()
        except FileNotFoundError:  # taken meanwhile
            continue
        if stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and not settled(info, settle_seconds, now)):
            continue
        found.add(f"{path}|{info.st_size}|{info.st_mtime_ns}")
    return found


def _s3_drops(client: Any, url: str) -> set[str]:
    bucket, prefix = parse_s3_url(url)
    found: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", ()):
            name = item["Key"].rsplit("/", 1)[-1]
            if name and not in_progress(name):
                found.add(f"s3://{bucket}/{item['Key']}|{item.get('ETag', '')}|{item['LastModified'].isoformat()}")
    return found


def pending_drops(settings: Settings, make_s3_client: Callable[[], Any],
                  on_error: Callable[[str], None] = print) -> frozenset[str]:
    """The identities of every drop waiting in the folders and S3 inboxes (outlet feeds are polled by schedule).

    A source that can't be listed is reported through ``on_error`` and left out; the
    per-minute ingest still reads it and fails visibly.
    """
    found = _folder_drops(settings.inbox, settings.settle_seconds, time.time())
    s3_inboxes = sorted({source.s3_inbox for source in settings.sources if source.s3_inbox})
    if s3_inboxes:
        client = make_s3_client()
        for url in s3_inboxes:
            try:
                found |= _s3_drops(client, url)
            except Exception as error:  # any listing failure: report, keep watching the rest
                on_error(f"{url}: cannot list the S3 inbox ({type(error).__name__}: {error})")
    return frozenset(found)


def new_drops(previous: frozenset[str], current: frozenset[str]) -> frozenset[str]:
    """What appeared since the last look (what left — ingested or quarantined — is not news)."""
    return current - previous
