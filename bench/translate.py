"""Translation throughput, side by side in one process, on the tiny demo packages.

    .venv/bin/python bench/translate.py [--articles 200] [--seed 2025]

Same 200 generated Vietnamese articles (Markdown: headings, paragraphs, lists,
quotes, tables, links, images, glossary terms), same installed packages, same
CTranslate2 threads, models loaded before any clock starts:

(a) naive: ``argostranslate.translate.translate()`` per Markdown paragraph with
    Argos's defaults (beam 4, batches of 32 tokens, MiniSBD per paragraph),
    vi→en, then en→zh and en→ko from that English (3 passes, like (b)). Argos keeps
    the previous call's paragraphs in a cache; it is emptied before every call so
    no paragraph is ever served from it.
(b) foreigndesk: ``translation.translate_texts`` over all articles: segmentation,
    glossary masking, memory lookups (empty memory), one engine call per pair,
    restoring, reassembly and every QA check.
(c) floor: the exact piece sequences (b) sent to the model, in one raw
    CTranslate2 ``translate_batch`` per pair with (b)'s options; only those calls are timed.
(b1) (b) with one CTranslate2 thread instead of one worker per CPU: how much of a/b
    is batching alone (Argos's default is one worker with a thread pool).
(d) foreigndesk again over the same articles after every draft was approved
    (Decision records fed to the memory through ``foreigndesk.translate.memory.remember_decision``).

Prints segments/s for each and the ratios a/b (target ≥ 4), b/c (target ≤ 1.5)
and b/d (target ≥ 10). A "segment" is one unit of the desk (heading, paragraph,
list item, cell, alt text, title, summary) of the Vietnamese source, the same
count for every row.
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HOME = Path(tempfile.mkdtemp(prefix="foreigndesk-bench-"))
atexit.register(shutil.rmtree, HOME, ignore_errors=True)
os.environ.update(
    ARGOS_PACKAGES_DIR=str(HOME / "packages"),
    XDG_DATA_HOME=str(HOME / "data"),
    XDG_CACHE_HOME=str(HOME / "cache"),
    XDG_CONFIG_HOME=str(HOME / "config"),
    ORT_DISABLE_TELEMETRY="1",
)
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

SENTENCES = [
    "Ủy ban nhân dân tỉnh Thái Nguyên đã ban hành kế hoạch thông tin đối ngoại năm 2025.",
    "Tỉnh Thái Nguyên tiếp tục hợp tác với tỉnh Luông Pha Băng về du lịch và văn hóa.",
    "Đoàn công tác của tỉnh Gyeongsangbuk-do đã thăm các khu công nghiệp của tỉnh.",
    "Chè Thái Nguyên là sản phẩm chủ lực, được giới thiệu tại nhiều hội chợ quốc tế.",
    "Sở Văn hóa, Thể thao và Du lịch tổ chức các hoạt động lễ hội đặc sắc ở địa phương.",
    "Báo Thái Nguyên duy trì chuyên mục thông tin đối ngoại bằng tiếng Anh và tiếng Trung Quốc.",
    "Đài Phát thanh - Truyền hình Thái Nguyên phát sóng chương trình Inside Thainguyen hằng tuần.",
    "Trang Dynamic Thainguyen giới thiệu đất và người Thái Nguyên với bạn bè quốc tế.",
    "Sản phẩm OCOP của tỉnh được quảng bá trên các sàn thương mại điện tử.",
    "Kinh tế của tỉnh tăng trưởng 8,5% trong năm 2024, cao hơn mức trung bình cả nước.",
    "Năm 2025, tỉnh Thái Nguyên hợp nhất với tỉnh Bắc Kạn thành tỉnh Thái Nguyên mới.",
    "Lễ hội Trà Tân Cương thu hút hàng nghìn du khách trong và ngoài nước.",
    "Các doanh nghiệp Hàn Quốc đầu tư thêm 1,2 tỷ USD vào khu công nghiệp Yên Bình.",
    "Tỉnh sẽ xúc tiến quan hệ hợp tác với tỉnh Udon Thani của Thái Lan.",
    "Đoàn đại biểu tỉnh Tứ Xuyên và tỉnh Cát Lâm đã làm việc với lãnh đạo tỉnh.",
    "Hội Nhà báo tỉnh tổ chức tập huấn nghiệp vụ cho phóng viên trẻ.",
    "Trung tâm Thông tin tỉnh duy trì xuất bản Đặc san Trà Việt mỗi quý.",
    "Công an tỉnh phối hợp với Sở Cảnh sát tỉnh Gyeongsangbuk-do trong công tác tuyên truyền.",
    "Người dân trồng chè, trồng lúa và nuôi cá trên hồ Núi Cốc.",
    "Du lịch cộng đồng phát triển mạnh ở các xã miền núi phía Bắc của tỉnh.",
    "Tỉnh kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước.",
    "Nhiều hoạt động văn hóa, nghệ thuật được tổ chức nhân dịp 80 năm Quốc khánh.",
    "Việt Nam là điểm đến an toàn, thân thiện của du khách quốc tế.",
    "Các chương trình học tiếng Trung Quốc qua truyền hình được khán giả đón nhận.",
    "Sở Công Thương hỗ trợ doanh nghiệp tham gia hội chợ quốc tế tại Việt Nam.",
    "Sở Nông nghiệp và Môi trường xây dựng bộ nhận diện thương hiệu cho sản phẩm nông nghiệp.",
    "Chương trình Mỗi xã một sản phẩm giúp nông dân tăng thu nhập đáng kể.",
    "Phóng viên nước ngoài đến tìm hiểu về chè Tân Cương và làng nghề truyền thống.",
    "Lãnh đạo tỉnh tiếp và làm việc với Đại sứ Hàn Quốc tại Việt Nam.",
    "Tỉnh đặt mục tiêu đón 4,5 triệu lượt khách du lịch trong năm nay.",
    "Các trường đại học của tỉnh hợp tác đào tạo với đối tác Lào và Trung Quốc.",
    "Festival Trà Quốc tế Thái Nguyên sẽ diễn ra vào cuối năm với nhiều hoạt động mới.",
    "Chương trình Kinh tế Thái Nguyên hôm nay phân tích xu hướng đầu tư vào tỉnh.",
    "Chuyên mục Từ Thái Nguyên nhìn ra thế giới giới thiệu kinh nghiệm của các nước.",
    "Cửa sổ Thái Nguyên - Thainguyen Corner giới thiệu ẩm thực địa phương bằng tiếng Anh.",
    "Tỉnh chú trọng nâng cao chỉ số PCI và DDCI để cải thiện môi trường đầu tư.",
]
HEADINGS = ["Hợp tác quốc tế", "Du lịch và văn hóa", "Kinh tế và đầu tư", "Thông tin đối ngoại", "Sản phẩm chủ lực"]


def generate_articles(count: int, seed: int) -> list[tuple[str, str, str]]:
    """(title, summary, Markdown body) per article; deterministic for a seed, every article different."""
    rng = random.Random(seed)
    articles = []
    for number in range(1, count + 1):
        pick = lambda k: rng.sample(SENTENCES, k)  # noqa: E731
        first, second = pick(2), pick(3)
        items = [sentence.rstrip(".") for sentence in pick(3)]
        lines = [
            f"{first[0]} Đây là bài số {number} của chuyên mục.",
            "",
            f"## {rng.choice(HEADINGS)}",
            "",
            f"{first[1]} Xem thêm tại [trang của tỉnh](https://thainguyen.gov.vn/tin_{number}). "
            f"{second[0].replace('tỉnh', '**tỉnh**', 1)}",
            "",
            *[f"- {item} ({number}.{i})." for i, item in enumerate(items, 1)],
            "",
            f"> {second[1]}",
            "",
        ]
        if number % 4 == 0:
            lines += ["| Chỉ tiêu | Năm 2025 |", "|---|---:|", f"| Khách du lịch | {number * 1000:,}".replace(",", ".") + " |",
                      "| Sản phẩm OCOP | chè Thái Nguyên |", ""]
        if number % 5 == 0:
            lines += [f"![Đồi chè Tân Cương {number}](https://img.example/che_{number}.jpg \"Chè Thái Nguyên\")", ""]
        lines.append(second[2])
        articles.append((f"{pick(1)[0].rstrip('.')} ({number})", f"Tóm tắt bài {number}: {pick(1)[0]}", "\n".join(lines) + "\n"))
    return articles


def markdown_paragraphs(title: str, summary: str, body: str) -> list[str]:
    return [title, summary, *[block for block in body.split("\n\n") if block.strip()]]


class Recording:
    """The engine, plus the texts of every call (for the floor) and a call count."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.calls: list[tuple[str, str, list[str]]] = []

    def model(self, from_code, to_code):
        return self.engine.model(from_code, to_code)

    def translate(self, texts, from_code, to_code):
        self.calls.append((from_code, to_code, list(texts)))
        return self.engine.translate(texts, from_code, to_code)


