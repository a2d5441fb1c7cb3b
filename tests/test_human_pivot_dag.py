"""The human pivot end to end: foreigndesk_translate under dag.test(), reviews answered through the REST app.

With ``FOREIGNDESK_PIVOT=approved`` the run drafts English, waits for its review,
then drafts Chinese and Korean from the approved English. The English reviewer
changes a term; the Chinese and Korean drafts (and the forms their reviewers
get) must carry the change, and their reviews must open only after the English
decision.
"""

from __future__ import annotations

import json

import pytest

from conftest import REPO, TEST_PASSWORDS
from hitl_responder import Responder, language_of, prefilled, run_answered

pytestmark = pytest.mark.airflow

ARTICLE = """---
id: tntv-2025-06-hoi-cho-che
title: Hội chợ chè tỉnh Thái Nguyên
outlet: tntv
approved_by: Trần Thị Mai
approved_at: 2025-06-02T08:00:00+07:00
languages: [en, zh, ko]
---
Hội chợ chè năm 2025 đón du khách.
"""
EN_TITLE = "Thai Nguyen province tourism fair"
EN_BODY = "Tourism fair of tea, year 2025.\n"


def _translate_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=REPO / "dags")
    assert not bag.import_errors, bag.import_errors
    return bag.dags["foreigndesk_translate"]


def _task_times(run_id: str) -> dict[tuple[str, int], tuple]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter(TaskInstance.run_id == run_id).all()
        return {(ti.task_id, ti.map_index): (ti.start_date, ti.end_date, str(ti.state)) for ti in rows}


def test_the_task_order_follows_the_pivot_setting(monkeypatch):
    """Machine pivot: the DAG as always (its reviews are its last tasks). Approved: English, then the rest,
    and a task that fails the run when any review task failed (the English reviews are no longer last)."""
    assert "translate_after_english" not in _translate_dag().task_dict
    monkeypatch.setenv("FOREIGNDESK_PIVOT", "approved")
    tasks = _translate_dag().task_dict
    assert tasks["translate_after_english"].trigger_rule == "all_done"
    assert {"review.round_3", "review_after_english.round_3"} <= tasks["translate_after_english"].upstream_task_ids \
        | tasks["a_review_failed"].upstream_task_ids
    watcher = tasks["a_review_failed"]
    assert watcher.trigger_rule == "one_failed" and watcher.downstream_task_ids == set()
    # The last round of each group: an earlier round that failed makes it upstream_failed, which fires the rule.
    assert watcher.upstream_task_ids == {"review.round_3", "review_after_english.round_3"}


def test_an_english_edit_reaches_zh_and_ko_reviews_opened_after_the_english_decision(desk, demo_models, airflow_db,
                                                                                     monkeypatch):
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

    monkeypatch.setenv("FOREIGNDESK_PIVOT", "approved")
    store = LocalStore(desk / "store")
    article = register(store, parse_article(ARTICLE.encode(), "che.md", "tntv"), ARTICLE.encode(), "che.md")

    def english(detail):
        return {"chosen_options": ["Approve"], "params_input": {**prefilled(detail), "title": EN_TITLE, "body": EN_BODY}}

    def as_drafted(detail):
        return {"chosen_options": ["Approve"], "params_input": prefilled(detail)}

    responder = Responder(TEST_PASSWORDS, {"en": english, "zh": as_drafted, "ko": as_drafted})
    run = run_answered(_translate_dag(), {"article_id": article.article_id, "revision": article.revision}, responder)
    assert run.state == "success"

    # What each reviewer was shown, in the order the reviews opened.
    assert [language_of(detail) for detail in responder.seen][0] == "en"
    assert sorted(language_of(detail) for detail in responder.seen[1:]) == ["ko", "zh"]
    forms = {language_of(detail): detail for detail in responder.seen}
    assert forms["en"]["params"]["title"]["value"] == "Hội chợ tea Thai Nguyen province"
    assert forms["zh"]["params"]["title"]["value"] == "太原省 旅游 fair"
    assert forms["zh"]["params"]["body"]["value"] == "旅游 fair 的 茶, 年 2025.\n"
    assert forms["ko"]["params"]["title"]["value"] == "타이응우옌성 관광 fair"
    for language in ("zh", "ko"):
        assert "English (approved)" in forms[language]["body"] and EN_TITLE in forms[language]["body"]

    # The records: zh and ko drafted from the approved English, opened after it was decided.
    base = desk / "store"
    folder = f"{article.article_id}/{article.revision}"
    en_decision = json.loads((base / "decisions" / folder / "en" / "001.json").read_text())
    assert (en_decision["state"], en_decision["title"]) == ("approved", EN_TITLE)
    for language in ("zh", "ko"):
        draft = json.loads((base / "drafts" / folder / f"{language}.json").read_text())
        assert draft["pivot"]["from"] == "approved" and draft["pivot"]["decision"].endswith("/en/001.json")
        opened = json.loads((base / "reviews" / folder / language / "001.json").read_text())["opened_at"]
        assert opened >= en_decision["decided_at"]
        decision = json.loads((base / "decisions" / folder / language / "001.json").read_text())
        assert decision["state"] == "approved"

    # Airflow's own task order: English review done → drafting → zh/ko reviews.
    times = _task_times(run.run_id)
    en_review_end = times[("review.round_1", 0)][1]
    after = times[("translate_after_english", -1)]
    later_starts = [start for (task, index), (start, _, _) in times.items() if task == "review_after_english.round_1"]
    assert len(later_starts) == 2
    assert en_review_end <= after[0] and all(after[1] <= start for start in later_starts)
    assert times[("review.round_2", 0)][2] == "skipped"
    assert times[("a_review_failed", -1)][2] == "skipped", "no review failed: the run succeeds"


