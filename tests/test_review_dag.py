"""The review step for real: foreigndesk_translate under dag.test(), answered through Airflow's REST app.

Each test registers an article in a fresh store, runs the translate DAG in
the main thread (as HITL under dag.test() requires) and answers the reviews
from a background thread through ``TestClient(create_app(apps="core"))`` with
the auth manager's real tokens. Notices go to a real HTTP server on loopback
through the webhook channel (an Airflow Connection from the environment).

The timeout case drives the scheduler's own timeout sweep
(``SchedulerJobRunner.check_awaiting_input_timeouts``): dag.test() has no
scheduler, so nothing else would ever time the review out.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import REPO, TEST_PASSWORDS
from hitl_responder import Responder, language_of, prefilled, run_answered
from loopback_http import Receiver

pytestmark = pytest.mark.airflow

TEA = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"
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
Hội chợ OCOP năm 2025 đã khai mạc. Xem [chương trình](https://tntv.vn/ocop-2025).

![Gian hàng chè](https://tntv.vn/anh/gian-hang.jpg)
"""
ZH_LAST_PARAGRAPH = "> 茶旅游是太原与国际朋友合作的桥梁。"


def zh_edit(machine_body: str) -> str:
    """A translator's edit: the last paragraph rewritten in Chinese, the official name (太原) kept."""
    head, _ = machine_body.rstrip("\n").rsplit("\n\n", 1)
    return f"{head}\n\n{ZH_LAST_PARAGRAPH}\n"


@pytest.fixture
def hooks(monkeypatch):
    server = Receiver()
    monkeypatch.setenv("FOREIGNDESK_NOTIFY", "log,webhook")
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_WEBHOOK",
                       json.dumps({"conn_type": "http", "host": server.url}))
    yield server
    server.close()


def _register(desk, text: bytes, name: str, outlet: str = "tntv") -> tuple[str, str]:
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

    article = register(LocalStore(desk / "store"), parse_article(text, name, outlet), text, name)
    return article.article_id, article.revision


def _translate_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=REPO / "dags")
    assert not bag.import_errors, bag.import_errors
    return bag.dags["foreigndesk_translate"]


def _run(article: tuple[str, str], responder: Responder, *helpers: threading.Thread):
    return run_answered(_translate_dag(), {"article_id": article[0], "revision": article[1]}, responder, *helpers)


def _states(run) -> dict[tuple[str, int], str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id,
                                                 TaskInstance.dag_id == run.dag_id).all()
        return {(ti.task_id, ti.map_index): str(ti.state) for ti in tis}


def _decisions(desk, article, language):
    from foreigndesk.core.decisions import decisions_for
    from foreigndesk.core.store import LocalStore

    return decisions_for(LocalStore(desk / "store"), article[0], article[1], language)


class Probing(Responder):
    """Before answering English, a Chinese reviewer and the admin try to answer it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.probes: dict[str, int] = {}

    def patch(self, client, detail, user, payload):
        if language_of(detail) == "en" and not self.probes:
            for intruder in ("reviewer_zh", "admin"):
                self.probes[intruder] = super().patch(client, detail, intruder, payload).status_code
        return super().patch(client, detail, user, payload)


@pytest.fixture
def reviewers_variable(airflow_db):
    """The desk chief's Variable: Chinese is reviewed by two people."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    value = {"en": ["reviewer_en"], "zh": ["reviewer_zh", "editor"], "ko": ["reviewer_ko"]}
    with create_session() as session:
        session.query(Variable).filter(Variable.key == "foreigndesk_reviewers").delete()
        session.add(Variable(key="foreigndesk_reviewers", val=json.dumps(value)))
    yield value
    with create_session() as session:
        session.query(Variable).filter(Variable.key == "foreigndesk_reviewers").delete()