def clock(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)

    import argostranslate.translate
    from foreigndesk.core import records
    from foreigndesk.core.drafts import Draft, draft_key
    from foreigndesk.core.settings import load_settings
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register
    from foreigndesk.review.rounds import record_decision
    from foreigndesk.translate.engine import ArgosEngine
    from foreigndesk.translate.glossary import load_glossary
    from foreigndesk.translate.markdown import parse
    from foreigndesk.translate.memory import TranslationMemory, remember_decision
    from foreigndesk.translate.models import ensure_models
    from foreigndesk.translate.pipeline import SourceText, translate_texts

    settings = load_settings()
    ensure_models(HOME / "no-operator-models", ("en", "zh", "ko"))
    glossary = load_glossary(settings.glossary_dir)
    store = LocalStore(HOME / "store")
    registered = []
    for number, (title, summary, body) in enumerate(generate_articles(args.articles, args.seed), 1):
        raw = (f"---\nid: bench-{number:04d}\ntitle: \"{title}\"\nsummary: \"{summary}\"\noutlet: tntv\n"
               f"approved_by: Bench\napproved_at: 2025-05-18T16:00:00+07:00\n---\n{body}").encode()
        registered.append(register(store, parse_article(raw, f"bench-{number}.md", "tntv"), raw, f"tntv/bench-{number}.md"))
    sources = [SourceText(a.title, a.summary, a.body, ("en", "zh", "ko")) for a in registered]
    segments = sum(2 + len(parse(a.body).units) for a in registered)
    paragraphs = sum(len(markdown_paragraphs(a.title, a.summary, a.body)) for a in registered)

    engine = ArgosEngine.from_settings(settings)
    single = ArgosEngine(settings.beam_size, settings.batch_tokens, settings.max_sentence_tokens, threads=1)
    for pair in (("vi", "en"), ("en", "zh"), ("en", "ko")):  # load every model before any clock starts
        engine.translate(["Chè."], *pair)
        single.translate(["Chè."], *pair)
        argostranslate.translate.translate("Chè.", *pair)

    # (a) naive Argos, per paragraph, defaults
    def naive():
        cached = argostranslate.translate.installed_translates
        for article in registered:
            for paragraph in markdown_paragraphs(article.title, article.summary, article.body):
                for entry in cached:
                    entry.cached_translation.cache = {}
                english = argostranslate.translate.translate(paragraph, "vi", "en")
                for lang in ("zh", "ko"):
                    for entry in cached:
                        entry.cached_translation.cache = {}
                    argostranslate.translate.translate(english, "en", lang)

    time_a, _ = clock(naive)

    # (b) the desk's translate stage over all articles, empty memory
    recording = Recording(engine)
    memory = TranslationMemory(store)
    time_b, results = clock(lambda: translate_texts(sources, recording, glossary, memory))
    assert [(a, b) for a, b, _ in recording.calls] == [("vi", "en"), ("en", "zh"), ("en", "ko")]

    time_b1, _ = clock(lambda: translate_texts(sources, single, glossary, memory))

    # (c) the floor: the same piece sequences, one raw translate_batch per pair
    time_c = 0.0
    sentences = 0
    for from_code, to_code, texts in recording.calls:
        chunks, _ = engine.tokenize(texts, from_code, to_code)
        sentences += len(chunks)
        translator = engine._load(from_code, to_code).translator
        options = dict(beam_size=engine.beam_size, max_batch_size=engine.batch_tokens, batch_type="tokens",
                       max_decoding_length=2 * max(map(len, chunks)) + 16, max_input_length=0,
                       length_penalty=0.2, replace_unknowns=True)
        elapsed, _ = clock(lambda: translator.translate_batch(chunks, **options))
        time_c += elapsed

    # reviewers approve every draft; the memory learns them through the review path
    for article, result in zip(registered, results):
        for lang, translation in result.items():
            draft = Draft(article.article_id, article.revision, lang, "vi", translation.title, translation.summary,
                          translation.body, "bench", "", True, records.now_utc())
            records.write_once(store, draft_key(article.article_id, article.revision, lang), draft)
            decision = record_decision(store, article.article_id, article.revision, lang, ["Approve"], {},
                                       f"reviewer_{lang}", "2025-05-19T09:00:00+00:00")
            remember_decision(store, decision)

    # (d) the same articles again: everything from memory
    again = Recording(engine)
    time_d, second = clock(lambda: translate_texts(sources, again, glossary, TranslationMemory(store)))
    assert again.calls == [], "a second run over approved articles must not call the model"
    assert [r["zh"].body for r in second] == [r["zh"].body for r in results]

    rows = [
        ("a  naive argostranslate, per paragraph", time_a),
        ("b  foreigndesk translate stage", time_b),
        (f"b1 the same, 1 thread instead of {engine.threads} workers", time_b1),
        ("c  raw CTranslate2 translate_batch (floor)", time_c),
        ("d  foreigndesk, memory filled", time_d),
    ]
    print(f"{args.articles} articles, {segments} segments ({paragraphs} Markdown paragraphs for a), "
          f"{sentences} model inputs over 3 passes; beam {engine.beam_size}, batches of {engine.batch_tokens} tokens; "
          f"demo packages (tiny models: fixed costs weigh more than with real ones)")
    for label, seconds in rows:
        print(f"{label:45} {seconds:8.2f} s {segments / seconds:10.1f} segments/s")
    checks = [
        ("a/b", time_a / time_b, "≥ 4", time_a / time_b >= 4),
        ("b/c", time_b / time_c, "≤ 1.5", time_b / time_c <= 1.5),
        ("a/b1", time_a / time_b1, "(info)", True),
        ("b/d", time_b / time_d, "≥ 10", time_b / time_d >= 10),
    ]
    for name, value, target, ok in checks:
        print(f"{name} = {value:6.2f}   target {target:6}  {'ok' if ok else 'MISSED'}")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
