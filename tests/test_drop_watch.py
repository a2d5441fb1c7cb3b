"""Event-driven intake: the triggerer sees a drop within seconds; a second look never registers twice.

The watch is exercised with real folders and a real S3 API server on loopback (moto's
threaded server), and ``DropZoneTrigger`` — the class Airflow's triggerer loads from
the ingest DAG — runs its own ``run()`` loop here under asyncio, as the triggerer runs it.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from drops import article_bytes
from foreigndesk.core.settings import load_settings
from foreigndesk.intake.drop_watch import new_drops, pending_drops


def _settings(inbox: Path, s3_inbox: str = "", settle_seconds: float = 0):
    """Files count the moment they are written unless a test asks for settling (the desk's default is 5 s)."""
    env = {"FOREIGNDESK_INBOX": str(inbox), "FOREIGNDESK_SETTLE_SECONDS": str(settle_seconds)}
    if s3_inbox:
        env["FOREIGNDESK_S3_INBOX"] = s3_inbox
    return load_settings(env)


def test_pending_drops_sees_complete_files_in_every_zone_and_skips_copies_in_progress(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "tntv").mkdir(parents=True)
    (inbox / "elsewhere").mkdir()
    (inbox / "tntv" / "a.md").write_bytes(b"x")
    (inbox / "tntv" / "b.md.part").write_bytes(b"x")
    (inbox / "tntv" / ".c.md").write_bytes(b"x")
    (inbox / "elsewhere" / "stray.md").write_bytes(b"x")  # intake quarantines it: it must run
    (inbox / "loose.md").write_bytes(b"x")
    seen = {item.split("|")[0] for item in pending_drops(_settings(inbox), lambda: None)}
    assert seen == {str(inbox / "tntv" / "a.md"), str(inbox / "elsewhere" / "stray.md"), str(inbox / "loose.md")}


def test_a_file_written_in_place_counts_once_it_has_settled_exactly_when_intake_takes_it(tmp_path):
    """The watcher and intake ask the same question: an event for a file intake would leave waiting
    started an ingest run that took nothing, and the drop waited for the next minute's run."""
    from foreigndesk.intake.ingest import run_intake

    inbox = tmp_path / "inbox"
    (inbox / "tntv").mkdir(parents=True)
    settings = load_settings({"FOREIGNDESK_INBOX": str(inbox), "FOREIGNDESK_STORE": str(tmp_path / "store"),
                              "FOREIGNDESK_SETTLE_SECONDS": "1.5"})
    path = inbox / "tntv" / "a.md"
    path.write_bytes(article_bytes(outlet="tntv", id="tntv-in-place"))  # written in place: mtime == ctime, it may still grow
    assert pending_drops(settings, lambda: None) == frozenset(), "not yet: intake would leave it"
    assert run_intake(settings, lambda: None).waiting == [str(path)]
    time.sleep(1.6)
    now = pending_drops(settings, lambda: None)
    assert new_drops(frozenset(), now) == now and {item.split("|")[0] for item in now} == {str(path)}
    assert [item.article_id for item in run_intake(settings, lambda: None).accepted] == ["tntv-in-place"]

    renamed = inbox / "tntv" / "b.md"
    staging = inbox / "tntv" / ".b.md.part"
    staging.write_bytes(article_bytes(outlet="tntv", id="tntv-renamed"))
    os.utime(staging, ns=(time.time_ns(), time.time_ns() - 2_000_000_000))  # the data written before the rename
    staging.rename(renamed)
    assert {item.split("|")[0] for item in pending_drops(settings, lambda: None)} == {str(renamed)}, \
        "renamed into place after its last write: complete, counted at once"


def test_a_missing_inbox_is_nothing_waiting_not_an_error(tmp_path):
    assert pending_drops(_settings(tmp_path / "nowhere"), lambda: None) == frozenset()


def test_a_corrected_article_under_the_same_name_is_new(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "tntv").mkdir(parents=True)
    path = inbox / "tntv" / "a.md"
    path.write_bytes(b"first")
    before = pending_drops(_settings(inbox), lambda: None)
    assert new_drops(before, pending_drops(_settings(inbox), lambda: None)) == frozenset()  # nothing new
    path.write_bytes(b"second, longer")
    os.utime(path, ns=(time.time_ns(), time.time_ns() - 1_000_000_000))  # a version of its own
    assert len(new_drops(before, pending_drops(_settings(inbox), lambda: None))) == 1


def test_the_s3_inbox_is_listed_with_versions_and_a_failing_one_is_reported(tmp_path, s3_bucket):
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="inbox/tntv/a.md", Body=b"one")
    client.put_object(Bucket=bucket, Key="inbox/tntv/b.md.tmp", Body=b"partial")
    client.put_object(Bucket=bucket, Key="elsewhere/c.md", Body=b"not an inbox")
    errors: list[str] = []
    first = pending_drops(_settings(tmp_path / "inbox", f"s3://{bucket}/inbox"), lambda: client, errors.append)
    assert {item.split("|")[0] for item in first} == {f"s3://{bucket}/inbox/tntv/a.md"}
    client.put_object(Bucket=bucket, Key="inbox/tntv/a.md", Body=b"two, corrected")
    second = pending_drops(_settings(tmp_path / "inbox", f"s3://{bucket}/inbox"), lambda: client, errors.append)
    assert len(new_drops(first, second)) == 1 and errors == []

    missing = pending_drops(_settings(tmp_path / "inbox", "s3://no-such-bucket-here/inbox"), lambda: client,
                            errors.append)
    assert missing == frozenset()
    assert len(errors) == 2 and "s3://no-such-bucket-here/inbox/" in errors[0]  # one per outlet folder


