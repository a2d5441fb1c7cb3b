"""The only module that knows about Airflow: task bodies and the review operator.

Each function here turns Airflow's context (run conf, Variables) into plain
arguments and calls a stage of the desk. Nothing heavy is imported at module
level, so DAG files can import this cheaply at parse time; the engine
(argostranslate, onnxruntime) is loaded inside the translate task only.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param, Variable, get_current_context
from airflow.sdk.definitions.param import ParamsDict

from foreigndesk.settings import REVIEWERS_VARIABLE, Settings, load_settings
from foreigndesk.store import Store, open_store

OWNER = "foreigndesk"
#: Airflow Connections the notice channels use (secrets stay in Airflow, never in the repo).
SMTP_CONNECTION = "foreigndesk_smtp"
WEBHOOK_CONNECTION = "foreigndesk_webhook"


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
    """Ingest every configured source; return one TriggerDagRunOperator kwargs per revision to start.

    Sources that could not be read are pushed as the ``source_errors`` XCom and failed on by
    :func:`report_source_errors` once the translations of everything else have started.

    The revisions are those whose drop was handled this run, then every revision of the article
    journal's last day that has no draft yet (:func:`foreigndesk.translation.untranslated_recent`): a
    trigger that failed for good after its drop left the source is retried by the next run. Run ids
    are derived, so the trigger is skipped wherever the run exists, whatever its state.
    """
    from functools import cache

    from foreigndesk.intake import run_intake
    from foreigndesk.translation import untranslated_recent

    settings = load_settings()
    make_client = cache(lambda: s3_client_for(settings))
    result = run_intake(settings, make_client)
    for item in result.accepted:
        flagged = f" — FLAGGED: {'; '.join(item.flags)}" if item.flags else ""
        print(f"registered {item.article_id} revision {item.revision} from {item.source_file}{flagged}")
    for item in result.quarantined:
        print(f"quarantined {item['file']}: {item['reason']}")
    for location in result.waiting:
        print(f"still being copied in, left for the next run: {location}")
    get_current_context()["ti"].xcom_push(key=SOURCE_ERRORS_XCOM, value=result.errors)
    store = open_store(settings.store, make_client() if settings.store.startswith("s3://") else None)
    revisions = result.revisions()
    for article_id, revision in untranslated_recent(store, datetime.now(timezone.utc)):
        if (article_id, revision) not in revisions:
            print(f"no draft yet for {article_id} revision {revision}: its translate run is started unless it exists")
            revisions.append((article_id, revision))
    return [
        {
            "trigger_run_id": translate_run_id(article_id, revision),
            "conf": {"article_id": article_id, "revision": revision},
        }
        for article_id, revision in revisions
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
    """Write the drafts of the run's revision; return the languages to review.

    With ``FOREIGNDESK_PIVOT=approved`` only English is drafted here; the other
    languages follow its review (:func:`translate_after_english`).
    """
    from foreigndesk.engine import shared_engine
    from foreigndesk.human_pivot import first_languages
    from foreigndesk.intake import load_revision
    from foreigndesk.translation import translate_revision

    settings, store = _desk()
    article_id, revision = _run_article()
    languages = first_languages(load_revision(store, article_id, revision).languages, settings.pivot)
    drafts = translate_revision(store, shared_engine(), article_id, revision, languages=languages)
    _print_drafts(drafts)
    return [draft.language for draft in drafts]


def english_outcome(store: Store, article_id: str, revision: str) -> Any:
    """How the English review of a revision ended: its approved text, or the state it ended in."""
    from foreigndesk.human_pivot import EnglishOutcome
    from foreigndesk.review import decision_key, decisions_for

    decisions = decisions_for(store, article_id, revision, "en")
    approved = [d for d in decisions if d.approved]
    if approved:
        d = approved[-1]
        return EnglishOutcome(True, d.title, d.summary, d.body, d.reviewer, d.decided_at,
                              decision_key(article_id, revision, "en", d.attempt))
    state = decisions[-1].outcome.replace("_", " ") if decisions else "without a decision"
    return EnglishOutcome(False, reference=state)


def translate_after_english() -> list[str]:
    """After the English review: draft the other languages from the approved English; return them for review.

    Machine mode (or an article without English) has nothing left to draft: [].
    """
    from foreigndesk.engine import shared_engine
    from foreigndesk.human_pivot import draft_after_english, later_languages
    from foreigndesk.intake import load_revision

    settings, store = _desk()
    article_id, revision = _run_article()
    languages = later_languages(load_revision(store, article_id, revision).languages, settings.pivot)
    if not languages:
        return []
    english = english_outcome(store, article_id, revision)
    print(f"English {'approved: ' + english.reference if english.approved else 'not approved (' + english.reference + ')'};"
          f" drafting {', '.join(languages)} from the {'approved' if english.approved else 'machine'} English")
    drafts = draft_after_english(store, shared_engine(), article_id, revision, languages, english)
    _print_drafts(drafts)
    return [draft.language for draft in drafts]


def _print_drafts(drafts: list) -> None:
    for draft in drafts:
        notice = " (DEMO MODEL)" if draft.demo_model else ""
        counts = {level: sum(f["severity"] == level for f in draft.findings) for level in ("error", "warning")}
        print(f"draft {draft.language}{notice}: {draft.title} — {counts['error']} error(s), "
              f"{counts['warning']} warning(s), {draft.memory_hits}/{draft.segments} segment(s) from memory")


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


#: Form fields a translator may leave empty (the UI disables the buttons while a required field is empty).
OPTIONAL_FIELDS = ("summary", "note")


def _form_params(defaults: dict[str, str]) -> dict[str, Param]:
    optional = ["null", "string"]
    return {
        "title": Param(defaults.get("title", ""), type="string", title="Title"),
        "summary": Param(defaults.get("summary", ""), type=optional, title="Summary"),
        "body": Param(defaults.get("body", ""), type="string", format="multiline", title="Translation (Markdown)"),
        "note": Param(defaults.get("note", ""), type=optional, title="Note to the desk",
                      description="Optional: what you changed or why you reject it."),
    }


def clean_form_answer(params_input: Any) -> tuple[dict[str, str], list[str]]:
    """The answered fields that are text, and what was wrong with the rest.

    The REST API stores ``params_input`` without checking it against the form's
    schema (DESIGN.md); Airflow would then fail the task on resume. The desk
    checks it first: a missing or non-text field is reported (and, for an
    Approve, makes the decision "needs fix") instead of crashing the review.
    An optional field left empty may come back as null: that is an empty text.
    """
    from foreigndesk.review import FORM_FIELDS

    given = params_input if isinstance(params_input, dict) else {}
    fields: dict[str, str] = {}
    invalid: list[str] = []
    for name in FORM_FIELDS:
        value = given.get(name)
        if isinstance(value, str):
            fields[name] = value
        elif value is None and name in OPTIONAL_FIELDS and name in given:
            fields[name] = ""
        elif value is None:
            invalid.append(f"The form came back without the field '{name}'; your earlier text is kept.")
        else:
            invalid.append(f"The field '{name}' came back as {type(value).__name__}, not text; your earlier text is kept.")
    return fields, invalid


def notice_channels(settings: Settings) -> list:
    """The configured notice channels, their clients built from Airflow Connections."""
    from foreigndesk.notify import EmailChannel, LogChannel, WebhookChannel

    channels: list = []
    for name in settings.notify:
        if name == "log":
            channels.append(LogChannel())
        elif name == "email":
            channels.append(EmailChannel(_AirflowSmtp(SMTP_CONNECTION), settings.notify_email_to))
        elif name == "webhook":
            import requests
            from airflow.sdk import BaseHook

            connection = BaseHook.get_connection(WEBHOOK_CONNECTION)
            session = requests.Session()
            if connection.password:
                session.headers["Authorization"] = f"Bearer {connection.password}"
            channels.append(WebhookChannel(session, _webhook_url(connection)))
    return channels


def _webhook_url(connection: Any) -> str:
    """The connection's ``host`` is the whole URL (``{"conn_type": "http", "host": "https://…/hook"}``)."""
    host = connection.host or ""
    if "://" in host:
        return host
    raise ValueError(
        f"Airflow Connection {WEBHOOK_CONNECTION!r} must hold the full webhook URL in 'host' "
        "(e.g. https://chat.example/hooks/desk); put a bearer token, if any, in 'password'"
    )


