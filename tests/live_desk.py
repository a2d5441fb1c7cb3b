"""The desk as ``make run`` starts it, for tests and benchmarks that need a real scheduler.

``foreigndesk run`` (Airflow standalone on SQLite: scheduler, dag-processor,
triggerer, api-server) in a temporary desk folder on free ports, with the
REST API as the test's hands: sign in with the auth manager's real token
endpoint, list pending reviews, answer them as the assigned reviewer.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def desk_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test session's Airflow settings must not leak into the desk under test."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "FOREIGNDESK_STORE": str(tmp_path / "store"),
            "FOREIGNDESK_INBOX": str(tmp_path / "inbox"),
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    env.update(extra or {})
    return env


class Api:
    def __init__(self, port: int, passwords: dict[str, str]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.passwords = passwords
        self._tokens: dict[str, str] = {}

    def _request(self, path: str, user: str, data: dict | None = None, method: str | None = None):
        headers = {"Content-Type": "application/json"}
        if path != "/auth/token":
            headers["Authorization"] = f"Bearer {self.token(user)}"
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def token(self, user: str) -> str:
        if user not in self._tokens:
            self._tokens[user] = self._request("/auth/token", user, {"username": user,
                                                                    "password": self.passwords[user]})["access_token"]
        return self._tokens[user]

    def get(self, path: str, user: str = "admin"):
        return self._request(path, user)

    def post(self, path: str, data: dict, user: str = "admin"):
        return self._request(path, user, data)

    def patch(self, path: str, data: dict, user: str):
        return self._request(path, user, data, "PATCH")


def wait_for_line(process: subprocess.Popen, text: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"never saw {text!r}; output:\n{''.join(lines)}")


def stop_launcher(launcher: subprocess.Popen, timeout: float) -> None:
    """Ctrl-C, as an operator ends the desk; a launcher that outlives ``timeout`` is killed and fails the test."""
    launcher.send_signal(signal.SIGINT)
    try:
        launcher.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        launcher.kill()
        raise


class LiveDesk:
    """``with LiveDesk(tmp_path) as desk:`` — the desk up, ``desk.api`` signed in, stopped by SIGINT on exit."""

    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.desk_dir = tmp_path / "desk"
        self.env = desk_env(tmp_path, env)
        self.output: list[str] = []
        self.launcher: subprocess.Popen | None = None
        self.api: Api | None = None

    @property
    def passwords_file(self) -> Path:
        return self.desk_dir / "airflow" / "simple_auth_manager_passwords.json.generated"

    @property
    def log(self) -> Path:
        return self.desk_dir / "standalone.log"

    def __enter__(self) -> "LiveDesk":
        for outlet in ("tntv", "baothainguyen"):
            (self.tmp_path / "inbox" / outlet).mkdir(parents=True, exist_ok=True)
        self.launcher = subprocess.Popen(
            [sys.executable, "-m", "foreigndesk.cli", "run", "--desk-dir", str(self.desk_dir), "--port", str(self.port)],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            self.output = wait_for_line(self.launcher, "Press Ctrl-C", timeout=360)
            self.api = Api(self.port, json.loads(self.passwords_file.read_text()))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.launcher is None or self.launcher.poll() is not None:
            return
        stop_launcher(self.launcher, timeout=60)

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def answer_every_review_at_once(api: Api, expected: int, timeout: float, answer=None,
                                skip: dict | None = None) -> dict[tuple, dict]:
    """Answer each review the moment it appears in the pending list, as its assigned reviewer; once per try.

    Returns {(run, task, map index, try): the pending detail answered}. A PATCH that
    the API refuses for a moment (SQLite busy) is tried again on the next poll.
    """
    answered: dict[tuple, dict] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(answered) < expected:
        try:
            pending = api.get("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false")["hitl_details"]
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
            continue
        for detail in pending:
            ti = detail["task_instance"]
            key = (ti["dag_run_id"], ti["task_id"], ti["map_index"], ti["try_number"])
            if key in answered or (skip and key in skip) or ti["state"] != "awaiting_input":
                continue
            fields = {name: spec.get("value") for name, spec in detail["params"].items()}
            payload = answer(detail) if answer else {"chosen_options": ["Approve"], "params_input": fields}
            path = (f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
                    f"{ti['map_index']}/hitlDetails")
            try:
                api.patch(path, payload, detail["assigned_users"][0]["name"])
                answered[key] = detail
            except urllib.error.HTTPError as error:
                if error.code == 409:  # answered already (by an earlier poll whose reply was lost)
                    answered[key] = detail
        time.sleep(0.1)
    return answered


def answer_until_runs_finish(api: Api, dag_id: str, count: int, timeout: float) -> tuple[dict, list[dict]]:
    """Answer every review the moment it appears — tries re-opened after a failure too — until ``count``
    runs of ``dag_id`` have finished; returns ({(run, task, map index, try): detail}, the runs)."""
    answered: dict[tuple, dict] = {}
    deadline = time.monotonic() + timeout
    runs: list[dict] = []
    while time.monotonic() < deadline:
        answered.update(answer_every_review_at_once(api, len(answered) + 1, timeout=2, skip=answered))
        try:
            runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=200")["dag_runs"]
        except (urllib.error.URLError, OSError):
            continue
        if len([r for r in runs if r["state"] in ("success", "failed")]) >= count:
            break
    return answered, runs


def wait_for_runs(api: Api, dag_id: str, count: int, timeout: float) -> list[dict]:
    """The DAG's runs once ``count`` of them have finished (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=200")["dag_runs"]
        if len([r for r in runs if r["state"] in ("success", "failed")]) >= count:
            break
        time.sleep(2)
    return runs
