"""A new revision closes the open reviews of the older ones as *superseded*: recorded, shown, never published.

The record rules are checked on a real store; the end-to-end case runs
foreigndesk_translate under dag.test() with the review parked in Airflow's
real HITL state, registers a newer revision from another thread the way the
ingest task does, and lets the scheduler's own timeout sweep wake the parked
task (as a running scheduler would every loop) until it ends by itself.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from desk_records import put_article, put_decision
from foreigndesk.core import records
from foreigndesk.core.decisions import (
    NEEDS_FIX,
    SUPERSEDED,
    Decision,
    ReviewRequest,
    decisions_for,
    request_key,
    write_decision,
)
from foreigndesk.core.store import LocalStore
from foreigndesk.review.rounds import open_round, plan_review, recheck, supersede_older

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)


def _request(store, article_id, revision, language, attempt=1, deadline="2025-06-04T09:00:00+00:00"):
    request = ReviewRequest(article_id, revision, language, attempt, "2025-06-02T08:00:00+00:00", ["reviewer"],
                            deadline=deadline)
    assert records.write_once(store, request_key(article_id, revision, language, attempt), request)


def _needs_fix(store, article_id, revision, language):
    write_decision(store, Decision(article_id, revision, language, 1, "Approve", "reviewer", "2025-06-02T08:30:00+00:00",
                                   "t", "s", "b", "", "t", "b", False, state=NEEDS_FIX))


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path / "store")
    put_article(store, "a1", "r1", registered_at="2025-06-01T10:00:00+00:00")
    return store


def test_a_new_revision_closes_every_open_review_of_the_older_one_once_and_leaves_decisions_standing(store):
    _request(store, "a1", "r1", "en")  # open, waiting for an answer
    put_decision(store, "a1", "r1", "zh")  # approved: stands (the newest-approved rule decides what goes out)
    _request(store, "a1", "r1", "ko")
    _needs_fix(store, "a1", "r1", "ko")  # its round 2 would open next
    put_article(store, "a1", "r2", registered_at="2025-06-02T08:45:00+00:00")
    closed = supersede_older(store, "a1", "r2", "2025-06-02T08:50:00+00:00")
    assert sorted((d.language, d.attempt, d.outcome, d.superseded_by) for d in closed) == [
        ("en", 1, SUPERSEDED, "r2"), ("ko", 2, SUPERSEDED, "r2")]
    en = decisions_for(store, "a1", "r1", "en")
    assert [(d.outcome, d.approved, d.opened_at) for d in en] == [(SUPERSEDED, False, "2025-06-02T08:00:00+00:00")]
    assert [d.outcome for d in decisions_for(store, "a1", "r1", "zh")] == ["approved"]
    assert supersede_older(store, "a1", "r2", "2025-06-02T09:00:00+00:00") == [], "closed once"
    assert plan_review(store, "a1", "r1", "en", entry=True) is None
    assert plan_review(store, "a1", "r1", "ko", entry=False) is None, "no round 2 for a superseded revision"
    assert supersede_older(store, "a1", "r1", "2025-06-02T09:00:00+00:00") == [], "an older one closes nothing newer"


def test_an_answer_to_a_superseded_form_is_not_recorded(store):
    from foreigndesk.review.rounds import answer_round

    _request(store, "a1", "r1", "en")
    put_article(store, "a1", "r2", registered_at="2025-06-02T08:45:00+00:00")
    supersede_older(store, "a1", "r2", "2025-06-02T08:50:00+00:00")
    late = answer_round(store, "a1", "r1", "en", 1, ["Approve"], {"title": "t", "summary": "", "body": "b"},
                        reviewer="reviewer", decided_at="2025-06-02T08:55:00+00:00")
    assert (late.outcome, late.approved, late.reviewer) == (SUPERSEDED, False, "")
    assert [d.outcome for d in decisions_for(store, "a1", "r1", "en")] == [SUPERSEDED]


def test_a_review_of_an_older_revision_never_opens(store):
    put_article(store, "a1", "r2", registered_at="2025-06-02T08:45:00+00:00")
    assert open_round(store, "a1", "r1", "en", 1, None, NOW, timedelta(days=2), "") is None
    [closed] = decisions_for(store, "a1", "r1", "en")
    assert (closed.attempt, closed.outcome, closed.superseded_by) == (1, SUPERSEDED, "r2")
    assert not store.exists(request_key("a1", "r1", "en", 1))


def test_a_parked_review_that_wakes_waits_on_until_superseded_or_due(store):
    _request(store, "a1", "r1", "en")
    waiting = recheck(store, "a1", "r1", "en", NOW)
    assert (waiting.closed, waiting.expire, waiting.seconds) == (None, False, 2 * 24 * 3600)
    assert recheck(store, "a1", "r1", "en", NOW + timedelta(days=2)).expire
    put_article(store, "a1", "r2", registered_at="2025-06-02T08:45:00+00:00")
    woke = recheck(store, "a1", "r1", "en", NOW)  # nobody called supersede_older: the review sees it itself
    assert woke.closed is not None and (woke.closed.outcome, woke.closed.superseded_by) == (SUPERSEDED, "r2")


def test_status_shows_the_superseded_review(store):
    from foreigndesk.status import collect_status

    _request(store, "a1", "r1", "en")
    put_article(store, "a1", "r2", registered_at="2025-06-02T08:45:00+00:00", languages=["en"])
    supersede_older(store, "a1", "r2", "2025-06-02T08:50:00+00:00")
    rows = {(row.revision, row.language): row for row in collect_status(store, NOW, ("en",)).articles}
    assert (rows[("r1", "en")].state, rows[("r1", "en")].holder) == ("superseded", "revision r2")
    assert rows[("r2", "en")].state == "translating"


# ---- end to end: a parked HITL review ends by itself once a newer revision is registered ----

LINKED = """---
id: tntv-2025-06-hoi-cho-ocop
title: Hội chợ OCOP Thái Nguyên mở cửa
outlet: tntv
approved_by: Trần Thị Mai
approved_at: 2025-06-02T08:00:00+07:00
summary: Hội chợ OCOP năm 2025 khai mạc tại Thái Nguyên.
source_url: https://tntv.vn/hoi-cho-ocop
languages: [en]
---
Hội chợ OCOP năm 2025 đã khai mạc{tail}
"""


def _register(store, tail: str, name: str) -> tuple[str, str]:
    """Register the fair article (``tail`` ends its body) the way intake does: (article id, revision)."""
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

    text = LINKED.format(tail=tail).encode()
    article = register(store, parse_article(text, name, "tntv"), text, name)
    return article.article_id, article.revision


def _parked() -> int:
    """Task instances waiting for an answer in Airflow's database."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        return session.query(TaskInstance).filter(TaskInstance.state == TaskInstanceState.AWAITING_INPUT).count()


