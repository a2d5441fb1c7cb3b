"""Publish benchmark: feed and web rebuilds on 1,000 and 10,000 published items, and a run with nothing due.

Run: ``.venv/bin/python bench/publish.py`` (add ``--sizes 1000 10000 30000`` for more points).

For each archive size N it writes N published items (N/3 articles x en, zh, ko:
intake and review records, and the ledger proofs of the feed and web channels)
into a fresh local store, then times, side by side in the same run:

* ``no index``   — a publish run with one new item and no due index: the planner must open
                   every decision record (what the walking skeleton did on every run);
* ``one new``    — a publish run with one new approved item and the due index in place:
                   planning + the feed rebuild (latest N items) + the web rebuild (the new
                   article's pages and every language index, whole);
* ``rebuild``    — the part of ``one new`` spent in the channels' ``flush`` (feeds + indexes);
* ``nothing``    — a publish run with nothing due (median of 5): one names-only listing of
                   ``decisions/`` plus the channels' index heads; no record is opened;
* ``listing``    — that names-only listing alone (median of 5), to show what remains of it.

The store lives in /dev/shm when there is one, so the figures measure the desk's work rather
than the disk's fsync. Growth is reported as the ratio of each figure at 10,000 to 1,000.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from foreigndesk import ledger, records  # noqa: E402
from foreigndesk.intake import Registered, article_key  # noqa: E402
from foreigndesk.publishing import desk_channels, publish  # noqa: E402
from foreigndesk.review import Decision, decision_key  # noqa: E402
from foreigndesk.settings import load_settings  # noqa: E402
from foreigndesk.store import LocalStore  # noqa: E402

LANGUAGES = ("en", "zh", "ko")
BODY = "Thai Nguyen and Gyeongsangbuk-do agreed to widen tourism cooperation.\n\n" * 6


def _write(store: LocalStore, key: str, data: bytes) -> None:
    path = store.root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _article(store: LocalStore, article_id: str) -> None:
    record = Registered(article_id=article_id, revision="r1", outlet="baothainguyen", title=f"Bài {article_id}",
                        body=BODY, approved_by="Nguyễn Văn An", approved_at="2025-03-14T09:30:00+07:00",
                        summary="Tóm tắt.", registered_at="2025-03-14T10:00:00+00:00")
    _write(store, article_key(article_id, "r1"), records.encode(record))


def _decision(store: LocalStore, article_id: str, language: str, decided_at: str) -> str:
    decision = Decision(article_id, "r1", language, 1, "Approve", f"reviewer_{language}", decided_at,
                        f"Title {article_id} {language}", "Summary.", BODY, "", "", "", False)
    key = decision_key(article_id, "r1", language)
    _write(store, key, records.encode(decision))
    return key


def build_archive(store: LocalStore, items: int, site: str) -> None:
    """``items`` published (article, language) pairs, as the records a real desk would hold."""
    for number in range(items // len(LANGUAGES)):
        article_id = f"btn-2025-{number:06d}"
        _article(store, article_id)
        stamp = datetime.fromtimestamp(1735689600 + number * 600, timezone.utc).isoformat()
        for language in LANGUAGES:
            key = _decision(store, article_id, language, stamp)
            for channel in ("portal-feed", "web"):
                unit = ledger.Unit(channel, article_id, language, "r1")
                _write(store, f"{unit.prefix}claim-001.json", records.encode(ledger.Claim(
                    channel, article_id, language, "r1", 1, key, stamp, "bench")))
                url = f"{site}/{language}/{article_id}.html"
                _write(store, f"{unit.prefix}published.json", records.encode(ledger.Published(
                    channel, article_id, language, "r1", 1, key, url if channel == "web" else f"{article_id}:{language}",
                    url, f"Title {article_id} {language}", "Summary.", stamp, stamp)))


def add_new_item(store: LocalStore, tag: str) -> None:
    article_id = f"new-{tag}"
    _article(store, article_id)
    _decision(store, article_id, "en", datetime.now(timezone.utc).isoformat())


class TimedFlush:
    """Wraps a channel to add up the time its flush (the rebuild) takes."""

    def __init__(self, channel, spent: list[float]) -> None:
        self._channel, self._spent = channel, spent
        self.name, self.remote = channel.name, channel.remote

    def send(self, item, previous_id):
        return self._channel.send(item, previous_id)

    def find(self, item, previous_id):
        return self._channel.find(item, previous_id)

    def flush(self, catalogue):
        started = time.perf_counter()
        try:
            return self._channel.flush(catalogue)
        finally:
            self._spent.append(time.perf_counter() - started)


def timed_run(store: LocalStore, settings) -> tuple[float, float, object]:
    spent: list[float] = []
    channels = [TimedFlush(channel, spent) for channel in desk_channels(store, settings, None)]
    started = time.perf_counter()
    result = publish(store, settings, channels)
    return time.perf_counter() - started, sum(spent), result


def median_of(count: int, action) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(items: int, scratch: Path) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"publish-bench-{items}-", dir=scratch))
    try:
        os.environ["FOREIGNDESK_STORE"] = str(root)
        settings = load_settings()
        store = LocalStore(root)
        build_archive(store, items, settings.site_url)
        add_new_item(store, "a")
        no_index, _, first = timed_run(store, settings)
        assert len(first.published) == 2 and not first.errors, first.as_json()
        quiet_check = publish(store, settings, desk_channels(store, settings, None))
        assert not quiet_check.published and not quiet_check.written
        add_new_item(store, "b")
        one_new, rebuild, second = timed_run(store, settings)
        assert len(second.published) == 2 and not second.errors
        en_index = (root / "web" / "en" / "index.html").read_text()
        assert en_index.count("<li>") == items // len(LANGUAGES) + 2, "the index lists the whole archive"
        nothing = median_of(5, lambda: publish(store, settings, desk_channels(store, settings, None)))
        listing = median_of(5, lambda: list(store.list("decisions/")))
        return {"no index": no_index, "one new": one_new, "rebuild": rebuild, "nothing": nothing, "listing": listing}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    results = {size: measure(size, scratch) for size in args.sizes}
    columns = ["no index", "one new", "rebuild", "nothing", "listing"]
    print(f"store on {scratch}; times in milliseconds")
    print(f"{'items':>8} " + " ".join(f"{name:>10}" for name in columns))
    for size, row in results.items():
        print(f"{size:>8} " + " ".join(f"{row[name] * 1000:>10.1f}" for name in columns))
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        factor = large / small
        print(f"{'growth':>8} " + " ".join(f"{results[large][n] / results[small][n]:>9.1f}x" for n in columns)
              + f"   (archive grew {factor:.0f}x; linear = {factor:.0f}x)")
        quiet_share = results[large]["listing"] / results[large]["nothing"]
        print(f"nothing-due at {large}: {results[large]['nothing'] * 1000:.1f} ms, of which the names-only listing "
              f"is {quiet_share:.0%}; vs {results[large]['no index'] * 1000:.0f} ms when every record is opened "
              f"({results[large]['no index'] / results[large]['nothing']:.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
