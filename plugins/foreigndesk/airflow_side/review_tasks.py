"""Whether an Airflow task still waits for a review: the one fact the store cannot know by itself.

A review request without a decision means "open" to the records, but the task
that would take the answer may be gone: failed, cleared, or ended. The status
report asks this module (from the CLI, which has Airflow's metadata DB) before
it calls a review "waiting". Reads only; one query per report.
"""

from __future__ import annotations

from collections.abc import Iterable

from foreigndesk.airflow_side.desk import TRANSLATE_DAG_ID
from foreigndesk.core.decisions import ReviewRequest


def review_task_states(requests: Iterable[ReviewRequest]) -> dict[tuple[str, str, int], str]:
    """(run id, task id, map index) → the task instance's state ("none" when cleared, "removed" when gone)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    places = {(r.run_id, r.task_id, r.map_index) for r in requests if r.run_id and r.task_id}
    if not places:
        return {}
    with create_session() as session:
        rows = (session.query(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state)
                .filter(TaskInstance.dag_id == TRANSLATE_DAG_ID,
                        TaskInstance.run_id.in_({run for run, _, _ in places}))
                .all())
    found = {(run, task, index): str(state) if state is not None else "none" for run, task, index, state in rows}
    return {place: found.get(place, "removed") for place in places}