class Sweeper(threading.Thread):
    """What a running scheduler does every loop: resolve AWAITING_INPUT tasks whose wait is over."""

    def __init__(self, stop_after: float = 150) -> None:
        super().__init__(daemon=True)
        self.stop_after = stop_after
        self.stopped = threading.Event()
        self.woken = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        from airflow.jobs.job import Job
        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        try:
            runner = SchedulerJobRunner(job=Job(), executors=[])
            deadline = time.monotonic() + self.stop_after
            while time.monotonic() < deadline and not self.stopped.is_set():
                with create_session() as session:
                    due = session.query(TaskInstance).filter(
                        TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                        TaskInstance.trigger_timeout < datetime.now(timezone.utc)).count()
                if due:
                    runner.check_awaiting_input_timeouts()
                    self.woken += due
                time.sleep(0.3)
        except BaseException as error:
            self.error = error


def test_a_parked_review_of_an_older_revision_ends_as_superseded_when_a_newer_one_comes(
        desk, demo_models, airflow_db, monkeypatch):
    from conftest import TEST_PASSWORDS
    from foreigndesk.airflow_side.intake_tasks import close_superseded_reviews
    from foreigndesk.core.settings import load_settings
    from foreigndesk.publish.run import run_publish
    from foreigndesk.status import collect_status
    from hitl_responder import Responder
    from test_review_dag import _run, _states

    monkeypatch.setenv("FOREIGNDESK_REVIEW_RECHECK_SECONDS", "2")
    store = LocalStore(desk / "store")

    def drop(tail: str, name: str):
        return _register(store, tail, name)

    older = drop(".", "hoi-cho.md")
    sweeper = Sweeper()
    newer: list[tuple[str, str]] = []

    def correction_arrives() -> None:
        """The editors send a correction while the older review is parked, after it woke once and parked again."""
        deadline = time.monotonic() + 120
        while (sweeper.woken < 1 or not _parked()) and time.monotonic() < deadline:
            time.sleep(0.2)
        newer.append(drop(" tại Thái Nguyên.", "hoi-cho-sua.md"))
        close_superseded_reviews(store, newer)  # what the ingest task does after registering it

    helper = threading.Thread(target=correction_arrives, daemon=True)
    responder = Responder(TEST_PASSWORDS, {"en": lambda detail: None})  # nobody answers the older review
    run = _run(older, responder, sweeper, helper)
    sweeper.stopped.set()
    sweeper.join(timeout=10)
    helper.join(timeout=10)
    assert sweeper.error is None, sweeper.error
    assert run.state == "success"
    assert newer and newer[0][1] != older[1]
    assert sweeper.woken >= 2, "it woke, found nothing, parked again; woke again and ended"

    [decision] = decisions_for(store, older[0], older[1], "en")
    assert (decision.attempt, decision.outcome, decision.superseded_by, decision.approved) == (
        1, SUPERSEDED, newer[0][1], False)
    states = _states(run)
    assert (states[("review.round_1", 0)], states[("review.round_2", 0)], states[("review.round_3", 0)]) == (
        "success", "skipped", "skipped")
    shown = {(d["task_instance"]["task_id"], d["task_instance"]["map_index"], d["task_instance"]["state"])
             for d in responder.seen}
    assert shown == {("review.round_1", 0, "awaiting_input")}, "one form, answerable only while parked"

    assert run_publish(store, load_settings()).published == [], "nothing published from a superseded review"
    rows = {(row.revision, row.language): row.state for row in collect_status(store, datetime.now(timezone.utc),
                                                                             ("en",)).articles}
    assert rows[(older[1], "en")] == "superseded" and rows[(newer[0][1], "en")] == "translating"


