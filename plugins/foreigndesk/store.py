"""The desk's store: where every record and every public output lives.

Two kinds of write, on purpose:

* ``create`` — records (sources, drafts, decisions, ledger claims). Written once,
  create-only, whole or not at all. A second writer of the same key loses and is
  told so; this is what makes "at most once" claims and crash-safe retries work.
* ``replace`` — public outputs (feeds, pages) that are rebuilt from records and
  swapped in whole, so a reader never sees half a file.

A key is a relative, ``/``-separated path of safe segments. The local backend
maps it to a file under a root folder; an S3 backend maps it to an object key.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class StoreError(Exception):
    """The store could not do what was asked; the message names the key."""


class RecordExists(StoreError):
    """A create-only write found the key already there."""


def check_key(key: str) -> str:
    """Refuse keys that could escape the store or collide with temp files."""
    segments = key.split("/")
    if not key or any(not _SEGMENT.match(segment) for segment in segments):
        raise StoreError(
            f"store key {key!r} is not a safe path: use '/'-separated segments of letters, digits, '.', '_', '-'"
        )
    return key


class Store(Protocol):
    """What every backend offers. Keys are checked with :func:`check_key`."""

    url: str

    def create(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` only if nothing is there; raise :class:`RecordExists` otherwise."""

    def replace(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` atomically, replacing what was there."""

    def read(self, key: str) -> bytes:
        """Return the bytes at ``key``; raise ``KeyError`` when absent."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Yield every key under ``prefix`` (a folder-like prefix ending in '/'), sorted."""


class LocalStore:
    """A folder on disk. Create-only uses a hard link, so a record appears whole or not at all."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write_temp(self, path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return temp_name

    def create(self, key: str, data: bytes) -> None:
        path = self._path(key)
        temp_name = self._write_temp(path, data)
        try:
            os.link(temp_name, path)
        except FileExistsError:
            raise RecordExists(f"record {key!r} already exists in {self.url}") from None
        finally:
            os.unlink(temp_name)

    def replace(self, key: str, data: bytes) -> None:
        path = self._path(key)
        temp_name = self._write_temp(path, data)
        os.replace(temp_name, path)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if not base.is_dir():
            return iter(())
        keys = (
            path.relative_to(self.root).as_posix()
            for path in base.rglob("*")
            if path.is_file() and not path.name.startswith(".tmp-")
        )
        return iter(sorted(keys))


def open_store(url: str) -> Store:
    """Open the store named by a settings value: a folder path (S3 comes with the S3 backend)."""
    if url.startswith("s3://"):
        raise StoreError(f"store {url!r}: the S3 backend is not part of this build yet; use a folder path")
    return LocalStore(url)
