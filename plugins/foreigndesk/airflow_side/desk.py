"""What every task of the desk starts from: its settings, its store, the run's revision, its reviewers.

Built from Airflow's side of things (Connections, Variables, the run's conf),
then handed to the stages as plain arguments.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import Variable, get_current_context
from foreigndesk.core.settings import REVIEWERS_VARIABLE, Settings, load_settings
from foreigndesk.core.store import Store, open_store, s3_client

OWNER = "foreigndesk"
#: The DAG that translates one revision and holds its reviews (started by intake, one run per revision).
TRANSLATE_DAG_ID = "foreigndesk_translate"


def s3_client_for(settings: Settings) -> Any:
    """A boto3 S3 client from the Airflow Connection ``settings.aws_conn_id`` if it exists,
    else from the standard AWS settings of the worker (environment, ~/.aws, instance role).

    The Connection follows the Amazon provider's convention: login = access key id,
    password = secret key, extra ``{"endpoint_url": ..., "region_name": ...}`` (host is
    taken as the endpoint when extra has none). Secrets never leave the client.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = Connection.get(settings.aws_conn_id)
    except AirflowNotFoundException:
        return s3_client()
    extra = connection.extra_dejson or {}
    return s3_client(
        extra.get("endpoint_url") or connection.host or None,
        aws_access_key_id=connection.login or "",
        aws_secret_access_key=connection.password or "",
        region_name=extra.get("region_name") or "",
    )


def open_desk() -> tuple[Settings, Store]:
    settings = load_settings()
    client = s3_client_for(settings) if settings.store.startswith("s3://") else None
    return settings, open_store(settings.store, client)


def translate_run_id(article_id: str, revision: str) -> str:
    """One translate run per revision: the run id is derived, so a re-run can't start a duplicate."""
    return f"article__{article_id}__{revision}"


def run_article() -> tuple[str, str]:
    """The revision a translate run is about, from the run's conf (set by intake)."""
    conf = get_current_context()["dag_run"].conf or {}
    try:
        return str(conf["article_id"]), str(conf["revision"])
    except KeyError as missing:
        raise ValueError(
            f"this run's conf has no {missing}; start foreigndesk_translate with "
            '{"article_id": ..., "revision": ...} (foreigndesk_ingest does this for every new revision)'
        ) from None


def reviewers_variable() -> dict[str, list[str]] | None:
    """Who reviews each language, from the Airflow Variable; None when it is not set (the defaults).

    A Variable that is not language → list of user ids (e.g. ``{"en": "reviewer_en"}``) fails the
    task with a message naming the Variable and its right shape, never a reviewer per letter.
    """
    from foreigndesk.review.form import check_reviewers

    raw = Variable.get(REVIEWERS_VARIABLE, default=None)
    if raw is None:
        return None
    where = f"Airflow Variable {REVIEWERS_VARIABLE!r}"
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ValueError(
            f"{where} is not JSON; set it like "
            '{"en": ["reviewer_en"], "zh": ["reviewer_zh"], "ko": ["reviewer_ko"]}'
        ) from None
    return check_reviewers(value, where)
