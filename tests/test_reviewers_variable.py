"""The ``foreigndesk_reviewers`` Variable as the review task reads it: a wrong shape is a clear error
naming the Variable and its right shape, never one reviewer per letter.

The Variable is defined the way Airflow documents for deployments, as ``AIRFLOW_VAR_FOREIGNDESK_REVIEWERS``
in the environment, and read through Airflow's own ``Variable.get`` (its environment secrets backend):
outside a running task that is the backend the Task SDK consults.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.airflow


def test_a_good_variable_is_read_as_lists_of_user_ids(monkeypatch):
    from foreigndesk.airflow_side.desk import reviewers_variable

    monkeypatch.setenv("AIRFLOW_VAR_FOREIGNDESK_REVIEWERS", json.dumps({"en": ["reviewer_en", " editor "], "zh": ["li"]}))
    assert reviewers_variable() == {"en": ["reviewer_en", "editor"], "zh": ["li"]}
    monkeypatch.delenv("AIRFLOW_VAR_FOREIGNDESK_REVIEWERS")
    assert reviewers_variable() is None, "not set: the defaults (reviewer_<lang>) apply"


@pytest.mark.parametrize(("value", "named"), [
    ('{"en": "reviewer_en"}', "'en' must be a list of user ids"),
    ('"reviewer_en"', "must map each language to a list of user ids, not str"),
    ('["reviewer_en"]', "must map each language to a list of user ids, not list"),
    ('{"en": []}', "'en' must be a list of user ids"),
    ('{"en": [["a"]]}', "'en' must be a list of user ids"),
    ('{"en": [reviewer_en]}', "is not JSON"),
])
def test_a_malformed_variable_is_a_clear_error_naming_it(monkeypatch, value, named):
    from foreigndesk.airflow_side.desk import reviewers_variable

    monkeypatch.setenv("AIRFLOW_VAR_FOREIGNDESK_REVIEWERS", value)
    with pytest.raises(ValueError) as caught:
        reviewers_variable()
    message = str(caught.value)
    assert "foreigndesk_reviewers" in message and named in message, message
    assert '{"en": ["reviewer_en"]' in message, "the message shows the right shape"


def test_reviewers_for_never_reads_a_string_letter_by_letter():
    from foreigndesk.review.form import ReviewersError, reviewers_for

    with pytest.raises(ReviewersError, match="must be a list of user ids"):
        reviewers_for("en", {"en": "reviewer_en"})
    with pytest.raises(ReviewersError, match="not str"):
        reviewers_for("en", "reviewer_en")  # type: ignore[arg-type]
    assert reviewers_for("en", {"en": ["kim"]}) == ["kim"]
