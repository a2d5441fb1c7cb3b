"""``foreigndesk translate --file ARTICLE.md --lang en,zh,ko [--store ...] --json`` with the demo packages."""

from __future__ import annotations

import json

import pytest
from foreigndesk import cli
from foreigndesk.core.store import LocalStore
from foreigndesk.translate.memory import MemoryRecord, TranslationMemory
from test_translation import BODY, EXPECTED, GLOSSARY_CSV, SUMMARY, TITLE


@pytest.fixture
def article(tmp_path, monkeypatch, demo_models):
    glossary = tmp_path / "glossary"
    glossary.mkdir()
    (glossary / "glossary.csv").write_text(GLOSSARY_CSV, encoding="utf-8")
    monkeypatch.setenv("FOREIGNDESK_GLOSSARY_DIR", str(glossary))
    path = tmp_path / "article.md"
    path.write_text(f"---\ntitle: {TITLE}\nsummary: {SUMMARY}\noutlet: tntv\n---\n{BODY}", encoding="utf-8")
    return path


def _run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["translate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_output_in_three_languages(article, tmp_path, capsys):
    code, out, _ = _run(capsys, "--file", str(article), "--lang", "en,zh,ko", "--store", str(tmp_path / "store"), "--json")
    assert code == 0
    payload = json.loads(out)
    assert list(payload) == ["en", "zh", "ko"]
    for lang, (title, summary, body) in EXPECTED.items():
        assert (payload[lang]["title"], payload[lang]["summary"], payload[lang]["markdown"]) == (title, summary, body)
        assert all(set(finding) == {"check", "severity", "segment", "message"} for finding in payload[lang]["findings"])
        assert {"check": "numbers", "severity": "error", "segment": "body.2",
                "message": "8,5 of the source is missing or changed in the translation"} in payload[lang]["findings"]
    assert payload["zh"]["models"] == ["translate-vi_en-demo", "translate-en_zh-demo"]


def test_the_store_memory_is_used(article, tmp_path, capsys):
    store = LocalStore(tmp_path / "store")
    TranslationMemory(store).remember(MemoryRecord(
        "vi", "ko", "Quảng bá chè Tân Cương tại Hàn Quốc.", "한국에서 떤끄엉 차를 홍보한다.", "tntv-1", "abc", "body.4",
        "reviewer_ko", "2025-05-19T09:00:00+00:00", "decisions/tntv-1/abc/ko/001.json"))
    code, out, _ = _run(capsys, "--file", str(article), "--lang", "ko", "--store", str(store.root), "--json")
    assert code == 0
    ko = json.loads(out)["ko"]
    assert ko["markdown"] == EXPECTED["ko"][2].replace("- Quảng bá 떤끄엉 차 tại 한국.", "- 한국에서 떤끄엉 차를 홍보한다.")
    assert ko["memory_hits"] == 1
    memory = [f for f in ko["findings"] if f["check"] == "memory"]
    assert memory == [{"check": "memory", "severity": "info", "segment": "body.4",
                       "message": "reused the translation approved by reviewer_ko on 2025-05-19 (article tntv-1, body.4)"}]


def test_a_file_without_front_matter_is_all_body(tmp_path, monkeypatch, demo_models, capsys):
    monkeypatch.setenv("FOREIGNDESK_GLOSSARY_DIR", str(tmp_path))
    (tmp_path / "glossary.csv").write_text(GLOSSARY_CSV, encoding="utf-8")
    (tmp_path / "plain.md").write_text("Chè Thái Nguyên và du lịch.\n", encoding="utf-8")
    code, out, _ = _run(capsys, "--file", str(tmp_path / "plain.md"), "--lang", "en", "--store", str(tmp_path / "s"))
    assert code == 0
    assert out.splitlines()[:2] == ["===== en (translate-vi_en-demo)", "Thai Nguyen tea and tourism."]


def test_errors_name_the_problem(article, tmp_path, monkeypatch, capsys):
    code, _, err = _run(capsys, "--file", str(article), "--lang", "en,fr")
    assert code == 2 and "--lang 'en,fr': use some of en,zh,ko" in err
    code, _, err = _run(capsys, "--file", str(tmp_path / "missing.md"), "--lang", "en")
    assert code == 1 and "missing.md" in err
    monkeypatch.setenv("FOREIGNDESK_GLOSSARY_DIR", str(tmp_path / "nowhere"))
    code, _, err = _run(capsys, "--file", str(article), "--lang", "en")
    assert code == 1 and "no *.csv glossary here; set FOREIGNDESK_GLOSSARY_DIR" in err
