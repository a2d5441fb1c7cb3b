"""``foreigndesk glossary suggest / accept / dismiss``: recurring corrections become glossary rows."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import REPO
from foreigndesk.cli import main
from foreigndesk.core.store import LocalStore
from foreigndesk.quality.suggestions import replacements, suggest
from foreigndesk.translate.glossary import check_glossary, load_glossary
from quality_desk import SENTENCES, add_article, add_reviewed, article_bytes, fix_term, review

@pytest.fixture
def glossary_dir(tmp_path):
    folder = tmp_path / "glossary"
    shutil.copytree(REPO / "glossary", folder)
    return folder


def test_token_diff_cjk_by_character_numbers_kept_apart():
    assert replacements("Các hội chợ nông sản.", "Các fair nông sản.") == [("hội chợ", "fair")]
    assert replacements("Các hội chợ 茶 nông sản.", "Các 博览会 茶 nông sản.") == [("hội chợ", "博览会")]
    assert replacements("茶叶展览会开幕", "茶叶博览会开幕") == [("展", "博")], "one character, not the whole line"
    assert replacements("Thai tea, fair.", "Thai tea; fair!") == [], "punctuation only is no term"


def test_a_suggestion_appears_with_the_third_article_not_the_second(tmp_path, demo_models, glossary_dir):
    store = LocalStore(tmp_path / "store")
    glossary = load_glossary(glossary_dir)
    add_reviewed(store, 0)
    add_reviewed(store, 1)
    assert suggest(store, glossary) == []
    add_reviewed(store, 2)
    found = {s.language: s for s in suggest(store, glossary)}
    assert sorted(found) == ["en", "ko", "zh"]
    en = found["en"]
    assert (en.machine, en.approved, en.count, en.vi) == ("hội chợ", "fair", 3, "hội chợ")
    assert en.sources == SENTENCES[:3]
    assert (found["zh"].approved, found["ko"].approved) == ("博览会", "박람회")
    assert len(suggest(store, glossary, min_count=2, language="en")) == 1


def test_same_article_twice_counts_once_and_numbers_dates_glossary_terms_never(tmp_path, demo_models, glossary_dir):
    store = LocalStore(tmp_path / "store")
    glossary = load_glossary(glossary_dir)
    for number in range(3):
        body = f"Sở Nội vụ đón đoàn xứ Hàn ngày 12 tháng 3 năm 2025 về hội chợ số {number}.\n"
        article = add_article(store, article_bytes(f"Họp {number}", body, languages="en"), f"m{number}.md")

        def edit(text):
            return (text.replace("xứ Hàn", "South Korea")  # the glossary's English for Hàn Quốc
                    .replace("2025", "2026").replace("tháng 3", "March").replace("hội chợ", "fair"))

        review(store, article, "en", f"2025-04-0{number + 1}T08:00:00+00:00", edit=edit)
    found = suggest(store, glossary)
    assert [(s.machine, s.approved) for s in found] == [("hội chợ", "fair")]

    # Two revisions of one article are one article.
    other = LocalStore(tmp_path / "other")
    for revision in range(3):
        article = add_article(other, article_bytes("Tin", f"Bản {revision}: các hội chợ.\n", languages="en"), "same.md")
        review(other, article, "en", f"2025-04-0{revision + 1}T08:00:00+00:00", edit=fix_term("en"))
    assert suggest(other, glossary) == []


def test_accept_writes_a_row_the_check_passes_and_the_next_translation_uses_it(tmp_path, demo_models, glossary_dir,
                                                                               capsys):
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")
    for number in range(3):
        add_reviewed(store, number)
    found = {s.language: s for s in suggest(store, load_glossary(glossary_dir))}
    before = (glossary_dir / "glossary.csv").read_bytes()
    common = ["--store", str(store.root), "--dir", str(glossary_dir)]

    assert main(["glossary", "suggest", "--json", *common]) == 0
    assert {s["id"] for s in json.loads(capsys.readouterr().out)} == {s.id for s in found.values()}
    assert main(["glossary", "accept", found["en"].id, *common]) == 0
    assert "hội chợ → en fair · zh 博览会 · ko 박람회" in capsys.readouterr().out
    assert (glossary_dir / "glossary.csv").read_bytes() == before, "the desk chief's own file is untouched"
    rows = (glossary_dir / "from-approvals.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "vi,en,zh,ko,kind,note,variants,forbidden_en,forbidden_zh,forbidden_ko,dnt,status,successor"
    assert rows[1].startswith("hội chợ,fair,博览会,박람회,term,")
    entries, problems = check_glossary(glossary_dir)
    assert problems == [] and any(entry.vi == "hội chợ" for entry in entries)
    assert main(["glossary", "check", "--dir", str(glossary_dir)]) == 0
    capsys.readouterr()
    assert suggest(store, load_glossary(glossary_dir)) == [], "accepted (zh and ko with it) and now in the glossary"
    assert main(["glossary", "accept", found["zh"].id, *common]) == 1
    assert "already accepted" in capsys.readouterr().err

    # The next article with the phrase, through the real engine and the demo models.
    article = add_article(store, article_bytes("Tin mới", "Hôm nay khai mạc hội chợ chè.\n"), "next.md", translate=False)
    drafts = {d.language: d for d in translate_revision(store, shared_engine(), article.article_id, article.revision,
                                                        glossary=load_glossary(glossary_dir))}
    assert drafts["en"].body == "Hôm nay khai mạc fair tea.\n"
    assert drafts["zh"].body == "Hôm nay khai mạc 博览会 茶.\n"
    assert drafts["ko"].body == "Hôm nay khai mạc 박람회 차.\n"
    assert {"source": "hội chợ", "target": "fair"} in drafts["en"].glossary_terms


def test_dismissed_is_remembered_and_accept_needs_every_language(tmp_path, demo_models, glossary_dir, capsys):
    store = LocalStore(tmp_path / "store")
    for number in range(3):
        add_reviewed(store, number, languages=("en",))
    [found] = suggest(store, load_glossary(glossary_dir))
    common = ["--store", str(store.root), "--dir", str(glossary_dir)]
    assert main(["glossary", "accept", found.id, *common]) == 1
    assert "give --zh TERM --ko TERM" in capsys.readouterr().err
    assert not (glossary_dir / "from-approvals.csv").exists()

    assert main(["glossary", "dismiss", found.id, *common]) == 0
    capsys.readouterr()
    add_reviewed(store, 3, languages=("en",))  # a fourth article with the same edit: still dismissed
    assert suggest(store, load_glossary(glossary_dir)) == []
    assert LocalStore(tmp_path / "store").exists(f"glossary-suggestions/{found.id}.json")
    assert main(["glossary", "suggest", *common]) == 0
    assert capsys.readouterr().out.startswith("no glossary suggestion")


def test_an_edit_most_reviewers_did_not_make_is_no_term(tmp_path, demo_models, glossary_dir):
    """3 articles changed 'hội chợ', 4 others approved it as the machine wrote it: 3/7 is below the share."""
    store = LocalStore(tmp_path / "store")
    for number in range(3):
        add_reviewed(store, number, languages=("en",))
    for number in range(3, 7):
        article = add_article(store, article_bytes(f"Tin {number}", f"Bài {number} về hội chợ.\n", languages="en"),
                              f"k{number}.md")
        review(store, article, "en", f"2025-04-1{number}T08:00:00+00:00")
    assert suggest(store, load_glossary(glossary_dir)) == []
    article = add_article(store, article_bytes("Tin 7", "Bài 7 về hội chợ.\n", languages="en"), "k7.md")
    review(store, article, "en", "2025-04-20T08:00:00+00:00", edit=fix_term("en"))
    [found] = suggest(store, load_glossary(glossary_dir))
    assert (found.count, found.share) == (4, 0.5)
