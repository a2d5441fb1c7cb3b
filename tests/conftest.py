"""Test environment: a private Airflow, Argos and XDG home for the whole session.

Airflow and argostranslate read their homes when first imported, so the
environment is set here, at conftest import, before any test module imports
them. Nothing in the suite may reach the network: the demo models are built
locally and ONNX Runtime's telemetry is switched off.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="foreigndesk-tests-"))

TEST_USERS = {"admin": "admin", "editor": "user", "reviewer_en": "user", "reviewer_zh": "user", "reviewer_ko": "user",
              "foreigndesk": "user"}  # the desk's service account: reads the API, ends superseded parked reviews
TEST_PASSWORDS = {name: f"pw-{name}" for name in TEST_USERS}

os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow' / 'airflow.db'}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in TEST_USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(_HOME / "airflow" / "passwords.json"),
        "AIRFLOW__API__BASE_URL": "http://localhost:8080",
        "ARGOS_PACKAGES_DIR": str(_HOME / "argos-packages"),
        "XDG_DATA_HOME": str(_HOME / "xdg-data"),
        "XDG_CONFIG_HOME": str(_HOME / "xdg-config"),
        "XDG_CACHE_HOME": str(_HOME / "xdg-cache"),
        "ORT_DISABLE_TELEMETRY": "1",
        "FOREIGNDESK_STORE": str(_HOME / "unset-store"),
        "FOREIGNDESK_INBOX": str(_HOME / "unset-inbox"),
        "FOREIGNDESK_MODELS_DIR": str(_HOME / "no-operator-models"),
        # S3 clients only ever talk to the loopback test server: no real credentials,
        # no ~/.aws files, no instance-metadata lookups.
        "AWS_ACCESS_KEY_ID": "foreigndesk-test",
        "AWS_SECRET_ACCESS_KEY": "foreigndesk-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(_HOME / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(_HOME / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
(_HOME / "airflow").mkdir(parents=True, exist_ok=True)
(_HOME / "airflow" / "passwords.json").write_text(__import__("json").dumps(TEST_PASSWORDS))
sys.path.insert(0, str(REPO / "plugins"))

import pytest  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_models() -> Path:
    """The three tiny demo packages, built offline and installed through argostranslate's real path."""
    from foreigndesk.core.settings import DEFAULT_LANGUAGES
    from foreigndesk.translate.models import ensure_models

    result = ensure_models(Path(os.environ["FOREIGNDESK_MODELS_DIR"]), DEFAULT_LANGUAGES)
    assert result["demo"] == ["vi-en", "en-zh", "en-ko"] or result["demo"] == [], result
    return Path(os.environ["ARGOS_PACKAGES_DIR"])


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated Airflow metadata DB (SQLite) for the session."""
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture
def desk(tmp_path, monkeypatch):
    """A fresh store and inbox for one test, wired through the same settings the DAGs read."""
    from foreigndesk.core.names import DEFAULT_OUTLETS

    store, inbox = tmp_path / "store", tmp_path / "inbox"
    for outlet in DEFAULT_OUTLETS:
        (inbox / outlet).mkdir(parents=True)
    monkeypatch.setenv("FOREIGNDESK_STORE", str(store))
    monkeypatch.setenv("FOREIGNDESK_INBOX", str(inbox))
    # Files are dropped and ingested at once here; the settle time has its own tests (test_intake_cases.py).
    monkeypatch.setenv("FOREIGNDESK_SETTLE_SECONDS", "0")
    return tmp_path


@pytest.fixture
def translate_example(tmp_path, demo_models):
    """Register an example article in a fresh local store and machine-translate it with the demo models.

    Returns ``(store, registered article, {language: draft})``.
    """
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    def make(example_name: str, outlet: str):
        path = REPO / "content" / "examples" / example_name
        store = LocalStore(tmp_path / "store")
        raw = path.read_bytes()
        article = register(store, parse_article(raw, path.name, outlet), raw, path.name)
        drafts = translate_revision(store, shared_engine(), article.article_id, article.revision)
        return store, article, {draft.language: draft for draft in drafts}

    return make


#: The S3 servers the store contract suite and the S3 inbox run against: moto (fast, checks no
#: signature) and Ceph's radosgw (a real S3 that checks every signature; tests/radosgw.py).
S3_SERVERS = ("moto", "radosgw")


@pytest.fixture(scope="session")
def moto_s3() -> str:
    """A real S3 API server (moto's threaded server) on loopback for the session; its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def radosgw_s3(tmp_path_factory) -> str:
    """Ceph's radosgw in a private one-node cluster on loopback for the session; its URL.

    Its S3 user has the session's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, so every client
    built from the standard settings signs correctly; every daemon is stopped at session end.
    """
    from radosgw import RadosGW

    gateway = RadosGW(tmp_path_factory.mktemp("radosgw"), os.environ["AWS_ACCESS_KEY_ID"],
                      os.environ["AWS_SECRET_ACCESS_KEY"])
    with gateway as account:
        yield account.endpoint
    assert gateway.pids() == [], "a ceph daemon outlived the session"


@pytest.fixture(scope="session")
def s3_endpoint(moto_s3) -> str:
    """The S3 server of tests that do not compare servers (moto: it starts in 0.3 s).

    A module that runs against every server overrides it with :func:`every_s3_endpoint`.
    """
    return moto_s3


@pytest.fixture(params=S3_SERVERS)
def every_s3_endpoint(request) -> str:
    """Each S3 server in turn (moto, radosgw): the URL of the one this test instance runs against."""
    return request.getfixturevalue(f"{request.param}_s3")


_buckets = itertools.count(1)


def new_bucket(endpoint: str):
    """A fresh, empty bucket on an S3 server: (boto3 client, bucket name)."""
    from foreigndesk.core.store import s3_client

    client = s3_client(endpoint)
    bucket = f"foreigndesk-test-{next(_buckets)}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A fresh, empty bucket on the loopback S3 server: (boto3 client, bucket name)."""
    return new_bucket(s3_endpoint)
