"""The board's stored index (board/index.py): a cache of record copies that never changes what the board shows.

Every test compares the board read through the index with the board read from
the records alone (``collect_rows`` with a fresh Reader): equal rows, cell for
cell. Records are written through the stages' own functions (tests/board_desk.py),
some of them by another process while a board server holds the index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from board_desk import (
    LANGUAGES,
    _decision,
    _draft,
    _request,
    build_desk,
)
from foreigndesk.board import index
from foreigndesk.board.app import Desk
from foreigndesk.board.copies import Reader
from foreigndesk.board.filters import period_start
from foreigndesk.board.rows import collect_rows
from foreigndesk.core.decisions import decision_key
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore, StoreError
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.publish import ledger
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SINCE = period_start(NOW, 30)
REPO = Path(__file__).resolve().parents[1]


def _desk(store) -> Desk:
    return Desk(load_settings(), lambda: store, clock=lambda: NOW)


def _from_records(store):
    return collect_rows(store, Reader(), SINCE)


class RecordingStore:
    """A LocalStore that remembers which keys were read (to tell index reads from record reads)."""

    def __init__(self, store: LocalStore) -> None:
        self.store, self.url, self.read_keys = store, store.url, []

    def read(self, key):
        self.read_keys.append(key)
        return self.store.read(key)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_restarted_server_reads_the_index_not_the_records_and_shows_the_same(tmp_path):
    store = LocalStore(tmp_path / "store", sync=False)
    build_desk(store, 30, NOW, days=10)
    first = _desk(store).rows(SINCE, NOW)
    days = list(store.list(index.ROOT))
    assert len(days) >= 10 and all(key.endswith(".json") for key in days)

    recording = RecordingStore(store)
    restarted = _desk(recording)
    assert restarted.rows(SINCE, NOW) == first == _from_records(store)
    record_reads = [key for key in recording.read_keys if not key.startswith(index.ROOT)]
    # Only drafts that do not exist yet (translating cells) are asked for again: absence is never kept.
    assert {key.split("/")[0] for key in record_reads} <= {"drafts"}, record_reads[:5]
    # One read per day of the period (days with no registration have no object), none of the archive.
    index_reads = sorted(set(recording.read_keys) - set(record_reads))
    assert len(index_reads) == len(recording.read_keys) - len(record_reads) == (NOW.date() - SINCE.date()).days + 1
    assert set(days) <= set(index_reads)


def test_records_written_by_another_process_show_at_once_through_the_index(tmp_path):
    """A server with the index loaded; another process decides, opens a review and publishes: the next page shows it."""
    store = LocalStore(tmp_path / "store", sync=False)
    build_desk(store, 20, NOW, days=10)
    desk = _desk(store)
    before = {(row.article.article_id, cell.language): cell.state.id for row in desk.rows(SINCE, NOW)
              for cell in row.cells}
    translating = sorted(slot for slot, state in before.items() if state == "translating")[0]
    in_review = sorted(slot for slot, state in before.items() if state == "in_review")[0]
    script = f"""
import sys
from datetime import datetime
sys.path[:0] = {[str(REPO / "plugins"), str(REPO / "tests")]!r}
from board_desk import _decision, _draft, _publish, _request
from foreigndesk.board.copies import Reader
from foreigndesk.core.decisions import decision_key
from foreigndesk.core.store import LocalStore, StoreError
store = LocalStore({str(tmp_path / "store")!r}, sync=False)
now = datetime.fromisoformat({NOW.isoformat()!r})
reader = Reader()
def revision(article_id):
    keys = [k for k in store.list("articles/" + article_id + "/") if k.endswith("/article.json")]
    return reader.article(store, article_id, sorted(keys)[-1].split("/")[2])
