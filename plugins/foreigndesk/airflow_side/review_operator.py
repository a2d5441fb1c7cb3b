"""The review operator: Airflow's HITL form, opened and answered through the review stage's functions.

The state machine (which attempt opens, what an answer or a timeout leaves
behind, when the desk is told) is plain Python in
:mod:`foreigndesk.review.rounds`; this adapter only moves values between
Airflow and it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param
from airflow.sdk.definitions.param import ParamsDict
from foreigndesk.airflow_side.connections import notice_channels
from foreigndesk.airflow_side.desk import open_desk, reviewers_variable, run_article
from foreigndesk.core.decisions import (
    FORM_FIELDS,
    OPTIONS,
    SUPERSEDED,
    ReviewBlocked,
    current_request,
    record_blocked,
)
from foreigndesk.core.events import FORM_FIELDS as EVENT_FORM_FIELDS
from foreigndesk.review import event_review, rounds

#: The event's fields, shown only when the article has an event (``review.event_review``).
EVENT_FORM_TITLES = {EVENT_FORM_FIELDS[name]: label for name, label in event_review.LABELS.items()}
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
        **{name: Param(defaults[name], type=optional if name.endswith("organiser") else "string", title=title)
           for name, title in EVENT_FORM_TITLES.items() if name in defaults},  # the article's event, if any
    }


def clean_form_answer(params_input: Any) -> tuple[dict[str, str], list[str]]:
    """The answered fields that are text, and what was wrong with the rest.

    The REST API stores ``params_input`` without checking it against the form's
    schema (docs/airflow-hitl.md); Airflow would then fail the task on resume. The desk
    checks it first: a missing or non-text field is reported (and, for an
    Approve, makes the decision "needs fix") instead of crashing the review.
    An optional field left empty may come back as null: that is an empty text.
    """
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
    fields.update({name: given[name] or "" for name in EVENT_FORM_TITLES if isinstance(given.get(name) or "", str)
                   and name in given})
    return fields, invalid


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
        # The form's fields are this task's only params; DAG-level params (article_id,
        # revision) arrive merged in by Airflow and must not become form fields.
        kwargs.pop("params", None)
        super().__init__(subject="foreigndesk review", options=list(OPTIONS), params=_form_params({}), **kwargs)
        self.language = language
        self.round = round

    def _reviewers(self, store: Any, article_id: str, revision: str) -> dict[str, list[str]] | None:
        """The reviewers Variable; a malformed one fails the task and is recorded for ``foreigndesk status``."""
        try:
            return reviewers_variable()
        except ValueError as problem:
            record_blocked(store, ReviewBlocked(article_id, revision, self.language, str(problem),
                                                datetime.now(timezone.utc).isoformat()))
            raise

    def execute(self, context: Any) -> Any:
        from airflow.sdk.exceptions import AirflowSkipException, TaskAwaitingInput

        settings, store = open_desk()
        article_id, revision = run_article()
        ti = context["task_instance"]
        lost_answer = False
        if ti.try_number > 1:
            settled, lost_answer = self._earlier_try(ti, store, settings, article_id, revision)
            if settled is not None:
                return settled
        timeout = timedelta(seconds=settings.review_timeout_seconds)
        link = form_link(ti)
        reviewers, assignment = self._assign(store, settings, article_id, revision, link)
        opened = rounds.open_round(store, article_id, revision, self.language, self.round, reviewers,
                                   datetime.now(timezone.utc).replace(microsecond=0), timeout, link,
                                   rounds.TaskPlace(ti.run_id, ti.task_id, _map_index(ti)), lost_answer)
        if opened is None:
            raise AirflowSkipException(f"{self.language}: no review to open in round {self.round}; "
                                       "the recorded decision stands")
        self.subject, self.body = opened.form.subject, opened.form.body
        self.params = ParamsDict(_form_params(opened.form.defaults))
        self.assigned_users = [dict(user) for user in assignment.users]
        # A newer revision's ingest ends this task through the REST API (parked_reviews); as a safety
        # net for a task it could not end, the task also wakes every recheck interval to look itself.
        self.response_timeout = min(timeout, timedelta(seconds=max(1, settings.review_recheck_seconds)))
        print(f"{self.language}: review attempt {opened.request.attempt} open for "
              f"{', '.join(opened.request.reviewers)}: {link}")
        try:
            return super().execute(context)
        except TaskAwaitingInput:
            closed = rounds.superseded_now(store, article_id, revision, self.language,
                                           datetime.now(timezone.utc).replace(microsecond=0).isoformat())
            if closed is not None:
                # A correction registered while the form was being created: ingest may have looked
                # before this task parked, so end here rather than wait for the safety-net wake.
                raise AirflowSkipException(f"{self.language}: superseded by revision {closed.superseded_by} "
                                           "while the review was opening") from None
            rounds.announce(opened, notice_channels(settings))
            raise

    def _assign(self, store: Any, settings: Any, article_id: str, revision: str, link: str) -> tuple[Any, Any]:
        """The Variable's usernames for this language, mapped to the auth manager's user ids.

        Names without a live account are left out of the review and told to the desk chief;
        when none is left the review does not open (the task fails saying so).
        """
        from foreigndesk.airflow_side.reviewer_lookup import reviewer_accounts
        from foreigndesk.review import assignees, notify
        from foreigndesk.review.form import reviewers_for, subject_for

        variable = self._reviewers(store, article_id, revision)
        usernames = reviewers_for(self.language, variable)
        assignment = assignees.assign(usernames, reviewer_accounts(usernames))
        if assignment.unusable:
            notify.send_all(notice_channels(settings), assignees.unusable_notice(
                assignment, subject_for(store, article_id, revision, self.language), link,
                article_id, revision, self.language, self.round))
        if not assignment.users:
            from airflow.sdk.exceptions import (
                AirflowFailException,  # no retry: a person must fix the accounts
            )

            raise AirflowFailException(
                f"{self.language}: no reviewer can sign in ({'; '.join(f'{n}: {w}' for n, w in assignment.unusable)}); "
                "fix the accounts or the Variable foreigndesk_reviewers, then clear this task")
        return {**(variable or {}), self.language: assignment.names}, assignment

    def _earlier_try(self, ti: Any, store: Any, settings: Any, article_id: str, revision: str) -> tuple[Any, bool]:
        """A retry after Airflow failed this task: (the result to return, whether an answer may have been lost).

        The decision record is the truth: if an earlier try recorded one, this try
        returns it. If the attempt is still open, the answer an earlier try received
        is read back through the REST API and recorded now, once. Only when it
        cannot be read does the review re-open, saying so.
        """
        if rounds.plan_review(store, article_id, revision, self.language, entry=self.round == 1) is None:
            decision = rounds.latest_decision(store, article_id, revision, self.language)
            return (self._summary(decision) if decision is not None else None), False
        if current_request(store, article_id, revision, self.language) is None:
            return None, False
        try:
            answer, checked = _read_earlier_answer(ti)
        except Exception as error:  # reading back is a rescue: it must never fail the review itself
            print(f"{self.language}: could not read the earlier try's answer ({type(error).__name__}: {error})")
            return None, True
        if answer is None:
            # Nothing to read back: either no answer was given, or Airflow lost it before keeping it.
            # The re-opened form says so either way; the reviewer who did answer knows to answer again.
            return None, True
        print(f"{self.language}: an earlier try was answered but failed in Airflow; recording that answer now")
        return self._record(store, settings, article_id, revision, {**answer, "responded_at": _moment(answer)}), False

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from foreigndesk.core.records import now_utc

        settings, store = open_desk()
        article_id, revision = run_article()
        if event.get("error_type") == "timeout":
            woke = rounds.recheck(store, article_id, revision, self.language, datetime.now(timezone.utc))
            if woke.closed is not None:
                print(f"{self.language}: review attempt {woke.closed.attempt} closed: {woke.closed.outcome}"
                      + (f" by revision {woke.closed.superseded_by}" if woke.closed.superseded_by else ""))
                return {"language": self.language, "state": woke.closed.outcome, "attempt": woke.closed.attempt}
            if not woke.expire:
                # An answer given while the task was awake is kept by Airflow and handed over by the
                # scheduler's sweep when this wait ends (a task cannot read its own form's answer).
                self._park_again(woke.seconds, settings.review_recheck_seconds)
            else:
                decision = rounds.expire_round(store, article_id, revision, self.language, now_utc(),
                                               notice_channels(settings))
                print(f"{self.language}: review attempt {decision.attempt} expired; nothing approved")
                return {"language": self.language, "state": decision.outcome, "attempt": decision.attempt}
        return self._record(store, settings, article_id, revision, event, context)

    def _record(self, store: Any, settings: Any, article_id: str, revision: str, event: dict[str, Any],
                context: Any = None) -> Any:
        """The answer, checked and written as a decision (once: a second call returns the first decision)."""
        from foreigndesk.translate.memory import remember_decision

        fields, invalid = clean_form_answer(event.get("params_input"))
        # The resumed task knows the form's fields from its construction only: the event's go to the decision.
        core = {name: value for name, value in fields.items() if name in FORM_FIELDS}
        answer = super().execute_complete(context, {**event, "params_input": {**_blank_form(), **core}})
        user = answer.get("responded_by_user") or {}
        decision = rounds.answer_round(
            store, article_id, revision, self.language, self.round, answer["chosen_options"], fields,
            reviewer=str(user.get("id", "unknown")), decided_at=answer["responded_at"].isoformat(),
            invalid=invalid, notices=notice_channels(settings),
        )
        if decision.outcome == SUPERSEDED:
            print(f"{self.language}: the answer of {decision.reviewer or 'the reviewer'} came after revision "
                  f"{decision.superseded_by} superseded this one; it is not recorded")
        if decision.approved:
            remembered = remember_decision(store, decision)
            print(f"{self.language}: {remembered} approved segments added to the translation memory")
        print(f"{self.language}: {decision.option} by {decision.reviewer} -> {decision.outcome}"
              + (f" ({'; '.join(decision.problems)})" if decision.problems else ""))
        return self._summary(decision)

    def _summary(self, decision: Any) -> dict[str, Any]:
        return {"language": self.language, "option": decision.option, "reviewer": decision.reviewer,
                "state": decision.outcome, "attempt": decision.attempt}

    def _park_again(self, seconds_left: float, recheck_seconds: int) -> None:
        """Still open and not superseded: wait again, until the next check or the deadline."""
        from airflow.sdk.exceptions import TaskAwaitingInput

        wait = timedelta(seconds=max(1.0, min(seconds_left, float(max(1, recheck_seconds)))))
        raise TaskAwaitingInput(method_name="execute_complete", timeout=wait)


def _blank_form() -> dict[str, str]:
    return {name: "" for name in FORM_FIELDS}


def _map_index(ti: Any) -> int:
    return ti.map_index if ti.map_index is not None else -1


def _moment(answer: dict[str, Any]) -> datetime:
    value = answer.get("responded_at")
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else datetime.now(timezone.utc)


def _read_earlier_answer(ti: Any) -> tuple[dict[str, Any] | None, bool]:
    """(the answer an earlier try received, whether the earlier tries could be read at all).

    Reading needs the Connection ``foreigndesk_api`` (the desk's service account);
    without it the desk cannot tell an unanswered try from a lost answer.
    """
    from foreigndesk.airflow_side.earlier_answer import TaskTries, earlier_answer
    from foreigndesk.airflow_side.service_api import API_CONNECTION, service_api

    with service_api() as api:
        if api is None:
            print(f"no Airflow Connection {API_CONNECTION!r}: an earlier try's answer cannot be read back")
            return None, False
        tries = TaskTries(ti.dag_id, ti.run_id, ti.task_id, _map_index(ti), ti.try_number)
        return earlier_answer(api, tries), True
