"""End the parked review tasks of a superseded revision, so their forms leave the reviewers' list at once.

When intake registers a newer revision, the review stage records the older
revision's open reviews as *superseded* (``rounds.supersede_older``): from then
on nothing of theirs can be approved or published, whatever Airflow does. But
their tasks are still parked in ``awaiting_input``, and a parked task's form
stays in Required actions until the task wakes. A task cannot end another task
through the Task SDK; the public REST API can. So the ingest task ends them here,
as the desk's service account.

Before this, each parked review woke every few minutes to look for itself, and
each wake is a worker task: with 300 reviews waiting (a 100-article burst) the
wakes alone took more than one Celery slot could run (docs/operations.md). The
wake is now only a safety net, hours apart, for a task this could not end.

Only a task still ``awaiting_input`` is ended. One that is awake (answered at
this very moment) finishes by itself and finds the superseded record, so an
answer racing the correction is never recorded as a decision either way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from foreigndesk.airflow_side.service_api import API_CONNECTION, ServiceApi

#: Airflow's state of a Human-in-the-loop task waiting for its answer.
PARKED = "awaiting_input"
ENDED, GONE = "ended", "gone"


def end_parked(api: ServiceApi, dag_id: str, run_id: str, task_id: str, map_index: int, note: str,
               timeout: float = 10.0) -> str:
    """End one parked review task as *skipped* with ``note``; what was done: ended, gone, or the state left alone."""
    url = (f"{api.base_url}/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
           f"/taskInstances/{quote(task_id, safe='')}/{map_index}")
    response = api.session.get(url, headers=api.headers(), timeout=timeout)
    if response.status_code == 404:
        return GONE  # the run was deleted: nothing waits
    if response.status_code != 200:
        raise RuntimeError(f"reading task {task_id}[{map_index}] of run {run_id} failed: HTTP {response.status_code}")
    state = response.json().get("state")
    if state != PARKED:
        return str(state)
    response = api.session.patch(url, json={"new_state": "skipped", "note": note[:1000]}, headers=api.headers(),
                                 timeout=timeout)
    if response.status_code == 409:
        return "skipped"  # ended by somebody else in between
    if response.status_code != 200:
        raise PermissionError(f"ending task {task_id}[{map_index}] of run {run_id} failed: HTTP {response.status_code}; "
                              f"the account of Connection {API_CONNECTION!r} needs the role 'Desk service' "
                              "(run 'foreigndesk accounts init' after upgrading the desk)")
    return ENDED


def end_parked_all(api: ServiceApi | None, dag_id: str, waits: list[Any], say: Any = print) -> list[str]:
    """End each superseded review's parked task (``waits``: ReviewRequests with their task place); the problems.

    A failure is reported, not raised: the records already close the review, and the
    task's own safety-net wake ends it later (``FOREIGNDESK_REVIEW_RECHECK_SECONDS``).
    """
    if not waits:
        return []
    if api is None:
        problem = (f"no Airflow Connection {API_CONNECTION!r}: {len(waits)} superseded review form(s) stay listed "
                   "until their task wakes (FOREIGNDESK_REVIEW_RECHECK_SECONDS)")
        say(problem)
        return [problem]
    problems = []
    for wait in waits:
        note = f"Superseded by a newer revision of {wait.article_id}; this review's form is closed."
        try:
            outcome = end_parked(api, dag_id, wait.run_id, wait.task_id, wait.map_index, note)
        except Exception as error:  # one task's failure must not keep the others waiting
            problems.append(f"{wait.task_id}[{wait.map_index}] of {wait.run_id}: {error}")
            say(f"could not end the parked review {wait.task_id}[{wait.map_index}] of {wait.run_id}: {error}; "
                "its task ends at its next wake")
            continue
        say(f"parked review {wait.task_id}[{wait.map_index}] of {wait.run_id} ({wait.language}, revision "
            f"{wait.revision}): {outcome}")
    return problems
