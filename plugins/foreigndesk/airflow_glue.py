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


def _desk() -> tuple[Settings, Store]:
    settings = load_settings()
    return settings, open_store(settings.store)


def translate_run_id(article_id: str, revision: str) -> str:
    """One translate run per revision: the run id is derived, so a re-run can't start a duplicate."""
    return f"article__{article_id}__{revision}"


def register_drops() -> list[dict[str, Any]]:
    """Ingest every drop zone; return one TriggerDagRunOperator kwargs per new revision."""
    from foreigndesk.intake import ingest_inbox

    settings, store = _desk()
    result = ingest_inbox(store, settings.inbox, settings.outlets)
    for item in result.quarantined:
        print(f"quarantined {item['file']}: {item['reason']}")
    return [
        {
            "trigger_run_id": translate_run_id(item.article_id, item.revision),
            "conf": {"article_id": item.article_id, "revision": item.revision},
        }
        for item in result.accepted
    ]


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


def publish_approved() -> dict[str, Any]:
    from foreigndesk.publishing import publish_feeds

    settings, store = _desk()
    result = publish_feeds(store, settings)
    return {"published": result.published, "feeds_written": result.feeds_written}


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
