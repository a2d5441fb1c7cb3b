"""The desk's store: where every record and every public output lives.

Two kinds of write, on purpose:

* ``create`` — records (sources, drafts, decisions, ledger claims). Written once,
  create-only, whole or not at all. A second writer of the same key loses and is
  told so; this is what makes "at most once" claims and crash-safe retries work.
* ``replace`` — public outputs (feeds, pages) that are rebuilt from records and
  swapped in whole, so a reader never sees half a file.

A key is a relative, ``/``-separated path of safe segments. The local backend
maps it to a file under a root folder; the S3 backend maps it to an object key
under a bucket prefix. Both pass the same contract tests (tests/test_store.py).
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

#: A whole key: safe segments joined by '/'. One match per key (a lookup checks every key it touches).
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class StoreError(Exception):
    """The store could not do what was asked; the message names the key."""


class RecordExists(StoreError):
    """A create-only write found the key already there."""


def check_key(key: str) -> str:
    """Refuse keys that could escape the store or collide with temp files."""
    if not _KEY.fullmatch(key):
        raise StoreError(
            f"store key {key!r} is not a safe path: use '/'-separated segments of letters, digits, '.', '_', '-'"
        )
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix is empty or a key-like folder ending in '/'."""
    if prefix and (not prefix.endswith("/") or not check_key(prefix[:-1])):
        raise StoreError(f"store prefix {prefix!r} must be '' or folder-like and end with '/', e.g. 'articles/'")
    return prefix


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

    def list_after(self, prefix: str, start_after: str) -> Iterator[str]:
        """Yield the keys under ``prefix`` that sort strictly after ``start_after``, sorted.

        Exactly ``[k for k in list(prefix) if k > start_after]``, but what it costs
        depends on the keys after ``start_after``, not on everything under ``prefix``:
        a time-ordered folder (the decision journal) can be read from a mark onwards.
        """


class LocalStore:
    """A folder on disk. Create-only uses a hard link, so a record appears whole or not at all.

    Durable on a power cut: the data is fsynced before it is linked or renamed into
    place, and the folder after (a new name lives in the folder, not the file), and a
    new folder in its parent. ``sync=False`` skips every fsync — only for tests that
    kill processes (the page cache survives a SIGKILL) and would otherwise spend
    most of their time waiting on the disk.
    """

    def __init__(self, root: Path | str, sync: bool = True) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = str(self.root)
        self.sync = sync

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _make_folder(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents, each made durable in its own parent."""
        if folder.is_dir():
            return
        self._make_folder(folder.parent)
        try:
            folder.mkdir()
        except FileExistsError:
            return
        if self.sync:
            _fsync_dir(folder.parent)

    def _write_temp(self, path: Path, data: bytes) -> str:
        self._make_folder(path.parent)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if self.sync:
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
        # The link is a change to the folder: without this a power cut can forget a record the
        # caller was told exists (and acted on, e.g. called a channel after its claim).
        if self.sync:
            _fsync_dir(path.parent)

    def replace(self, key: str, data: bytes) -> None:
        path = self._path(key)
        temp_name = self._write_temp(path, data)
        os.replace(temp_name, path)
        if self.sync:
            _fsync_dir(path.parent)

    def _file(self, key: str) -> str:
        """The key's file as a plain string: building a Path was most of what a lookup cost."""
        return os.path.join(self.url, check_key(key))

    def read(self, key: str) -> bytes:
        try:
            with open(self._file(key), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._file(key))

    def list(self, prefix: str) -> Iterator[str]:
        return self.list_after(prefix, "")

    def list_after(self, prefix: str, start_after: str) -> Iterator[str]:
        check_prefix(prefix)
        base = os.path.join(self.url, prefix.rstrip("/")) if prefix else self.url
        if not os.path.isdir(base):
            return iter(())
        return iter(list(self._walk_after(base, prefix, start_after)))

    def _walk_after(self, folder: Path | str, folder_key: str, start_after: str) -> Iterator[str]:
        """A sorted walk that never opens a folder whose keys all sort at or before ``start_after``.

        Entries sort as their keys do: a folder ``d`` as ``d/``, so ``d-x`` and ``d.x``
        (``-`` and ``.`` sort before ``/``) come before the keys inside ``d``.
        """
        entries: list[tuple[str, str]] = []  # (name as it sorts, folder path or "" for a file)
        with os.scandir(folder) as scan:
            for entry in scan:
                if entry.is_dir(follow_symlinks=False):
                    entries.append((entry.name + "/", entry.path))
                elif entry.is_file() and not entry.name.startswith(".tmp-"):
                    entries.append((entry.name, ""))
        entries.sort()
        for name, subfolder in entries:
            key = folder_key + name
            if not subfolder:
                if key > start_after:
                    yield key
            elif key > start_after or start_after.startswith(key):
                # A folder key sorting before ``start_after`` that is not its prefix holds only earlier keys.
                yield from self._walk_after(subfolder, key, start_after)


def _fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a new link, a rename, a new subfolder) survive a power cut."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: (endpoint, bucket) pairs whose server was seen refusing a second create-only write, this process.
_CREATE_ONLY_CHECKED: set[tuple[str, str]] = set()
CREATE_ONLY_PROBE = "store-checks/create-only"


