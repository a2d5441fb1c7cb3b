"""Publish benchmark: feed and web rebuilds on 1,000 and 10,000 published items, and a run with nothing due.

Run: ``.venv/bin/python bench/publish.py`` (add ``--sizes 1000 10000 30000`` for more points, ``--s3`` to
repeat the nothing-due run against moto's S3 server on loopback).

For each archive size N it writes N published items (N/3 articles x en, zh, ko:
intake and review records, the review's journal entries spread over the days the
decisions were made, and the ledger proofs of the feed and web channels) into a
fresh local store, then times, side by side in the same run:

* ``no index``   — a publish run with one new item and no due index: the planner must list
                   and open every decision record (a first run, or a lost index);
* ``one new``    — a publish run with one new approved item and the due index in place:
                   planning + the feed rebuild (latest N items) + the web rebuild (the new
                   article's pages and every language index, whole);
* ``rebuild``    — the part of ``one new`` spent in the channels' ``flush`` (feeds + indexes);
* ``nothing``    — a publish run with nothing due (median of 5): the channels' index heads and
                   one listing of the decision journal after their mark; no record is opened
                   and nothing under ``decisions/`` is listed;
* ``sweep``      — the once-a-day reconciliation with nothing due (median of 3): every decision
                   name listed and each channel's ``settled.json`` loaded; no decision opened;
* ``listing``    — the names-only listing of ``decisions/`` alone (median of 5): what every
                   nothing-due run paid before the journal, and the bulk of the sweep.

The store lives in /dev/shm when there is one, so the figures measure the desk's work rather
than the disk's fsync. Growth is reported as the ratio of each figure at 10,000 to 1,000.

``--s3`` copies each archive (every object, as built above) into a bucket on moto's
ThreadedMotoServer and times the nothing-due run there too, counting its S3 requests and the
keys they return. moto answers every ListObjectsV2 by walking every key in the bucket
(moto/s3/models.py ``list_objects``), so its times grow with the bucket where S3 serves
``StartAfter`` from its index; the request and key counts are what carries over.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from foreigndesk.core import records  # noqa: E402
from foreigndesk.core.decisions import Decision, decision_key, journal_key, write_decision  # noqa: E402
from foreigndesk.core.revisions import Registered, article_key  # noqa: E402
from foreigndesk.core.settings import load_settings  # noqa: E402
from foreigndesk.core.store import LocalStore, S3Store, Store, s3_client  # noqa: E402
from foreigndesk.publish import ledger
from foreigndesk.publish.run import desk_channels, publish  # noqa: E402

LANGUAGES = ("en", "zh", "ko")
#: Columns that are counts per run, not seconds.
COUNTS = ("s3 requests", "s3 keys")
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


def _decision(article_id: str, language: str, decided_at: str) -> Decision:
    return Decision(article_id, "r1", language, 1, "Approve", f"reviewer_{language}", decided_at,
                    f"Title {article_id} {language}", "Summary.", BODY, "", "", "", False)


def _archived_decision(store: LocalStore, article_id: str, language: str, decided: datetime) -> str:
    """A decision of the past, with the journal entry review wrote for it then."""
    key = decision_key(article_id, "r1", language)
    _write(store, journal_key(article_id, "r1", language, 1, decided), key.encode())
    _write(store, key, records.encode(_decision(article_id, language, decided.isoformat())))
    return key


def build_archive(store: LocalStore, items: int, site: str) -> None:
    """``items`` published (article, language) pairs, as the records a real desk would hold."""
    for number in range(items // len(LANGUAGES)):
        article_id = f"btn-2025-{number:06d}"
        _article(store, article_id)
        decided = datetime.fromtimestamp(1735689600 + number * 600, timezone.utc)
        stamp = decided.isoformat()
        for language in LANGUAGES:
            key = _archived_decision(store, article_id, language, decided)
            for channel in ("portal-feed", "web"):
                unit = ledger.Delivery(channel, article_id, language, "r1")
                _write(store, f"{unit.prefix}claim-001.json", records.encode(ledger.AttemptClaim(
                    channel, article_id, language, "r1", 1, key, stamp, "bench")))
                url = f"{site}/{language}/{article_id}.html"
                _write(store, f"{unit.prefix}published.json", records.encode(ledger.Published(
                    channel, article_id, language, "r1", 1, key, url if channel == "web" else f"{article_id}:{language}",
                    url, f"Title {article_id} {language}", "Summary.", stamp, stamp)))


def add_new_item(store: LocalStore, tag: str) -> None:
    """A new approval, written as review writes it (journal entry, then record)."""
    article_id = f"new-{tag}"
    _article(store, article_id)
    write_decision(store, _decision(article_id, "en", datetime.now(timezone.utc).isoformat()))


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


def timed_run(store: Store, settings) -> tuple[float, float, object]:
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


def quiet_run(store: Store, settings, now: datetime | None = None) -> None:
    result = publish(store, settings, desk_channels(store, settings, None), now=now)
    assert not result.published and not result.written and not result.errors, result.as_json()


def measure(items: int, scratch: Path, s3: "S3Bench | None") -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"publish-bench-{items}-", dir=scratch))
    try:
        os.environ["FOREIGNDESK_STORE"] = str(root)
        settings = load_settings()
        store = LocalStore(root)
        build_archive(store, items, settings.site_url)
        add_new_item(store, "a")
        no_index, _, first = timed_run(store, settings)
        assert len(first.published) == 2 and not first.errors, first.as_json()
        quiet_run(store, settings)
        add_new_item(store, "b")
        one_new, rebuild, second = timed_run(store, settings)
        assert len(second.published) == 2 and not second.errors
        en_index = (root / "web" / "en" / "index.html").read_text()
        assert en_index.count("<li>") == items // len(LANGUAGES) + 2, "the index lists the whole archive"
        nothing = median_of(5, lambda: quiet_run(store, settings))
        listing = median_of(5, lambda: list(store.list("decisions/")))
        row = {"no index": no_index, "one new": one_new, "rebuild": rebuild, "nothing": nothing, "listing": listing}
        if s3 is not None:
            row.update(s3.measure(root, items, settings))
        days = iter(range(1, 100))  # each later by a day, so each one is due its daily sweep
        later = datetime.now(timezone.utc)
        row["sweep"] = median_of(3, lambda: quiet_run(store, settings, later + timedelta(days=next(days))))
        return row
    finally:
        shutil.rmtree(root, ignore_errors=True)


class S3Bench:
    """moto's threaded S3 server on loopback, and a counter of the requests the nothing-due run makes."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            os.environ.setdefault(name, value)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.client = s3_client(f"http://{host}:{port}")
        self.requests: Counter[str] = Counter()
        self.client.meta.events.register("before-call.s3", self._count)
        self.client.meta.events.register("after-call.s3.ListObjectsV2", self._count_keys)

    def _count(self, model, **_kwargs) -> None:
        self.requests[model.name] += 1

    def _count_keys(self, parsed, **_kwargs) -> None:
        self.requests["keys listed"] += int(parsed.get("KeyCount", 0))

    def measure(self, root: Path, items: int, settings) -> dict[str, float]:
        bucket = f"foreigndesk-bench-{items}"
        self.client.create_bucket(Bucket=bucket)
        files = [path for path in root.rglob("*") if path.is_file() and not path.name.startswith(".tmp-")]
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda path: self.client.put_object(
                Bucket=bucket, Key=f"desk/{path.relative_to(root).as_posix()}", Body=path.read_bytes()), files))
        upload = time.perf_counter() - started
        store = S3Store(self.client, bucket, "desk")
        self.requests.clear()
        nothing = median_of(5, lambda: quiet_run(store, settings))
        per_run = {name: count / 5 for name, count in self.requests.items()}
        print(f"  s3 {items}: {len(files)} objects uploaded in {upload:.0f} s; per nothing-due run: "
              + ", ".join(f"{name} {count:g}" for name, count in sorted(per_run.items())), flush=True)
        return {"s3 nothing": nothing, "s3 requests": sum(v for k, v in per_run.items() if k != "keys listed"),
                "s3 keys": per_run.get("keys listed", 0)}

    def stop(self) -> None:
        self.server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--s3", action="store_true", help="also time the nothing-due run on moto's S3 server")
    args = parser.parse_args()
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    s3 = S3Bench() if args.s3 else None
    try:
        results = {size: measure(size, scratch, s3) for size in args.sizes}
    finally:
        if s3 is not None:
            s3.stop()
    columns = ["no index", "one new", "rebuild", "nothing", "sweep", "listing"]
    columns += ["s3 nothing", "s3 requests", "s3 keys"] if s3 is not None else []
    print(f"store on {scratch}; times in milliseconds" + ("; s3 requests and keys are counts per run" if s3 else ""))
    print(f"{'items':>8} " + " ".join(f"{name:>11}" for name in columns))
    for size, row in results.items():
        print(f"{size:>8} " + " ".join(f"{row[name]:>11g}" if name in COUNTS else f"{row[name] * 1000:>11.2f}"
                                       for name in columns))
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        factor = large / small
        print(f"{'growth':>8} " + " ".join(f"{results[large][n] / results[small][n]:>10.1f}x" for n in columns)
              + f"   (archive grew {factor:.0f}x; linear = {factor:.0f}x)")
        print(f"nothing-due: {results[small]['nothing'] * 1000:.2f} ms at {small}, "
              f"{results[large]['nothing'] * 1000:.2f} ms at {large}: ratio "
              f"{results[large]['nothing'] / results[small]['nothing']:.2f} (flat = 1); at {large} the names-only "
              f"listing of decisions/ alone takes {results[large]['listing'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
