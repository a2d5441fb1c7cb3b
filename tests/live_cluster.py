"""The desk as ``make run-cluster`` starts it, seen from outside: its output, its REST API, its processes.

For ``tests/test_cluster.py``: the launcher's output drained and searchable, the REST API
as people use it (a token per user, answers as (status, body) so a 409 can be expected),
and crashes — the component running a given task found among the launcher's children and
killed with every process under it, as a power cut or the OOM killer would.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request

import psutil


class Output(threading.Thread):
    """Drains the launcher's output (a full pipe would block it) and lets the test wait for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.lines: list[str] = []
        self.start()

    def run(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(f"never saw {text!r}; output:\n{''.join(self.lines)}")

    @property
    def text(self) -> str:
        return "".join(self.lines)


class Api:
    """Airflow's REST API as a person uses it: a token per user from /auth/token."""

    def __init__(self, port: int, passwords: dict[str, str]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.passwords = passwords
        self.tokens: dict[str, str] = {}

    def _call(self, method: str, path: str, user: str, data: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if path != "/auth/token":
            headers["Authorization"] = f"Bearer {self.token(user)}"
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, {"error": error.read().decode(errors="replace")}

    def token(self, user: str) -> str:
        if user not in self.tokens:
            status, body = self._call("POST", "/auth/token", user,
                                      {"username": user, "password": self.passwords[user]})
            assert status == 201, body
            self.tokens[user] = body["access_token"]
        return self.tokens[user]

    def get(self, path: str, user: str = "admin") -> dict:
        for attempt in range(5):  # the API may be briefly busy while components restart
            try:
                status, body = self._call("GET", path, user)
            except (urllib.error.URLError, OSError):
                time.sleep(2)
                continue
            assert status == 200, (path, status, body)
            return body
        raise AssertionError(f"GET {path} kept failing")

    def post(self, path: str, data: dict, user: str = "admin") -> tuple[int, dict]:
        return self._call("POST", path, user, data)

    def patch(self, path: str, data: dict, user: str) -> tuple[int, dict]:
        return self._call("PATCH", path, user, data)


def worker_running(launcher: subprocess.Popen, ti: dict) -> psutil.Process | None:
    """The Celery worker component (a direct child of the launcher) whose tree runs this task instance.

    Airflow 3 titles a task process ``airflow worker -- <task instance id>``.
    """
    title = f"airflow worker -- {ti['id']}"
    for process in psutil.Process(launcher.pid).children(recursive=True):
        try:
            if title not in cmdline(process):
                continue
            for parent in process.parents():
                if parent.ppid() == launcher.pid and "celery" in cmdline(parent):
                    return parent
        except psutil.NoSuchProcess:
            continue
    return None


def cmdline(process: psutil.Process) -> str:
    """'' for a process that is gone or a zombie (a crashed task's orphan, reaped by the launcher soon)."""
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return ""


def component(launcher: subprocess.Popen, word: str) -> psutil.Process:
    for child in psutil.Process(launcher.pid).children():
        if word in cmdline(child):
            return child
    raise AssertionError(f"no {word} process under the launcher")


def kill_tree(process: psutil.Process) -> list[int]:
    """A crash: SIGKILL the component and every process under it, no clean shutdown."""
    victims = [process, *process.children(recursive=True)]
    for victim in victims:
        try:
            victim.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(victims, timeout=10)
    return [victim.pid for victim in victims]
