"""Every intake case of the "hostile and half-copied files" list, through a real drop folder and store.

Each test states the file's fate — quarantined byte for byte, left for later, or taken whole — and
that nothing outside the drop zone was read or touched: a sentinel folder beside the inbox holds a
valid article (so following a link to it would register it) whose atime is set days back; any read
of it would move the atime (the file system is mounted relatime: a read updates an atime older than
the mtime), and any write, the mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import tracemalloc
from pathlib import Path

import pytest
from drops import article_bytes
from foreigndesk.core.revisions import load_revision, source_key
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.ingest import IntakeResult, ingest, ingest_drop, ingest_inbox
from foreigndesk.intake.sources import DropFolder, inbox_folders

OUTLETS = ("baothainguyen", "tntv")
DAY = 86400


@pytest.fixture
def inbox(tmp_path) -> Path:
    for outlet in OUTLETS:
        (tmp_path / "inbox" / outlet).mkdir(parents=True)
    return tmp_path / "inbox"


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


class Outside:
    """Files beside the drop zone that intake must never read, change or remove."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self.files = {"secret.md": article_bytes(id="btn-outside", body="Không được đọc.\n"),
                      "sub/notes.md": article_bytes(id="btn-outside-2")}
        for name, raw in self.files.items():
            (folder / name).parent.mkdir(exist_ok=True)
            (folder / name).write_bytes(raw)
        now = time.time()
        self.times = {}
        for name in self.files:
            os.utime(folder / name, (now - 3 * DAY, now - DAY))
            info = (folder / name).stat()
            self.times[name] = (info.st_atime_ns, info.st_mtime_ns)

    def assert_untouched(self) -> None:
        found = sorted(str(path.relative_to(self.folder)) for path in self.folder.rglob("*") if path.is_file())
        assert found == sorted(self.files), "nothing outside the drop zone was added or removed"
        for name, raw in self.files.items():
            info = (self.folder / name).stat()  # before reading: the check must not move the atime itself
            assert (info.st_atime_ns, info.st_mtime_ns) == self.times[name], f"{name} was read or written"
            assert (self.folder / name).read_bytes() == raw
            os.utime(self.folder / name, ns=self.times[name])  # undo this check's own read, for the next check


@pytest.fixture
def outside(tmp_path) -> Outside:
    return Outside(tmp_path / "outside")


def put(inbox: Path, outlet: str, name: str, raw: bytes, age: float = 60) -> Path:
    """An editor's drop that has long settled (written, then left alone for ``age`` seconds)."""
    path = inbox / outlet / name
    path.write_bytes(raw)
    if age:
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
    return path


def quarantine_of(store: LocalStore, outlet: str, raw: bytes) -> tuple[bytes, dict]:
    folder = f"quarantine/{outlet}/{hashlib.sha256(raw).hexdigest()}"
    return store.read(f"{folder}/original.bin"), json.loads(store.read(f"{folder}/reason.json"))


def nothing_registered(store: LocalStore) -> bool:
    return list(store.list("articles/")) == [] and list(store.list("claims/")) == []


# --- symbolic links: quarantined as links, never followed ----------------------------------------

def test_a_link_to_a_file_outside_is_quarantined_as_the_link_and_never_followed(inbox, store, outside):
    link = inbox / "tntv" / "bai.md"
    link.symlink_to(outside.folder / "secret.md")
    result = ingest_inbox(store, inbox, OUTLETS)
    target = os.fsencode(outside.folder / "secret.md")
    original, reason = quarantine_of(store, "tntv", target)
    assert original == target, "the link itself is kept: the name of what it pointed to"
    assert "a symbolic link to" in reason["reason"] and "never follows links" in reason["reason"]
    assert result.quarantined == [{"file": str(link), "reason": reason["reason"]}]
    assert not link.is_symlink() and not link.exists(), "the link left the inbox"
    assert nothing_registered(store)
    outside.assert_untouched()


