"""Desk board benchmark: server time to render the grid and the charts at 500 and 5,000 articles.

Run: ``.venv/bin/python bench/board.py`` (``--sizes 500 5000 10000`` for more points).

For each size N it writes N articles registered over the last 25 days (each in
three languages cycling through every state: translating, in review, needs fix,
approved, published, rejected, expired, failed and pending publications; every
seventh article with an older, superseded revision — tests/board_desk.py) into a
fresh local store, plus an older archive of the same size registered a year
earlier, and serves the board page (``GET /``: counts over every cell, the first
page of the grid, "My reviews" and the five SVG figures, 30-day period) through
the board app (Starlette's TestClient; login stubbed). Each "server" is a new
process running a new board app, as after a restart:

* ``no index``  — a server without the stored index (``Desk(stored_index=False)``): its first
  page reads every record of the period (what every start cost before the index);
* ``building``  — the first server with the index, on a store that has none yet: its first page
  reads the records and writes the index (once per store);
* ``cold``      — a later server's first page: the index's days are loaded, no record is read
  again; only the journals' tails, the review-request probes and the ledger listings are;
* ``warm``      — that server's page again (best of 5): what a desk chief refreshing the board
  waits for;
* ``chart``     — ``GET /chart/review.svg`` warm (one figure alone, best of 3).

CPU is the process CPU time of the request (on a shared machine wall time includes
waiting for a core, CPU time does not); best-of-N rather than the median, since other
processes only ever add time. ``no index / cold`` is the first page's speed-up from the
index; growth is each figure at the largest size over the smallest, next to the ratio
of sizes. The old archive is there to show it costs nothing: the board reads the
journals' tails, and the index's days of the period, never the archive.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO / "tests")]

from board_desk import build_desk  # noqa: E402
from foreigndesk.board.app import Desk, Viewer, create_app  # noqa: E402
from foreigndesk.core.settings import load_settings  # noqa: E402
from foreigndesk.core.store import LocalStore  # noqa: E402


def _timed(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def serve(store_path: str, stored_index: bool, warm_pages: int) -> dict[str, float]:
    """One board server, as after a start: its first page, then ``warm_pages`` more and a figure alone."""
    import warnings

    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    store = LocalStore(store_path)
    client = TestClient(create_app(Desk(load_settings(), lambda: store, stored_index=stored_index),
                                   lambda: Viewer("reviewer_zh", True)))

    def page() -> None:
        response = client.get("/?ui=vi")
        assert response.status_code == 200 and "data-chart" in response.text, response.status_code

    first, first_cpu = _timed(page)
    warm = [_timed(page) for _ in range(warm_pages)]
    charts = [_timed(lambda: client.get("/chart/review.svg"))[0] for _ in range(3 if warm_pages else 0)]
    return {"first": first, "first cpu": first_cpu, "warm": min((w for w, _ in warm), default=0.0),
            "warm cpu": min((c for _, c in warm), default=0.0), "chart": min(charts, default=0.0)}


def _fresh_server(store_path: Path, stored_index: bool, warm_pages: int = 0) -> dict[str, float]:
    """:func:`serve` in a new process: a start is a new process (its heap and its copies start empty)."""
    command = [sys.executable, __file__, "--serve", str(store_path), "--index", "on" if stored_index else "off",
               "--warm", str(warm_pages)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=3600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _index_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in (folder / "board-index").rglob("*.json"))


def measure(size: int, folder: Path) -> dict[str, float]:
    path = folder / f"store-{size}"
    store = LocalStore(path)
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    build_desk(store, size, now - timedelta(days=400), days=60, first=100_000)  # the old archive
    build_desk(store, size, now, days=25)
    built = time.perf_counter() - started

    no_index = _fresh_server(path, stored_index=False)
    building = _fresh_server(path, stored_index=True)
    cold = _fresh_server(path, stored_index=True, warm_pages=5)
    return {"articles": size, "build s": built, "no index": no_index["first"], "no idx cpu": no_index["first cpu"],
            "building": building["first"], "bldg cpu": building["first cpu"], "cold": cold["first"],
            "cold cpu": cold["first cpu"], "warm": cold["warm"], "warm cpu": cold["warm cpu"], "chart": cold["chart"],
            "index MB": _index_bytes(path) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # one server's timings, in its own process
    parser.add_argument("--index", choices=["on", "off"], default="on", help=argparse.SUPPRESS)
    parser.add_argument("--warm", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(args.serve, args.index == "on", args.warm)))
        return
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="foreigndesk-bench-board-", dir=base))
    try:
        rows = [measure(size, folder) for size in args.sizes]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    columns = ["articles", "no index", "no idx cpu", "building", "bldg cpu", "cold", "cold cpu", "warm",
               "warm cpu", "chart", "index MB", "build s"]
    print(f"board page (GET /: counts, grid page, My reviews, 5 SVG figures), 30-day period, seconds; "
          f"store in {base or 'a temp folder'}; each size also holds an equal archive a year older")
    print(f"load average (1 min) when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("  ".join(f"{name:>10}" for name in columns))
    for row in rows:
        print("  ".join(f"{row[name]:>10.0f}" if name == "articles" else f"{row[name]:>10.3f}" for name in columns))
    print("first page's speed-up from the index (no index / cold):   " + "   ".join(
        f"{row['articles']:.0f}: wall x{row['no index'] / row['cold']:.1f}, cpu x{row['no idx cpu'] / row['cold cpu']:.1f}"
        for row in rows))
    first, last = rows[0], rows[-1]
    ratio = last["articles"] / first["articles"]
    print("growth    " + "  ".join(f"{last[name] / first[name]:>10.2f}" if first[name] else f"{'-':>10}"
                                   for name in columns[1:11]) + f"   (sizes x{ratio:.0f})")


if __name__ == "__main__":
    main()
