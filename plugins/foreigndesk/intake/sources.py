"""Where approved articles come from: drop folders, S3 inbox prefixes, outlet feeds.

Every source hands intake the same thing, a :class:`Drop`: a name to show the
editor, the bytes, and a way to take the drop out of the source once the desk
holds it (recorded or quarantined). Intake never removes a drop before its
bytes are safely in the store, so a crash between the two only means the drop
is seen again — and identical bytes are a no-op.

A name starting with ``.`` or ending in ``.part``, ``.tmp`` or ``~`` is a copy
in progress and is left alone: editors (and sync tools) write under such a
name and rename when the file is complete (content/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from foreigndesk.core.store import parse_s3_url

IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".crdownload", "~")
#: The pseudo-outlet of files left directly in the inbox, outside any outlet folder.
NO_OUTLET = ""


class SourceError(Exception):
    """A source could not be read at all; the message names it. Other sources go on."""


def in_progress(name: str) -> bool:
    """A file still being copied in (by convention), to be picked up on a later run."""
    return name.startswith(".") or name.endswith(IN_PROGRESS_SUFFIXES)


@dataclass
class Drop:
    """One candidate article from one source."""

    outlet: str  # the outlet zone it was found in (NO_OUTLET: none)
    name: str  # what the editor calls it: the file name, or the feed item's title
    location: str  # where exactly: a path, s3://bucket/key, or feed URL#item id
    read: Callable[[], bytes]
    remove: Callable[[], None] = lambda: None
    #: True when the bytes read are not the whole file yet (it changed while being read).
    still_writing: Callable[[bytes], bool] = lambda raw: False
    #: Extra evidence kept beside a quarantined drop (e.g. the feed item as received).
    evidence: dict[str, bytes] = field(default_factory=dict)
    #: A reason known before parsing (e.g. a feed item without a date); quarantined as is.
    problem: str = ""


class Source(Protocol):
    """Yields drops; ``finish`` is called once every drop it yielded has been handled."""

    description: str

    def drops(self) -> Iterator[Drop]: ...

    def finish(self) -> None: ...


class DropFolder:
    """A local folder: ``<inbox>/<outlet>/``. Files are taken oldest first."""

    def __init__(self, folder: Path, outlet: str) -> None:
        self.folder = folder
        self.outlet = outlet
        self.description = str(folder)

    def drops(self) -> Iterator[Drop]:
        if not self.folder.is_dir():
            return
        files = []
        for path in self.folder.iterdir():
            try:
                if path.is_file() and not in_progress(path.name):
                    files.append((path.stat().st_mtime_ns, path.name, path))
            except FileNotFoundError:  # taken meanwhile (e.g. by a concurrent run)
                continue
        for _, _, path in sorted(files):
            try:
                drop = self._drop(path)
            except FileNotFoundError:
                continue
            yield drop

    def _drop(self, path: Path) -> Drop:
        before = path.stat()
        identity = (before.st_ino, before.st_size, before.st_mtime_ns)

        def unchanged() -> bool:
            try:
                now = path.stat()
            except FileNotFoundError:
                return False
            return (now.st_ino, now.st_size, now.st_mtime_ns) == identity

        def remove() -> None:
            # An editor may have dropped a new version under the same name meanwhile: keep that one.
            if unchanged():
                path.unlink(missing_ok=True)

        def read() -> bytes:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                raise SourceError(f"{path}: vanished while being read (taken by a concurrent run?)") from None
            except OSError as error:
                raise SourceError(f"{path}: cannot be read ({error.strerror}); check its permissions") from None

        return Drop(
            outlet=self.outlet,
            name=path.name,
            location=str(path),
            read=read,
            remove=remove,
            still_writing=lambda raw: len(raw) != before.st_size or not unchanged(),
        )

    def finish(self) -> None:
        pass


class _MissingInbox(DropFolder):
    def drops(self) -> Iterator[Drop]:
        raise SourceError(f"the inbox {self.folder} does not exist; create it (one folder per outlet) "
                          "or point FOREIGNDESK_INBOX / --inbox at it")


def inbox_folders(inbox: Path, outlets: tuple[str, ...]) -> list[DropFolder]:
    """Every configured outlet's folder, plus whatever else sits in the inbox.

    Files in an unknown folder or loose in the inbox are not ignored: they are
    offered to intake, which quarantines them with a reason naming the right place.
    """
    if not inbox.is_dir():
        return [_MissingInbox(inbox, NO_OUTLET)]
    folders = [DropFolder(inbox / outlet, outlet) for outlet in outlets]
    if inbox.is_dir():
        folders += [
            DropFolder(path, path.name)
            for path in sorted(inbox.iterdir())
            if path.is_dir() and path.name not in outlets and not in_progress(path.name)
        ]
        folders.append(_LooseFiles(inbox))
    return folders


class _LooseFiles(DropFolder):
    """Files left directly in the inbox, outside every outlet folder."""

    def __init__(self, inbox: Path) -> None:
        super().__init__(inbox, NO_OUTLET)


class S3Inbox:
    """An outlet's S3 inbox prefix, read with a boto3 client handed in. Oldest objects first."""

    def __init__(self, client: Any, url: str, outlet: str) -> None:
        self.client = client
        self.bucket, prefix = parse_s3_url(url)
        self.prefix = f"{prefix}/" if prefix else ""
        self.outlet = outlet
        self.description = f"s3://{self.bucket}/{self.prefix}"

    def drops(self) -> Iterator[Drop]:
        from botocore.exceptions import BotoCoreError, ClientError

        objects = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if name and not in_progress(name):
                        objects.append((item["LastModified"], item["Key"]))
        except (BotoCoreError, ClientError) as error:
            raise SourceError(f"{self.description}: cannot list the S3 inbox ({_s3_reason(error)})") from None
        for _, key in sorted(objects):
            yield self._drop(key)

    def _drop(self, key: str) -> Drop:
        from botocore.exceptions import BotoCoreError, ClientError

        location = f"s3://{self.bucket}/{key}"

        def read() -> bytes:
            try:
                return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except (BotoCoreError, ClientError) as error:
                raise SourceError(f"{location}: cannot be read ({_s3_reason(error)})") from None

        def remove() -> None:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except (BotoCoreError, ClientError) as error:
                raise SourceError(f"{location}: recorded, but could not be removed ({_s3_reason(error)}); "
                                  "the next run sees it again and changes nothing") from None

        return Drop(outlet=self.outlet, name=key.rsplit("/", 1)[-1], location=location, read=read, remove=remove)

    def finish(self) -> None:
        pass


def _s3_reason(error: Exception) -> str:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return str(code) if code else type(error).__name__
