"""Read back the answer an earlier try of a review task received, when Airflow failed that try.

Airflow 3.2–3.3 can fail a Human-in-the-loop task that was answered quickly: the
task parks (its worker exits with "success"), the answer resumes it at once, and
the stale "success" of the parking process, processed after the resume, makes the
scheduler mark the task failed ("finished with state success, but the task
instance's state attribute is queued"; apache/airflow #66374, #67287, #72716 — open
upstream for 3.3.2, see docs/airflow-hitl.md). The answer is not lost in Airflow's
database — each try's request and response are kept (``hitl_detail_history``) —
but a task cannot read it: the task SDK offers no call for it, and a retry's own
request wipes the response of the current row. The public REST API can read
every try, so the retry of a review task asks it, as the desk's service account
(:mod:`foreigndesk.airflow_side.service_api`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from foreigndesk.airflow_side.service_api import ServiceApi


@dataclass(frozen=True)
class TaskTries:
    """One task instance of a run, and how many tries it has had (the current one included)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int


def earlier_answer(api: ServiceApi, task: TaskTries, timeout: float = 10.0) -> dict | None:
    """The newest answer an earlier try of ``task`` received, as the resume event Airflow would have sent; or None.

    Asked before this try opens its own request, so any response found is an
    earlier try's: first the task instance's current request (the row follows the
    task instance across tries where the database cascades, and ``dag.test`` keeps
    it), then each earlier try's kept copy, newest first. A try that was never
    answered (a timeout, a crash before the answer) gives nothing.
    """
    path = (f"{api.base_url}/api/v2/dags/{quote(task.dag_id, safe='')}/dagRuns/{quote(task.run_id, safe='')}"
            f"/taskInstances/{quote(task.task_id, safe='')}/{task.map_index}/hitlDetails")
    for number, url in [(task.try_number, path)] + [(n, f"{path}/tries/{n}") for n in range(task.try_number - 1, 0, -1)]:
        response = api.session.get(url, headers=api.headers(), timeout=timeout)
        if response.status_code == 404:
            continue
        if response.status_code != 200:
            raise RuntimeError(f"reading the review request of try {number} of {task.task_id} failed: "
                               f"HTTP {response.status_code}")
        detail = response.json()
        if detail.get("response_received"):
            return {
                "chosen_options": list(detail.get("chosen_options") or []),
                "params_input": detail.get("params_input") or {},
                "responded_at": detail.get("responded_at"),
                "responded_by_user": detail.get("responded_by_user"),
                "try_number": number,
            }
    return None
