"""The only module that knows about Airflow: task bodies and the review operator.

Each function here turns Airflow's context (run conf, Variables) into plain
arguments and calls a stage of the desk. Nothing heavy is imported at module
level, so DAG files can import this cheaply at parse time; the engine
(argostranslate, onnxruntime) is loaded inside the translate task only.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param, Variable, get_current_context
from airflow.sdk.definitions.param import ParamsDict

from foreigndesk.settings import Settings, load_settings
from foreigndesk.store import Store, open_store

OWNER = "foreigndesk"
REVIEWERS_VARIABLE = "foreigndesk_reviewers"


def s3_client_for(settings: Settings) -> Any:
    """A boto3 S3 client from the Airflow Connection ``settings.aws_conn_id`` if it exists,
    else from the standard AWS settings of the worker (environment, ~/.aws, instance role).

    The Connection follows the Amazon provider's convention: login = access key id,
    password = secret key, extra ``{"endpoint_url": ..., "region_name": ...}`` (host is
    taken as the endpoint when extra has none). Secrets never leave the client.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from foreigndesk.store import s3_client

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


def _desk() -> tuple[Settings, Store]:
    settings = load_settings()
    client = s3_client_for(settings) if settings.store.startswith("s3://") else None
    return settings, open_store(settings.store, client)


def translate_run_id(article_id: str, revision: str) -> str:
    """One translate run per revision: the run id is derived, so a re-run can't start a duplicate."""
    return f"article__{article_id}__{revision}"


SOURCE_ERRORS_XCOM = "source_errors"


def register_drops() -> list[dict[str, Any]]:
    """Ingest every configured source; return one TriggerDagRunOperator kwargs per revision seen.

    Sources that could not be read are pushed as the ``source_errors`` XCom and failed on by
    :func:`report_source_errors` once the translations of everything else have started.

    Revisions already registered are included too: their run id is derived, so the trigger is
    skipped when the run exists, and a revision recorded just before a crash still gets its run.
    """
    from foreigndesk.intake import run_intake

    settings = load_settings()
    result = run_intake(settings, lambda: s3_client_for(settings))
    for item in result.accepted:
        flagged = f" — FLAGGED: {'; '.join(item.flags)}" if item.flags else ""
        print(f"registered {item.article_id} revision {item.revision} from {item.source_file}{flagged}")
    for item in result.quarantined:
        print(f"quarantined {item['file']}: {item['reason']}")
    for location in result.waiting:
        print(f"still being copied in, left for the next run: {location}")
    get_current_context()["ti"].xcom_push(key=SOURCE_ERRORS_XCOM, value=result.errors)
    return [
        {
            "trigger_run_id": translate_run_id(article_id, revision),
            "conf": {"article_id": article_id, "revision": revision},
        }
        for article_id, revision in result.revisions()
    ]


def report_source_errors() -> None:
    """Fail the ingest run, visibly, when a source could not be read (the others were ingested)."""
    errors = get_current_context()["ti"].xcom_pull(task_ids="register_drops", key=SOURCE_ERRORS_XCOM)
    if errors is None:
        raise RuntimeError("register_drops did not finish; see its log")
    if errors:
        raise RuntimeError("some sources could not be read: " + " | ".join(errors))


def _run_article() -> tuple[str, str]:
    """The revision a translate run is about, from the run's conf (set by intake)."""
    conf = get_current_context()["dag_run"].conf or {}
    try:
        return str(conf["article_id"]), str(conf["revision"])
    except KeyError as missing:
        raise ValueError(
            f"this run's conf has no {missing}; start foreigndesk_translate with "
            '{"article_id": ..., "revision": ...} (foreigndesk_ingest does this for every new revision)'
        ) from None


def translate_article() -> list[str]:
    """Write the drafts of the run's revision; return the languages to review."""
    from foreigndesk.engine import shared_engine
    from foreigndesk.translation import translate_revision

    _, store = _desk()
    article_id, revision = _run_article()
    drafts = translate_revision(store, shared_engine(), article_id, revision)
    for draft in drafts:
        notice = " (DEMO MODEL)" if draft.demo_model else ""
        counts = {level: sum(f["severity"] == level for f in draft.findings) for level in ("error", "warning")}
        print(f"draft {draft.language}{notice}: {draft.title} — {counts['error']} error(s), "
              f"{counts['warning']} warning(s), {draft.memory_hits}/{draft.segments} segment(s) from memory")
    return [draft.language for draft in drafts]


FANPAGE_CONNECTION = "foreigndesk_fanpage"
PUSH_CONNECTION = "foreigndesk_portal_push"


def airflow_connection(conn_id: str) -> Any | None:
    """The Airflow Connection ``conn_id`` from any configured backend (env, secrets, metastore), or None."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def env_connection(conn_id: str, env: dict[str, str] | None = None) -> Any | None:
    """The same Connection read from ``AIRFLOW_CONN_<ID>`` (URI or JSON), for the CLI outside Airflow."""
    import os

    from airflow.sdk import Connection

    value = (env if env is not None else os.environ).get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not value:
        return None
    try:
        if value.lstrip().startswith("{"):
            return Connection.from_json(value, conn_id=conn_id)
        return Connection.from_uri(value, conn_id=conn_id)
    except Exception:  # the value holds the token: never echo it
        raise ValueError(f"AIRFLOW_CONN_{conn_id.upper()} is neither a connection URI nor connection JSON; "
                         'write it like {"conn_type": "http", "host": "https://...", "password": "..."}') from None


def _endpoint(connection: Any) -> str:
    """The connection's host as a URL: taken as is when it is one, else built from scheme/host/port/schema."""
    host = (connection.host or "").strip()
    if "://" in host:
        return host.rstrip("/")
    if not host:
        raise ValueError(f"Airflow Connection {connection.conn_id!r} has no host; set it to the API's base URL")
    scheme = connection.conn_type if connection.conn_type in ("http", "https") else "https"
    port = f":{connection.port}" if connection.port else ""
    path = f"/{connection.schema.strip('/')}" if connection.schema else ""
    return f"{scheme}://{host}{port}{path}"


