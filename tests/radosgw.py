"""A private, single-node Ceph cluster serving S3 through radosgw, for tests and benchmarks.

Why: moto checks no signature, so code tested only against it never met a server
that refuses a wrong secret, nor the small ways a real S3 differs. Debian's Ceph
(``radosgw``, ``ceph-mon``, ``ceph-osd``; ``make test`` installs them) runs here
without root tricks or containers:

* one monitor, one OSD whose object store is RAM (``memstore``, capped at
  ``memstore_bytes``, 1 GiB by default), pools of size 1;
* radosgw with the beast frontend on 127.0.0.1 and a free port;
* one S3 user created with ``radosgw-admin`` with the access key and secret given.

Everything (config, monitor data, logs) lives in the ``workdir`` handed in; no
port or file of the system's own Ceph is touched. Ceph's own (cephx) auth is
off between the daemons — ``auth * required = none`` *and* ``ms * mode = crc``,
without the second radosgw loops on auth error -13 — but radosgw still checks
every S3 request's AWS signature against the user's secret.

    with RadosGW(tmp_path) as s3:
        client = boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id=s3.access_key, ...)

Leaving the block stops every process it started (radosgw, then the OSD, then the
monitor: an OSD stopping after its monitor waits for it), SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("radosgw", "ceph-mon", "ceph-osd")
BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph")
INSTALL_HINT = ("apt-get install -y --no-install-recommends " + " ".join(PACKAGES)
                + " (`make test` does it when they are missing)")


class RadosGWError(RuntimeError):
    """The cluster did not come up; the message names the step and quotes its log."""


@dataclass(frozen=True)
class S3Account:
    """Where the S3 API answers and the user's credentials (test values, never real ones)."""

    endpoint: str
    access_key: str
    secret_key: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ceph_conf(fsid: str, workdir: Path, mon_port: int, rgw_port: int, memstore_bytes: int) -> str:
    """The whole cluster's configuration; every path under ``workdir``, every address loopback."""
    return f"""\
[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{mon_port}
public addr = 127.0.0.1
# No cephx between the daemons (a private loopback cluster); radosgw still checks S3 signatures.
auth cluster required = none
auth service required = none
auth client required = none
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
run dir = {workdir}/run
pid file =
admin socket =
log file = {workdir}/log/$name.log
keyring = {workdir}/no-keyring
mon data = {workdir}/mon
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail crit = 0
mon max pg per osd = 1000
osd data = {workdir}/osd
osd objectstore = memstore
memstore device bytes = {memstore_bytes}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw data = {workdir}/rgw
rgw thread pool size = 32
"""


