"""foreigndesk_ingest on a real Airflow, with the store and an inbox on S3 reached through an Airflow Connection.

The worker's standard AWS endpoint points at a closed loopback port, so the run
can only work if the glue builds its client from the Connection
(``AIRFLOW_CONN_FOREIGNDESK_S3``, the Amazon provider's field convention).
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO
from drops import article_bytes

pytestmark = pytest.mark.airflow


def _dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=REPO / "dags")
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def _runs(prefix: str) -> list[tuple[str, dict]]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == "foreigndesk_translate").all()
        return sorted((run.run_id, dict(run.conf or {})) for run in runs if run.run_id.startswith(prefix))


def _task_states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances() if ti.map_index in (-1, 0)}


def test_ingest_dag_reads_s3_through_a_connection_and_never_starts_a_run_twice(
    desk, s3_bucket, s3_endpoint, monkeypatch, airflow_db
):
    client, bucket = s3_bucket
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: only the Connection works
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_S3", json.dumps({
        "conn_type": "aws", "login": "foreigndesk-test", "password": "foreigndesk-test-secret",
        "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }))
    monkeypatch.setenv("FOREIGNDESK_STORE", f"s3://{bucket}/desk")
    monkeypatch.setenv("FOREIGNDESK_S3_INBOX", f"s3://{bucket}/inbox")
    client.put_object(Bucket=bucket, Key="inbox/tntv/s3.md", Body=article_bytes(outlet="tntv", id="dagtest-s3"))
    (desk / "inbox" / "baothainguyen" / "local.md").write_bytes(article_bytes(id="dagtest-local"))
    (desk / "inbox" / "baothainguyen" / "bad.md").write_bytes(b"no front matter\n")

    first = _dag("foreigndesk_ingest").test()
    assert first.state == "success", _task_states(first)
    runs = _runs("article__dagtest-")
    assert [conf["article_id"] for _, conf in runs] == ["dagtest-local", "dagtest-s3"]
    for run_id, conf in runs:
        assert run_id == f"article__{conf['article_id']}__{conf['revision']}"
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix="desk/")["Contents"]]
    assert any(key.startswith("desk/quarantine/baothainguyen/") for key in keys)
    assert f"desk/articles/dagtest-s3/{dict(runs)[runs[1][0]]['revision']}/article.json" in keys

    # The same bytes again (and a second run with nothing new): no second translate run.
    client.put_object(Bucket=bucket, Key="inbox/tntv/s3-again.md", Body=article_bytes(outlet="tntv", id="dagtest-s3"))
    second = _dag("foreigndesk_ingest").test()
    assert second.state == "success"
    assert _runs("article__dagtest-") == runs


def test_a_source_that_fails_fails_the_run_after_starting_the_rest(desk, monkeypatch, airflow_db):
    monkeypatch.setenv("FOREIGNDESK_FEED_TNTV", "http://127.0.0.1:9/feed.json")
    (desk / "inbox" / "baothainguyen" / "ok.md").write_bytes(article_bytes(id="dagfail-ok"))
    run = _dag("foreigndesk_ingest").test()
    states = _task_states(run)
    assert states["register_drops"] == "success" and states["report_source_errors"] == "failed"
    assert [conf["article_id"] for _, conf in _runs("article__dagfail-")] == ["dagfail-ok"]


def _mark_translate_dag_gone() -> None:
    """What Airflow records when the translate DAG's file is gone or broken: its DagModel is stale."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        for model in session.query(DagModel).filter(DagModel.dag_id == "foreigndesk_translate"):
            model.is_stale = True


def test_a_trigger_that_failed_for_good_is_retried_by_the_next_run_and_never_twice(
    desk, tmp_path, monkeypatch, airflow_db
):
    """The first run registers the drop (and takes it out of the inbox) but can't start its translation:
    the translate DAG is not there (a bundle holding only the ingest DAG, the old DagModel stale), so
    the execution API answers 404 and start_translation fails. The next run, inbox empty, starts it."""
    import shutil

    only_ingest = tmp_path / "only-ingest"
    only_ingest.mkdir()
    shutil.copy(REPO / "dags" / "foreigndesk_ingest.py", only_ingest)
    (desk / "inbox" / "baothainguyen" / "heal.md").write_bytes(article_bytes(id="dagheal-a"))
    with monkeypatch.context() as broken:
        broken.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([{
            "name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(only_ingest)}}]))
        _mark_translate_dag_gone()
        dag = _dag("foreigndesk_ingest")
        dag.get_task("start_translation").retries = 0  # the API stays down through every retry
        first = dag.test()
    states = _task_states(first)
    assert states["register_drops"] == "success" and states["start_translation"] == "failed", states
    assert _runs("article__dagheal-") == []
    assert not any((desk / "inbox" / "baothainguyen").iterdir()), "the drop is gone: no later run sees it"

    second = _dag("foreigndesk_ingest").test()
    assert _task_states(second)["start_translation"] == "success"
    [(run_id, conf)] = _runs("article__dagheal-")
    assert conf["article_id"] == "dagheal-a" and run_id == f"article__dagheal-a__{conf['revision']}"
    assert (desk / "store" / "articles" / "dagheal-a" / conf["revision"] / "article.json").is_file()

    third = _dag("foreigndesk_ingest").test()
    assert _task_states(third)["start_translation"] == "skipped", "the run exists: not started twice"
    assert _runs("article__dagheal-") == [(run_id, conf)]
    # Still no draft (its run waits), but not even a trigger task is spent on it: in a burst one per waiting
    # article, every minute, took the worker slots the translations needed.
    assert [ti.map_index for ti in third.get_task_instances() if ti.task_id == "start_translation"] == [-1]
