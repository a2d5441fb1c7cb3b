"""The ingest DAG's task bodies: take the drops in, start one translate run per revision."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow.sdk import get_current_context
from foreigndesk.airflow_side.desk import TRANSLATE_DAG_ID, s3_client_for, translate_run_id
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import open_store

SOURCE_ERRORS_XCOM = "source_errors"


def register_drops() -> list[dict[str, Any]]:
    """Ingest every configured source; return one TriggerDagRunOperator kwargs per revision to start.

    Sources that could not be read are pushed as the ``source_errors`` XCom and failed on by
    :func:`report_source_errors` once the translations of everything else have started.

    The revisions are those whose drop was handled this run, then every revision of the article
    journal's last day that has no draft and no translate run yet
    (:func:`foreigndesk.translate.pipeline.untranslated_recent`, :func:`without_run`): a trigger that
    failed for good after its drop left the source is retried by the next run. Run ids are derived, so
    the trigger is skipped wherever the run exists, whatever its state.
    """
    from functools import cache

    from foreigndesk.intake.ingest import run_intake
    from foreigndesk.translate.pipeline import untranslated_recent

    settings = load_settings()
    make_client = cache(lambda: s3_client_for(settings))
    result = run_intake(settings, make_client)
    for item in result.accepted:
        flagged = f" — FLAGGED: {'; '.join(item.flags)}" if item.flags else ""
        print(f"registered {item.article_id} revision {item.revision} from {item.source_file}{flagged}")
    for item in result.quarantined:
        print(f"quarantined {item['file']}: {item['reason']}")
    for location in result.waiting:
        print(f"still being copied in, left for the next run: {location}")
    get_current_context()["ti"].xcom_push(key=SOURCE_ERRORS_XCOM, value=result.errors)
    store = open_store(settings.store, make_client() if settings.store.startswith("s3://") else None)
    close_superseded_reviews(store, result.revisions())
    revisions = result.revisions()
    untranslated = [item for item in untranslated_recent(store, datetime.now(timezone.utc)) if item not in revisions]
    for article_id, revision in without_run(untranslated):
        print(f"no draft and no translate run for {article_id} revision {revision}: its translate run is started")
        revisions.append((article_id, revision))
    return [
        {
            "trigger_run_id": translate_run_id(article_id, revision),
            "conf": {"article_id": article_id, "revision": revision},
        }
        for article_id, revision in revisions
    ]


def without_run(revisions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The revisions whose translate run does not exist, asked of Airflow in halves.

    Why not just trigger them all (the trigger skips a run that exists): in a burst every waiting
    article has no draft yet, so each ingest run mapped one ``start_translation`` task per waiting
    article — a worker slot each, every minute, taken from the translations themselves. Counting
    the runs that exist costs one API call when all exist, the usual case.
    """
    ti = get_current_context()["ti"]

    def missing(part: list[tuple[str, str]]) -> list[tuple[str, str]]:
        run_ids = [translate_run_id(*revision) for revision in part]
        if not part or ti.get_dr_count(dag_id=TRANSLATE_DAG_ID, run_ids=run_ids) == len(part):
            return []
        if len(part) == 1:
            return part
        return missing(part[: len(part) // 2]) + missing(part[len(part) // 2:])

    return missing(revisions)


def close_superseded_reviews(store: Any, revisions: list[tuple[str, str]], api: Any = None) -> list[str]:
    """A new revision closes the open reviews of the older ones, and ends their parked tasks; the problems.

    ``api``: the signed-in service account (the tests hand one on the REST app's test
    client); by default the Connection ``foreigndesk_api``.
    """
    from foreigndesk.airflow_side.parked_reviews import end_parked_all
    from foreigndesk.airflow_side.service_api import service_api
    from foreigndesk.core.records import now_utc
    from foreigndesk.review.rounds import supersede_older, superseded_waits

    waits = []
    for article_id, revision in revisions:
        for closed in supersede_older(store, article_id, revision, now_utc()):
            print(f"review of {article_id} revision {closed.revision} {closed.language} (attempt {closed.attempt}) "
                  f"closed: superseded by revision {revision}")
        waits += superseded_waits(store, article_id, revision)
    if not waits:
        return []
    if api is not None:
        return end_parked_all(api, TRANSLATE_DAG_ID, waits)
    try:
        with service_api() as signed_in:
            return end_parked_all(signed_in, TRANSLATE_DAG_ID, waits)
    except Exception as error:  # signing in failed: the records already close them; their wake ends the tasks
        print(f"could not sign in to end {len(waits)} parked superseded review(s): {error}")
        return [str(error)]


def report_source_errors() -> None:
    """Fail the ingest run, visibly, when a source could not be read (the others were ingested)."""
    errors = get_current_context()["ti"].xcom_pull(task_ids="register_drops", key=SOURCE_ERRORS_XCOM)
    if errors is None:
        raise RuntimeError("register_drops did not finish; see its log")
    if errors:
        raise RuntimeError("some sources could not be read: " + " | ".join(errors))