article = revision({translating[0]!r})
_draft(store, article, {translating[1]!r}, now, 1)
_request(store, article, {translating[1]!r}, 1, now, "http://127.0.0.1:9/form", True)
article = revision({in_review[0]!r})
_decision(store, article, {in_review[1]!r}, 1, "approved", now, now, 2)
key = decision_key(article.article_id, article.revision, {in_review[1]!r}, 1)
_publish(store, article, {in_review[1]!r}, "web", key, now, 2)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(REPO / "plugins")})
    after = desk.rows(SINCE, NOW)
    states = {(row.article.article_id, cell.language): cell.state.id for row in after for cell in row.cells}
    assert states[translating] == "in_review" and states[in_review] == "published"
    assert after == _from_records(store)
    assert _desk(store).rows(SINCE, NOW) == after  # and a server started now, from the index it rewrote


def test_a_damaged_or_foreign_index_day_is_ignored_and_rewritten(tmp_path):
    store = LocalStore(tmp_path / "store", sync=False)
    build_desk(store, 12, NOW, days=3)
    expected = _desk(store).rows(SINCE, NOW)
    days = sorted(store.list(index.ROOT))
    store.replace(days[0], b"{not json")
    stored = json.loads(store.read(days[1]))
    store.replace(days[1], json.dumps({**stored, "format": "another-version"}).encode())
    stored = json.loads(store.read(days[2]))
    stored["copies"][0] = stored["copies"][0][:3]  # a copy missing its fields
    store.replace(days[2], json.dumps(stored).encode())
    assert _desk(store).rows(SINCE, NOW) == expected
    for key in days[:3]:
        assert json.loads(store.read(key))["format"] == index.FORMAT


def test_a_store_the_server_may_only_read_still_gives_the_board(tmp_path):
    """Writing the index refused (a read-only store): pages read the records, as without the index."""

    class ReadOnly(RecordingStore):
        def replace(self, key, data):
            raise StoreError(f"access denied writing {key}")

    store = LocalStore(tmp_path / "store", sync=False)
    build_desk(store, 12, NOW, days=3)
    desk = _desk(ReadOnly(store))
    assert desk.rows(SINCE, NOW) == desk.rows(SINCE, NOW) == _from_records(store)
    assert desk.index is not None and not desk.index.writable
    assert list(store.list(index.ROOT)) == []


def test_copies_round_trip_through_the_index_format(tmp_path):
    store = LocalStore(tmp_path / "store", sync=False)
    build_desk(store, 12, NOW, days=3)
    reader = Reader()
    collect_rows(store, reader, SINCE)
    kinds = set()
    for (_, key), value in list(reader._copies.items()):
        entry = index.encode_copy(key, value)
        if entry is not None:
            kinds.add(entry[1])
            assert index.decode_copy(json.loads(json.dumps(entry))) == (key, value)
    assert kinds == {"ArticleInfo", "DecisionInfo", "DraftInfo", "ReviewRequest"}
    for (_, prefix), (keys, info) in list(reader._units.items()):
        assert index.decode_unit(json.loads(json.dumps(index.encode_unit(prefix, keys, info)))) == (prefix, keys, info)


# ---- any sequence of record writes: the index-backed board equals the records-only board ------------------------


