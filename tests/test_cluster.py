"""``make run-cluster`` end to end: PostgreSQL, Redis, two Celery workers, an S3 store — and crashes.

This starts the same ``foreigndesk run-cluster`` that ``make run-cluster`` starts, in a
temporary desk folder on free ports, with the store and the inbox on a real, signing S3:
Ceph's radosgw in a private one-node cluster on loopback (``tests/radosgw.py``; every request
the desk's components make is checked against the S3 user's secret, and a wrong secret is
seen refused first), reached through the one ``AWS_ENDPOINT_URL`` setting, and the portal push
channel on a loopback HTTP server that counts what it receives. The bucket is unversioned:
Ceph 16 ignores If-None-Match in versioned buckets (docs/s3.md), and the store refuses those.
Then it behaves like the desk's people and like bad luck:

1. editors drop five articles into the S3 inbox;
2. one Celery worker is killed (SIGKILL, the worker and every process under it) while it
   runs a translate task — the task must be retried on the other worker, and the launcher
   starts the killed worker again;
3. every review is answered through the REST API with the assigned reviewer's own token;
4. a publish run is started and the scheduler is killed while it is in progress;
5. every article ends published exactly once per language and channel: one draft per
   language, one translate run per revision, one claim and one ``published`` record per
   ledger unit, five items per feed, one POST per item at the portal.

Ctrl-C must then end every process the cluster started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from botocore.exceptions import ClientError

from channel_servers import PortalServer
from conftest import REPO
from drops import article_bytes
from hitl_responder import language_of, prefilled
from live_cluster import Api, Output, cmdline, component, kill_tree, worker_running
from live_desk import free_port, stop_launcher

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(900)]

LANGUAGES = ("en", "zh", "ko")
BODY = (
    "Ngày 14 tháng 3, Ủy ban nhân dân tỉnh Thái Nguyên đã tiếp đoàn công tác tỉnh Gyeongsangbuk-do.\n\n"
    "Hai bên thống nhất mở rộng hợp tác du lịch, giáo dục và nông nghiệp công nghệ cao.\n\n"
    "Tỉnh Thái Nguyên giới thiệu sản phẩm chè Tân Cương và các điểm đến du lịch của tỉnh.\n"
)


def _answer_reviews(api: Api, expected: int, timeout: float) -> list[dict]:
    """Approve every pending review (pre-filled text) as its assigned reviewer; stop once ``expected`` are answered."""
    answered: dict[tuple, dict] = {}
    deadline = time.monotonic() + timeout
    while len(answered) < expected and time.monotonic() < deadline:
        pending = api.get("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false")["hitl_details"]
        for detail in pending:
            ti = detail["task_instance"]
            key = (ti["dag_run_id"], ti["task_id"], ti["map_index"])
            if key in answered or ti["state"] != "awaiting_input":
                continue
            user = detail["assigned_users"][0]["name"]  # FAB: the id is the account's number, the name its username
            assert user == f"reviewer_{language_of(detail)}", detail["assigned_users"]
            assert detail["assigned_users"][0]["id"].isdigit(), "the cluster signs people in with FAB accounts"
            path = (f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                    f"{ti['task_id']}/{ti['map_index']}/hitlDetails")
            status, body = api.patch(path, {"chosen_options": ["Approve"], "params_input": prefilled(detail)}, user)
            assert status in (200, 409), body  # 409: answered already (a repeated look)
            answered[key] = {"language": language_of(detail), "user": user, "status": status}
        time.sleep(2)
    assert len(answered) == expected, f"{len(answered)} of {expected} reviews answered"
    return list(answered.values())


def _wait_runs(api: Api, dag_id: str, count: int, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]
        if len(runs) >= count and all(run["state"] == "success" for run in runs):
            return runs
        assert not any(run["state"] == "failed" for run in runs), runs
        time.sleep(2)
    raise AssertionError(f"{dag_id}: {[(r['dag_run_id'], r['state']) for r in runs]}")


def _store_json(client, bucket: str, key: str):
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def _keys(client, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", ())]
    return keys


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


@pytest.fixture
def s3_server(radosgw_s3) -> S3Server:
    """The S3 API the cluster's store and inbox live on: radosgw, whose S3 user has the session's keys.
    Nothing else in the test names the server."""
    return S3Server(radosgw_s3, os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture
def desk_dir():
    """Outside pytest's 0700 tmp folder: PostgreSQL runs as 'postgres' when the tests run as root."""
    folder = Path(tempfile.mkdtemp(prefix="foreigndesk-cluster-"))
    folder.chmod(0o755)
    yield folder / "desk"
    shutil.rmtree(folder, ignore_errors=True)


