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
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import REPO
from live_desk import Api, desk_env, free_port, stop_launcher, wait_for_line

pytestmark = pytest.mark.airflow

EXAMPLE = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"


def test_make_run_desk_end_to_end(tmp_path):
    port = free_port()
    desk_dir = tmp_path / "desk"
    (tmp_path / "inbox" / "tntv").mkdir(parents=True)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "foreigndesk.cli", "run", "--desk-dir", str(desk_dir), "--port", str(port)],
        env=desk_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = wait_for_line(launcher, "Press Ctrl-C", timeout=240)
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
        # The operator's terminal went away: printing "Stopping the desk" must not keep it from stopping.
        launcher.stdout.close()
    finally:
        stop_launcher(launcher, timeout=60)
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


ARTICLES_RACED = 4


@pytest.mark.timeout(1500)
def test_quick_answers_never_fail_a_review(tmp_path):
    """Every review answered within a fraction of a second of appearing, under a real scheduler.

    Airflow 3.3 fails some of these tasks ("finished with state success, but the task
    instance's state attribute is queued"; docs/airflow-hitl.md). The desk retries them:
    the retry records the answer it reads back, or re-opens the same review when it can't,
    and the "reviewer" answers that too. Every run succeeds and each language of each
    article has exactly one decision — never a failed run, never two decisions, never a
    review nobody can answer. bench/quick_answers.py measures the same with the desk's
    retries switched off, side by side.
    """
    from foreigndesk.core.decisions import all_decisions
    from foreigndesk.core.store import LocalStore
    from live_desk import LiveDesk, answer_until_runs_finish

    source = EXAMPLE.read_text()
    with LiveDesk(tmp_path) as desk:
        for number in range(ARTICLES_RACED):
            (tmp_path / "inbox" / "tntv" / f"quick-{number}.md").write_text(
                source.replace("title: ", f"title: Quick {number} ", 1))
        try:  # sooner than the per-minute schedule; that schedule takes them anyway
            desk.api.post("/api/v2/dags/foreigndesk_ingest/dagRuns", {"logical_date": None})
        except OSError as error:
            print(f"could not trigger ingest now ({error}); the per-minute schedule will")
        answered, runs = answer_until_runs_finish(desk.api, "foreigndesk_translate", ARTICLES_RACED, timeout=600)
        tries = desk.api.get("/api/v2/dags/foreigndesk_translate/dagRuns/~/taskInstances?limit=500")["task_instances"]
        races = desk.log.read_text(errors="replace").count("state attribute is queued")
    retried = sorted((t["dag_run_id"][-8:], t["task_id"], t["map_index"], t["try_number"], t["state"])
                     for t in tries if t["task_id"].startswith("review.") and t["try_number"] > 1)
    asked_again = [key for key in answered if key[3] > 1]
    print(f"{len(answered)} answers for {3 * ARTICLES_RACED} reviews, {races} task(s) failed by Airflow's race, "
          f"{len(asked_again)} review(s) re-opened and answered again; retried tasks: {retried}")
    assert sorted(r["state"] for r in runs) == ["success"] * ARTICLES_RACED, retried
    assert len(answered) >= 3 * ARTICLES_RACED
    decisions = list(all_decisions(LocalStore(tmp_path / "store")))
    assert len(decisions) == 3 * ARTICLES_RACED, "one decision per answer"
    assert len({(d.article_id, d.language) for d in decisions}) == 3 * ARTICLES_RACED
    assert all(d.approved and d.attempt == 1 for d in decisions)
