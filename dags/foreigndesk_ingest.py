"""
### foreigndesk_ingest — editors' drops in, one translation run per new revision

Every minute this DAG reads the drop zones (`content/inbox/baothainguyen/`,
`content/inbox/tntv/` by default) and registers each new approved article
revision in the desk's store. A file that can't be accepted is quarantined with
its reason (see the task log and `quarantine/` in the store) — never deleted.

For every new revision it starts one **foreigndesk_translate** run whose run id
is `article__<article id>__<revision>`, so a repeated ingest never starts a
second translation of the same revision.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag, task

from foreigndesk.airflow_glue import OWNER


@dag(
    dag_id="foreigndesk_ingest",
    schedule="* * * * *",
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
        from foreigndesk.airflow_glue import register_drops

        return register_drops()

    TriggerDagRunOperator.partial(
        task_id="start_translation",
        trigger_dag_id="foreigndesk_translate",
        skip_when_already_exists=True,
    ).expand_kwargs(register_drops())


foreigndesk_ingest()