def test_a_link_to_a_folder_in_an_outlet_folder_is_quarantined_and_never_entered(inbox, store, outside):
    link = inbox / "baothainguyen" / "bai-tuan-nay"
    link.symlink_to(outside.folder / "sub", target_is_directory=True)
    result = ingest_inbox(store, inbox, OUTLETS)
    original, reason = quarantine_of(store, "baothainguyen", os.fsencode(outside.folder / "sub"))
    assert original == os.fsencode(outside.folder / "sub") and "symbolic link" in reason["reason"]
    assert len(result.quarantined) == 1 and not os.path.lexists(link)
    assert nothing_registered(store)
    outside.assert_untouched()


def test_an_outlet_folder_that_is_a_link_is_quarantined_not_read(inbox, store, outside):
    (inbox / "tntv").rmdir()
    (inbox / "tntv").symlink_to(outside.folder, target_is_directory=True)
    result = ingest_inbox(store, inbox, OUTLETS)
    original, reason = quarantine_of(store, "no-outlet", os.fsencode(outside.folder))
    assert original == os.fsencode(outside.folder) and "symbolic link" in reason["reason"]
    assert [item["file"] for item in result.quarantined] == [str(inbox / "tntv")]
    assert not os.path.lexists(inbox / "tntv") and nothing_registered(store)
    outside.assert_untouched()


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(inbox, store, outside):
    path = put(inbox, "tntv", "bai.md", article_bytes(outlet="tntv"))
    result = IntakeResult()
    (candidate,) = DropFolder(inbox / "tntv", "tntv").drops()
    path.unlink()
    path.symlink_to(outside.folder / "secret.md")  # the race an attacker would try
    ingest_drop(store, candidate, result, OUTLETS)
    assert result.waiting == [str(path)], "not followed: left for the next run"
    assert path.is_symlink() and nothing_registered(store)
    outside.assert_untouched()
    ingest_inbox(store, inbox, OUTLETS)  # the next run quarantines the link as a link
    assert not os.path.lexists(path) and nothing_registered(store)
    outside.assert_untouched()


def test_a_named_pipe_is_quarantined_unopened(inbox, store, outside):
    fifo = inbox / "tntv" / "bai.md"
    os.mkfifo(fifo)
    started = time.perf_counter()
    result = ingest_inbox(store, inbox, OUTLETS)  # opening it for reading would block forever
    assert time.perf_counter() - started < 5
    original, reason = quarantine_of(store, "tntv", b"")
    assert original == b"" and "a named pipe, not a file; it was not opened" in reason["reason"]
    assert len(result.quarantined) == 1 and not os.path.lexists(fifo)
    outside.assert_untouched()


# --- hostile front matter: refused by line, in milliseconds, out of the inbox ---------------------

BOMB = ("---\ntitle: Bom\noutlet: tntv\napproved_by: X\napproved_at: 2025-05-18\n"
        "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
        + "---\nNội dung.\n").encode()