def remote_channel_configs(lookup: Any = airflow_connection) -> tuple[Any, Any]:
    """(fanpage, push) settings from their Connections; None for a channel whose Connection is absent."""
    from foreigndesk.channels.fanpage import FanpageConfig
    from foreigndesk.channels.portal_push import PushConfig

    fanpage = push = None
    connection = lookup(FANPAGE_CONNECTION)
    if connection is not None:
        page_id = str(connection.extra_dejson.get("page_id") or "").strip()
        if not page_id or not connection.password:
            raise ValueError(f"Airflow Connection {FANPAGE_CONNECTION!r} needs the Page token as password and "
                             'extra {"page_id": "<numeric page id>"}')
        fanpage = FanpageConfig(_endpoint(connection), connection.password, page_id,
                                timeout=float(connection.extra_dejson.get("timeout", 10)))
    connection = lookup(PUSH_CONNECTION)
    if connection is not None:
        if not connection.password:
            raise ValueError(f"Airflow Connection {PUSH_CONNECTION!r} needs the portal's token as password")
        push = PushConfig(_endpoint(connection), connection.password,
                          timeout=float(connection.extra_dejson.get("timeout", 10)))
    return fanpage, push


def publish_approved() -> dict[str, Any]:
    """The publish task: every channel, once; a channel error fails the task (Airflow retries it)."""
    from foreigndesk.publishing import run_publish

    settings, store = _desk()
    fanpage, push = remote_channel_configs(airflow_connection)
    run_id = str(get_current_context()["dag_run"].run_id)
    result = run_publish(store, settings, fanpage=fanpage, push=push, run_id=run_id)
    for item in result.published:
        print(f"published {item['channel']} {item['article_id']} {item['language']} -> {item['remote_id']}")
    for item in result.failed:
        print(f"FAILED {item['channel']} {item['article_id']} {item['language']}: {item['reason']}")
    if result.errors:
        raise RuntimeError("publish run had errors: " + "; ".join(result.errors))
    return result.as_json()


def _reviewers() -> dict[str, list[str]] | None:
    raw = Variable.get(REVIEWERS_VARIABLE, default=None)
    if raw is None:
        return None
    try:
        return json.loads(raw) if isinstance(raw, str) else dict(raw)
    except ValueError:
        raise ValueError(
            f"Airflow Variable {REVIEWERS_VARIABLE!r} is not JSON; set it like "
            '{"en": ["reviewer_en"], "zh": ["reviewer_zh"], "ko": ["reviewer_ko"]}'
        ) from None


def _form_params(defaults: dict[str, str]) -> dict[str, Param]:
    return {
        "title": Param(defaults.get("title", ""), type="string", title="Title"),
        "summary": Param(defaults.get("summary", ""), type="string", title="Summary"),
        "body": Param(defaults.get("body", ""), type="string", format="multiline", title="Translation (Markdown)"),
        "note": Param(defaults.get("note", ""), type="string", title="Note to the desk"),
    }


class ReviewOperator(HITLOperator):
    """One translator's review of one language: the form is built from the store when it opens.

    Only ``subject`` and ``body`` are templated by Airflow, so the editable
    fields are pre-filled here at run time from the draft record. The decision
    is recorded in the store the moment the answer arrives.
    """

    def __init__(self, *, language: str, **kwargs: Any) -> None:
        from foreigndesk.review import OPTIONS

        # The form's fields are this task's only params; DAG-level params (article_id,
        # revision) arrive merged in by Airflow and must not become form fields.
        kwargs.pop("params", None)
        super().__init__(
            subject=f"[{language.upper()}] review",
            options=list(OPTIONS),
            params=_form_params({}),
            **kwargs,
        )
        self.language = language

    def execute(self, context: Any) -> Any:
        from foreigndesk.review import build_form

        _, store = _desk()
        article_id, revision = _run_article()
        form = build_form(store, article_id, revision, self.language, _reviewers())
        self.subject = form.subject
        self.body = form.body
        self.params = ParamsDict(_form_params(form.defaults))
        self.assigned_users = [{"id": user, "name": user} for user in form.assigned_users]
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from foreigndesk.review import record_decision

        answer = super().execute_complete(context, event)
        _, store = _desk()
        article_id, revision = _run_article()
        user = answer.get("responded_by_user") or {}
        decision = record_decision(
            store,
            article_id,
            revision,
            self.language,
            answer["chosen_options"],
            answer.get("params_input") or {},
            reviewer=str(user.get("id", "unknown")),
            decided_at=answer["responded_at"].isoformat(),
        )
        print(f"{self.language}: {decision.option} by {decision.reviewer}")
        return {"language": self.language, "option": decision.option, "reviewer": decision.reviewer}
