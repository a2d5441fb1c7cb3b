"""
### foreigndesk_publish — approved translations out, each exactly once per channel

On a schedule (`FOREIGNDESK_PUBLISH_CRON`, default every 15 minutes, in
`FOREIGNDESK_TIMEZONE`, default Asia/Ho_Chi_Minh), one run at a time, this DAG
publishes every approved translation whose `publish_at` embargo has passed to:

* the Vietnam.vn portal feed — `feeds/<lang>/rss.xml` (RSS 2.0) and `feeds/<lang>/feed.json` (JSON Feed 1.1) in the store;
* the Dynamic Thainguyen web section — `web/<lang>/<article>.html` and `web/<lang>/index.html` in the store;
* the Vietnam.vn push — when the Airflow Connection `foreigndesk_portal_push` exists (host = endpoint URL, password = token);
* the Dynamic Thainguyen fanpage — when the Airflow Connection `foreigndesk_fanpage` exists
  (host = Graph API base URL with version, password = Page token, extra `{"page_id": "..."}`).

Each (article, revision, language, channel) goes out once: a ledger claim before the call, the remote
id after it; ambiguous failures are checked on the channel before any retry; 4xx refusals are recorded
and shown by `foreigndesk status`. `foreigndesk publish` runs the same code from a shell.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable
from foreigndesk.airflow_side.desk import OWNER
from foreigndesk.core.settings import publish_schedule

CRON, TIMEZONE = publish_schedule()


@dag(
    dag_id="foreigndesk_publish",
    schedule=CronTriggerTimetable(CRON, timezone=TIMEZONE),
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    tags=["foreigndesk", "publish"],
    default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=2)},
    doc_md=__doc__,
)
def foreigndesk_publish():
    @task
    def publish() -> dict:
        from foreigndesk.airflow_side.publish_tasks import publish_approved

        return publish_approved()

    publish()


foreigndesk_publish()