def test_approve_unchanged_approve_edited_reject_and_only_assigned_reviewers(desk, demo_models, airflow_db, hooks,
                                                                            reviewers_variable):
    article = _register(desk, TEA.read_bytes(), TEA.name)

    def approve_unchanged(detail):
        return {"chosen_options": ["Approve"], "params_input": prefilled(detail)}

    def approve_edited(detail):
        return {"chosen_options": ["Approve"], "params_input": {**prefilled(detail), "body": zh_edit(prefilled(detail)["body"]),
                                                               "note": "tên lễ hội"}}

    def reject(detail):
        return {"chosen_options": ["Reject"], "params_input": {**prefilled(detail), "note": "Sai thuật ngữ"}}

    responder = Probing(TEST_PASSWORDS, {"en": approve_unchanged, "zh": approve_edited, "ko": reject})
    run = _run(article, responder)
    assert run.state == "success"

    assert responder.probes == {"reviewer_zh": 403, "admin": 403}
    assert sorted((c["language"], c["user"], c["status"]) for c in responder.calls) == [
        ("en", "reviewer_en", 200), ("ko", "reviewer_ko", 200), ("zh", "reviewer_zh", 200)]
    assert sorted(d["subject"][:4] for d in responder.seen) == ["[EN]", "[KO]", "[ZH]"], "one form per language"
    assigned = {language_of(d): [u["id"] for u in d["assigned_users"]] for d in responder.seen}
    assert assigned == reviewers_variable

    en, zh, ko = (_decisions(desk, article, lang) for lang in ("en", "zh", "ko"))
    assert [(d.attempt, d.outcome, d.approved) for d in en] == [(1, "approved", True)]
    assert [(d.attempt, d.outcome, d.approved) for d in zh] == [(1, "approved", True)]
    assert [(d.attempt, d.outcome, d.approved) for d in ko] == [(1, "rejected", False)]
    assert en[0].edit_distance == 0 and en[0].body == en[0].machine_body
    assert zh[0].body == zh_edit(zh[0].machine_body) and zh[0].edit_distance > 0 and zh[0].note == "tên lễ hội"
    assert ko[0].note == "Sai thuật ngữ" and ko[0].reviewer == "reviewer_ko"
    assert en[0].opened_at and en[0].opened_at <= en[0].decided_at

    states = _states(run)
    for index in range(3):
        assert states[("review.round_1", index)] == "success"
        assert states[("review.round_2", index)] == "skipped"
        assert states[("review.round_3", index)] == "skipped"

    opened = [n for n in hooks.json_bodies if n["kind"] == "review_opened"]
    assert sorted(n["language"] for n in opened) == ["en", "ko", "zh"]
    by_language = {language_of(d): d["task_instance"]["map_index"] for d in responder.seen}
    for notice in opened:
        assert notice["link"] == (f"http://localhost:8080/dags/foreigndesk_translate/runs/{run.run_id}/"
                                  f"tasks/review.round_1/mapped/{by_language[notice['language']]}"
                                  "/required_actions")
        assert notice["reviewers"] == reviewers_variable[notice["language"]]
        assert notice["subject"].startswith(f"Review waiting: [{notice['language'].upper()}] Lễ hội Trà Tân Cương")


