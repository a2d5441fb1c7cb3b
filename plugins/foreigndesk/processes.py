"""How the launchers (``make run``, ``make run-cluster``) start, watch and stop the desk's processes.

One way for both: every component is a :class:`Supervised` process in its own
session with its output in a log file; the launcher becomes a child subreaper, so
task processes Airflow puts in their own sessions are re-parented to it when their
parent dies and can still be found and ended; Ctrl-C (or SIGTERM) only sets a flag
(:class:`StopRequest`) and the launcher's loop then stops everything in order
(:func:`stop_components`): each tier with its own clean-shutdown signal, then
SIGTERM and SIGKILL to anything still below the launcher.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
#: How often a component that keeps dying is started again before the desk gives up (cluster components).
MAX_RESTARTS = 5


def free_port() -> int:
    """A TCP port on loopback nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def say(message: str, *, error: bool = False) -> None:
    """Tell the operator, if anybody still listens: a closed terminal or a pipe whose reader went away
    (BrokenPipeError) must never keep the desk from stopping its components, which would orphan them."""
    stream = sys.stderr if error else sys.stdout
    try:
        print(message, file=stream, flush=True)
    except OSError:
        # What is still buffered would fail again at exit (status 120): the stream writes to /dev/null from now on.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class StopRequest:
    """Ctrl-C and SIGTERM set a flag the launcher polls, so it can stop everything in order instead of dying."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum, frame) -> None:
        self.requested = True

    def __call__(self) -> bool:
        return self.requested


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process instead of init (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        say("warning: could not become a child subreaper; stray task processes may survive a stop")


def start_logged(command: list[str], env: dict[str, str] | None, log_path: Path, **popen) -> subprocess.Popen:
    """A component in its own session (a stop signal reaches its whole group), its output appended to a log."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, **popen)


@dataclass
class Supervised:
    """A component process; started again when it dies, up to ``max_restarts`` times in a row."""

    name: str
    start: Callable[[], subprocess.Popen]
    #: Its clean-shutdown signal (Airflow standalone and PostgreSQL's "fast" shutdown: SIGINT).
    stop_signal: int = signal.SIGTERM
    #: 0: its death ends the desk (``make run``'s standalone), as it would end a plain command.
    max_restarts: int = MAX_RESTARTS
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0
    exit_codes: list[int] = field(default_factory=list)

    def launch(self) -> None:
        self.process = self.start()
        self.started_at = time.monotonic()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check(self) -> bool:
        """Start the component again if it died; False when it may not or keeps dying (the desk gives up)."""
        if self.process is None or self.process.poll() is None:
            return True
        self.exit_codes.append(self.process.returncode)
        if time.monotonic() - self.started_at > 120:
            self.restarts = 0  # it ran for a while: a fresh crash, not a crash loop
        if self.restarts >= self.max_restarts:
            return False
        self.restarts += 1
        say(f"{self.name} exited ({self.process.returncode}); starting it again "
            f"({self.restarts}/{self.max_restarts})")
        self.launch()
        return True


def supervise(components: Sequence[Supervised], stop: StopRequest, logs: Path) -> int:
    """Until Ctrl-C: restart what dies, reap orphans. 0 on a requested stop, 1 when a component gives up."""
    while not stop():
        for component in components:
            if not component.check():
                say(f"{component.name} exited ({component.process.returncode}); stopping the desk (see {logs})")
                return 1
        reap_orphans({c.process.pid for c in components if c.process is not None})
        time.sleep(0.5)
    return 0


def wait_healthy(port: int, process: subprocess.Popen, timeout: float, stop_requested: Callable[[], bool]) -> bool:
    """Until the API answers its health check; False if the process dies, a stop is requested or time is up."""
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None or stop_requested():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    return False


def reap_orphans(own: set[int]) -> None:
    """Collect the exit status of dead orphans re-parented to this subreaper (a killed worker's task
    processes, say), so they don't linger as zombies; our own components are left to ``Popen.poll``."""
    import psutil

    for child in psutil.Process().children():
        if child.pid in own:
            continue
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)
        except (psutil.NoSuchProcess, ChildProcessError):
            pass


def stop_components(tiers: Sequence[Sequence[Supervised]], grace: float = 20.0) -> None:
    """Each tier in turn gets its clean-shutdown signal and ``grace`` seconds (Airflow before the database
    it writes to); then SIGTERM and SIGKILL to every process still below the launcher."""
    for tier in tiers:
        running = [component for component in tier if component.running()]
        for component in running:
            try:
                os.killpg(component.process.pid, component.stop_signal)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(component.running() for component in running):
            time.sleep(0.2)
    end_descendants()
    for tier in tiers:
        for component in tier:
            if component.process is not None:
                component.process.poll()


def descendants() -> list:
    import psutil

    return psutil.Process().children(recursive=True)


def end_descendants() -> None:
    """SIGTERM, then SIGKILL, every process still below this one (task processes in their own sessions too)."""
    import psutil

    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        remaining = descendants()
        if not remaining:
            break
        for process in remaining:
            try:
                process.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(remaining, timeout=wait)