def test_cluster_end_to_end_with_a_worker_and_the_scheduler_killed(desk_dir, tmp_path, s3_server):
    from foreigndesk.core.store import s3_client

    client = s3_client(s3_server.endpoint, aws_access_key_id=s3_server.access_key,
                       aws_secret_access_key=s3_server.secret_key, region_name="us-east-1")
    bucket = f"foreigndesk-cluster-{os.getpid()}-{int(time.time())}"
    client.create_bucket(Bucket=bucket)
    forged = s3_client(s3_server.endpoint, aws_access_key_id=s3_server.access_key,
                       aws_secret_access_key=s3_server.secret_key + "-wrong", region_name="us-east-1")
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):  # a server that checks signatures
        forged.list_objects_v2(Bucket=bucket)
    portal = PortalServer()
    port = free_port()
    (tmp_path / "inbox").mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update({
        "PYTHONPATH": str(REPO / "plugins"),
        "FOREIGNDESK_STORE": f"s3://{bucket}/store",
        "FOREIGNDESK_S3_INBOX": f"s3://{bucket}/inbox",
        "FOREIGNDESK_INBOX": str(tmp_path / "inbox"),
        "AWS_ENDPOINT_URL": s3_server.endpoint,
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AIRFLOW_CONN_FOREIGNDESK_PORTAL_PUSH": json.dumps(
            {"conn_type": "http", "host": portal.url, "password": portal.token}),
        # A killed worker's task is noticed after 20 s instead of a minute (the retry then waits its 1 min).
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    })
    started = time.monotonic()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "foreigndesk.cli", "run-cluster", "--desk-dir", str(desk_dir), "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = Output(launcher)
    timings: dict[str, float] = {}
    everything: list[psutil.Process] = []
    try:
        output.wait_for("Press Ctrl-C", timeout=300)
        timings["cluster up"] = time.monotonic() - started
        assert "CeleryExecutor, 2 workers" in output.text
        secrets_file = desk_dir / "secrets.json"
        assert secrets_file.stat().st_mode & 0o777 == 0o600
        for secret in json.loads(secrets_file.read_text()).values():
            assert secret not in output.text
        components = psutil.Process(launcher.pid).children()
        names = " | ".join(cmdline(p) for p in components)
        for part in ("postgres", "redis-server", "api_server", "scheduler", "dag-processor", "triggerer"):
            assert part in names, names
        assert names.count("celery worker") == 2, names
        api = Api(port, json.loads((desk_dir / "airflow" / "simple_auth_manager_passwords.json.generated").read_text()))
        assert api.get("/api/v2/monitor/health")["scheduler"]["status"] == "healthy"

        # 1. five drops into the S3 inbox
        article_ids = []
        for number in range(5):
            outlet = ("baothainguyen", "tntv")[number % 2]
            article_id = f"{outlet}-cluster-{number}"
            article_ids.append(article_id)
            client.put_object(Bucket=bucket, Key=f"inbox/{outlet}/{article_id}.md", Body=article_bytes(
                body=BODY + f"\nBài số {number}.\n", outlet=outlet, id=article_id,
                title=f"Thái Nguyên hợp tác du lịch, bài {number}"))
        dropped = time.monotonic()

        # 2. kill the worker running a translate task, mid-task
        killed = None
        deadline = time.monotonic() + 180
        while killed is None and time.monotonic() < deadline:
            tis = api.get("/api/v2/dags/foreigndesk_translate/dagRuns/~/taskInstances?task_id=translate&state=running")
            for ti in tis["task_instances"]:
                worker = worker_running(launcher, ti)
                if worker is not None:
                    killed = {"ti": ti, "worker": cmdline(worker), "pids": kill_tree(worker)}
                    break
            time.sleep(0.3)
        assert killed is not None, "never caught a translate task running on a worker"
        timings["first translate running"] = time.monotonic() - dropped
        output.wait_for("exited (-9); starting it again", timeout=30)

        # 3. every review, answered by its reviewer
        answers = _answer_reviews(api, expected=5 * len(LANGUAGES), timeout=400)
        assert sorted({(a["language"], a["user"]) for a in answers}) == sorted(
            (lang, f"reviewer_{lang}") for lang in LANGUAGES)
        translate_runs = _wait_runs(api, "foreigndesk_translate", 5, timeout=180)
        timings["all reviewed"] = time.monotonic() - dropped
        killed_run = killed["ti"]["dag_run_id"]
        retried = api.get(f"/api/v2/dags/foreigndesk_translate/dagRuns/{killed_run}/taskInstances/translate")
        assert retried["state"] == "success" and retried["try_number"] >= 2, retried

        # 4. a publish run, with the scheduler killed while it is in progress
        status, run = api.post("/api/v2/dags/foreigndesk_publish/dagRuns", {"logical_date": None})
        assert status == 200, run
        publish_started = time.monotonic()
        scheduler = component(launcher, "scheduler")
        while time.monotonic() - publish_started < 60:
            state = api.get(f"/api/v2/dags/foreigndesk_publish/dagRuns/{run['dag_run_id']}/taskInstances/publish")
            if state["state"] in ("queued", "running"):
                break
            time.sleep(0.3)
        assert state["state"] in ("queued", "running"), state
        kill_tree(scheduler)
        output.wait_for("airflow-scheduler exited (-9); starting it again", timeout=30)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            current = api.get(f"/api/v2/dags/foreigndesk_publish/dagRuns/{run['dag_run_id']}")
            if current["state"] in ("success", "failed"):
                break
            time.sleep(2)
        assert current["state"] == "success", current
        timings["published"] = time.monotonic() - dropped

        # 5. exactly once, everywhere
        revisions = {}
        for article_id in article_ids:
            registered = [k for k in _keys(client, bucket, f"store/articles/{article_id}/") if k.endswith("/article.json")]
            assert len(registered) == 1, registered
            revisions[article_id] = registered[0].split("/")[3]
            drafts = _keys(client, bucket, f"store/drafts/{article_id}/")
            assert sorted(k.rsplit("/", 1)[-1] for k in drafts) == sorted(f"{lang}.json" for lang in LANGUAGES), drafts
        assert sorted(r["dag_run_id"] for r in translate_runs) == sorted(
            f"article__{a}__{r}" for a, r in revisions.items())
        assert _keys(client, bucket, "inbox/") == []

        units: dict[str, list[str]] = {}
        for key in _keys(client, bucket, "store/ledger/"):
            unit, _, name = key.rpartition("/")
            units.setdefault(unit, []).append(name)
        channels = {unit.split("/")[2] for unit in units}
        assert channels == {"portal-feed", "web", "portal-push"}, channels
        assert len(units) == 5 * len(LANGUAGES) * len(channels), sorted(units)
        for unit, names in units.items():
            assert sorted(names) == ["claim-001.json", "published.json"], (unit, names)

        for lang in LANGUAGES:
            feed = _store_json(client, bucket, f"store/feeds/{lang}/feed.json")
            ids = [item["id"] for item in feed["items"]]
            assert len(ids) == 5 == len(set(ids)), ids
        assert len(portal.created) == 5 * len(LANGUAGES) and set(portal.created.values()) == {1}, portal.created

        everything = psutil.Process(launcher.pid).children(recursive=True)
    finally:
        try:
            stop_launcher(launcher, timeout=120)
        finally:
            portal.stop()
            timings["total"] = time.monotonic() - started
            print("cluster timings (s):", {name: round(value, 1) for name, value in timings.items()})
    survivors = [p for p in everything if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], [p.cmdline() for p in survivors]
    assert launcher.returncode == 0, output.text[-3000:]