class IndexMachine(RuleBasedStateMachine):
    """Stages write records in any order; board servers read, save and restart; their rows must equal a fresh read.

    One "server" (a Desk with the stored index) lives across steps and is
    sometimes replaced by a new one (a restart, loading the index another wrote).
    """

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="board-index-"))
        self.store = LocalStore(self.folder / "store", sync=False)
        self.server = _desk(self.store)
        self.revisions: list = []  # Registered records, in registration order
        self.clock = NOW - timedelta(days=20)
        self.attempts: dict[tuple[str, str, str], int] = {}  # opened attempts per cell
        self.approved: set[tuple[str, str, str]] = set()  # cells with an approval: only those are published

    def _tick(self) -> datetime:
        self.clock += timedelta(minutes=37)
        return self.clock

    @rule(article=st.integers(0, 1), old=st.booleans())
    def register_revision(self, article, old):
        """A new revision; ``old``: registered 40 days ago (outside the period: it shows only once decided in it)."""
        n = len(self.revisions)
        raw = (f"---\nid: bai-{article}\ntitle: Bài {article} bản {n}\noutlet: tntv\napproved_by: An\n"
               f"approved_at: 2025-03-14T09:30:00+07:00\nsource_url: https://tntv.vn/{article}\n---\n"
               f"Nội dung {n}.\n").encode()
        at = NOW - timedelta(days=40, minutes=n) if old else self._tick()
        registered = register(self.store, parse_article(raw, f"bai-{article}.md", "tntv"), raw, f"bai-{article}.md",
                              at=at)
        if registered is not None:
            self.revisions.append(registered)

    def _cell(self, data):
        revision = data.draw(st.sampled_from(self.revisions))
        return revision, data.draw(st.sampled_from(LANGUAGES[:2]))

    @precondition(lambda self: self.revisions)
    @rule(data=st.data())
    def translate(self, data):
        revision, language = self._cell(data)
        if not self.store.exists(f"drafts/{revision.article_id}/{revision.revision}/{language}.json"):
            _draft(self.store, revision, language, self._tick(), len(self.revisions))

    @precondition(lambda self: self.revisions)
    @rule(data=st.data())
    def open_review(self, data):
        revision, language = self._cell(data)
        slot = (revision.article_id, revision.revision, language)
        self.attempts[slot] = self.attempts.get(slot, 0) + 1
        _request(self.store, revision, language, self.attempts[slot], self._tick(), "http://127.0.0.1:9/form",
                 data.draw(st.booleans()))

    @precondition(lambda self: self.attempts)
    @rule(data=st.data(), outcome=st.sampled_from(["approved", "approved", "needs_fix", "rejected", "expired",
                                                  "superseded"]))
    def decide(self, data, outcome):
        slot = data.draw(st.sampled_from(sorted(self.attempts)))
        revision = next(r for r in self.revisions if (r.article_id, r.revision) == slot[:2])
        opened = self._tick()
        decision = _decision(self.store, revision, slot[2], self.attempts[slot], outcome, opened, self._tick(),
                             len(self.revisions))
        if decision.approved:
            self.approved.add(slot)

    @precondition(lambda self: self.approved)
    @rule(data=st.data(), channel=st.sampled_from(("portal-feed", "web")),
          what=st.sampled_from(["claim", "published", "permanent", "ambiguous", "requeue"]))
    def publish(self, data, channel, what):
        """A publish run's records on one unit: a claim, then its outcome; or the operator's requeue."""
        slot = data.draw(st.sampled_from(sorted(self.approved)))
        unit = ledger.Delivery(channel, slot[0], slot[2], slot[1])
        key = decision_key(slot[0], slot[1], slot[2], self.attempts[slot])
        state = ledger.delivery_state(self.store, unit)
        attempt = state.attempts
        if state.state == ledger.PUBLISHED:
            return
        if what == "claim":
            ledger.claim(self.store, unit, attempt + 1, key, "run-x")
        elif what == "published" and attempt:
            ledger.record_published(self.store, ledger.Published(
                channel, slot[0], slot[2], slot[1], attempt, key, f"{channel}-{attempt}",
                f"https://example.invalid/{slot[0]}", "T", "", self._tick().isoformat(), self.clock.isoformat()))
        elif what in ("permanent", "ambiguous") and attempt:
            ledger.record_failure(self.store, unit, attempt, what, f"HTTP {400 if what == 'permanent' else 503}")
        elif what == "requeue" and attempt:
            ledger.record_requeue(self.store, state, "operator", "chief")

    @rule()
    def restart(self):
        self.server = _desk(self.store)

    @precondition(lambda self: list(self.store.list(index.ROOT)))
    @rule(data=st.data())
    def lose_an_index_day(self, data):
        key = data.draw(st.sampled_from(sorted(self.store.list(index.ROOT))))
        self.store.replace(key, b"lost")

    @invariant()
    def the_index_changes_nothing(self):
        assert self.server.rows(SINCE, NOW) == _from_records(self.store)

    def teardown(self):
        shutil.rmtree(self.folder, ignore_errors=True)


IndexMachine.TestCase.settings = settings(max_examples=int(os.environ.get("FOREIGNDESK_HYPOTHESIS_EXAMPLES", "40")),
                                          stateful_step_count=25, deadline=None,
                                          suppress_health_check=list(HealthCheck))
TestIndexMachine = IndexMachine.TestCase
