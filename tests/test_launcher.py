"""``make run`` for real: the desk comes up, a drop becomes three reviews, Ctrl-C ends everything.

This starts the same ``foreigndesk run`` that ``make run`` starts — Airflow
standalone on SQLite with scheduler, dag-processor, triggerer and api-server —
in a temporary desk folder on free ports, then behaves like an editor and an
operator: drops an example, waits for the review requests, presses Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from conftest import REPO

pytestmark = pytest.mark.airflow

EXAMPLE = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _desk_env(tmp_path: Path) -> dict[str, str]:
    """The test session's Airflow settings must not leak into the desk under test."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "FOREIGNDESK_STORE": str(tmp_path / "store"),
            "FOREIGNDESK_INBOX": str(tmp_path / "inbox"),
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        }
    )
    return env


class Api:
    def __init__(self, port: int, passwords: dict[str, str]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.passwords = passwords

    def _request(self, path: str, user: str, data: dict | None = None):
        headers = {"Content-Type": "application/json"}
        if path != "/auth/token":
            headers["Authorization"] = f"Bearer {self.token(user)}"
        body = json.dumps(data).encode() if data is not None else None
        with urllib.request.urlopen(urllib.request.Request(self.base + path, data=body, headers=headers), timeout=10) as r:
            return json.load(r)

    def token(self, user: str) -> str:
        return self._request("/auth/token", user, {"username": user, "password": self.passwords[user]})["access_token"]

    def get(self, path: str, user: str = "admin"):
        return self._request(path, user)


def _wait_for_line(process: subprocess.Popen, text: str, timeout: float) -> list[str]:
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


def test_make_run_desk_end_to_end(tmp_path):
    port = _free_port()
    desk_dir = tmp_path / "desk"
    (tmp_path / "inbox" / "tntv").mkdir(parents=True)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "foreigndesk.cli", "run", "--desk-dir", str(desk_dir), "--port", str(port)],
        env=_desk_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = _wait_for_line(launcher, "Press Ctrl-C", timeout=240)
        assert any("DEMO model" in line for line in output)
        passwords_file = desk_dir / "airflow" / "simple_auth_manager_passwords.json.generated"
        assert str(passwords_file) in "".join(output)
        api = Api(port, json.loads(passwords_file.read_text()))

        shutil.copy(EXAMPLE, tmp_path / "inbox" / "tntv" / EXAMPLE.name)
        dropped = time.monotonic()
        pending: list[dict] = []
        while time.monotonic() - dropped < 120 and len(pending) < 3:
            time.sleep(3)
            pending = api.get("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false")["hitl_details"]
        print(f"three required actions after {time.monotonic() - dropped:.0f} s")
        assert sorted((d["subject"][:4], d["assigned_users"][0]["id"]) for d in pending) == [
            ("[EN]", "reviewer_en"), ("[KO]", "reviewer_ko"), ("[ZH]", "reviewer_zh"),
        ]
        reviewers = api.get("/api/v2/variables/foreigndesk_reviewers")
        assert json.loads(reviewers["value"]) == {"en": ["reviewer_en"], "zh": ["reviewer_zh"], "ko": ["reviewer_ko"]}
        assert "Admin → Variables" in "".join(output)
        dags = {d["dag_id"]: d["is_paused"] for d in api.get("/api/v2/dags")["dags"]}
        assert dags == {"foreigndesk_ingest": False, "foreigndesk_translate": False, "foreigndesk_publish": False}

        started = psutil.Process(launcher.pid).children(recursive=True)
        assert len(started) >= 5, [p.name() for p in started]
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            launcher.kill()
            raise
    survivors = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], [p.cmdline() for p in survivors]
    assert launcher.returncode == 0


def _variable(key: str) -> tuple[str, str] | None:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(Variable).filter(Variable.key == key).one_or_none()
        return (row.val, row.description) if row is not None else None


def test_reviewers_variable_is_created_once_and_the_chiefs_edit_is_kept(tmp_path, airflow_db):
    """In Airflow's DB (editable in the UI), never overwritten by a later start.

    The CLI runs against the session's DB, in its own AIRFLOW_HOME (the CLI writes an
    airflow.cfg with a fresh Fernet key there) and with this session's empty Fernet key,
    so the value is readable here and by the DAG tests that run later.
    """
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from foreigndesk.launcher import seed_reviewers

    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "cli-home"), "AIRFLOW__CORE__FERNET_KEY": "",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def delete():
        with create_session() as session:
            session.query(Variable).filter(Variable.key == "foreigndesk_reviewers").delete()

    delete()
    try:
        seed_reviewers(env, tmp_path)
        value, description = _variable("foreigndesk_reviewers")
        assert json.loads(value) == {"en": ["reviewer_en"], "zh": ["reviewer_zh"], "ko": ["reviewer_ko"]}
        assert "who reviews each language" in description

        chief = json.dumps({"en": ["reviewer_en", "nguyen_an"], "zh": ["reviewer_zh"], "ko": ["kim"]})
        with create_session() as session:
            session.query(Variable).filter(Variable.key == "foreigndesk_reviewers").one().val = chief
        seed_reviewers(env, tmp_path)
        assert _variable("foreigndesk_reviewers")[0] == chief
        # The compose stack's init container seeds through the CLI: same rule.
        subprocess.run([sys.executable, "-m", "foreigndesk.cli", "seed-reviewers"], env=env, check=True,
                       capture_output=True)
        assert _variable("foreigndesk_reviewers")[0] == chief
    finally:
        delete()