class S3Store:
    """A bucket prefix on any S3 API. Create-only is ``PutObject`` with ``IfNoneMatch='*'``.

    The client is handed in (built from the standard AWS settings or an Airflow
    Connection by the caller), so the same class serves tests against a loopback
    server and production against the province's object store. S3 single-object
    PUTs are atomic, so ``replace`` needs no temporary object.
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _fail(self, error: Exception, action: str, key: str) -> StoreError:
        code = _error_code(error)
        if code == "NoSuchBucket":
            return StoreError(f"{self.url}: bucket {self.bucket!r} does not exist; create it or fix the store setting")
        return StoreError(f"{self.url}: could not {action} {key!r} ({s3_error_reason(error)})")

    def check_create_only(self) -> None:
        """Once per process and bucket: prove the server refuses a second ``If-None-Match: *`` PUT (412).

        Every exactly-once guarantee rests on create-only writes. A server (or a proxy in
        front of it) that ignores the condition would let two runs both "win" a claim and
        post twice, silently; so the store refuses to run there, with the reason.
        """
        from botocore.exceptions import ClientError

        endpoint = str(getattr(getattr(self.client, "meta", None), "endpoint_url", ""))
        if (endpoint, self.bucket) in _CREATE_ONLY_CHECKED:
            return
        probe = f"{self.prefix}{CREATE_ONLY_PROBE}-{uuid.uuid4().hex}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"1", IfNoneMatch="*")
            try:
                self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"2", IfNoneMatch="*")
            except ClientError as error:
                if _error_code(error) not in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                    raise self._fail(error, "check create-only writes at", probe) from None
            else:
                raise StoreError(
                    f"{self.url}: the S3 server at {endpoint or 'the default endpoint'} accepted a second "
                    "create-only write (PUT with If-None-Match: * must answer 412 Precondition Failed when the "
                    "object exists). The desk's records and publish claims depend on it, so it will not run "
                    "here: use an S3 server that supports conditional writes (AWS S3, Ceph RGW >= Squid, "
                    "MinIO), or one without a proxy that drops the If-None-Match header.")
        except ClientError as error:
            raise self._fail(error, "check create-only writes at", probe) from None
        finally:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=probe)
            except ClientError:
                pass
        _CREATE_ONLY_CHECKED.add((endpoint, self.bucket))

    def create(self, key: str, data: bytes) -> None:
        from botocore.exceptions import ClientError

        self.check_create_only()
        for _attempt in range(3):
            try:
                self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
                return
            except ClientError as error:
                code = _error_code(error)
                if code == "PreconditionFailed":
                    raise RecordExists(f"record {key!r} already exists in {self.url}") from None
                if code != "ConditionalRequestConflict":  # a concurrent create: ask again, one wins
                    raise self._fail(error, "create", key) from None
        raise StoreError(f"{self.url}: create of {key!r} kept conflicting with a concurrent writer; retry the run")

    def replace(self, key: str, data: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except ClientError as error:
            raise self._fail(error, "write", key) from None

    def read(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as error:
            if _error_code(error) in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise self._fail(error, "read", key) from None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as error:
            if _error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._fail(error, "look up", key) from None

    def list(self, prefix: str) -> Iterator[str]:
        return self.list_after(prefix, "")

    def list_after(self, prefix: str, start_after: str) -> Iterator[str]:
        """``ListObjectsV2`` with ``StartAfter``: the server starts at the mark, whatever lies before it."""
        from botocore.exceptions import ClientError

        check_prefix(prefix)
        params = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if start_after:
            params["StartAfter"] = self.prefix + start_after
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(**params):
                keys.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", ()))
        except ClientError as error:
            raise self._fail(error, "list", prefix) from None
        return iter(sorted(key for key in keys if key > start_after))


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


#: S3 error codes that mean the credentials are wrong, and the setting to fix for each. A real S3
#: (Ceph radosgw, AWS) checks every request's signature; a test emulator may not, so only a real
#: server tells a wrong secret apart (tests/test_store.py runs on both).
_ACCESS_DENIED = ("access denied: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the login and password "
                  "of the Airflow Connection named by FOREIGNDESK_AWS_CONN_ID (default foreigndesk_s3), "
                  "and the user's rights on the bucket")
_CREDENTIAL_FIXES = {
    "SignatureDoesNotMatch": "the secret key does not match the access key: fix AWS_SECRET_ACCESS_KEY, "
                             "or the password of the Airflow Connection named by FOREIGNDESK_AWS_CONN_ID "
                             "(default foreigndesk_s3)",
    "InvalidAccessKeyId": "the S3 server has no such access key: fix AWS_ACCESS_KEY_ID, "
                          "or the login of the Airflow Connection named by FOREIGNDESK_AWS_CONN_ID "
                          "(default foreigndesk_s3)",
    # A HEAD answer has no body, so a refused signature on HEAD is only its status.
    "403": _ACCESS_DENIED,
    "AccessDenied": _ACCESS_DENIED,
}


def s3_error_reason(error: Exception) -> str:
    """An S3 failure in a few words for an error message: its code, and the setting to fix when it is
    the credentials. Built from the code only, so no key, secret or signature can leak into it."""
    code = _error_code(error) or type(error).__name__
    fix = _CREDENTIAL_FIXES.get(code)
    return f"{code}: {fix}" if fix else code


def s3_client(endpoint_url: str | None = None, **credentials: str) -> Any:
    """A boto3 S3 client from the standard AWS settings (env, ~/.aws), optionally overridden.

    A custom endpoint (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` or the
    argument) means a self-hosted S3 API (Ceph, MinIO, a test server): those
    want path-style addressing, so it is switched on for them.
    """
    import boto3
    from botocore.config import Config

    custom = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(retries={"mode": "standard"}, s3={"addressing_style": "path"} if custom else {})
    kwargs = {key: value for key, value in credentials.items() if value}
    return boto3.client("s3", endpoint_url=endpoint_url or None, config=config, **kwargs)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → (bucket, prefix); refuses what can't be a bucket."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise StoreError(f"{url!r}: {bucket!r} is not an S3 bucket name; write s3://BUCKET/PREFIX")
    if prefix.strip("/"):
        check_key(prefix.strip("/"))
    return bucket, prefix.strip("/")


def open_store(url: str, client: Any = None) -> Store:
    """Open the store a setting names: a folder path, or ``s3://BUCKET/PREFIX``.

    For S3 the client is built from the standard AWS settings unless one is
    handed in (the Airflow glue hands one built from a Connection).
    """
    if url.startswith("s3://"):
        bucket, prefix = parse_s3_url(url)
        return S3Store(client if client is not None else s3_client(), bucket, prefix)
    return LocalStore(url)
