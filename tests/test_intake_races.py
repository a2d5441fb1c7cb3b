"""Event-driven intake can't register a drop twice, whatever the order of drops, event runs and cron runs.

With the drop watcher an ingest run can start from an asset event, from the per-minute cron,
or (by hand) from ``foreigndesk ingest`` while a DAG run is going. Airflow keeps DAG runs one
at a time, but the guarantee must not rest on that: intake's records are create-only, so two
runs over the same drop — one after the other or truly at the same time (two threads) —
register each revision once, accept it once (so one translate run is started for it), and
lose nothing. Hypothesis explores the orders; every step uses a real folder and store.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from desk_records import revisions_of
from drops import article_bytes
from foreigndesk.core.journal import since
from foreigndesk.core.revisions import ARTICLES, source_key
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.drop_watch import new_drops, pending_drops
from foreigndesk.intake.ingest import ingest_inbox

OUTLETS = ("baothainguyen", "tntv")
ARTICLES_DROPPED = 3


def _article(number: int, version: int) -> bytes:
    return article_bytes(body=f"Bài số {number}, bản {version}.\n", outlet="tntv", id=f"tntv-race-{number}")


class IntakeRaces(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="fd-races-"))
        self.inbox = self.root / "inbox"
        for outlet in OUTLETS:
            (self.inbox / outlet).mkdir(parents=True)
        self.store = LocalStore(self.root / "store")
        self.settings = load_settings({"FOREIGNDESK_INBOX": str(self.inbox)})
        #: every (article id, revision) an ingest run accepted, over all runs
        self.accepted: Counter = Counter()
        #: the versions an editor dropped, per file name; the last one per name must end registered
        self.dropped: dict[str, bytes] = {}
        self.registered_bytes: set[bytes] = set()
        self.watched = frozenset()
        self.events = 0

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self) -> None:
        result = ingest_inbox(self.store, self.inbox, OUTLETS)
        assert result.quarantined == []
        for item in result.accepted:
            self.accepted[(item.article_id, item.revision)] += 1

    @rule(number=st.integers(0, ARTICLES_DROPPED - 1), version=st.integers(0, 2))
    def editor_drops(self, number: int, version: int) -> None:
        raw = _article(number, version)
        (self.inbox / "tntv" / f"a{number}.md").write_bytes(raw)
        self.dropped[f"a{number}.md"] = raw

    @rule()
    def triggerer_looks(self) -> None:
        current = pending_drops(self.settings, lambda: None)
        if new_drops(self.watched, current):
            self.events += 1
        self.watched = current

    @rule()
    def one_ingest_run(self) -> None:
        self._run()
        self._everything_left_is_registered()

    @rule()
    def two_ingest_runs_at_once(self) -> None:
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def run() -> None:
            try:
                start.wait()
                self._run()
            except BaseException as error:  # surfaced below
                failures.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        # A run that lost a race for a file reports it and leaves the rest to the next run: the safety net.
        self._run()
        self._everything_left_is_registered()

    def _everything_left_is_registered(self) -> None:
        remaining = {path.name for path in (self.inbox / "tntv").iterdir()}
        assert remaining == set(), remaining
        for name, raw in self.dropped.items():
            self.registered_bytes.add(raw)
        for raw in self.registered_bytes:
            assert any(self._source_bytes(revision) == raw for revision in self._all_revisions())
        self.dropped.clear()

    def _all_revisions(self):
        return [rev for number in range(ARTICLES_DROPPED) for rev in revisions_of(self.store, f"tntv-race-{number}")]

    def _source_bytes(self, revision) -> bytes:
        return self.store.read(source_key(revision.article_id, revision.revision))

    @invariant()
    def each_revision_is_accepted_once_and_recorded_once(self) -> None:
        assert all(count == 1 for count in self.accepted.values()), self.accepted
        revisions = [(rev.article_id, rev.revision) for rev in self._all_revisions()]
        assert len(revisions) == len(set(revisions))
        assert set(revisions) == set(self.accepted)

    @invariant()
    def every_revision_is_in_the_journal(self) -> None:
        from datetime import datetime, timezone

        named = {entry.name for entry in since(self.store, ARTICLES, datetime(2000, 1, 1, tzinfo=timezone.utc))}
        for article_id, revision in self.accepted:
            assert f"{article_id}--{revision}" in named


IntakeRaces.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_intake_races = IntakeRaces.TestCase