def test_a_broken_approval_needs_a_fix_and_reopens_prefilled_until_fixed(desk, demo_models, airflow_db, hooks):
    article = _register(desk, LINKED.encode(), "hoi-cho.md")
    link_lost = "The OCOP fair 2025 has opened. See the programme.\n"

    def answer(detail):
        fields = prefilled(detail)
        round_ = detail["task_instance"]["task_id"]
        if round_ == "review.round_1":
            return {"chosen_options": ["Approve"], "params_input": {**fields, "body": 42}}
        if round_ == "review.round_2":
            return {"chosen_options": ["Approve"], "params_input": {**fields, "body": link_lost}}
        fixed = ("The OCOP fair 2025 has opened. See [the programme](https://tntv.vn/ocop-2025).\n\n"
                 "![Tea stall](https://tntv.vn/anh/gian-hang.jpg)\n")
        return {"chosen_options": ["Approve"], "params_input": {**fields, "body": fixed}}

    responder = Responder(TEST_PASSWORDS, {"en": answer})
    run = _run(article, responder)
    assert run.state == "success"

    forms = {d["task_instance"]["task_id"]: d for d in responder.seen}
    assert sorted(forms) == ["review.round_1", "review.round_2", "review.round_3"]
    assert all([u["id"] for u in d["assigned_users"]] == ["reviewer_en"] for d in forms.values())
    assert not forms["review.round_1"]["body"].startswith("**✖")

    second = forms["review.round_2"]
    assert second["body"].startswith("**✖ Fix needed (attempt 2).**")
    assert "The field 'body' came back as int, not text" in second["body"].split("###")[0]
    assert prefilled(second)["body"] == prefilled(forms["review.round_1"])["body"], "the earlier text is kept"

    third = forms["review.round_3"]
    problems = third["body"].split("Your own text is in the fields below")[0]
    assert third["body"].startswith("**✖ Fix needed (attempt 3).**")
    assert "the link https://tntv.vn/ocop-2025 from the source is missing" in problems
    assert "the image https://tntv.vn/anh/gian-hang.jpg from the source is missing" in problems
    assert prefilled(third)["body"] == link_lost, "the reviewer's own text is pre-filled"

    decisions = _decisions(desk, article, "en")
    assert [(d.attempt, d.outcome, d.approved) for d in decisions] == [
        (1, "needs_fix", False), (2, "needs_fix", False), (3, "approved", True)]
    assert "https://tntv.vn/ocop-2025" in decisions[2].body

    from desk_records import latest_approvals
    from foreigndesk.core.store import LocalStore

    approvals = latest_approvals(LocalStore(desk / "store"))
    assert [(d.language, d.attempt) for d in approvals] == [("en", 3)]

    opened = [n for n in hooks.json_bodies if n["kind"] == "review_opened"]
    assert [(n["attempt"], n["link"].split("/tasks/")[1]) for n in opened] == [
        (1, "review.round_1/mapped/0/required_actions"),
        (2, "review.round_2/mapped/0/required_actions"),
        (3, "review.round_3/mapped/0/required_actions"),
    ]
    assert "It needs a fix" in opened[2]["text"]


class TimeoutSweep(threading.Thread):
    """What the scheduler does every loop: resolve AWAITING_INPUT tasks whose deadline passed."""

    def __init__(self, stop_after: float = 120) -> None:
        super().__init__(daemon=True)
        self.stop_after = stop_after
        self.error: BaseException | None = None
        self.swept = threading.Event()

    def run(self) -> None:
        from airflow.jobs.job import Job
        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        try:
            runner = SchedulerJobRunner(job=Job(), executors=[])
            deadline = time.monotonic() + self.stop_after
            while time.monotonic() < deadline and not self.swept.is_set():
                with create_session() as session:
                    parked = session.query(TaskInstance).filter(
                        TaskInstance.state == TaskInstanceState.AWAITING_INPUT).all()
                    due = [ti for ti in parked if ti.trigger_timeout is not None]
                if due:
                    time.sleep(max(0.0, (min(ti.trigger_timeout for ti in due) - _utcnow()).total_seconds()) + 0.5)
                    runner.check_awaiting_input_timeouts()
                    self.swept.set()
                time.sleep(0.5)
        except BaseException as error:
            self.error = error


