"""DAG integrity: the DAG files parse, carry their operational settings, and stay light.

DAG files are parsed over and over by the dag-processor; anything heavy imported
at their top level (the engine, argostranslate, boto3) is paid on every parse.
The import check runs in a fresh interpreter so nothing a previous test loaded
can hide a top-level import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.airflow

DAG_IDS = {"foreigndesk_ingest", "foreigndesk_translate", "foreigndesk_publish"}
HEAVY_MODULES = ["argostranslate", "boto3", "botocore", "ctranslate2", "onnxruntime", "foreigndesk.translate.engine"]

_PARSE_SCRIPT = """
import json, sys, time
from pathlib import Path
from airflow.dag_processing.dagbag import DagBag
timings = {}
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    started = time.perf_counter()
    bag = DagBag(dag_folder=str(path))
    timings[path.name] = {"seconds": time.perf_counter() - started, "errors": {k: str(v) for k, v in bag.import_errors.items()}}
heavy = [name for name in sys.argv[2:] if name in sys.modules]
print(json.dumps({"timings": timings, "heavy": heavy}))
"""


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors_and_all_dags_present(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == DAG_IDS


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_dag_has_owner_tags_retries_and_docs(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.default_args.get("owner") == "foreigndesk"
    assert "retries" in dag.default_args
    assert "foreigndesk" in dag.tags and len(dag.tags) >= 2
    assert dag.catchup is False
    assert dag.doc_md and dag_id in dag.doc_md
    for task in dag.tasks:
        assert task.owner == "foreigndesk", task.task_id


def test_more_articles_than_airflows_default_16_runs_can_wait_for_review_at_once(dagbag):
    """A translate run waits for people for hours; a burst must not queue behind 16 of them."""
    from airflow.configuration import conf

    dag = dagbag.dags["foreigndesk_translate"]
    assert conf.getint("core", "max_active_runs_per_dag") == 16  # Airflow's default, the one a deployment has
    assert dag.max_active_runs >= 1000


def test_review_rounds_are_retried_at_once(dagbag):
    """Airflow 3.3 can fail a quickly answered review; its retry records the answer (never asks twice:
    tests/test_review_retry.py), so the rounds have retries with a short delay."""
    from foreigndesk.core.settings import DEFAULT_REVIEW_RETRIES
    from foreigndesk.review.rounds import ROUNDS

    dag = dagbag.dags["foreigndesk_translate"]
    rounds = [task for task in dag.tasks if task.task_id.startswith("review.")]
    assert [task.task_id for task in rounds] == [f"review.round_{n}" for n in range(1, ROUNDS + 1)]
    assert [task.retries for task in rounds] == [DEFAULT_REVIEW_RETRIES] * ROUNDS
    assert all(task.retry_delay.total_seconds() <= 5 for task in rounds)
    for earlier, later in zip(rounds, rounds[1:]):
        assert earlier.task_id in later.upstream_task_ids


def test_dag_files_import_nothing_heavy_and_parse_fast():
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-c", _PARSE_SCRIPT, str(REPO / "dags"), *HEAVY_MODULES],
        env=env, capture_output=True, text=True, check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for name, timing in report["timings"].items():
        print(f"parse {name}: {timing['seconds'] * 1000:.0f} ms")
        assert timing["errors"] == {}, name
    assert report["heavy"] == [], f"DAG files imported {report['heavy']} at top level"
