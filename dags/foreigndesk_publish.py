"""
### foreigndesk_publish — approved translations out, each exactly once

On a schedule (`FOREIGNDESK_PUBLISH_CRON`, default every 15 minutes, Asia/Ho_Chi_Minh)
this DAG publishes every approved, not yet published translation to the
per-language portal feed (JSON Feed 1.1 at `feeds/<lang>/feed.json` in the store).
What is due is read from the store's records: approvals without a ledger entry.
Rejected translations are never published. One run at a time.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from foreigndesk.airflow_glue import OWNER
from foreigndesk.settings import load_settings

_settings = load_settings()


@dag(
    dag_id="foreigndesk_publish",
    schedule=CronTriggerTimetable(_settings.publish_cron, timezone=_settings.timezone),
    start_date=pendulum.datetime(2025, 1, 1, tz=_settings.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["foreigndesk", "publish"],
    default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=2)},
    doc_md=__doc__,
)
def foreigndesk_publish():
    @task
    def publish() -> dict:
        from foreigndesk.airflow_glue import publish_approved

        return publish_approved()

    publish()


foreigndesk_publish()
