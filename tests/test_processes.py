"""The one way both launchers start, watch and stop the desk's processes — with real processes.

``sleep`` and ``sh`` stand in for Airflow components: what is under test is the supervision
(restart, give up, stop in order, leave nothing behind), not what the component does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from foreigndesk.processes import (
    StopRequest,
    Supervised,
    start_logged,
    supervise,
)


def _component(tmp_path, name: str, script: str, **options) -> Supervised:
    return Supervised(name, lambda: start_logged(["sh", "-c", script], None, tmp_path / f"{name}.log"), **options)


def test_a_component_that_dies_is_started_again_until_it_keeps_dying(tmp_path, capsys):
    crashing = _component(tmp_path, "crashing", "echo started; exit 3", max_restarts=2)
    crashing.launch()
    results = []
    for _ in range(4):
        crashing.process.wait(timeout=10)
        results.append(crashing.check())
    assert results == [True, True, False, False]
    assert crashing.exit_codes == [3, 3, 3, 3]
    assert (tmp_path / "crashing.log").read_text().count("started") == 3  # the first start and two restarts
    assert "crashing exited (3); starting it again (2/2)" in capsys.readouterr().out


def test_a_component_that_may_not_restart_ends_the_supervision_with_1(tmp_path):
    standalone = _component(tmp_path, "standalone", "sleep 0.3; exit 0", max_restarts=0)
    standalone.launch()
    stop = StopRequest()
    try:
        assert supervise([standalone], stop, tmp_path) == 1
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def test_ctrl_c_only_asks_and_supervision_returns_0(tmp_path):
    long_running = _component(tmp_path, "long", "sleep 60")
    long_running.launch()
    stop = StopRequest()
    try:
        os.kill(os.getpid(), signal.SIGINT)  # handled: sets the flag, raises nothing
        assert stop() is True
        assert supervise([long_running], stop, tmp_path) == 0
        assert long_running.running()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # Not stop_components here: it ends every descendant of the calling process, which in the test
        # session includes the session's shared servers (radosgw, ceph). The last test runs it in a child.
        os.killpg(long_running.process.pid, signal.SIGTERM)
        long_running.process.wait(timeout=10)
    assert not long_running.running()


@pytest.mark.timeout(120)
def test_stop_ends_each_tier_with_its_signal_then_every_descendant_even_in_another_session(tmp_path):
    """Run in a child Python that becomes a subreaper, like the launcher: a grandchild in its own
    session whose parent died (an orphaned task process) must still be ended."""
    marker = tmp_path / "tiers.txt"
    program = f"""
import signal, subprocess, sys, time
from pathlib import Path
from foreigndesk.processes import Supervised, become_subreaper, descendants, start_logged, stop_components
become_subreaper()
log = Path({str(tmp_path)!r})
trap = "trap 'echo $0 >> {marker}; exit 0' {{sig}}; while :; do sleep 0.1; done"
first = Supervised("first", lambda: start_logged(["sh", "-c", trap.format(sig="INT"), "first"], None, log / "a"),
                   stop_signal=signal.SIGINT)
second = Supervised("second", lambda: start_logged(["sh", "-c", trap.format(sig="TERM"), "second"], None, log / "b"))
# an orphan: its parent exits at once, it lives on in its own session under this subreaper
orphan_parent = subprocess.Popen(["setsid", "sh", "-c", "sleep 300 & exit 0"])
orphan_parent.wait()
first.launch(); second.launch()
time.sleep(0.5)
print(len(descendants()), flush=True)
stop_components([[first], [second]], grace=10)
print(len([p for p in descendants() if p.status() != "zombie"]), flush=True)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=100)
    assert done.returncode == 0, done.stderr
    before, after = (int(line) for line in done.stdout.split())
    assert before >= 3  # two components and the orphaned sleep
    assert after == 0
    assert marker.read_text().split() == ["first", "second"]  # in tier order, each its own signal

