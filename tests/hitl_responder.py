"""A translator stand-in that answers review tasks through Airflow's real REST app.

``dag.test()`` must run in the main thread and never resolves a
Human-in-the-loop task by itself (docs/airflow-hitl.md), so tests run this responder in a
background thread: it logs in as the assigned reviewer with the auth manager's
real token endpoint, lists pending reviews and PATCHes the answer, exactly as
the UI does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


def language_of(detail: dict[str, Any]) -> str:
    """Review subjects start with the language tag: ``[EN] <title> — <outlet>``."""
    return detail["subject"][1:3].lower()


def prefilled(detail: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the reviewer first sees them."""
    return {name: spec["value"] for name, spec in detail["params"].items()}


class Responder(threading.Thread):
    """Answer each pending review once with ``answers[language](detail)``; record every call."""

    def __init__(self, passwords: dict[str, str], answers: dict[str, Answer], timeout: float = 180) -> None:
        super().__init__(daemon=True)
        self.passwords = passwords
        self.answers = answers
        self.timeout = timeout
        self.calls: list[dict[str, Any]] = []
        self.seen: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self._stop_event = threading.Event()
        self._tokens: dict[str, str] = {}

    def stop(self) -> None:
        self._stop_event.set()

    def _headers(self, client, user: str) -> dict[str, str]:
        if user not in self._tokens:
            response = client.post("/auth/token", json={"username": user, "password": self.passwords[user]})
            assert response.status_code == 201, response.text
            self._tokens[user] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[user]}"}

    def patch(self, client, detail: dict[str, Any], user: str, payload: dict[str, Any]):
        ti = detail["task_instance"]
        url = (
            f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
            f"{ti['task_id']}/{ti['map_index']}/hitlDetails"
        )
        return client.patch(url, json=payload, headers=self._headers(client, user))

    def run(self) -> None:
        from airflow.api_fastapi.app import create_app
        from fastapi.testclient import TestClient

        try:
            with TestClient(create_app(apps="core")) as client:
                self._loop(client)
        except BaseException as error:  # surfaced by the test through .error
            self.error = error

    def _loop(self, client) -> None:
        deadline = time.monotonic() + self.timeout
        answered: dict[tuple[str, str, int], float] = {}
        while not self._stop_event.is_set() and time.monotonic() < deadline:
            response = client.get(
                "/api/v2/dags/~/dagRuns/~/hitlDetails",
                params={"response_received": "false"},
                headers=self._headers(client, "admin"),
            )
            assert response.status_code == 200, response.text
            for detail in response.json()["hitl_details"]:
                ti = detail["task_instance"]
                key = (ti["dag_run_id"], ti["task_id"], ti["map_index"])
                if ti["state"] != "awaiting_input":
                    continue
                if key in answered and time.monotonic() - answered[key] < 3:
                    continue
                if key not in answered:
                    self.seen.append(detail)
                payload = self.answers[language_of(detail)](detail)
                if payload is None:
                    continue
                user = detail["assigned_users"][0]["name"]  # signs in by username (FAB ids are numbers)
                result = self.patch(client, detail, user, payload)
                self.calls.append({"language": language_of(detail), "user": user, "status": result.status_code})
                answered[key] = time.monotonic()
            time.sleep(0.3)


def run_answered(dag, conf: dict[str, Any], responder: Responder, *helpers: threading.Thread):
    """``dag.test(run_conf=conf)`` in this (main) thread while ``responder`` answers its reviews.

    Any ``helpers`` (threads that race the reviews, e.g. a clearing or a failing task) start with the
    responder. The responder's own error, if any, fails the test here rather than as a hung run.
    """
    responder.start()
    for helper in helpers:
        helper.start()
    try:
        run = dag.test(run_conf=conf)
    finally:
        responder.stop()
        responder.join(timeout=10)
    assert responder.error is None, responder.error
    return run
