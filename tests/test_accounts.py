"""Staff accounts under the FAB auth manager: roles with least privilege, reviewers by username.

The plain part (:mod:`foreigndesk.review.assignees`) is tested directly. The
live part runs the production sign-in for real: a private PostgreSQL (the
cluster's own helpers), ``airflow db migrate`` with the FAB auth manager, the
desk's roles from ``foreigndesk accounts init``, accounts made with the
documented ``foreigndesk accounts add`` (password on stdin), and a real
``airflow api-server`` process on a free loopback port. A review is opened by
``dag.test()`` in a child process on the same database (fab_review_run.py) and
answered over HTTP with each person's own token from ``/auth/token``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO
from hitl_responder import language_of, prefilled
from loopback_http import Receiver

TEA = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"


# ---- reviewers by username → the auth manager's ids (plain) ----

def test_usernames_map_to_the_ids_of_live_accounts_and_the_rest_are_named():
    from foreigndesk.review.assignees import Account, assign, unusable_notice

    accounts = {"lan": Account("lan", "7"), "minh": Account("minh", "9", active=False), "lan2": Account("lan2", "7")}
    assignment = assign(["lan", "ghost", "minh", "lan"], accounts)
    assert assignment.users == ({"id": "7", "name": "lan"},)
    assert assignment.unusable == (("ghost", "no such account"), ("minh", "account disabled"))
    notice = unusable_notice(assignment, "[EN] Trà", "http://x/required_actions", "a1", "r1", "en", 1)
    assert notice.kind == "reviewers_unusable" and notice.reviewers == ("ghost", "minh")
    assert "opened for lan only" in notice.text and "ghost (no such account)" in notice.text
    assert "minh (account disabled)" in notice.text and "foreigndesk_reviewers" in notice.text


def test_a_review_nobody_can_sign_in_to_does_not_open_and_the_notice_says_so():
    from foreigndesk.review.assignees import Account, assign, unusable_notice

    assignment = assign(["minh"], {"minh": Account("minh", "9", active=False)})
    assert assignment.users == ()
    notice = unusable_notice(assignment, "[KO] Trà", "", "a1", "r1", "ko", 1)
    assert "did NOT open" in notice.text and "clear the review task" in notice.text


def test_a_reviewer_role_has_no_permission_beyond_reading_the_desk_and_answering():
    from foreigndesk.airflow_side.accounts import CHIEF, DESK_DAGS, REVIEW_DAG, REVIEWER, role_permissions

    roles = role_permissions()
    reviewer = set(roles[REVIEWER])
    edits = {(action, resource) for action, resource in reviewer if action in ("can_edit", "can_create", "can_delete")}
    assert edits == {("can_edit", "My Profile"), ("can_edit", "My Password"), ("can_edit", "HITL Detail"),
                     ("can_edit", f"DAG:{REVIEW_DAG}")}
    dags = {resource for _, resource in reviewer if resource.startswith("DAG:")}
    assert dags == {f"DAG:{dag_id}" for dag_id in DESK_DAGS}, "no other DAG, and not every DAG ('DAGs')"
    assert not {r for _, r in reviewer} & {"Variables", "Connections", "DAGs", "Pools", "Users", "Task Logs"} - {"DAGs"}
    assert ("can_read", "DAGs") not in reviewer
    assert set(roles[CHIEF]) > reviewer
    assert {("can_edit", "Task Instances"), ("can_edit", "Variables")} <= set(roles[CHIEF])



def test_the_service_role_may_end_review_tasks_and_edit_nothing_else():
    from foreigndesk.airflow_side.accounts import REVIEW_DAG, SERVICE, role_permissions

    service = set(role_permissions()[SERVICE])
    edits = {(action, resource) for action, resource in service if action in ("can_edit", "can_create", "can_delete")}
    assert edits == {("can_edit", f"DAG:{REVIEW_DAG}"), ("can_edit", "Task Instances"), ("can_edit", "DAG Runs")}
    assert ("can_edit", "HITL Detail") not in service, "it never answers a review"


# ---- the live FAB desk on PostgreSQL ----

@dataclass
class FabDesk:
    env: dict[str, str]
    base: str
    passwords: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, user: str | None = None, data: dict | None = None,
             token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if user or token:
            headers["Authorization"] = f"Bearer {token or self.token(user)}"
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                return response.status, json.loads(text) if text else {}
        except urllib.error.HTTPError as error:
            return error.code, {"error": error.read().decode(errors="replace")}
        except urllib.error.URLError as error:  # not listening yet
            return 0, {"error": str(error.reason)}

    def login(self, user: str) -> tuple[int, dict]:
        return self.call("POST", "/auth/token", data={"username": user, "password": self.passwords[user]})

    def token(self, user: str) -> str:
        status, body = self.login(user)
        assert status == 201, (user, status, body)
        return body["access_token"]

    def desk(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        """The documented command line: ``foreigndesk accounts …``."""
        return subprocess.run([sys.executable, "-m", "foreigndesk.cli", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=180, check=False)


def _free_port() -> int:
    from foreigndesk.cluster import free_port

    return free_port()


@pytest.fixture(scope="module")
def fab_desk(demo_models):
    from foreigndesk.launcher import FAB_AUTH_MANAGER
    from foreigndesk.cluster import cluster_secrets
    from foreigndesk.cluster_services import ClusterPaths, ensure_database, init_postgres, start_postgres

    root = Path(tempfile.mkdtemp(prefix="foreigndesk-fab-"))
    root.chmod(0o755)  # PostgreSQL runs as 'postgres' when the tests run as root
    paths = ClusterPaths(root)
    keys = cluster_secrets(paths)
    pg_port, api_port = _free_port(), _free_port()
    init_postgres(paths, keys["postgres_password"])
    paths.logs.mkdir(parents=True, exist_ok=True)
    postgres = start_postgres(paths, pg_port)  # its log: paths.logs / "postgres.log"
    processes = [postgres]
    try:
        ensure_database(pg_port, keys["postgres_password"])
        env = dict(os.environ)
        env.update({
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
                f"postgresql+psycopg2://airflow:{keys['postgres_password']}@127.0.0.1:{pg_port}/airflow",
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        })
        (root / "airflow").mkdir()
        desk = FabDesk(env, f"http://127.0.0.1:{api_port}")
        migrate = subprocess.run(["airflow", "db", "migrate"], env=env, capture_output=True, text=True,
                                 timeout=600, check=False)
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        init = desk.desk("accounts", "init")
        assert init.returncode == 0, init.stderr[-2000:]
        for user, role in (("reviewer_en", "reviewer"), ("reviewer_zh", "reviewer"), ("reviewer_ko", "reviewer"),
                           ("tran.chief", "chief"), ("foreigndesk", "service")):
            desk.passwords[user] = f"pw-{user}-long"
            made = desk.desk("accounts", "add", user, "--role", role, "--password-stdin",
                             stdin=desk.passwords[user] + "\n")
            assert made.returncode == 0, made.stderr[-2000:]
            assert desk.passwords[user] not in made.stdout + made.stderr, "a password is never echoed"
        with open(root / "api-server.log", "ab") as log:
            api = subprocess.Popen(["airflow", "api-server"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        processes.insert(0, api)
        deadline = time.monotonic() + 240
        while desk.call("GET", "/api/v2/monitor/health")[0] != 200:
            assert api.poll() is None and time.monotonic() < deadline, (root / "api-server.log").read_text()[-3000:]
            time.sleep(1)
        yield desk
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT if process is postgres else signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.airflow
@pytest.mark.timeout(900)
def test_reviewers_answer_their_own_review_and_nothing_else_under_fab_on_postgresql(fab_desk, tmp_path):
    desk = fab_desk
    # A disabled account cannot sign in (it could before), and a token it already held stops working.
    status, held = desk.login("reviewer_ko")
    assert status == 201
    assert desk.desk("accounts", "disable", "reviewer_ko").returncode == 0
    assert desk.login("reviewer_ko")[0] in (401, 403)
    assert desk.call("GET", "/api/v2/dags", token=held["access_token"])[0] in (401, 403)

    # The desk chief names reviewers by username in the Variable; one does not exist, one is disabled.
    reviewers = {"en": ["reviewer_en"], "zh": ["reviewer_zh", "ghost"], "ko": ["reviewer_ko"]}
    status, body = desk.call("POST", "/api/v2/variables", "tran.chief",
                             {"key": "foreigndesk_reviewers", "value": json.dumps(reviewers)})
    assert status == 201, body
    status, body = desk.call("PATCH", "/api/v2/variables/foreigndesk_reviewers", "tran.chief",
                             {"key": "foreigndesk_reviewers", "value": json.dumps(reviewers)})
    assert status == 200, body

    hooks = Receiver()
    store = tmp_path / "store"
    env = {**desk.env, "FOREIGNDESK_STORE": str(store), "FOREIGNDESK_NOTIFY": "log,webhook",
           "AIRFLOW_CONN_FOREIGNDESK_WEBHOOK": json.dumps({"conn_type": "http", "host": hooks.url}),
           "AIRFLOW_CONN_FOREIGNDESK_API": json.dumps({"conn_type": "http", "host": desk.base, "login": "foreigndesk",
                                                       "password": desk.passwords["foreigndesk"]}),
           "FOREIGNDESK_REVIEW_RECHECK_SECONDS": "600"}
    runner = subprocess.Popen([sys.executable, str(REPO / "tests" / "fab_review_run.py"), str(TEA), "tntv"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(runner.stdout), daemon=True)
    reader.start()
    probes: dict[str, int] = {}
    answered: dict[str, dict] = {}
    try:
        deadline = time.monotonic() + 600
        while len(answered) < 2 and time.monotonic() < deadline and runner.poll() is None:
            status, body = desk.call("GET", "/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false",
                                     "reviewer_en")
            assert status == 200, body
            pending = {language_of(d): d for d in body["hitl_details"]
                       if d["task_instance"]["state"] == "awaiting_input"}
            if {"en", "zh"} <= set(pending) and not answered:
                en, zh = pending["en"], pending["zh"]
                assert [u["name"] for u in en["assigned_users"]] == ["reviewer_en"]
                assert [u["name"] for u in zh["assigned_users"]] == ["reviewer_zh"], "ghost is left out"
                assert all(u["id"].isdigit() for u in en["assigned_users"] + zh["assigned_users"]), "FAB ids"
                probes["en answers zh"] = _answer(desk, zh, "reviewer_en")[0]
                probes["en triggers"] = desk.call("POST", "/api/v2/dags/foreigndesk_translate/dagRuns",
                                                  "reviewer_en", {"logical_date": None})[0]
                probes["en reads connections"] = desk.call("GET", "/api/v2/connections", "reviewer_en")[0]
                probes["en reads variables"] = desk.call("GET", "/api/v2/variables", "reviewer_en")[0]
                probes["en reads the reviewers"] = desk.call("GET", "/api/v2/variables/foreigndesk_reviewers",
                                                             "reviewer_en")[0]
                probes["en clears"] = desk.call("POST", "/api/v2/dags/foreigndesk_translate/clearTaskInstances",
                                                "reviewer_en", {"dry_run": True, "task_ids": ["review.round_1"],
                                                                "only_failed": False})[0]
                for language, user in (("en", "reviewer_en"), ("zh", "reviewer_zh")):
                    answered[language] = dict(zip(("status", "body"), _answer(desk, pending[language], user)))
            time.sleep(1)
        runner.wait(timeout=300)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
        reader.join(timeout=10)
        hooks.close()
    text = "".join(output)
    assert answered, f"the reviews never opened:\n{text[-4000:]}"
    assert probes == {"en answers zh": 403, "en triggers": 403, "en reads connections": 403,
                      "en reads variables": 403, "en reads the reviewers": 403, "en clears": 403}
    assert {language: a["status"] for language, a in answered.items()} == {"en": 200, "zh": 200}, answered
    assert answered["en"]["body"]["responded_by"] == {"id": en["assigned_users"][0]["id"], "name": "reviewer_en"}

    result = json.loads(next(line for line in output if line.startswith("RESULT "))[len("RESULT "):])
    notices = {n["language"]: n for n in hooks.json_bodies if n["kind"] == "reviewers_unusable"}
    assert set(notices) == {"zh", "ko"}, hooks.json_bodies
    assert "ghost (no such account)" in notices["zh"]["text"] and "opened for reviewer_zh only" in notices["zh"]["text"]
    assert "reviewer_ko (account disabled)" in notices["ko"]["text"] and "did NOT open" in notices["ko"]["text"]
    from foreigndesk.core.decisions import decisions_for
    from foreigndesk.core.store import LocalStore

    article_id, revision = result["article_id"], result["revision"]
    decided = {lang: [d.outcome for d in decisions_for(LocalStore(store), article_id, revision, lang)]
               for lang in ("en", "zh", "ko")}
    assert decided == {"en": ["approved"], "zh": ["approved"], "ko": []}, decided

    # The board's actions are the chief's (and the Admin's), not a reviewer's.
    status, board = desk.call("GET", "/foreigndesk/api/board", "tran.chief")
    assert status == 200 and board["is_chief"] is True, board
    status, board = desk.call("GET", "/foreigndesk/api/board", "reviewer_en")
    assert status == 200 and board["is_chief"] is False, board

    # The service account may end a review task (ingest ends a superseded one), nothing else of the kind.
    # Map index 99 does not exist: 404 means the account got past the permission check, 403 that it did not.
    ti_path = f"/api/v2/dags/{{dag}}/dagRuns/{result['run_id']}/taskInstances/review.round_1/99"
    service = {
        "ends a review task": desk.call("PATCH", ti_path.format(dag="foreigndesk_translate"), "foreigndesk",
                                        {"new_state": "skipped", "note": "probe"})[0],
        "ends an ingest task": desk.call("PATCH", ti_path.format(dag="foreigndesk_ingest"), "foreigndesk",
                                         {"new_state": "skipped"})[0],
        "answers a review": desk.call("PATCH", ti_path.format(dag="foreigndesk_translate") + "/hitlDetails",
                                      "foreigndesk", {"chosen_options": ["Approve"], "params_input": {}})[0],
    }
    assert service == {"ends a review task": 404, "ends an ingest task": 403, "answers a review": 403}, service

    # The desk chief re-opens the Korean review (after fixing the account) by clearing its task.
    assert desk.desk("accounts", "enable", "reviewer_ko").returncode == 0
    status, body = desk.call("POST", "/api/v2/dags/foreigndesk_translate/clearTaskInstances", "tran.chief",
                             {"dag_run_id": result["run_id"], "task_ids": ["review.round_1"], "only_failed": True,
                              "dry_run": False})
    assert status == 200, body
    assert [ti["task_id"] for ti in body["task_instances"]] == ["review.round_1"], body


def _answer(desk: FabDesk, detail: dict, user: str) -> tuple[int, dict]:
    ti = detail["task_instance"]
    path = (f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
            f"{ti['map_index']}/hitlDetails")
    return desk.call("PATCH", path, user, {"chosen_options": ["Approve"], "params_input": prefilled(detail)})