class ServiceClient(threading.Thread):
    """The desk's service account on the real REST app (test client), as the ingest task signs in with it."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.ready = threading.Event()
        self.done = threading.Event()
        self.api = None

    def run(self) -> None:
        from airflow.api_fastapi.app import create_app
        from conftest import TEST_PASSWORDS
        from fastapi.testclient import TestClient
        from foreigndesk.airflow_side.service_api import ServiceApi, api_token

        with TestClient(create_app(apps="core")) as client:
            self.api = ServiceApi(client, "", api_token(client, "", "foreigndesk", TEST_PASSWORDS["foreigndesk"]))
            self.ready.set()
            self.done.wait(timeout=300)


def test_ingest_ends_the_parked_review_of_an_older_revision_at_once_without_waking_it(
        desk, demo_models, airflow_db, monkeypatch):
    """The wake is a safety net hours apart; a correction closes the older form within seconds, costing no wake."""
    from conftest import TEST_PASSWORDS
    from foreigndesk.airflow_side.intake_tasks import close_superseded_reviews
    from foreigndesk.airflow_side.parked_reviews import end_parked
    from hitl_responder import Responder
    from test_review_dag import _run, _states

    # Short enough that a task the ingest failed to end wakes within the test (and fails it), long
    # enough that ending it through the REST API (well under a second) comes first.
    monkeypatch.setenv("FOREIGNDESK_REVIEW_RECHECK_SECONDS", "30")
    store = LocalStore(desk / "store")

    def drop(tail: str, name: str):
        return _register(store, tail, name)

    older = drop(".", "hoi-cho.md")
    sweeper = Sweeper()
    service = ServiceClient()
    service.start()
    ended: dict[str, object] = {}

    def correction_arrives() -> None:
        deadline = time.monotonic() + 120
        while not (_parked() and service.ready.is_set()) and time.monotonic() < deadline:
            time.sleep(0.2)
        newer = drop(" tại Thái Nguyên.", "hoi-cho-sua.md")
        started = time.monotonic()
        ended["problems"] = close_superseded_reviews(store, [newer], api=service.api)
        ended["seconds"] = time.monotonic() - started
        ended["newer"] = newer

    helper = threading.Thread(target=correction_arrives, daemon=True)
    responder = Responder(TEST_PASSWORDS, {"en": lambda detail: None})  # nobody answers the older review
    started = time.monotonic()
    run = _run(older, responder, sweeper, helper)
    took = time.monotonic() - started
    sweeper.stopped.set()
    sweeper.join(timeout=10)
    helper.join(timeout=10)
    assert sweeper.error is None, sweeper.error
    assert ended.get("problems") == [], ended
    assert run.state == "success" and took < 120, (run.state, took)
    assert sweeper.woken == 0, "ended from outside: the parked task never woke"

    [decision] = decisions_for(store, older[0], older[1], "en")
    assert (decision.outcome, decision.superseded_by) == (SUPERSEDED, ended["newer"][1])
    states = _states(run)
    assert (states[("review.round_1", 0)], states[("review.round_2", 0)], states[("review.round_3", 0)]) == (
        "skipped", "skipped", "skipped")

    # Ending again (a retried ingest, the next revision) leaves a task that no longer waits alone.
    from foreigndesk.airflow_side.desk import TRANSLATE_DAG_ID

    assert end_parked(service.api, TRANSLATE_DAG_ID, run.run_id, "review.round_1", 0, "again") == "skipped"
    assert close_superseded_reviews(store, [ended["newer"]], api=service.api) == []
    service.done.set()
    service.join(timeout=10)


def test_a_correction_registered_while_the_form_opens_ends_the_review_without_parking(
        desk, demo_models, airflow_db, monkeypatch):
    """Ingest may look at the task before it parks; the task then sees the record and ends itself at once."""
    from conftest import TEST_PASSWORDS
    from airflow.providers.standard.operators.hitl import HITLOperator
    from hitl_responder import Responder
    from test_review_dag import _run, _states

    monkeypatch.setenv("FOREIGNDESK_REVIEW_RECHECK_SECONDS", "5")  # a parked task would wake and fail the test
    monkeypatch.setenv("FOREIGNDESK_NOTIFY", "log")
    store = LocalStore(desk / "store")

    def drop(tail: str, name: str):
        return _register(store, tail, name)

    older = drop(".", "hoi-cho.md")
    newer: list[tuple[str, str]] = []
    create_form = HITLOperator.execute

    def correction_while_opening(self, context):
        if not newer:  # after the desk's own supersession check, before the form exists
            newer.append(drop(" tại Thái Nguyên.", "hoi-cho-sua.md"))
            supersede_older(store, newer[0][0], newer[0][1], "2025-06-02T09:00:00+00:00")
        return create_form(self, context)

    monkeypatch.setattr(HITLOperator, "execute", correction_while_opening)
    sweeper = Sweeper()
    responder = Responder(TEST_PASSWORDS, {"en": lambda detail: None})
    started = time.monotonic()
    run = _run(older, responder, sweeper)
    sweeper.stopped.set()
    sweeper.join(timeout=10)
    assert run.state == "success" and time.monotonic() - started < 120
    assert sweeper.woken == 0 and newer
    states = _states(run)
    assert (states[("review.round_1", 0)], states[("review.round_2", 0)], states[("review.round_3", 0)]) == (
        "skipped", "skipped", "skipped")
    [decision] = decisions_for(store, older[0], older[1], "en")
    assert (decision.outcome, decision.superseded_by) == (SUPERSEDED, newer[0][1])
