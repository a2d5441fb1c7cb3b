"""A quick answer must never fail a review: Airflow's race, replayed, and the desk's retry.

Airflow 3.3 can fail a Human-in-the-loop task answered within a second of
opening: the stale "success" of the process that parked the task arrives after
the answer resumed it, and the scheduler fails it through
``TaskInstance.handle_failure`` (docs/airflow-hitl.md). These tests replay
exactly that under ``dag.test()``: the answer is stored as the REST API stores
it, and the task is failed with the scheduler's own call, in one transaction, so
the order is the race's and not left to chance. ``tests/test_launcher.py`` shows
the real race under a real scheduler.

The retry then reads the earlier try's answer through the real REST API, served
on loopback by uvicorn, as the desk's service account (Connection
``foreigndesk_api``), and records it once; without that Connection it re-opens
the same form, saying the answer was lost.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from conftest import REPO, TEST_PASSWORDS
from hitl_responder import Responder, language_of, prefilled, run_answered

pytestmark = pytest.mark.airflow

ONE_LANGUAGE = (REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md").read_text().replace(
    "approved_at:", "languages: [en]\napproved_at:", 1).encode()
EDITED_TITLE = "Tan Cuong tea festival draws visitors (edited once)"


class RacedResponder(Responder):
    """Answers each review; the first answer to a task is stored and then the task failed, as in the race."""

    def __init__(self, dag, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dag = dag
        self.raced: list[tuple[str, str, int]] = []
        self.forms: list[dict] = []  # every form answered, tries included

    def patch(self, client, detail, user, payload):
        self.forms.append(detail)
        ti = detail["task_instance"]
        key = (ti["dag_run_id"], ti["task_id"], ti["map_index"])
        if key in self.raced:
            return super().patch(client, detail, user, payload)
        self.raced.append(key)
        _answer_then_fail(self.dag, ti, user, payload)

        class Stored:
            status_code = 200
        return Stored()


def _answer_then_fail(dag, ti_json: dict, user: str, payload: dict) -> None:
    """What Airflow does in the race: the response is stored, then the scheduler fails the task."""
    from airflow._shared.timezones.timezone import utcnow
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.query(TaskInstance).filter_by(dag_id=ti_json["dag_id"], run_id=ti_json["dag_run_id"],
                                                   task_id=ti_json["task_id"], map_index=ti_json["map_index"]).one()
        detail = session.get(HITLDetail, ti.id)
        detail.chosen_options = payload["chosen_options"]
        detail.params_input = payload["params_input"]
        detail.responded_at = utcnow()
        detail.responded_by = {"id": user, "name": user}
        ti.task = dag.get_task(ti.task_id)
        ti.handle_failure("Executor reported that the task instance finished with state success, but the task "
                          "instance's state attribute is queued (replayed race)", session=session)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def rest_api(airflow_db):
    """Airflow's real REST app on loopback (uvicorn), for the desk's own calls from inside a task."""
    import uvicorn
    from airflow.api_fastapi.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(apps="core"), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "the REST app did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def service_account(rest_api, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_API", json.dumps(
        {"conn_type": "http", "host": rest_api, "login": "foreigndesk", "password": TEST_PASSWORDS["foreigndesk"]}))
    return rest_api


def _register(desk) -> tuple[str, str]:
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

    article = register(LocalStore(desk / "store"), parse_article(ONE_LANGUAGE, "race.md", "tntv"), ONE_LANGUAGE,
                       "race.md")
    return article.article_id, article.revision


def _translate_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=REPO / "dags")
    assert not bag.import_errors, bag.import_errors
    return bag.dags["foreigndesk_translate"]


def _run(article, responder):
    return run_answered(responder.dag, {"article_id": article[0], "revision": article[1]}, responder)


def _tries(run) -> dict[str, tuple[str, int]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.task_id: (str(ti.state), ti.try_number) for ti in session.query(TaskInstance).filter_by(
            dag_id=run.dag_id, run_id=run.run_id)}


def _approve_edited(detail):
    return {"chosen_options": ["Approve"], "params_input": {**prefilled(detail), "title": EDITED_TITLE}}


def test_an_answer_airflow_failed_is_read_back_and_recorded_once(desk, demo_models, service_account):
    from foreigndesk.core.decisions import decisions_for, requests_for
    from foreigndesk.core.store import LocalStore

    article = _register(desk)
    responder = RacedResponder(_translate_dag(), TEST_PASSWORDS, {"en": _approve_edited})
    run = _run(article, responder)

    assert run.state == "success", _tries(run)
    assert _tries(run)["review.round_1"] == ("success", 2), "failed once by the race, then retried"
    assert len(responder.raced) == 1 and len(responder.forms) == 1, "the reviewer was asked once"
    store = LocalStore(desk / "store")
    decisions = decisions_for(store, *article, "en")
    assert [(d.attempt, d.outcome, d.reviewer, d.title) for d in decisions] == [
        (1, "approved", "reviewer_en", EDITED_TITLE)]
    assert [r.attempt for r in requests_for(store, *article, "en")] == [1], "no second attempt was opened"


@pytest.fixture
def hooks(monkeypatch):
    from loopback_http import Receiver

    server = Receiver()
    monkeypatch.setenv("FOREIGNDESK_NOTIFY", "log,webhook")
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_WEBHOOK", json.dumps({"conn_type": "http", "host": server.url}))
    yield server
    server.close()


def test_without_the_service_account_the_same_form_reopens_and_says_why(desk, demo_models, airflow_db, hooks,
                                                                       monkeypatch):
    """Where Airflow keeps the answered request row (dag.test, PostgreSQL's cascade), the form's text is
    Airflow's first one; the notice says why it opened again. Where Airflow opens a fresh request
    (standalone on SQLite), the form's first line says it too (build_form, tests/test_review.py)."""
    from foreigndesk.core.decisions import decisions_for
    from foreigndesk.core.store import LocalStore
    from foreigndesk.review.form import LOST_ANSWER_NOTICE

    monkeypatch.delenv("AIRFLOW_CONN_FOREIGNDESK_API", raising=False)
    article = _register(desk)
    responder = RacedResponder(_translate_dag(), TEST_PASSWORDS, {"en": _approve_edited})
    run = _run(article, responder)

    assert run.state == "success", _tries(run)
    assert len(responder.forms) == 2, "asked again, once"
    first, second = responder.forms
    assert second["task_instance"]["try_number"] == 2
    assert prefilled(second) == prefilled(first), "pre-filled as before"
    opened = [n for n in hooks.json_bodies if n["kind"] == "review_opened"]
    assert len(opened) == 2 and LOST_ANSWER_NOTICE not in opened[0]["text"]
    assert opened[1]["text"].startswith(LOST_ANSWER_NOTICE) and opened[1]["attempt"] == 1, "same attempt, said why"
    decisions = decisions_for(LocalStore(desk / "store"), *article, "en")
    assert [(d.attempt, d.title) for d in decisions] == [(1, EDITED_TITLE)], "one decision, from the second answer"
    assert language_of(second) == "en"