def _utcnow():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_an_unanswered_review_expires_approves_nothing_and_tells_the_desk(desk, demo_models, airflow_db, hooks,
                                                                          monkeypatch):
    monkeypatch.setenv("FOREIGNDESK_REVIEW_TIMEOUT_SECONDS", "3")
    article = _register(desk, LINKED.encode(), "hoi-cho.md")
    responder = Responder(TEST_PASSWORDS, {"en": lambda detail: None})
    sweep = TimeoutSweep()
    run = _run(article, responder, sweep)
    sweep.join(timeout=10)
    assert sweep.error is None, sweep.error
    assert sweep.swept.is_set()
    assert run.state == "success"

    decisions = _decisions(desk, article, "en")
    assert [(d.attempt, d.outcome, d.approved, d.option, d.reviewer) for d in decisions] == [
        (1, "expired", False, "", "")]

    from desk_records import latest_approvals
    from foreigndesk.core.settings import load_settings
    from foreigndesk.core.store import LocalStore
    from foreigndesk.publish.run import run_publish

    store = LocalStore(desk / "store")
    assert latest_approvals(store) == []
    assert run_publish(store, load_settings()).published == []
    states = _states(run)
    assert (states[("review.round_1", 0)], states[("review.round_2", 0)]) == ("success", "skipped")

    expired = [n for n in hooks.json_bodies if n["kind"] == "review_expired"]
    assert len(expired) == 1
    assert expired[0]["subject"] == "Review expired, nothing approved: [EN] Hội chợ OCOP Thái Nguyên mở cửa — " \
                                    "Đài PT-TH Thái Nguyên (TNTV)"
    assert expired[0]["link"].endswith("/tasks/review.round_1/mapped/0/required_actions")


def test_rounds_are_bounded_and_the_desk_hears_when_none_was_fixed(desk, demo_models, airflow_db, hooks):
    article = _register(desk, LINKED.encode(), "hoi-cho.md")

    def always_broken(detail):
        return {"chosen_options": ["Approve"], "params_input": {**prefilled(detail), "body": "No links at all.\n"}}

    responder = Responder(TEST_PASSWORDS, {"en": always_broken})
    run = _run(article, responder)
    assert run.state == "success"

    decisions = _decisions(desk, article, "en")
    assert [(d.attempt, d.outcome) for d in decisions] == [(1, "needs_fix"), (2, "needs_fix"), (3, "needs_fix")]
    from desk_records import latest_approvals
    from foreigndesk.core.store import LocalStore

    assert latest_approvals(LocalStore(desk / "store")) == []
    [exhausted] = [n for n in hooks.json_bodies if n["kind"] == "fix_still_needed"]
    assert exhausted["subject"].startswith("Review still needs a fix after 3 attempts: [EN] Hội chợ OCOP")
    assert "the link https://tntv.vn/ocop-2025 from the source is missing" in exhausted["text"]
    assert exhausted["link"].endswith("/tasks/review.round_3/mapped/0/required_actions")


def test_a_malformed_reviewers_variable_fails_the_review_and_shows_in_status(desk, demo_models, airflow_db, hooks,
                                                                             monkeypatch):
    """A string where a list of user ids belongs: the review task fails naming the Variable, nobody is
    assigned a reviewer per letter, and ``foreigndesk status`` tells the desk chief what to fix."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from foreigndesk.core.decisions import requests_for
    from foreigndesk.core.store import LocalStore
    from foreigndesk.status import REVIEW_BLOCKED, collect_status, format_status

    monkeypatch.setenv("FOREIGNDESK_REVIEW_RETRIES", "0")
    with create_session() as session:
        session.query(Variable).filter(Variable.key == "foreigndesk_reviewers").delete()
        session.add(Variable(key="foreigndesk_reviewers", val=json.dumps({"en": "reviewer_en"})))
    try:
        article = _register(desk, LINKED.encode(), "hoi-cho.md")
        run = _run(article, Responder(TEST_PASSWORDS, {}))
    finally:
        with create_session() as session:
            session.query(Variable).filter(Variable.key == "foreigndesk_reviewers").delete()
    assert run.state == "failed"
    assert _states(run)[("review.round_1", 0)] == "failed"
    store = LocalStore(desk / "store")
    assert requests_for(store, *article, "en") == [], "no review opened for a reviewer per letter"

    report = collect_status(store, __import__("datetime").datetime.now(__import__("datetime").timezone.utc), ("en",))
    [row] = [row for row in report.articles if row.language == "en"]
    assert row.state == REVIEW_BLOCKED
    assert "foreigndesk_reviewers" in row.holder and "'en' must be a list of user ids" in row.holder
    assert "review blocked" in format_status(report)
