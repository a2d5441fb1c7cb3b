"""``foreigndesk status`` tells the truth about reviews: waiting only while a task waits for the answer.

A review request without a decision is "open" to the store, but its task may
have been failed or cleared by other means. Under ``dag.test()`` a review opens
and parks; the status says "in review"; an operator fails the task through the
REST API; the status says the review stopped and how to re-open it; the task is
cleared through the REST API; the status says so.
"""

from __future__ import annotations

import threading
import time

import pytest
from conftest import TEST_PASSWORDS
from test_review_retry import _register, _translate_dag

pytestmark = pytest.mark.airflow


def _status(store_path):
    from datetime import datetime, timezone

    from foreigndesk.airflow_side.review_tasks import review_task_states
    from foreigndesk.core.store import LocalStore
    from foreigndesk.status import collect_status, open_requests

    store = LocalStore(store_path)
    report = collect_status(store, datetime.now(timezone.utc), ("en",), review_task_states(open_requests(store)))
    return [(row.language, row.state, row.holder) for row in report.articles]


class Operator(threading.Thread):
    """Waits for the review to park, reads the status, then fails the task through the REST API."""

    def __init__(self, store_path) -> None:
        super().__init__(daemon=True)
        self.store_path = store_path
        self.while_waiting = None
        self.failed_status = None
        self.error = None

    def run(self) -> None:
        from airflow.api_fastapi.app import create_app
        from fastapi.testclient import TestClient

        try:
            with TestClient(create_app(apps="core")) as client:
                token = client.post("/auth/token", json={"username": "admin", "password": TEST_PASSWORDS["admin"]})
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline:
                    pending = client.get("/api/v2/dags/~/dagRuns/~/hitlDetails",
                                         params={"response_received": "false"}, headers=headers).json()["hitl_details"]
                    parked = [d for d in pending if d["task_instance"]["state"] == "awaiting_input"]
                    if parked:
                        break
                    time.sleep(0.3)
                ti = parked[0]["task_instance"]
                self.while_waiting = _status(self.store_path)
                response = client.patch(
                    f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
                    f"{ti['map_index']}", json={"new_state": "failed"}, headers=headers)
                assert response.status_code == 200, response.text
        except BaseException as error:
            self.error = error


def test_a_failed_or_cleared_review_task_is_not_shown_as_waiting(desk, demo_models, airflow_db, monkeypatch):
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient
    from foreigndesk.status import IN_REVIEW, REVIEW_STOPPED

    monkeypatch.setenv("FOREIGNDESK_REVIEW_RETRIES", "0")  # a task failed by hand is not the race: no retry here
    article = _register(desk)
    operator = Operator(desk / "store")
    operator.start()
    run = _translate_dag().test(run_conf={"article_id": article[0], "revision": article[1]})
    operator.join(timeout=30)
    assert operator.error is None, operator.error

    [(language, state, holder)] = operator.while_waiting
    assert (language, state, holder) == ("en", IN_REVIEW, "reviewer_en")
    assert run.state == "failed"
    [(language, state, holder)] = _status(desk / "store")
    assert state == REVIEW_STOPPED and "task failed without an answer" in holder and "review.round_1" in holder

    with TestClient(create_app(apps="core")) as client:
        token = client.post("/auth/token", json={"username": "admin", "password": TEST_PASSWORDS["admin"]})
        response = client.post("/api/v2/dags/foreigndesk_translate/clearTaskInstances",
                               json={"dry_run": False, "task_ids": ["review.round_1"], "dag_run_id": run.run_id},
                               headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert response.status_code == 200, response.text
    [(language, state, holder)] = _status(desk / "store")
    assert state == REVIEW_STOPPED and holder.startswith("task cleared")
