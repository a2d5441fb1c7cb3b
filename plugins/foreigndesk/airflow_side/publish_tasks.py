"""The publish DAG's task: every channel, once."""

from __future__ import annotations

from typing import Any

from airflow.sdk import get_current_context
from foreigndesk.airflow_side.connections import (
    airflow_connection,
    remote_channel_configs,
    zalo_channel_config,
)
from foreigndesk.airflow_side.desk import open_desk

#: How long the task waits for a publish run started elsewhere (a shell, another scheduler) to end.
LEASE_WAIT_SECONDS = 120.0


def publish_approved() -> dict[str, Any]:
    """The publish task: every channel, once; a channel error or pause fails the task (Airflow retries it)."""
    from foreigndesk.publish.run import run_publish

    settings, store = open_desk()
    fanpage, push = remote_channel_configs(airflow_connection)
    run_id = str(get_current_context()["dag_run"].run_id)
    result = run_publish(store, settings, fanpage=fanpage, push=push, run_id=run_id, lease_wait=LEASE_WAIT_SECONDS,
                         zalo=zalo_channel_config(airflow_connection))
    for item in result.published:
        print(f"published {item['channel']} {item['article_id']} {item['language']} -> {item['remote_id']}")
    for item in result.failed:
        print(f"FAILED {item['channel']} {item['article_id']} {item['language']}: {item['reason']}")
    for channel, reason in result.paused.items():
        print(f"PAUSED {channel}: {reason} (its items stay pending)")
    if result.errors:
        raise RuntimeError("publish run had errors: " + "; ".join(result.errors))
    return result.as_json()
