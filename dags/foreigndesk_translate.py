"""
### foreigndesk_translate — one article revision, machine-translated and reviewed

Started by **foreigndesk_ingest**, one run per article revision
(`conf: {"article_id": ..., "revision": ...}`).

1. **translate** — Vietnamese → English with the installed Argos model, then
   English → Chinese and English → Korean (English is the pivot, computed once).
   Drafts are written to the store.
2. **review** — one Human-in-the-loop task per language, assigned to that
   language's reviewers (Airflow Variable `foreigndesk_reviewers`). The form
   shows source and translation side by side with the translation in editable
   fields. **Approve** or **Reject**; the decision is written to the store and
   only approved texts are ever published.

If the form starts with "DEMO MODEL — not a real translation", no real model
is installed for that pair: see the README, "Installing real models".
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from foreigndesk.airflow_glue import OWNER, ReviewOperator


@dag(
    dag_id="foreigndesk_translate",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    tags=["foreigndesk", "translate", "review"],
    default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
    params={
        "article_id": Param(type="string", description="Article id, as registered by intake"),
        "revision": Param(type="string", description="Revision of the article to translate"),
    },
    doc_md=__doc__,
)
def foreigndesk_translate():
    @task
    def translate() -> list[str]:
        from foreigndesk.airflow_glue import translate_article

        return translate_article()

    ReviewOperator.partial(task_id="review", retries=0).expand(language=translate())


foreigndesk_translate()