class _AirflowSmtp:
    """Airflow's SMTP provider hook, connected for each message (notices are rare)."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def send_email_smtp(self, **kwargs: Any) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            hook.send_email_smtp(**kwargs)


def form_link(task_instance: Any, base_url: str | None = None) -> str:
    """The UI address of a task's review form.

    Not ``HITLOperator.generate_link_to_ui``: for a mapped task it appends
    ``?map_index=N``, which the 3.3 UI does not read ("No Task Instance found");
    the UI's own route for a mapped task instance is ``…/mapped/N/required_actions``.
    """
    from urllib.parse import quote

    from airflow.configuration import conf

    base = (base_url or conf.get("api", "base_url", fallback="") or "").rstrip("/")
    if not base:
        return "(set [api] base_url to put links in notices)"
    mapped = f"/mapped/{task_instance.map_index}" if task_instance.map_index is not None and task_instance.map_index >= 0 else ""
    return (f"{base}/dags/{quote(task_instance.dag_id)}/runs/{quote(task_instance.run_id, safe=':+')}"
            f"/tasks/{quote(task_instance.task_id)}{mapped}/required_actions")


class ReviewOperator(HITLOperator):
    """One translator's review of one language, one attempt: the form is built from the store when it opens.

    The translate DAG chains ``ROUNDS`` of these per language inside a mapped
    task group: round 1 opens the review; a later round opens only when the
    previous answer was an Approve that failed the post-edit checks ("needs
    fix"), pre-filled with the translator's own text. Each round is its own task
    instance, so each attempt has its own form (Airflow keeps one form per task
    instance and a re-run would show the old one).

    Only ``subject`` and ``body`` are templated by Airflow, so the editable
    fields are pre-filled here at run time from the records; ``language`` is a
    template field too, which is how a classic operator in a mapped task group
    receives its mapped value. No ``defaults``: on timeout the scheduler resumes
    the task with a timeout error event, recorded as "expired" — nothing is
    approved by default.
    """

    template_fields = (*HITLOperator.template_fields, "language")

    def __init__(self, *, language: Any, round: int = 1, **kwargs: Any) -> None:
        from foreigndesk.review import OPTIONS

        # The form's fields are this task's only params; DAG-level params (article_id,
        # revision) arrive merged in by Airflow and must not become form fields.
        kwargs.pop("params", None)
        super().__init__(
            subject="foreigndesk review",
            options=list(OPTIONS),
            params=_form_params({}),
            **kwargs,
        )
        self.language = language
        self.round = round

    def _link(self, context: Any) -> str:
        return form_link(context["task_instance"])

    def execute(self, context: Any) -> Any:
        from airflow.sdk.exceptions import AirflowSkipException, TaskAwaitingInput

        from foreigndesk import notify
        from foreigndesk.review import build_form, open_review, plan_review

        settings, store = _desk()
        article_id, revision = _run_article()
        plan = plan_review(store, article_id, revision, self.language, entry=self.round == 1)
        if plan is None:
            raise AirflowSkipException(f"{self.language}: no review to open in round {self.round}; "
                                       "the recorded decision stands")
        form = build_form(store, article_id, revision, self.language, _reviewers(), plan.fix_of, plan.attempt)
        self.subject = form.subject
        self.body = form.body
        self.params = ParamsDict(_form_params(form.defaults))
        self.assigned_users = [{"id": user, "name": user} for user in form.assigned_users]
        self.response_timeout = timedelta(seconds=settings.review_timeout_seconds)
        opened = datetime.now(timezone.utc).replace(microsecond=0)
        link = self._link(context)
        request = open_review(store, article_id, revision, self.language, plan, form, opened.isoformat(), link,
                              (opened + self.response_timeout).isoformat())
        print(f"{self.language}: review attempt {request.attempt} open for {', '.join(request.reviewers)}: {link}")
        try:
            return super().execute(context)
        except TaskAwaitingInput:
            notify.send_all(notice_channels(settings), notify.review_opened(
                form.subject, link, article_id, revision, self.language, request.attempt, request.reviewers,
                request.deadline, form.problems))
            raise

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from foreigndesk import notify, records
        from foreigndesk.review import NEEDS_FIX, ROUNDS, current_request, record_decision, record_expiry, subject_for

        settings, store = _desk()
        article_id, revision = _run_article()
        if event.get("error_type") == "timeout":
            request = current_request(store, article_id, revision, self.language)
            decision = record_expiry(store, article_id, revision, self.language, records.now_utc())
            notify.send_all(notice_channels(settings), notify.review_expired(
                subject_for(store, article_id, revision, self.language), request.link if request else "",
                article_id, revision, self.language, decision.attempt, request.reviewers if request else []))
            print(f"{self.language}: review attempt {decision.attempt} expired; nothing approved")
            return {"language": self.language, "state": decision.outcome, "attempt": decision.attempt}

        fields, invalid = clean_form_answer(event.get("params_input"))
        answer = super().execute_complete(context, {**event, "params_input": {**_blank_form(), **fields}})
        user = answer.get("responded_by_user") or {}
        request = current_request(store, article_id, revision, self.language)
        decision = record_decision(
            store,
            article_id,
            revision,
            self.language,
            answer["chosen_options"],
            fields,
            reviewer=str(user.get("id", "unknown")),
            decided_at=answer["responded_at"].isoformat(),
            invalid=invalid,
        )
        if decision.approved:
            from foreigndesk.review import remember_decision

            remembered = remember_decision(store, decision)
            print(f"{self.language}: {remembered} approved segments added to the translation memory")
        print(f"{self.language}: {decision.option} by {decision.reviewer} -> {decision.outcome}"
              + (f" ({'; '.join(decision.problems)})" if decision.problems else ""))
        if decision.outcome == NEEDS_FIX and self.round >= ROUNDS:
            notify.send_all(notice_channels(settings), notify.fix_still_needed(
                subject_for(store, article_id, revision, self.language), request.link if request else "",
                article_id, revision, self.language, decision.attempt, request.reviewers if request else [],
                decision.problems))
        return {"language": self.language, "option": decision.option, "reviewer": decision.reviewer,
                "state": decision.outcome, "attempt": decision.attempt}


def _blank_form() -> dict[str, str]:
    from foreigndesk.review import FORM_FIELDS

    return {name: "" for name in FORM_FIELDS}
