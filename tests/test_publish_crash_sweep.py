"""The crash-point sweep: a real publish process killed (SIGKILL) at every store write and remote call.

For every event n of a publish run (its n-th store write or HTTP call: claims, proofs,
lease, index, feed and page rewrites, posts, updates and existence checks), a fresh desk
is set up, the run is started as its own process (tests/crash_publish.py) and killed
with SIGKILL just before event n; then a correction of every article is registered and
approved (so a later revision must resolve the dead run's unknown outcomes) and the
desk runs again. (Killing just *after* an event is killing before the next one: every
remote call is followed by a store write.) Every point must end with zero duplicates (one remote item per
article, language and channel, counted by the servers) and zero losses (every
channel shows each article's newest approved revision).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from publish_sim import CHANNELS, Desk, sim_servers

HERE = Path(__file__).resolve().parent


def _desk(root: Path) -> Desk:
    graph, portal = sim_servers()
    desk = Desk(root, graph, portal)
    for article in ("a", "b"):
        desk.approve(article, desk.register(article))
    first = desk.run()
    assert first.errors == [] and len(first.published) == 8
    # What the killed run has to do: a correction of a (update in place) and a new article c.
    desk.approve("a", desk.register("a"))
    desk.approve("c", desk.register("c"))
    # Its first call to each remote channel is carried out but answered badly, so the run also
    # makes existence checks (each a kill point too); a fault left unconsumed hits the next run.
    desk.graph.faults.append("500_after_post")
    desk.portal.faults.append("reset_after_post")
    return desk


def _killed_run(desk: Desk, work: Path, kill_at: int) -> tuple[int, list[str]]:
    spec = {"store": str(desk.root), "graph": desk.graph.base_url, "portal": desk.portal.url,
            "token": desk.graph.token, "page_id": desk.graph.page_id, "now": desk.tick().isoformat(),
            "kill_at": kill_at, "events": str(work / "events.txt")}
    (work / "spec.json").write_text(json.dumps(spec))
    done = subprocess.run([sys.executable, str(HERE / "crash_publish.py"), str(work / "spec.json")],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": ""})
    events = (work / "events.txt").read_text().splitlines()
    return done.returncode, events


def _check(desk: Desk, label: str) -> None:
    live = desk.live()
    for article in ("a", "b", "c"):
        newest = desk.newest_approved(article)
        for channel in CHANNELS:
            assert live[channel].get((article, "en")) == [newest], f"{label}: {channel} {article} shows " \
                f"{live[channel].get((article, 'en'))}, not [{newest}] (a loss or a stale revision)"
    for channel, slots in desk.remote_copies().items():
        assert all(count == 1 for count in slots.values()), f"{label}: {channel} duplicates {slots}"
    assert desk.feeds_parse() == []


def _recover(desk: Desk, label: str) -> None:
    desk.tick(16 * 60)  # the killed run's lease expires: nobody released it
    for article in ("a", "b", "c"):  # corrections arrive while the dead run's outcomes are unknown
        desk.approve(article, desk.register(article))
    for _ in range(3):
        result = desk.run()
        if not (result.waiting or result.errors):
            break
    assert result.errors == [] and result.waiting == [], (label, result.errors, result.waiting)
    _check(desk, label)


def test_a_publish_killed_at_every_write_and_call_recovers_with_no_duplicate_and_no_loss(tmp_path, capsys):
    clean = _desk(tmp_path / "clean")
    code, events = _killed_run(clean, tmp_path, 0)
    assert code == 0 and len(events) > 20, events
    _recover(clean, "no kill")
    points = len(events)
    started = time.monotonic()
    kinds = {"write": 0, "call": 0}
    for kill_at in range(1, points + 1):
        work = tmp_path / f"p{kill_at}"
        work.mkdir()
        desk = _desk(work / "store")
        try:
            code, seen = _killed_run(desk, work, kill_at)
            assert code == -9, f"point {kill_at}: the process was not killed ({code})"
            assert len(seen) == kill_at, f"point {kill_at}: the run's events changed ({seen[-1]})"
            kinds["call" if seen[-1].split(" ", 1)[0] in ("GET", "POST") else "write"] += 1
            _recover(desk, f"killed before event {kill_at} ({seen[-1]})")
        finally:
            for server in (desk.graph, desk.portal):  # stopping waits for the serve loop's poll: don't wait
                threading.Thread(target=server.stop, daemon=True).start()
    with capsys.disabled():
        print(f"\ncrash sweep: {points} kill points ({kinds['write']} store writes, {kinds['call']} remote calls), "
              f"{time.monotonic() - started:.1f}s: zero duplicates, zero losses")
