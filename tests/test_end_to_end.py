"""One article from drop to feed, through the three real DAGs.

Ingest, translate and publish run with ``dag.test()`` on a real (SQLite)
Airflow; the reviews are answered by a background responder through Airflow's
real REST app: English approved as is, Chinese approved with an edit, Korean
rejected. The feeds must then hold exactly what was approved, and nothing else.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, TEST_PASSWORDS
from hitl_responder import Responder, prefilled, run_answered

pytestmark = pytest.mark.airflow

EXAMPLE = REPO / "content" / "examples" / "baothainguyen-hop-tac-gyeongsangbuk-do.md"
ZH_FIRST_PARAGRAPH = "3月14日，太原省人民委员会接待了庆尚北道（韩国）工作代表团。双方同意扩大旅游合作和文化交流。"


def zh_edit(machine_body: str) -> str:
    """A translator's real edit: the first paragraph rewritten in Chinese, official names kept."""
    first, rest = machine_body.split("\n\n", 1)
    return f"{ZH_FIRST_PARAGRAPH}\n\n{rest}"


def _dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=REPO / "dags")
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def _triggered_runs(dag_id: str) -> list:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == dag_id).all()
        return [(run.run_id, dict(run.conf or {})) for run in runs]


def _answers():
    def approve_unchanged(detail):
        return {"chosen_options": ["Approve"], "params_input": prefilled(detail)}

    def approve_edited(detail):
        fields = prefilled(detail)
        fields["body"] = zh_edit(fields["body"])
        fields["note"] = "Sửa tên tỉnh theo bảng thuật ngữ"
        return {"chosen_options": ["Approve"], "params_input": fields}

    def reject(detail):
        return {"chosen_options": ["Reject"], "params_input": prefilled(detail)}

    return {"en": approve_unchanged, "zh": approve_edited, "ko": reject}


def _feed(store: Path, language: str) -> dict:
    return json.loads((store / "feeds" / language / "feed.json").read_text())


def test_drop_to_feed(desk, demo_models, airflow_db):
    store = desk / "store"
    shutil.copy(EXAMPLE, desk / "inbox" / "baothainguyen" / EXAMPLE.name)

    _dag("foreigndesk_ingest").test()
    runs = [(run_id, conf) for run_id, conf in _triggered_runs("foreigndesk_translate") if run_id.startswith("article__btn-")]
    assert len(runs) == 1, runs
    run_id, conf = runs[0]
    assert conf["article_id"] == "btn-2025-03-hop-tac-gyeongsangbuk-do"
    assert run_id == f"article__{conf['article_id']}__{conf['revision']}"
    assert not list((desk / "inbox" / "baothainguyen").iterdir()), "the drop is taken once registered"

    responder = Responder(TEST_PASSWORDS, _answers())
    translate_run = run_answered(_dag("foreigndesk_translate"), conf, responder)
    assert translate_run.state == "success"

    opened = {detail["subject"][:4]: detail for detail in responder.seen}
    assert sorted(opened) == ["[EN]", "[KO]", "[ZH]"]
    for tag, detail in opened.items():
        language = tag[1:3].lower()
        assert [user["id"] for user in detail["assigned_users"]] == [f"reviewer_{language}"]
        assert detail["body"].splitlines()[0].startswith("**⚠ DEMO MODEL — not a real translation")
        assert detail["params"]["body"]["schema"]["format"] == "multiline"
    assert sorted((call["language"], call["status"]) for call in responder.calls) == [("en", 200), ("ko", 200), ("zh", 200)]

    en_draft = json.loads((store / "drafts" / conf["article_id"] / conf["revision"] / "en.json").read_text())
    assert opened["[EN]"]["params"]["body"]["value"] == en_draft["body"]

    publish_run = _dag("foreigndesk_publish").test()
    assert publish_run.state == "success"

    en_items = _feed(store, "en")["items"]
    zh_items = _feed(store, "zh")["items"]
    assert [item["content_text"] for item in en_items] == [en_draft["body"]]
    zh_draft = json.loads((store / "drafts" / conf["article_id"] / conf["revision"] / "zh.json").read_text())
    assert [item["content_text"] for item in zh_items] == [zh_edit(zh_draft["body"])]
    assert en_items[0]["language"] == "en" and zh_items[0]["language"] == "zh"
    assert not (store / "feeds" / "ko").exists(), "a rejected translation is never published"

    decisions = {
        path.parent.name: json.loads(path.read_text())
        for path in (store / "decisions" / conf["article_id"] / conf["revision"]).glob("*/001.json")
    }
    assert {lang: d["option"] for lang, d in decisions.items()} == {"en": "Approve", "zh": "Approve", "ko": "Reject"}
    assert decisions["zh"]["reviewer"] == "reviewer_zh"
    assert decisions["zh"]["note"] == "Sửa tên tỉnh theo bảng thuật ngữ"

    # A second publish run has nothing due and changes nothing.
    before = (store / "feeds" / "en" / "feed.json").read_bytes()
    _dag("foreigndesk_publish").test()
    assert (store / "feeds" / "en" / "feed.json").read_bytes() == before