class RadosGW:
    """Context manager: start the cluster in ``workdir``, yield an :class:`S3Account`, stop it all."""

    def __init__(self, workdir: Path | str, access_key: str = "radosgw-test", secret_key: str = "radosgw-test-secret",
                 memstore_bytes: int = 1 << 30, start_timeout: float = 120.0) -> None:
        self.workdir = Path(workdir).resolve()
        self.access_key, self.secret_key = access_key, secret_key
        self.memstore_bytes = memstore_bytes
        self.start_timeout = start_timeout
        self.conf = self.workdir / "ceph.conf"
        self._processes: list[tuple[str, subprocess.Popen]] = []
        #: Seconds each step took (config, mon, osd, rgw, user), for benchmarks and reports.
        self.timings: dict[str, float] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> S3Account:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> S3Account:
        missing = [name for name in BINARIES if shutil.which(name) is None]
        if missing:
            raise RadosGWError(f"{', '.join(missing)} not found: install Debian's Ceph with {INSTALL_HINT}")
        for folder in ("mon", "osd", "rgw", "run", "log"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        fsid, osd_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        mon_port, rgw_port = free_port(), free_port()
        self.conf.write_text(ceph_conf(fsid, self.workdir, mon_port, rgw_port, self.memstore_bytes))

        with self._step("mon"):
            monmap = self.workdir / "monmap"
            self._run("monmaptool", "--create", "--add", "a", f"v2:127.0.0.1:{mon_port}", "--fsid", fsid, str(monmap))
            self._run("ceph-mon", "-c", str(self.conf), "--mkfs", "-i", "a", "--monmap", str(monmap))
            self._spawn("mon.a", "ceph-mon", "-c", str(self.conf), "-i", "a", "-f")
        with self._step("osd"):
            # `ceph osd new` waits for the monitor's quorum; it is the readiness check of the monitor.
            osd_id = self._run("ceph", "-c", str(self.conf), "--connect-timeout", "30", "osd", "new", osd_uuid).strip()
            self._run("ceph-osd", "-c", str(self.conf), "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
            self._spawn(f"osd.{osd_id}", "ceph-osd", "-c", str(self.conf), "-i", osd_id, "-f")
        endpoint = f"http://127.0.0.1:{rgw_port}"
        with self._step("rgw"):
            self._spawn("client.rgw", "radosgw", "-c", str(self.conf), "-n", "client.rgw", "-f")
            self._wait_http(endpoint)
        with self._step("user"):
            self._run("radosgw-admin", "-c", str(self.conf), "user", "create", "--uid=foreigndesk-test",
                      "--display-name=foreigndesk test", f"--access-key={self.access_key}", f"--secret={self.secret_key}")
        return S3Account(endpoint, self.access_key, self.secret_key)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM radosgw, the OSD, the monitor — in that order, each awaited; SIGKILL what lingers."""
        for name, process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=grace)
        self._processes.clear()

    def pids(self) -> list[int]:
        """The process ids of the daemons still running (tests check none is left behind)."""
        return [process.pid for _, process in self._processes if process.poll() is None]

    # --- helpers -----------------------------------------------------------------------------

    def _step(self, name: str):
        gateway = self

        class _Timer:
            def __enter__(self):
                self.started = time.perf_counter()

            def __exit__(self, *exc_info):
                gateway.timings[name] = time.perf_counter() - self.started

        return _Timer()

    def _environment(self) -> dict[str, str]:
        # CEPH_CONF would point every tool at the system's /etc/ceph; -c names ours, and no argument is inherited.
        return {key: value for key, value in os.environ.items() if not key.startswith("CEPH_")}

    def _run(self, *command: str) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=self.start_timeout,
                                  env=self._environment(), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RadosGWError(f"`{' '.join(command[:1])}` did not finish in {self.start_timeout:.0f} s; "
                               f"logs in {self.workdir / 'log'}") from None
        if done.returncode != 0:
            shown = " ".join("--secret=…" if part.startswith("--secret=") else part for part in command)
            raise RadosGWError(f"`{shown}` failed (exit {done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-800:]}")
        return done.stdout

    def _spawn(self, name: str, *command: str) -> None:
        log = open(self.workdir / "log" / f"{name}.out", "ab")
        with log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=self._environment(), start_new_session=True)
        self._processes.append((name, process))

    def _wait_http(self, endpoint: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            for name, process in self._processes:
                if process.poll() is not None:
                    raise RadosGWError(f"{name} exited with {process.returncode} while starting: "
                                       f"{self._log_tail(name)}")
            try:
                with urllib.request.urlopen(endpoint, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RadosGWError(f"radosgw did not answer on {endpoint} within {self.start_timeout:.0f} s: "
                           f"{self._log_tail('client.rgw')}")

    def _log_tail(self, name: str) -> str:
        lines: list[str] = []
        for suffix in (".log", ".out"):
            path = self.workdir / "log" / f"{name}{suffix}"
            if path.is_file():
                lines += path.read_text(errors="replace").splitlines()[-5:]
        return " | ".join(lines) or f"(no log in {self.workdir / 'log'})"


if __name__ == "__main__":  # `python tests/radosgw.py`: start, time, stop — the figures docs/s3.md quotes
    import tempfile

    with tempfile.TemporaryDirectory(prefix="radosgw-") as scratch:
        started = time.perf_counter()
        gateway = RadosGW(scratch)
        with gateway as account:
            up = time.perf_counter() - started
            print(f"radosgw up at {account.endpoint} in {up:.1f} s "
                  f"({', '.join(f'{k} {v:.1f} s' for k, v in gateway.timings.items())})")
            stopping = time.perf_counter()
        print(f"stopped in {time.perf_counter() - stopping:.1f} s; daemons left: {gateway.pids()}")