class FailEnglishApproveRest(Responder):
    """Fails the English review task through the REST API (as an operator would); approves zh and ko as drafted."""

    def _loop(self, client) -> None:
        import time

        deadline = time.monotonic() + self.timeout
        done: set[tuple] = set()
        while not self._stop_event.is_set() and time.monotonic() < deadline:
            pending = client.get("/api/v2/dags/~/dagRuns/~/hitlDetails", params={"response_received": "false"},
                                 headers=self._headers(client, "admin")).json()["hitl_details"]
            for detail in pending:
                ti = detail["task_instance"]
                key = (ti["dag_run_id"], ti["task_id"], ti["map_index"])
                if ti["state"] != "awaiting_input" or key in done:
                    continue
                done.add(key)
                self.seen.append(detail)
                if language_of(detail) == "en":
                    response = client.patch(
                        f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
                        f"{ti['map_index']}", json={"new_state": "failed"}, headers=self._headers(client, "admin"))
                else:
                    payload = {"chosen_options": ["Approve"], "params_input": prefilled(detail)}
                    response = self.patch(client, detail, detail["assigned_users"][0]["name"], payload)
                self.calls.append({"language": language_of(detail), "status": response.status_code})
            time.sleep(0.3)


def test_a_failed_english_review_drafts_from_the_machine_english_flagged_and_fails_the_run(desk, demo_models,
                                                                                          airflow_db, monkeypatch):
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

    monkeypatch.setenv("FOREIGNDESK_PIVOT", "approved")
    monkeypatch.setenv("FOREIGNDESK_REVIEW_RETRIES", "0")  # failed by hand, not Airflow's race: no retry
    raw = ARTICLE.replace("tntv-2025-06-hoi-cho-che", "tntv-2025-06-hoi-cho-che-2").encode()
    article = register(LocalStore(desk / "store"), parse_article(raw, "che2.md", "tntv"), raw, "che2.md")
    responder = FailEnglishApproveRest(TEST_PASSWORDS, {})
    run = run_answered(_translate_dag(), {"article_id": article.article_id, "revision": article.revision}, responder)
    assert sorted((call["language"], call["status"]) for call in responder.calls) == [
        ("en", 200), ("ko", 200), ("zh", 200)]
    forms = {language_of(detail): detail for detail in responder.seen}
    assert forms["zh"]["params"]["title"]["value"] == "Hội chợ 茶 太原省", "from the machine English"
    assert "**⚠ Drafted from the machine English:** the English review ended without a decision" in forms["zh"]["body"]
    times = _task_times(run.run_id)
    assert times[("a_review_failed", -1)][2] == "failed" and run.state == "failed"
    draft = json.loads((desk / "store" / "drafts" / article.article_id / article.revision / "ko.json").read_text())
    assert draft["pivot"] == {"from": "machine", "reason": "without a decision"}
