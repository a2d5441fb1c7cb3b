"""
### foreigndesk_ingest — editors' drops in, one translation run per new revision

Within seconds of a drop — and every minute as a safety net — this DAG reads every configured source — the drop folders
(`content/inbox/baothainguyen/`, `content/inbox/tntv/` by default), the S3 inbox
prefixes (`FOREIGNDESK_S3_INBOX`) and the outlet feeds (`FOREIGNDESK_FEED_<OUTLET>`,
conditional GET) — and registers each new approved article revision in the
desk's store. A file that can't be accepted is quarantined with its reason (see
the task log and `quarantine/` in the store) — never deleted. Raw HTML in an
article is accepted as text and flagged for the reviewer.

For every revision it handled it starts one **foreigndesk_translate** run whose
run id is `article__<article id>__<revision>`, so a repeated ingest never starts
a second translation of the same revision. A source that could not be read
(e.g. a feed answering 500) fails the `report_source_errors` task after the
translations of everything else have been started.

Starting a translation heals itself: every run also starts the translation of
each revision registered in the last 24 hours (intake's article journal) that
has no draft and no translate run yet, so if `start_translation` failed for good (the API down
through every retry) after the drop left its source, the next run starts it.
A translate run that exists is never started again, whatever its state: a
**failed** translate run is left alone — clear it in the UI to run it again.

**Event-driven**: the triggerer watches the drop folders and S3 inboxes
(`DropZoneTrigger`, every 2 s) and updates the `foreigndesk_drops` asset when a
drop appears, which starts a run at once. The per-minute cron stays as the safety
net (and polls the outlet feeds). Runs from both are the same run: intake's
create-only records make a second look at a drop a no-op.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, AssetOrTimeSchedule, AssetWatcher, CronTriggerTimetable, dag, task

from foreigndesk.airflow_side.desk import OWNER
from foreigndesk.airflow_side.drop_trigger import DropZoneTrigger

DROPS = Asset(
    "foreigndesk_drops",
    watchers=[AssetWatcher(name="foreigndesk_drop_zones", trigger=DropZoneTrigger(poll_seconds=2.0))],
)


@dag(
    dag_id="foreigndesk_ingest",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("* * * * *", timezone="Asia/Ho_Chi_Minh"), assets=[DROPS]
    ),
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    tags=["foreigndesk", "intake"],
    default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
)
def foreigndesk_ingest():
    @task
    def register_drops() -> list[dict]:
        from foreigndesk.airflow_side.intake_tasks import register_drops

        return register_drops()

    @task(trigger_rule="all_done", retries=0)
    def report_source_errors() -> None:
        from foreigndesk.airflow_side.intake_tasks import report_source_errors

        report_source_errors()

    TriggerDagRunOperator.partial(
        task_id="start_translation",
        trigger_dag_id="foreigndesk_translate",
        skip_when_already_exists=True,
    ).expand_kwargs(register_drops()) >> report_source_errors()


foreigndesk_ingest()
