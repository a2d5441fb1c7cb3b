"""Desk board benchmark: server time to render the grid and the charts at 500 and 5,000 articles.

Run: ``.venv/bin/python bench/board.py`` (``--sizes 500 5000 10000`` for more points).

For each size N it writes N articles registered over the last 25 days (each in
three languages cycling through every state: translating, in review, needs fix,
approved, published, rejected, expired, failed and pending publications; every
seventh article with an older, superseded revision — tests/board_desk.py) into a
fresh local store, plus an older archive of the same size registered a year
earlier, and serves the board page (``GET /``: counts over every cell, the first
page of the grid, "My reviews" and the five SVG figures, 30-day period) through
the board app in-process (Starlette's TestClient; login stubbed), timing:

* ``cold``     — the first page of a fresh server process (no record read yet), wall;
* ``cold cpu`` — the same page's process CPU time;
* ``warm``     — the page again (best of 7): what a desk chief refreshing the board waits for;
  records are never re-read (they are written once), listings and lookups are;
* ``warm cpu`` — the process CPU time of a warm page (best of 7): on a shared machine wall time
  includes waiting for a core, CPU time does not;
* ``query``    — of a warm page, the part spent reading the store (``collect_rows``, best of 3);
* ``chart``    — ``GET /chart/review.svg`` warm (one figure alone, best of 3).

Best-of-N rather than the median: other processes only ever add time.

Growth is the ratio of each figure at the largest size to the smallest, next to
the ratio of sizes. The old archive is there to show it costs nothing: the
board reads the journals' tails, never the archive.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO / "tests")]

from board_desk import build_desk  # noqa: E402
from foreigndesk.board.app import Desk, Viewer, create_app  # noqa: E402
from foreigndesk.board.filters import period_start  # noqa: E402
from foreigndesk.board.rows import collect_rows  # noqa: E402
from foreigndesk.core.settings import load_settings  # noqa: E402
from foreigndesk.core.store import LocalStore  # noqa: E402


def _timed(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(size: int, folder: Path) -> dict[str, float]:
    import warnings

    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    store = LocalStore(folder / f"store-{size}")
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    build_desk(store, size, now - timedelta(days=400), days=60, first=100_000)  # the old archive
    build_desk(store, size, now, days=25)
    built = time.perf_counter() - started
    gc.collect()

    desk = Desk(load_settings(), lambda: store)
    client = TestClient(create_app(desk, lambda: Viewer("reviewer_zh", True)))

    def page() -> None:
        response = client.get("/?ui=vi")
        assert response.status_code == 200 and "data-chart" in response.text, response.status_code

    cold, cold_cpu = _timed(page)
    warm = [_timed(page) for _ in range(7)]
    queries = [_timed(lambda: collect_rows(store, desk.reader, period_start(now, 30)))[0]
               for _ in range(3)]
    charts = [_timed(lambda: client.get("/chart/review.svg"))[0] for _ in range(3)]
    return {"articles": size, "build s": built, "cold": cold, "cold cpu": cold_cpu, "warm": min(w for w, _ in warm),
            "warm cpu": min(c for _, c in warm), "query": min(queries), "chart": min(charts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    args = parser.parse_args()
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="foreigndesk-bench-board-", dir=base))
    try:
        rows = [measure(size, folder) for size in args.sizes]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    columns = ["articles", "cold", "cold cpu", "warm", "warm cpu", "query", "chart", "build s"]
    print(f"board page (GET /: counts, grid page, My reviews, 5 SVG figures), 30-day period, seconds; "
          f"store in {base or 'a temp folder'}; each size also holds an equal archive a year older")
    print(f"load average (1 min) when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("  ".join(f"{name:>9}" for name in columns))
    for row in rows:
        print("  ".join(f"{row[name]:>9.0f}" if name == "articles" else f"{row[name]:>9.3f}" for name in columns))
    first, last = rows[0], rows[-1]
    ratio = last["articles"] / first["articles"]
    print("growth   " + "  ".join(f"{last[name] / first[name]:>9.2f}" if first[name] else f"{'-':>9}"
                                  for name in columns[1:7]) + f"   (sizes x{ratio:.0f})")


if __name__ == "__main__":
    main()
