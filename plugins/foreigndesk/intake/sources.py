"""Where approved articles come from: what every source hands intake, and the drop folders.

Every source hands intake the same thing, a :class:`Drop`: a name to show the
editor, the bytes, and a way to take the drop out of the source once the desk
holds it (recorded or quarantined). Intake never removes a drop before its
bytes are safely in the store, so a crash between the two only means the drop
is seen again — and identical bytes are a no-op.

A name starting with ``.`` or ending in ``.part``, ``.tmp`` or ``~`` is a copy
in progress and is left alone: editors (and sync tools) write under such a
name and rename when the file is complete (content/README.md). A file under its
final name is taken only once it has settled: unchanged for ``settle_seconds``,
or renamed into place after its last write (its inode changed after its data:
ctime later than mtime). Anything else is left for a later run.

The drop zone is read without following anything out of it: a symbolic link
(to a file or a folder) is quarantined as the link it is — its target is never
opened, copied or deleted — and files are opened with ``O_NOFOLLOW`` after an
``lstat``, so a file swapped for a link between the two is not followed either.
Anything that is not a regular file (a FIFO, a socket) is quarantined unread.

The size is known before the bytes: a drop over the limit is moved into
quarantine whole (:mod:`.set_aside`) without being read.

An S3 inbox prefix is a source too (:mod:`.s3_inbox`).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from foreigndesk.core.store import Store
from foreigndesk.intake import set_aside

IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".crdownload", "~")
#: The pseudo-outlet of files left directly in the inbox, outside any outlet folder.
NO_OUTLET = ""
_NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class SourceError(Exception):
    """A source could not be read at all; the message names it. Other sources go on."""


def in_progress(name: str) -> bool:
    """A file still being copied in (by convention), to be picked up on a later run."""
    return name.startswith(".") or name.endswith(IN_PROGRESS_SUFFIXES)


def settled(info: os.stat_result, settle_seconds: float, now: float) -> bool:
    """Whether a file under its final name is complete: renamed into place after its last write (its inode
    changed after its data), or unchanged for ``settle_seconds``. Intake and the drop watcher both ask
    this, so the watcher's event comes when intake will take the file, not before."""
    if info.st_ctime_ns > info.st_mtime_ns:
        return True
    return now - info.st_mtime >= settle_seconds  # the float os.stat gives everyone (ns / 1e9 can round above it)


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
    #: Its size in bytes when known before reading (files, S3 objects): over the limit, it is never read.
    size: int | None = None
    #: Put the whole drop at a store key without reading it into memory, and take it out of the source.
    set_aside: Callable[[Store, str], None] | None = None
    #: Why it is not taken yet (e.g. still settling); left for a later run, untouched.
    not_yet: str = ""
    #: Which version of the drop this is, before reading (inode+size+mtime, an ETag): names a set-aside copy.
    fingerprint: str = ""
    #: When the source last changed it (seconds since the epoch), when known: a clip half waiting for its
    #: partner is quarantined once it has waited longer than the desk's setting.
    changed_at: float | None = None


class Source(Protocol):
    """Yields drops; ``finish`` is called once every drop it yielded has been handled."""

    description: str

    def drops(self) -> Iterator[Drop]: ...

    def finish(self) -> None: ...