# --- the trigger, as the triggerer runs it -------------------------------------------------------

class _Events:
    """Drives the trigger's ``run()`` in its own task, as the triggerer does, queueing what it yields."""

    def __init__(self, trigger) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._drive(trigger))

    async def _drive(self, trigger) -> None:
        async for event in trigger.run():
            await self.queue.put(event)

    async def next(self, timeout: float):
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def close(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


def test_the_trigger_fires_within_seconds_of_a_drop_in_a_folder_or_the_s3_inbox(tmp_path, s3_endpoint, s3_bucket,
                                                                                monkeypatch):
    from foreigndesk.airflow_side.drop_trigger import CLASSPATH, DropZoneTrigger

    client, bucket = s3_bucket
    inbox = tmp_path / "inbox"
    (inbox / "tntv").mkdir(parents=True)
    for name, value in {"FOREIGNDESK_INBOX": str(inbox), "FOREIGNDESK_S3_INBOX": f"s3://{bucket}/inbox",
                        "FOREIGNDESK_SETTLE_SECONDS": "0",
                        "AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test",
                        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    trigger = DropZoneTrigger(poll_seconds=0.2)
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH and kwargs == {"poll_seconds": 0.2}

    async def scenario() -> dict:
        events = _Events(trigger)
        waits = {}
        try:
            # nothing waiting: no event
            with pytest.raises(asyncio.TimeoutError):
                await events.next(1.0)
            (inbox / "tntv" / "a.md").write_bytes(article_bytes(outlet="tntv"))
            started = time.monotonic()
            event = await events.next(10)
            waits["folder"] = time.monotonic() - started
            assert event.payload["new_drops"] == 1
            assert event.payload["examples"] == [str(inbox / "tntv" / "a.md")]
            # the same file still there (e.g. being ingested): no second event
            with pytest.raises(asyncio.TimeoutError):
                await events.next(1.0)
            client.put_object(Bucket=bucket, Key="inbox/baothainguyen/b.md", Body=article_bytes())
            started = time.monotonic()
            event = await events.next(10)
            waits["s3"] = time.monotonic() - started
            assert event.payload["examples"] == [f"s3://{bucket}/inbox/baothainguyen/b.md"]
        finally:
            await events.close()
        return waits

    waits = asyncio.run(scenario())
    assert waits["folder"] < 3 and waits["s3"] < 3, waits


def test_a_restarted_trigger_fires_once_for_what_is_already_waiting(tmp_path, monkeypatch):
    from foreigndesk.airflow_side.drop_trigger import DropZoneTrigger

    inbox = tmp_path / "inbox"
    (inbox / "tntv").mkdir(parents=True)
    (inbox / "tntv" / "a.md").write_bytes(b"waiting since before the triggerer started")
    monkeypatch.setenv("FOREIGNDESK_INBOX", str(inbox))
    monkeypatch.setenv("FOREIGNDESK_SETTLE_SECONDS", "0")
    monkeypatch.delenv("FOREIGNDESK_S3_INBOX", raising=False)

    async def scenario():
        events = _Events(DropZoneTrigger(poll_seconds=0.1))
        try:
            first = await events.next(5)
            with pytest.raises(asyncio.TimeoutError):
                await events.next(0.8)
            return first
        finally:
            await events.close()

    assert asyncio.run(scenario()).payload["new_drops"] == 1


@pytest.mark.airflow
def test_the_ingest_dag_runs_on_the_drop_watcher_and_every_minute():
    from airflow.dag_processing.dagbag import DagBag
    from conftest import REPO

    from foreigndesk.airflow_side.drop_trigger import DropZoneTrigger

    bag = DagBag(dag_folder=str(REPO / "dags" / "foreigndesk_ingest.py"))
    assert bag.import_errors == {}
    dag = bag.dags["foreigndesk_ingest"]
    timetable = dag.timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert timetable.timetable.expression == "* * * * *"  # the safety net
    (asset,) = timetable.asset_condition.objects
    assert asset.name == "foreigndesk_drops"
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, DropZoneTrigger)
    assert dag.max_active_runs == 1
