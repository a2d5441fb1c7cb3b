"""
### foreigndesk_translate — one article revision, machine-translated and reviewed

Started by **foreigndesk_ingest**, one run per article revision
(`conf: {"article_id": ..., "revision": ...}`).

1. **translate** — Vietnamese → English with the installed Argos model, then
   English → Chinese and English → Korean (English is the pivot, computed once).
   Drafts are written to the store.
2. **review** — one Human-in-the-loop review per language (a mapped task group),
   assigned to that language's reviewers (Airflow Variable `foreigndesk_reviewers`).
   The form shows the QA findings first, then source and translation side by side,
   with the translation in editable fields. **Approve** or **Reject**; the decision
   is written to the store and only approved texts are ever published.
   - An Approve whose text fails the checks (empty, broken Markdown, a link or image
     lost, a glossary error left) is recorded as *needs fix* and the next round
     (`round_2`, `round_3`) opens for the same reviewers, pre-filled with their text
     and the problem stated first. Rounds with nothing to do are skipped.
   - A review nobody answers within `FOREIGNDESK_REVIEW_TIMEOUT_SECONDS` is recorded as
     *expired*, nothing is approved, and the desk is notified. Clear `review.round_1`
     of that language to re-open it.
   - A review task that Airflow fails right after a quick answer is retried at once
     (`FOREIGNDESK_REVIEW_RETRIES`, default 3): the retry records the answer given,
     read back through the REST API, or re-opens the same form if it cannot.

3. Only with `FOREIGNDESK_PIVOT=approved` (the human pivot; read when this file is
   parsed, so every Airflow component needs the same value): step 1 drafts English
   alone; once its review is decided, **translate_after_english** drafts Chinese and
   Korean from the **approved** English (from the machine English, flagged in the
   form, when it was rejected or expired), reviewed in **review_after_english**;
   **a_review_failed** fails the run when any review task failed.

If the form starts with "DEMO MODEL — not a real translation", no real model
is installed for that pair: see the README, "Installing real models".
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, chain, dag, task, task_group
from foreigndesk.airflow_side.desk import OWNER
from foreigndesk.airflow_side.review_operator import ReviewOperator
from foreigndesk.core.settings import pivot_mode, review_retries
from foreigndesk.review.rounds import ROUNDS

#: A run spends hours waiting for its reviewers (deferred: no worker slot). Airflow's default of
#: 16 active runs per DAG held the 17th article of a burst back, untranslated, until somebody
#: answered a review (seen: bursts of 20 and 40 stopped at 16 review-ready). Slots, not this,
#: bound how much translates at once.
MAX_OPEN_ARTICLES = 1000


def review_rounds(language) -> None:
    # Retried at once when Airflow fails an answered review (a race in 3.3): the retry records the
    # answer its earlier try received, or returns the decision already recorded — never asks twice.
    chain(*[ReviewOperator(task_id=f"round_{number}", language=language, round=number,
                           retries=review_retries(), retry_delay=timedelta(seconds=2))
            for number in range(1, ROUNDS + 1)])


@dag(
    dag_id="foreigndesk_translate",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=MAX_OPEN_ARTICLES,
    tags=["foreigndesk", "translate", "review"],
    default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
    params={
        "article_id": Param(type="string", description="Article id, as registered by intake"),
        "revision": Param(type="string", description="Revision of the article to translate"),
    },
    doc_md=__doc__,
)
def foreigndesk_translate():
    pivot = pivot_mode()

    @task
    def translate(pivot: str) -> list[str]:
        from foreigndesk.airflow_side.translate_tasks import translate_article

        return translate_article(pivot)

    @task_group(group_id="review")
    def review(language: str):
        review_rounds(language)

    drafts = translate(pivot)  # the task order below and what the task drafts agree by construction
    if pivot != "approved":
        review.expand(language=drafts)
        return

    @task(trigger_rule="all_done")  # after the English review, however it ended
    def translate_after_english() -> list[str]:
        from foreigndesk.airflow_side.translate_tasks import translate_after_english

        return translate_after_english()

    @task_group(group_id="review_after_english")
    def review_after_english(language: str):
        review_rounds(language)

    @task(trigger_rule="one_failed", retries=0)
    def a_review_failed() -> None:
        """The English reviews are no longer the run's last tasks: fail the run when one of them failed."""
        raise RuntimeError("a review task failed; its log says why, clear it to re-open the review")

    english = review.expand(language=drafts)
    later = translate_after_english()
    english >> later
    [english, review_after_english.expand(language=later)] >> a_review_failed()


foreigndesk_translate()