class DropFolder:
    """A local folder: ``<inbox>/<outlet>/``. Files are taken oldest first; links are never followed.

    ``settle_seconds`` defaults to 0 for callers that drop and ingest at once (tests, benchmarks);
    the desk's runs pass its setting, FOREIGNDESK_SETTLE_SECONDS (5 s), via :func:`inbox_folders`.
    """

    def __init__(self, folder: Path, outlet: str, settle_seconds: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.outlet = outlet
        self.description = str(folder)
        self.settle_seconds = settle_seconds
        self.clock = clock

    def drops(self) -> Iterator[Drop]:
        if self.folder.is_symlink() or not self.folder.is_dir():
            return
        entries = []
        with os.scandir(self.folder) as scan:
            for entry in scan:
                try:
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # taken meanwhile (e.g. by a concurrent run)
                    continue
                if stat.S_ISDIR(info.st_mode) or in_progress(entry.name):
                    continue
                entries.append((info.st_mtime_ns, entry.name, Path(entry.path), info))
        for _, _, path, _listed in sorted(entries, key=lambda item: item[:2]):
            try:
                info = path.lstat()  # as it is now: taken meanwhile, or replaced since listed
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(info.st_mode):
                continue
            if stat.S_ISLNK(info.st_mode):
                yield link_drop(path, self.outlet, info)
            elif not stat.S_ISREG(info.st_mode):
                yield _special_drop(path, self.outlet, info)
            else:
                yield self._drop(path, info)

    def _settling(self, info: os.stat_result) -> str:
        """'' when the file may be taken (:func:`settled`), else why not yet."""
        now = self.clock()
        if settled(info, self.settle_seconds, now):
            return ""
        return f"changed {max(now - info.st_mtime, 0):.1f} s ago; taken once unchanged for {self.settle_seconds:g} s"

    def _drop(self, path: Path, before: os.stat_result) -> Drop:
        identity = (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns)

        def unchanged() -> bool:
            try:
                now = path.lstat()
            except FileNotFoundError:
                return False
            return stat.S_ISREG(now.st_mode) and (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) == identity

        def remove() -> None:
            # An editor may have dropped a new version under the same name meanwhile: keep that one.
            if unchanged():
                path.unlink(missing_ok=True)

        replaced = [False]  # set when the name no longer holds the file listed: left for the next run

        def opened() -> BinaryIO | None:
            """The file itself, never a link put in its place since it was listed; None when it is gone."""
            try:
                handle = os.open(path, _NOFOLLOW)
            except FileNotFoundError:  # taken by a concurrent run, or renamed away by the editor
                return None
            except OSError as error:
                if error.errno == getattr(os, "ELOOP", 40):  # a link now: the next run quarantines it as one
                    return None
                raise SourceError(f"{path}: cannot be read ({error.strerror}); check its permissions") from None
            now = os.fstat(handle)
            if (now.st_dev, now.st_ino) != identity[:2] or not stat.S_ISREG(now.st_mode):
                os.close(handle)  # replaced since listed (an editor's save-by-rename): that one is for later
                return None
            os.set_blocking(handle, True)
            return os.fdopen(handle, "rb")

        def read() -> bytes:
            handle = opened()
            if handle is None:
                replaced[0] = True
                return b""
            # At most one byte more than measured: a file still growing is caught by still_writing.
            with handle:
                return handle.read(before.st_size + 1)

        def must_open() -> BinaryIO:
            handle = opened()
            if handle is None:
                raise SourceError(f"{path}: replaced or removed while being set aside; left for the next run")
            return handle

        def move_aside(store: Store, key: str) -> None:
            set_aside.move_file(store, key, path, must_open)
            remove()

        return Drop(
            outlet=self.outlet,
            name=path.name,
            location=str(path),
            read=read,
            remove=remove,
            still_writing=lambda raw: replaced[0] or len(raw) != before.st_size or not unchanged(),
            size=before.st_size,
            set_aside=move_aside,
            not_yet=self._settling(before),
            fingerprint=f"{before.st_dev}:{before.st_ino}:{before.st_size}:{before.st_mtime_ns}",
            changed_at=before.st_mtime,
        )

    def finish(self) -> None:
        pass


def link_drop(path: Path, outlet: str, info: os.stat_result) -> Drop:
    """A symbolic link in a drop zone: quarantined as the link (its target's name), never followed."""
    try:
        target = os.readlink(path)
    except FileNotFoundError:
        target = ""

    def remove() -> None:
        try:
            now = path.lstat()
        except FileNotFoundError:
            return
        if stat.S_ISLNK(now.st_mode) and now.st_ino == info.st_ino and os.readlink(path) == target:
            path.unlink()  # the link itself; its target is never touched

    return Drop(
        outlet=outlet,
        name=path.name,
        location=str(path),
        read=lambda: os.fsencode(target),
        remove=remove,
        problem=(f"{path.name}: a symbolic link to {target!r}, not a file; the desk never follows links "
                 "(the target was not read). Copy the article file itself into the folder"),
    )


def _special_drop(path: Path, outlet: str, info: os.stat_result) -> Drop:
    """A FIFO, socket or device in a drop zone: never opened (a FIFO would block), quarantined by name."""
    kind = "a named pipe" if stat.S_ISFIFO(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) \
        else "a device or other special file"

    def remove() -> None:
        try:
            now = path.lstat()
        except FileNotFoundError:
            return
        if now.st_ino == info.st_ino and not stat.S_ISREG(now.st_mode) and not stat.S_ISDIR(now.st_mode):
            path.unlink()

    return Drop(outlet=outlet, name=path.name, location=str(path), read=lambda: b"", remove=remove,
                problem=f"{path.name}: {kind}, not a file; it was not opened. Copy the article file itself")


class _MissingInbox(DropFolder):
    def drops(self) -> Iterator[Drop]:
        raise SourceError(f"the inbox {self.folder} does not exist; create it (one folder per outlet) "
                          "or point FOREIGNDESK_INBOX / --inbox at it")


def inbox_folders(inbox: Path, outlets: tuple[str, ...], settle_seconds: float = 0.0) -> list[DropFolder]:
    """Every configured outlet's folder, plus whatever else sits in the inbox.

    Files in an unknown folder or loose in the inbox are not ignored: they are
    offered to intake, which quarantines them with a reason naming the right place.
    A link in the inbox (an outlet folder that is a link included) is offered as a
    loose drop and quarantined as a link; the folder it points to is never opened.
    The desk passes its ``settle_seconds`` setting (FOREIGNDESK_SETTLE_SECONDS, 5 s).
    """
    if not inbox.is_dir():
        return [_MissingInbox(inbox, NO_OUTLET)]
    folders = [DropFolder(inbox / outlet, outlet, settle_seconds) for outlet in outlets]
    folders += [
        DropFolder(path, path.name, settle_seconds)
        for path in sorted(inbox.iterdir())
        if not path.is_symlink() and path.is_dir() and path.name not in outlets and not in_progress(path.name)
    ]
    folders.append(_LooseFiles(inbox, settle_seconds))
    return folders


class _LooseFiles(DropFolder):
    """Files left directly in the inbox, outside every outlet folder, and every link in it."""

    def __init__(self, inbox: Path, settle_seconds: float = 0.0) -> None:
        super().__init__(inbox, NO_OUTLET, settle_seconds)