def test_cluster_secrets_are_made_once_private_and_shared_by_everycomponent(tmp_path):
    from foreigndesk.cluster import ClusterPaths, Ports, cluster_environment, cluster_secrets

    paths = ClusterPaths(tmp_path / "desk")
    first = cluster_secrets(paths)
    assert paths.secrets_file.stat().st_mode & 0o777 == 0o600
    assert cluster_secrets(paths) == first  # a restart keeps them: the database and broker still open
    assert len(set(first.values())) == 4
    env = cluster_environment(paths, Ports(8080, 5432, 6379), "127.0.0.1", first, {}, 2)
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == first["jwt_secret"]
    assert env["AIRFLOW__CORE__FERNET_KEY"] == first["fernet_key"]
    assert f":{first['redis_password']}@127.0.0.1:6379/" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"


def test_a_desk_folder_postgres_cannot_reach_is_refused_with_the_fix(tmp_path):
    from foreigndesk.cluster_services import ClusterError, _check_reachable

    private = tmp_path / "private"
    (private / "desk").mkdir(parents=True)
    private.chmod(0o700)
    with pytest.raises(ClusterError, match=r"chmod o\+x"):
        _check_reachable(private / "desk", {"user": 101, "group": 104})
    _check_reachable(private / "desk", {})  # not root: PostgreSQL runs as us, nothing to check


def test_the_cluster_hands_its_tasks_the_service_account_as_make_run_does(tmp_path):
    """One Airflow configuration for both launchers: the cluster's tasks also get the ``foreigndesk_api``
    Connection (a review retry reads an earlier try's answer with it), its password kept across starts."""
    from foreigndesk.cluster import ClusterPaths, Ports, cluster_environment, cluster_secrets
    from foreigndesk.launcher import SERVICE_ACCOUNT, prepare_airflow_home

    paths = ClusterPaths(tmp_path / "desk")
    keys = cluster_secrets(paths)
    first = prepare_airflow_home(paths, cluster_environment(paths, Ports(8080, 5432, 6379), "0.0.0.0", keys, {}, 2),
                                 8080, "0.0.0.0")
    assert first["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    connection = json.loads(first["AIRFLOW_CONN_FOREIGNDESK_API"])
    passwords = json.loads(paths.passwords_file.read_text())
    assert (connection["host"], connection["login"]) == ("http://127.0.0.1:8080", SERVICE_ACCOUNT)
    assert connection["password"] == passwords[SERVICE_ACCOUNT]
    assert paths.passwords_file.stat().st_mode & 0o777 == 0o600
    again = prepare_airflow_home(paths, cluster_environment(paths, Ports(8080, 5432, 6379), "0.0.0.0", keys, {}, 2),
                                 8080, "0.0.0.0")
    assert again["AIRFLOW_CONN_FOREIGNDESK_API"] == first["AIRFLOW_CONN_FOREIGNDESK_API"]