HOSTILE = {
    "aliases (billion laughs)": (BOMB, "front matter line 6: a YAML anchor '&a' is not allowed"),
    "duplicate key": (article_bytes(outlet="tntv").replace(b"title:", b"approved_by: Ai khac\ntitle:", 1),
                      "front matter line 5: field 'approved_by' is given twice (lines 2 and 5); keep one"),
    "deep nesting": (("---\ntitle: " + "[" * 200 + "\n---\nx\n").encode(), "line 2: values nested more than 4 deep"),
    "very deep nesting": (("---\ntitle: " + "[" * 16000 + "\n---\nx\n").encode(), "not valid YAML at line 2"),
    "front matter over the cap": (("---\ntitle: T\noutlet: tntv\nsummary: " + "x" * 40000 + "\n---\nx\n").encode(),
                                  "front matter is longer than 16384 characters"),
    "front matter of too many lines": (("---\n" + "".join(f"k{i}: v\n" for i in range(1500)) + "---\nx\n").encode(),
                                       "front matter has more than 200 lines"),
    "an HTML page of 100,000 tags": (article_bytes(outlet="tntv", body="<script>x" * 100_000),
                                     "100000 '<' characters — this is an HTML page"),
    "approval in the future": (article_bytes(outlet="tntv", approved_at="2095-03-14T09:30:00+07:00"),
                               "'approved_at' = 2095-03-14T09:30:00+07:00 is in the future"),
    "source_url not a whole URL": (article_bytes(outlet="tntv", source_url='"https://tntv.vn/a onmouseover=x"'),
                                   "'source_url' = 'https://tntv.vn/a onmouseover=x' is not a whole http(s) URL"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_is_refused_in_milliseconds_and_moved_out_of_the_inbox(inbox, store, outside, case):
    raw, expected = HOSTILE[case]
    path = put(inbox, "tntv", "bai.md", raw)
    started = time.perf_counter()
    result = ingest_inbox(store, inbox, OUTLETS)
    elapsed = time.perf_counter() - started
    original, reason = quarantine_of(store, "tntv", raw)
    assert original == raw and expected in reason["reason"], reason["reason"]
    assert not path.exists(), "out of the inbox: the next run does not read it again"
    assert elapsed < 0.5, f"{case}: {elapsed:.3f} s"  # measured ~1-5 ms idle; generous for a shared machine
    assert result.accepted == [] and nothing_registered(store)
    outside.assert_untouched()


def test_an_approval_within_the_clock_skew_is_taken(inbox, store):
    from datetime import datetime, timedelta, timezone

    soon = (datetime.now(timezone.utc) + timedelta(minutes=2)).isoformat()
    put(inbox, "tntv", "bai.md", article_bytes(outlet="tntv", approved_at=soon))
    assert len(ingest_inbox(store, inbox, OUTLETS).accepted) == 1


# --- size before reading --------------------------------------------------------------------------

def test_a_file_over_the_limit_is_moved_to_quarantine_without_being_read(inbox, store, outside):
    path = inbox / "tntv" / "video.md"
    with path.open("wb") as handle:  # 64 MiB, sparse: reading it would allocate 64 MiB
        handle.write(b"---\ntitle: not an article\n")
        handle.truncate(64 * 1024 * 1024)
    stamp = time.time() - 60
    os.utime(path, (stamp - 3 * DAY, stamp))
    inode, atime = path.stat().st_ino, path.stat().st_atime_ns
    tracemalloc.start()
    try:
        result = ingest_inbox(store, inbox, OUTLETS, max_bytes=1024 * 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes: the file was loaded"
    (item,) = result.quarantined
    assert "67108864 bytes, larger than the limit of 1048576 bytes (not read)" in item["reason"]
    (folder,) = {key.rsplit("/", 1)[0] for key in store.list("quarantine/tntv/")}
    kept = store.root / folder / "original.bin"
    assert kept.stat().st_ino == inode and kept.stat().st_atime_ns == atime, "moved (same inode), never read"
    assert json.loads(store.read(f"{folder}/reason.json"))["reason"] == item["reason"]
    assert not path.exists() and nothing_registered(store)
    with kept.open("rb") as handle:
        assert handle.read(26) == b"---\ntitle: not an article\n" and os.fstat(handle.fileno()).st_size == 64 << 20
    outside.assert_untouched()


def test_the_same_large_file_set_aside_twice_after_a_crash_is_kept_once(inbox, store):
    path = put(inbox, "tntv", "lon.md", b"x" * 5000)
    from foreigndesk.intake.set_aside import move_file

    (candidate,) = DropFolder(inbox / "tntv", "tntv").drops()
    # The worker died after the link into quarantine, before the inbox name was removed.
    candidate.set_aside = lambda target, key: move_file(target, key, path, lambda: path.open("rb"))
    ingest_drop(store, candidate, IntakeResult(), OUTLETS, max_bytes=1000)
    assert path.exists()
    ingest_inbox(store, inbox, OUTLETS, max_bytes=1000)
    assert not path.exists() and len(list(store.list("quarantine/tntv/"))) == 2  # original.bin + reason.json


# --- half-copied files: taken only once settled or renamed into place -----------------------------

def test_a_file_still_being_written_is_left_for_later_until_it_settles(inbox, store, outside):
    raw = article_bytes(outlet="tntv", id="tntv-dang-chep")
    path = inbox / "tntv" / "bai.md"
    path.write_bytes(raw[:40])  # the editor's copy has just started
    now = time.time()
    early = ingest(store, [DropFolder(inbox / "tntv", "tntv", settle_seconds=5, clock=lambda: now)], OUTLETS)
    assert early.waiting == [str(path)] and early.accepted == early.quarantined == []
    assert path.read_bytes() == raw[:40] and nothing_registered(store)
    with path.open("ab") as handle:
        handle.write(raw[40:])  # the copy finishes
    written = path.stat().st_mtime
    still = ingest(store, [DropFolder(inbox / "tntv", "tntv", 5, clock=lambda: written + 4)], OUTLETS)
    assert still.waiting == [str(path)] and nothing_registered(store)
    settled = ingest(store, [DropFolder(inbox / "tntv", "tntv", 5, clock=lambda: written + 5)], OUTLETS)
    (taken,) = settled.accepted
    assert store.read(source_key("tntv-dang-chep", taken.revision)) == raw, "taken whole"
    assert not path.exists()
    outside.assert_untouched()


def test_a_file_renamed_into_place_is_taken_at_once(inbox, store):
    raw = article_bytes(outlet="tntv", id="tntv-doi-ten")
    temporary = inbox / "tntv" / "bai.md.part"
    temporary.write_bytes(raw)
    time.sleep(0.05)  # the rename's ctime lands on a later clock tick than the last write's mtime
    temporary.rename(inbox / "tntv" / "bai.md")
    result = ingest(store, [DropFolder(inbox / "tntv", "tntv", settle_seconds=3600)], OUTLETS)
    (taken,) = result.accepted
    assert store.read(source_key("tntv-doi-ten", taken.revision)) == raw


def test_the_desk_settings_carry_the_settle_time(tmp_path):
    from foreigndesk.core.settings import SettingsError, load_settings

    assert load_settings({"FOREIGNDESK_INBOX": str(tmp_path)}).settle_seconds == 5.0
    assert load_settings({"FOREIGNDESK_SETTLE_SECONDS": "0.5"}).settle_seconds == 0.5
    with pytest.raises(SettingsError, match="FOREIGNDESK_SETTLE_SECONDS='soon' is not a number"):
        load_settings({"FOREIGNDESK_SETTLE_SECONDS": "soon"})
    folders = inbox_folders(tmp_path, OUTLETS, load_settings({"FOREIGNDESK_SETTLE_SECONDS": "7"}).settle_seconds)
    assert {folder.settle_seconds for folder in folders} == {7.0}


def test_a_file_replaced_after_it_was_read_is_never_removed(inbox, store, outside):
    first, second = article_bytes(outlet="tntv", id="tntv-x"), article_bytes(outlet="tntv", id="tntv-x", body="Sửa.\n")
    path = put(inbox, "tntv", "bai.md", first)
    (candidate,) = DropFolder(inbox / "tntv", "tntv").drops()
    remove = candidate.remove

    def editor_saves_again_then_remove():
        replacement = inbox / "tntv" / ".bai.md.tmp"
        replacement.write_bytes(second)
        replacement.rename(path)  # a new version under the same name while the first was being stored
        remove()

    candidate.remove = editor_saves_again_then_remove
    result = IntakeResult()
    ingest_drop(store, candidate, result, OUTLETS)
    assert store.read(source_key("tntv-x", result.accepted[0].revision)) == first
    assert path.read_bytes() == second, "the new version stays in the inbox"
    rerun = ingest_inbox(store, inbox, OUTLETS)
    assert store.read(source_key("tntv-x", rerun.accepted[0].revision)) == second and not path.exists()
    outside.assert_untouched()


# --- raw HTML: taken whole, cleaned, flagged ------------------------------------------------------

def test_a_drop_with_a_video_player_is_taken_whole_and_the_player_becomes_a_link(inbox, store, outside):
    raw = article_bytes(outlet="tntv", id="tntv-video", body=(
        "Lễ hội khai mạc.\n\n<iframe src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\"></iframe>\n\n"
        "<script src=\"https://evil.example/x.js\"></script>Tiếp.\n"))
    put(inbox, "tntv", "bai.md", raw)
    (taken,) = ingest_inbox(store, inbox, OUTLETS).accepted
    assert store.read(source_key("tntv-video", taken.revision)) == raw, "the bytes as dropped are kept"
    record = load_revision(store, "tntv-video", taken.revision)
    assert record.body == "Lễ hội khai mạc.\n\n[▶ Video: YouTube](https://www.youtube.com/watch?v=dQw4w9WgXcQ)\n\nTiếp.\n"
    assert [flag.split(":")[0] for flag in record.flags] == ["body line 10", "body line 12"]
    outside.assert_untouched()
