"""The translate stage with the real engine and the demo packages (installed through argostranslate).

The expected outputs below were derived by hand from the demo lexicon
(foreigndesk.translate.demo_models.LEXICONS: a word swaps only where it starts a word and
the next piece starts a new one; everything else is copied) and the small test
glossary, then confirmed. The engine is the real one; ``CountingEngine`` only
records the calls it passes through, so the tests can see how often the model ran.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from foreigndesk.core import records
from foreigndesk.core.drafts import draft_key, load_draft
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.review.rounds import record_decision
from foreigndesk.translate.engine import ArgosEngine
from foreigndesk.translate.glossary import load_glossary
from foreigndesk.translate.memory import MemoryRecord, TranslationMemory, remember_decision
from foreigndesk.translate.pipeline import SourceText, translate_revision, translate_texts

GLOSSARY_CSV = """\
vi,en,zh,ko,kind,note,variants,forbidden_en,forbidden_zh,forbidden_ko,dnt
Ủy ban nhân dân tỉnh Thái Nguyên,Thai Nguyen Provincial People's Committee,太原省人民委员会,타이응우옌성 인민위원회,government,,UBND tỉnh Thái Nguyên,,,,
tỉnh Thái Nguyên,Thai Nguyen province,太原省,타이응우옌성,place,,,,,,
Thái Nguyên,Thai Nguyen,太原,타이응우옌,place,,,Taiyuan,,,
tỉnh Gyeongsangbuk-do,Gyeongsangbuk-do Province,庆尚北道,경상북도,partner,,,,,,
Gyeongsangbuk-do,Gyeongsangbuk-do,庆尚北道,경상북도,partner,,,,,,
chè Thái Nguyên,Thai Nguyen tea,太原茶,타이응우옌 차,product,,,,,,
chè Tân Cương,Tan Cuong tea,太原新疆茶,떤끄엉 차,product,,,Xinjiang,,신장,
Dynamic Thainguyen,,,,channel,,Dynamic Thai Nguyen,,,,yes
Luông Pha Băng,Luang Prabang,琅勃拉邦,루앙프라방,partner,,,,,,
tỉnh Tứ Xuyên,Sichuan province,四川省,쓰촨성,partner,,,,,,
tỉnh Cát Lâm,Jilin province,吉林省,지린성,partner,,,,,,
Hàn Quốc,South Korea,韩国,한국,country,,,,,,
"""

TITLE = "Tỉnh Thái Nguyên và Luông Pha Băng hợp tác về du lịch"
SUMMARY = "Dynamic Thai Nguyen giới thiệu chè Tân Cương năm 2025."
# Every construct: headings, a soft-wrapped paragraph, strong and emphasis, a link, lists (nested,
# ordered), inline code, a blockquote, a table, an image with alt and title, a code block, a bare
# URL and an autolink (with "_", which Argos would turn into spaces), a thematic break.
BODY = textwrap.dedent("""\
    # Ủy ban nhân dân tỉnh Thái Nguyên hợp tác với tỉnh Gyeongsangbuk-do

    Năm 2025, **chè Thái Nguyên** và *du lịch* của tỉnh được giới thiệu
    tại [Dynamic Thai Nguyen](https://dynamic.thainguyen.example/en/che_xanh). Tăng 8,5% so với năm 2024!

    ## Các hoạt động

    - Quảng bá chè Tân Cương tại Hàn Quốc.
    - Hợp tác với `OCOP_2025` và Luông Pha Băng.
      1. Tỉnh Tứ Xuyên và tỉnh Cát Lâm.

    > Du lịch và chè là cầu nối hợp tác với Việt Nam.

    | Tỉnh | Sản phẩm |
    |---|:---:|
    | Thái Nguyên | chè *Tân Cương* |
    | Gyeongsangbuk-do | du lịch |

    ![Đồi chè Tân Cương năm 2025](https://img.example/che_tan_cuong.jpg "Chè Thái Nguyên và du lịch")

    ```text
    tỉnh Thái Nguyên và chè_xanh: không dịch
    ```

    Xem https://thainguyen.gov.vn/tin_tuc hoặc <https://vietnam.vn/a_b>.

    ---
    """)

EXPECTED = {
    "en": (
        "Thai Nguyen province and Luang Prabang cooperation về tourism",
        "Dynamic Thainguyen giới thiệu Tan Cuong tea year 2025.",
        textwrap.dedent("""\
            # Thai Nguyen Provincial People's Committee cooperation with Gyeongsangbuk-do Province

            Year 2025, **Thai Nguyen tea** and *tourism* of province được giới thiệu tại [Dynamic Thainguyen](https://dynamic.thainguyen.example/en/che_xanh). Tăng 8,5% so with year 2024!

            ## Các hoạt động

            - Quảng bá Tan Cuong tea tại South Korea.
            - Cooperation with `OCOP_2025` and Luang Prabang.
              1. Sichuan province and Jilin province.

            > Tourism and tea là cầu nối cooperation with Vietnam.

            | Province | Sản phẩm |
            |---|:---:|
            | Thai Nguyen | tea *Tân Cương* |
            | Gyeongsangbuk-do | tourism |

            ![Đồi Tan Cuong tea year 2025](https://img.example/che_tan_cuong.jpg "Thai Nguyen tea and tourism")

            ```text
            tỉnh Thái Nguyên và chè_xanh: không dịch
            ```

            Xem https://thainguyen.gov.vn/tin_tuc hoặc <https://vietnam.vn/a_b>.

            ---
            """),
    ),
    "zh": (
        "太原省 和 琅勃拉邦 合作 về 旅游",
        "Dynamic Thainguyen giới thiệu 太原新疆茶 年 2025.",
        textwrap.dedent("""\
            # 太原省人民委员会 合作 与 庆尚北道

            年 2025, **太原茶** 和 *旅游* 的 省 được giới thiệu tại [Dynamic Thainguyen](https://dynamic.thainguyen.example/en/che_xanh). Tăng 8,5% so 与 年 2024!

            ## Các hoạt động

            - Quảng bá 太原新疆茶 tại 韩国.
            - 合作 与 `OCOP_2025` 和 琅勃拉邦.
              1. 四川省 和 吉林省.

            > 旅游 和 茶 là cầu nối 合作 与 越南.

            | 省 | Sản phẩm |
            |---|:---:|
            | 太原 | 茶 *Tân Cương* |
            | 庆尚北道 | 旅游 |

            ![Đồi 太原新疆茶 年 2025](https://img.example/che_tan_cuong.jpg "太原茶 和 旅游")

            ```text
            tỉnh Thái Nguyên và chè_xanh: không dịch
            ```

            Xem https://thainguyen.gov.vn/tin_tuc hoặc <https://vietnam.vn/a_b>.

            ---
            """),
    ),
    "ko": (
        "타이응우옌성 및 루앙프라방 협력 về 관광",
        "Dynamic Thainguyen giới thiệu 떤끄엉 차 년 2025.",
        textwrap.dedent("""\
            # 타이응우옌성 인민위원회 협력 와 경상북도

            년 2025, **타이응우옌 차** 및 *관광* 의 도 được giới thiệu tại [Dynamic Thainguyen](https://dynamic.thainguyen.example/en/che_xanh). Tăng 8,5% so 와 년 2024!

            ## Các hoạt động

            - Quảng bá 떤끄엉 차 tại 한국.
            - 협력 와 `OCOP_2025` 및 루앙프라방.
              1. 쓰촨성 및 지린성.

            > 관광 및 차 là cầu nối 협력 와 베트남.

            | 도 | Sản phẩm |
            |---|:---:|
            | 타이응우옌 | 차 *Tân Cương* |
            | 경상북도 | 관광 |

            ![Đồi 떤끄엉 차 년 2025](https://img.example/che_tan_cuong.jpg "타이응우옌 차 및 관광")

            ```text
            tỉnh Thái Nguyên và chè_xanh: không dịch
            ```

            Xem https://thainguyen.gov.vn/tin_tuc hoặc <https://vietnam.vn/a_b>.

            ---
            """),
    ),
}


class CountingEngine:
    """The real engine, passing every call through and recording (from, to, texts)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.calls: list[tuple[str, str, list[str]]] = []

    def model(self, from_code: str, to_code: str):
        return self.engine.model(from_code, to_code)

    def translate(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
        self.calls.append((from_code, to_code, list(texts)))
        return self.engine.translate(texts, from_code, to_code)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(a, b) for a, b, _ in self.calls]


@pytest.fixture(scope="module")
def engine(demo_models) -> ArgosEngine:
    return ArgosEngine()


@pytest.fixture(scope="module")
def glossary(tmp_path_factory):
    folder = tmp_path_factory.mktemp("glossary")
    (folder / "glossary.csv").write_text(GLOSSARY_CSV, encoding="utf-8")
    return load_glossary(folder)


def _article_bytes(body: str = BODY, title: str = TITLE) -> bytes:
    front = (f"---\nid: tntv-2025-test\ntitle: {title}\noutlet: tntv\napproved_by: Trần Thị Mai\n"
             f"approved_at: 2025-05-18T16:00:00+07:00\nsummary: {SUMMARY}\n---\n")
    return (front + body).encode()


def _register(store, raw: bytes):
    article = parse_article(raw, "test.md", "tntv")
    registered = register(store, article, raw, "tntv/test.md")
    return registered or article


def test_exact_output_in_all_three_languages(engine, glossary):
    counting = CountingEngine(engine)
    result = translate_texts([SourceText(TITLE, SUMMARY, BODY, ("en", "zh", "ko"))], counting, glossary)[0]
    for lang, (title, summary, body) in EXPECTED.items():
        assert (result[lang].title, result[lang].summary) == (title, summary), lang
        assert result[lang].body == body, lang
        assert [model.name for model in result[lang].models][-1] == f"translate-{'vi' if lang == 'en' else 'en'}_{lang}-demo"
    # The only findings besides the demo model's untranslated words and lengths: "8,5" stayed
    # Vietnamese notation in every language (8.5 in English notation), and nothing was lost.
    for lang in EXPECTED:
        hard = [f for f in result[lang].findings if f["check"] not in ("untranslated", "length-ratio")]
        assert hard == [
            {"check": "numbers", "severity": "error", "segment": "body.2",
             "message": "8,5 of the source is missing or changed in the translation"},
            {"check": "numbers", "severity": "error", "segment": "body.2",
             "message": "8,5 in the translation is not in the source"},
        ], lang


def test_three_model_passes_not_five(engine, glossary):
    """vi→en runs once for all units; en→zh and en→ko read its masked output."""
    counting = CountingEngine(engine)
    translate_texts([SourceText(TITLE, SUMMARY, BODY, ("en", "zh", "ko"))], counting, glossary)
    assert counting.pairs == [("vi", "en"), ("en", "zh"), ("en", "ko")]
    vi_en, en_zh, en_ko = (texts for _, _, texts in counting.calls)
    assert en_zh == en_ko == engine.translate(vi_en, "vi", "en")
    assert any("[0]" in text for text in en_zh), "glossary placeholders travel through the pivot"


def test_many_articles_share_one_call_per_pair(engine, glossary):
    counting = CountingEngine(engine)
    sources = [SourceText(f"Bài {n}: chè Thái Nguyên", "", f"Đoạn {n} về du lịch.\n", ("en", "zh", "ko")) for n in range(5)]
    results = translate_texts(sources, counting, glossary)
    assert counting.pairs == [("vi", "en"), ("en", "zh"), ("en", "ko")]
    assert len(counting.calls[0][2]) == 10
    assert [r["en"].title for r in results] == [f"Bài {n}: Thai Nguyen tea" for n in range(5)]
    assert [r["ko"].body for r in results] == [f"Đoạn {n} về 관광.\n" for n in range(5)]


def test_only_the_languages_asked_for(engine, glossary):
    counting = CountingEngine(engine)
    result = translate_texts([SourceText("Chè và du lịch", "", "Chè.\n", ("ko",))], counting, glossary)[0]
    assert list(result) == ["ko"]
    assert counting.pairs == [("vi", "en"), ("en", "ko")]
    assert result["ko"].title == "차 및 관광"


def _approve_all(store, article, edits: dict[str, str] | None = None) -> None:
    """Reviewers approve every draft (zh with an edited body when given) and the memory learns them."""
    for lang in article.languages:
        draft = load_draft(store, article.article_id, article.revision, lang)
        fields = {"title": draft.title, "summary": draft.summary, "body": (edits or {}).get(lang, draft.body), "note": ""}
        decision = record_decision(store, article.article_id, article.revision, lang, ["Approve"], fields,
                                   reviewer=f"reviewer_{lang}", decided_at="2025-05-19T09:00:00+00:00")
        assert remember_decision(store, decision) > 0


def test_memory_hits_skip_the_model(engine, glossary, tmp_path):
    store = LocalStore(tmp_path / "store")
    first = _register(store, _article_bytes())
    counting = CountingEngine(engine)
    translate_revision(store, counting, first.article_id, first.revision, glossary=glossary)
    assert counting.pairs == [("vi", "en"), ("en", "zh"), ("en", "ko")]
    zh_body = EXPECTED["zh"][2].replace("- Quảng bá 太原新疆茶 tại 韩国.", "- 在韩国推广太原新疆茶。")
    _approve_all(store, first, {"zh": zh_body})

    # The same text again (a new revision: one more line at the end): only that line is new.
    second = _register(store, _article_bytes(BODY + "\nCâu mới về chè.\n"))
    assert second.revision != first.revision
    counting = CountingEngine(engine)
    drafts = {d.language: d for d in translate_revision(store, counting, second.article_id, second.revision, glossary=glossary)}
    assert counting.pairs == [("vi", "en"), ("en", "zh"), ("en", "ko")]
    assert [texts for _, _, texts in counting.calls][0] == ["Câu mới về chè."]
    assert drafts["en"].body == EXPECTED["en"][2] + "\nCâu mới về tea.\n"
    assert drafts["zh"].body == zh_body + "\nCâu mới về 茶.\n"
    assert "- 在韩国推广太原新疆茶。" in drafts["zh"].body, "the reviewer's edit is reused, not the machine's text"
    units = drafts["en"].segments
    assert drafts["en"].memory_hits == units - 1
    memory_findings = [f for f in drafts["zh"].findings if f["check"] == "memory"]
    assert len(memory_findings) == units - 1
    assert all(f["severity"] == "info" and "approved by reviewer_zh on 2025-05-19" in f["message"] for f in memory_findings)

    # Exactly the approved text once more: the model is not called at all.
    third = _register(store, _article_bytes(BODY, title=TITLE + " "))
    counting = CountingEngine(engine)
    drafts = {d.language: d for d in translate_revision(store, counting, third.article_id, third.revision, glossary=glossary)}
    assert counting.calls == []
    assert drafts["zh"].body == zh_body and drafts["en"].body == EXPECTED["en"][2]
    assert drafts["ko"].model_name == "translation memory" and not drafts["ko"].demo_model


def test_english_from_memory_is_the_pivot(engine, glossary, tmp_path):
    """Approved English is the source of a language not yet in memory: vi→en is not run again."""
    store = LocalStore(tmp_path / "store")
    memory = TranslationMemory(store)
    first = translate_texts([SourceText("Chè Thái Nguyên", "", "Du lịch và chè.\n", ("en",))], engine, glossary, memory)[0]
    assert first["en"].body == "Tourism and tea.\n"
    for unit, source, target in (("title", "Chè Thái Nguyên", "Thai Nguyen tea"),
                                 ("body.1", "Du lịch và chè.", "Tea and tourism with Vietnam.")):
        memory.remember(MemoryRecord("vi", "en", source, target, "a", "r", unit, "reviewer_en", "2025-05-19T09:00:00+00:00", "k"))
    counting = CountingEngine(engine)
    result = translate_texts([SourceText("Chè Thái Nguyên", "", "Du lịch và chè.\n", ("en", "zh"))], counting, glossary, memory)[0]
    assert counting.pairs == [("en", "zh")]
    assert counting.calls[0][2] == ["Tea and tourism with Vietnam."]  # the title is all glossary: no model needed
    assert result["zh"].title == "太原茶"
    assert result["zh"].body == "茶 和 旅游 与 越南.\n"


def test_drafts_are_written_once_with_findings(engine, glossary, tmp_path):
    store = LocalStore(tmp_path / "store")
    article = _register(store, _article_bytes())
    drafts = translate_revision(store, engine, article.article_id, article.revision, glossary=glossary)
    assert [d.language for d in drafts] == ["en", "zh", "ko"]
    stored = records.load(store, type(drafts[0]), draft_key(article.article_id, article.revision, "zh"))
    assert stored.body == EXPECTED["zh"][2] and stored.demo_model
    assert stored.model_name == "translate-vi_en-demo + translate-en_zh-demo"
    assert {"check", "severity", "segment", "message"} == set(stored.findings[0])
    counting = CountingEngine(engine)
    again = translate_revision(store, counting, article.article_id, article.revision, glossary=glossary)
    assert counting.calls == [] and [d.created_at for d in again] == [d.created_at for d in drafts]


def test_foreigndesk_languages_limits_what_is_translated(engine, glossary, tmp_path, monkeypatch):
    """A desk configured for English and Chinese writes no Korean draft (and so opens no Korean review)."""
    store = LocalStore(tmp_path / "store")
    article = _register(store, _article_bytes())
    monkeypatch.setenv("FOREIGNDESK_LANGUAGES", "en,zh")
    counting = CountingEngine(engine)
    drafts = translate_revision(store, counting, article.article_id, article.revision, glossary=glossary)
    assert [d.language for d in drafts] == ["en", "zh"]
    assert not store.exists(draft_key(article.article_id, article.revision, "ko"))
    assert ("en", "ko") not in [(call[0], call[1]) for call in counting.calls]
    assert [d.units for d in drafts][0]["title"] == drafts[0].title, "the draft carries its units"


class DroppingEngine(CountingEngine):
    """The real engine, then a crafted defect: every '[1]' is removed from the English output."""

    def translate(self, texts, from_code, to_code):
        outputs = super().translate(texts, from_code, to_code)
        return [out.replace(" [1]", "") for out in outputs] if to_code == "en" else outputs


def test_a_lost_term_is_an_error_and_still_there(engine, glossary):
    source = SourceText("Tin", "", "Đoàn của tỉnh Thái Nguyên thăm tỉnh Tứ Xuyên và Hàn Quốc.\n", ("en", "zh"))
    result = translate_texts([source], DroppingEngine(engine), glossary)[0]
    assert result["en"].body == "Đoàn of Thai Nguyen province thăm and South Korea. Sichuan province\n"
    assert result["zh"].body == "Đoàn 的 太原省 thăm 和 韩国. 四川省\n"
    for lang in ("en", "zh"):
        lost = [f for f in result[lang].findings if f["check"] == "placeholders"]
        assert len(lost) == 1 and lost[0]["severity"] == "error" and "'tỉnh Tứ Xuyên'" in lost[0]["message"]


def test_the_provincial_glossary_gives_the_official_terms(engine):
    """With glossary/ as shipped: names of the plan come out as the desk chief wrote them."""
    real = load_glossary(Path(__file__).resolve().parents[1] / "glossary")
    text = "Ủy ban nhân dân tỉnh Thái Nguyên làm việc với tỉnh Luông Pha Băng và Sở Văn hoá, Thể thao và Du lịch.\n"
    result = translate_texts([SourceText("Chè Tân Cương", "", text, ("en", "zh", "ko"))], engine, real)[0]
    assert result["en"].title == "Tan Cuong tea"
    assert result["zh"].body.startswith("太原省人民委员会 ") and "琅勃拉邦省" in result["zh"].body
    assert "문화체육관광국" in result["ko"].body and "루앙프라방주" in result["ko"].body
    assert not [f for f in result["en"].findings if f["check"].startswith("glossary-m")]


def test_an_image_in_approved_english_pivots_its_alt_and_title(engine, glossary, tmp_path):
    memory = TranslationMemory(LocalStore(tmp_path / "store"))
    source = '![Đồi chè](a_b.jpg "Chè Việt Nam")'
    memory.remember(MemoryRecord("vi", "en", source, '![Tea hill](a_b.jpg "Tea of Vietnam")', "a", "r", "body.1",
                                 "reviewer_en", "2025-05-19T09:00:00+00:00", "k"))
    counting = CountingEngine(engine)
    result = translate_texts([SourceText("Chè", "", source + "\n", ("en", "zh"))], counting, glossary, memory)[0]
    assert result["en"].body == '![Tea hill](a_b.jpg "Tea of Vietnam")\n'
    assert counting.calls[-1] == ("en", "zh", ["Tea", "Tea hill", "Tea of Vietnam"])
    assert result["zh"].body == '![茶 hill](a_b.jpg "茶 的 越南")\n'


def test_the_review_form_lists_the_findings(engine, glossary, tmp_path):
    from foreigndesk.review.form import build_form

    store = LocalStore(tmp_path / "store")
    article = _register(store, _article_bytes())
    translate_revision(store, engine, article.article_id, article.revision, glossary=glossary)
    body = build_form(store, article.article_id, article.revision, "en").body
    assert body.splitlines()[0].startswith("**⚠ DEMO MODEL")
    checks = body.split("### Quality checks — fix these first", 1)[1]
    assert checks.splitlines()[2] == "- ✖ **error** · numbers · ¶2: 8,5 of the source is missing or changed in the translation"
