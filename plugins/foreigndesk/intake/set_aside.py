"""Putting a drop too large to read into the store's quarantine without ever holding it in memory.

A file over the size limit is refused before it is read: reading a 3 GB "article"
every minute would stall the desk. It must still be kept, byte for byte, where the
desk chief finds it. So it is moved, not read:

* a local file into a local store: a hard link into the quarantine folder, then the
  inbox name removed (one rename's worth of work, any size); across file systems,
  copied in 1 MiB chunks;
* an S3 object into an S3 store: a server-side ``CopyObject`` that only copies the
  version that was measured (``CopySourceIfMatch``), then the inbox object removed
  only if it is still that version;
* the mixed cases (S3 inbox, local store and the other way round): streamed in chunks.

The copy is create-only: a key already there is the same drop set aside by an
earlier, interrupted run.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from foreigndesk.core.store import LocalStore, S3Store, Store, StoreError, check_key

CHUNK = 1024 * 1024


class CannotSetAside(StoreError):
    """The store offers no way to take a file without reading it whole (e.g. a wrapper in a test)."""


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _link_into(store: LocalStore, key: str, path: Path, handle: BinaryIO) -> bool:
    """Hard-link ``path`` to the store key (create-only) if it still is the file open in ``handle``.

    The name is linked, then checked against the open file (opened O_NOFOLLOW and checked against
    the listing): if the name was swapped for a link or another file in between, that wrong entry
    is unlinked again (a link's target is never opened) and False says: copy from the open file.
    Raises EXDEV (another file system) like ``os.link``.
    """
    target = store.root / check_key(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(path, target, follow_symlinks=False)
    except FileExistsError:
        return True  # set aside by an earlier, interrupted run
    opened, linked = os.fstat(handle.fileno()), target.lstat()
    if (linked.st_dev, linked.st_ino) != (opened.st_dev, opened.st_ino):
        target.unlink()
        return False
    _fsync_folder(target.parent)
    return True


def _stream_into_local(store: LocalStore, key: str, stream: BinaryIO) -> None:
    target = store.root / check_key(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(stream, handle, CHUNK)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_name, target)
        except FileExistsError:
            pass
    finally:
        os.unlink(temp_name)
    _fsync_folder(target.parent)


def _stream_into_s3(store: S3Store, key: str, stream: BinaryIO) -> None:
    # Managed upload: multipart in chunks, never the whole file in memory. The key is named by the
    # drop's identity, so an upload repeated after a crash writes the same bytes again.
    store.client.upload_fileobj(stream, store.bucket, store.prefix + check_key(key))


def can_take(store: Store) -> bool:
    """Whether ``store`` can take a drop without it being read (else the drop is read and refused as usual)."""
    return isinstance(store, (LocalStore, S3Store))


def move_file(store: Store, key: str, path: Path, opened: Callable[[], BinaryIO]) -> None:
    """Put the local file ``path`` (as ``opened`` opens it) at ``key`` without reading it into memory.

    The caller removes the inbox name afterwards, if it still holds the same file.
    """
    if isinstance(store, LocalStore):
        with opened() as stream:
            try:
                if _link_into(store, key, path, stream):
                    return
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOENT):
                    raise
            _stream_into_local(store, key, stream)
    elif isinstance(store, S3Store):
        with opened() as stream:
            _stream_into_s3(store, key, stream)
    else:
        raise CannotSetAside(f"the store {type(store).__name__} cannot take a file without reading it")


def copy_object(store: Store, key: str, client: Any, bucket: str, source_key: str, etag: str,
                version_id: str | None) -> None:
    """Put the S3 object at ``key``: server-side when the store is on S3, else streamed.

    Only the measured version is copied (its version id, or ``CopySourceIfMatch`` on its ETag);
    a PreconditionFailed means it was replaced meanwhile and is left for the next run.
    """
    source: dict[str, str] = {"Bucket": bucket, "Key": source_key}
    if version_id:
        source["VersionId"] = version_id
    if isinstance(store, S3Store):
        store.client.copy_object(Bucket=store.bucket, Key=store.prefix + check_key(key), CopySource=source,
                                 CopySourceIfMatch=etag.strip('"'))
    elif isinstance(store, LocalStore):
        extra = {"VersionId": version_id} if version_id else {"IfMatch": etag.strip('"')}
        body = client.get_object(Bucket=bucket, Key=source_key, **extra)["Body"]
        try:
            _stream_into_local(store, key, body)
        finally:
            body.close()
    else:
        raise CannotSetAside(f"the store {type(store).__name__} cannot take an object without reading it")
