"""``foreigndesk models evaluate``: chrF, TER and the unchanged share, from decisions review wrote."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sacrebleu
from sacrebleu.metrics import TER

from foreigndesk.cli import main
from foreigndesk.core.store import LocalStore
from foreigndesk.quality.approvals import load_approvals
from foreigndesk.quality.scores import evaluate
from quality_desk import add_article, article_bytes, review

FAIR = "Hội chợ chè năm 2025 đón du khách.\n"


@pytest.fixture
def scored_store(tmp_path, demo_models):
    """Two articles, two outlets, two months: one edited in en and zh, one approved as the machine wrote it."""
    store = LocalStore(tmp_path / "store")
    fair = add_article(store, article_bytes("Hội chợ chè", FAIR, outlet="baothainguyen"), "fair.md", "baothainguyen")
    visit = add_article(store, article_bytes("Du lịch", "Du khách thăm đồi chè.\n", languages="en"), "visit.md")
    review(store, fair, "en", "2025-04-02T08:00:00+00:00",
           fields={"title": "Tea fair", "body": "The 2025 tea fair welcomes visitors.\n"})
    review(store, fair, "zh", "2025-04-02T09:00:00+00:00", fields={"title": "茶叶博览会", "body": "2025年茶叶博览会迎接游客。\n"})
    review(store, visit, "en", "2025-05-10T08:00:00+00:00")  # approved unchanged
    review(store, fair, "ko", "2025-04-02T09:00:00+00:00", option="Reject")  # not an approval: not scored
    return store


def rows(evaluation, language, by):
    return {row.group: row for row in evaluation.rows if row.language == language and row.by == by}


def test_scores_match_sacrebleu_by_hand(scored_store):
    # What the demo models wrote (copy + a few swapped words) and what the reviewers approved.
    en_machine = ["Hội chợ tea", "Hội chợ tea year 2025 đón du khách.", "Tourism", "Du khách thăm đồi tea."]
    en_approved = ["Tea fair", "The 2025 tea fair welcomes visitors.", "Tourism", "Du khách thăm đồi tea."]
    zh_machine = ["Hội chợ 茶", "Hội chợ 茶 年 2025 đón du khách."]
    zh_approved = ["茶叶博览会", "2025年茶叶博览会迎接游客。"]

    evaluation = evaluate(scored_store, languages=("en", "zh", "ko"))
    en, zh = rows(evaluation, "en", "language")["en"], rows(evaluation, "zh", "language")["zh"]
    assert en.chrf == round(sacrebleu.corpus_chrf(en_machine, [en_approved]).score, 2)
    assert en.ter == round(sacrebleu.corpus_ter(en_machine, [en_approved]).score, 2)
    assert zh.chrf == round(sacrebleu.corpus_chrf(zh_machine, [zh_approved]).score, 2)
    assert zh.ter == round(TER(normalized=True, asian_support=True).corpus_score(zh_machine, [zh_approved]).score, 2)
    assert zh.ter != round(sacrebleu.corpus_ter(zh_machine, [zh_approved]).score, 2), "CJK TER counts characters"
    assert (en.articles, en.segments, en.unchanged, en.unchanged_share) == (2, 4, 2, 0.5)
    assert (zh.articles, zh.segments, zh.unchanged) == (1, 2, 0)
    assert [row.language for row in evaluation.overall()] == ["en", "zh"], "a rejection is no reference"


def test_segment_statistics_are_kept_once_and_summed_again(scored_store):
    """A second evaluation sums the stored statistics (written once per decision) to the same scores."""
    first = evaluate(scored_store, languages=("en", "zh"))
    kept = [key for key in scored_store.list("quality-stats/") if key.endswith(".json")]
    assert len(kept) == 3, kept  # en ×2, zh ×1: the approvals
    before = {key: scored_store.read(key) for key in kept}
    assert evaluate(scored_store, languages=("en", "zh")) == first
    assert {key: scored_store.read(key) for key in kept} == before
    zh_key = next(key for key in kept if "/zh/" in key)
    stored = json.loads(scored_store.read(zh_key))
    assert stored["units"] == ["title", "body.1"] and len(stored["TER"]) == 2
    # Statistics that no longer match the segments (another cut) are recomputed, not trusted.
    (scored_store.root / zh_key).write_text(json.dumps({**stored, "units": ["title"], "TER": [[99.0, 1.0]]}))
    assert evaluate(scored_store, languages=("en", "zh")) == first


def test_per_model_outlet_and_month(scored_store):
    evaluation = evaluate(scored_store, languages=("en", "zh", "ko"))
    assert set(rows(evaluation, "en", "model")) == {"translate-vi_en-demo (0.0.1)"}
    assert set(rows(evaluation, "zh", "model")) == {"translate-vi_en-demo + translate-en_zh-demo (0.0.1 + 0.0.1)"}
    outlets = rows(evaluation, "en", "outlet")
    assert {name: row.segments for name, row in outlets.items()} == {"baothainguyen": 2, "tntv": 2}
    assert outlets["tntv"].chrf == 100.0 and outlets["tntv"].ter == 0.0 and outlets["tntv"].unchanged_share == 1
    assert outlets["baothainguyen"].chrf < 50
    months = rows(evaluation, "en", "month")
    assert sorted(months) == ["2025-04", "2025-05"]
    assert months["2025-04"].chrf == outlets["baothainguyen"].chrf


def test_lang_and_since_filter(scored_store):
    only_may = evaluate(scored_store, since=date(2025, 5, 1))
    assert [(row.language, row.articles) for row in only_may.overall()] == [("en", 1)]
    assert [row.language for row in evaluate(scored_store, language="zh").overall()] == ["zh"]


def test_memory_segments_are_not_the_models(tmp_path, demo_models):
    """A paragraph served from translation memory is a reviewer's text: counted apart, not scored."""
    from foreigndesk.translate.memory import remember_decision

    store = LocalStore(tmp_path / "store")
    first = add_article(store, article_bytes("Chè", "Chè Tân Cương.\n", languages="en"), "a.md")
    decision = review(store, first, "en", "2025-04-01T08:00:00+00:00", fields={"body": "Tan Cuong tea.\n"})
    remember_decision(store, decision)
    second = add_article(store, article_bytes("Du lịch", "Chè Tân Cương.\n\nDu khách đến.\n", languages="en"), "b.md")
    review(store, second, "en", "2025-04-03T08:00:00+00:00")
    approvals = {a.article.article_id: a for a in load_approvals(store)}
    later = approvals[second.article_id]
    assert [s.unit for s in later.segments if s.memory] == ["body.1"]
    row = rows(evaluate(store), "en", "language")["en"]
    assert row.memory_segments == 1 and row.segments == 2 + 2  # first: title + body; second: title + body.2


def test_cli_table_json_and_status(scored_store, capsys):
    assert main(["models", "evaluate", "--store", str(scored_store.root), "--lang", "en"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["lang", "by", "group"]
    assert any(line.split()[:3] == ["en", "outlet", "tntv"] and line.split()[-3:] == ["100.0", "0.0", "100%"]
               for line in table)
    assert main(["models", "evaluate", "--store", str(scored_store.root), "--json", "--since", "2025-04-01"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {(row["language"], row["by"]) for row in payload["rows"]} >= {("en", "language"), ("zh", "month")}
    assert main(["models", "evaluate", "--store", str(scored_store.root), "--since", "April"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err

    assert main(["status", "--no-airflow", "--store", str(scored_store.root)]) == 0
    status = capsys.readouterr().out
    assert "chrF" in status and any(line.split()[:3] == ["zh", "language", "zh"] for line in status.splitlines())
    assert main(["status", "--json", "--no-airflow", "--store", str(scored_store.root)]) == 0
    assert {row["language"] for row in json.loads(capsys.readouterr().out)["model_scores"]} == {"en", "zh"}
