"""The engine: installed demo packages, CTranslate2 called directly, loaded once, batched, never truncated."""

from __future__ import annotations

import socket

import pytest
from foreigndesk.translate import engine as engine_module
from foreigndesk.translate.engine import ArgosEngine, MissingModel, split_pieces
from foreigndesk.translate.placeholder_styles import PLACEHOLDER_STYLES

VI = "Tỉnh Thái Nguyên hợp tác với Luông Pha Băng về du lịch. Chè Thái Nguyên nổi tiếng!"
EN = "Province Thái Nguyên cooperation with Luông Pha Băng về tourism. Tea Thái Nguyên nổi tiếng!"
ZH = "省 Thái Nguyên 合作 与 Luông Pha Băng về 旅游. 茶 Thái Nguyên nổi tiếng!"

# (Vietnamese word, its demo English): 14 words, cycled to build long sentences
_WORDS = [
    ("Năm", "Year"), ("nay,", "nay,"), ("chè", "tea"), ("của", "of"), ("tỉnh", "province"),
    ("Thái", "Thái"), ("Nguyên", "Nguyên"), ("và", "and"), ("du lịch", "tourism"),
    ("cộng", "cộng"), ("đồng", "đồng"), ("phát", "phát"), ("triển", "triển"), ("mạnh,", "mạnh,"),
]


def _long_sentence(words: int) -> tuple[str, str]:
    chosen = [_WORDS[i % len(_WORDS)] for i in range(words)]
    return " ".join(vi for vi, _ in chosen) + ".", " ".join(en for _, en in chosen) + "."


class CountingTranslator:
    """Passes every call to the real CTranslate2 translator and keeps its arguments."""

    def __init__(self, real) -> None:
        self.real = real
        self.calls: list[tuple[int, dict]] = []

    def translate_batch(self, source, **options):
        self.calls.append((len(source), options))
        return self.real.translate_batch(source, **options)


@pytest.fixture(scope="module")
def engine(demo_models) -> ArgosEngine:
    return ArgosEngine()


def _count_calls(engine: ArgosEngine, pair=("vi", "en")) -> CountingTranslator:
    loaded = engine._load(*pair)
    counting = CountingTranslator(loaded.translator)
    loaded.translator = counting
    return counting


def test_exact_translations_and_the_pivot(engine):
    assert engine.translate([VI, "", "  "], "vi", "en") == [EN, "", ""]
    assert engine.translate([EN], "en", "zh") == [ZH]
    info = engine.model("en", "zh")
    assert (info.from_code, info.to_code, info.name, info.demo) == ("en", "zh", "translate-en_zh-demo", True)


def test_underscores_and_urls_survive(engine):
    """Argos turns '_' into spaces; the engine decodes with SentencePiece itself."""
    assert engine.translate(["Xem che_xanh tại a_b."], "vi", "en") == ["Xem che_xanh tại a_b."]


def test_each_model_is_loaded_once(engine):
    first = engine._load("vi", "en")
    engine.translate(["Chè."], "vi", "en")
    engine.translate(["Tỉnh."], "vi", "en")
    assert engine._load("vi", "en") is first
    assert engine_module.shared_engine() is engine_module.shared_engine()


def test_all_segments_go_in_one_batched_call(demo_models):
    engine = ArgosEngine(beam_size=2, batch_tokens=2048)
    counting = _count_calls(engine)
    texts = [f"Chè số {n} của tỉnh. Du lịch năm {n}!" for n in range(50)]
    outputs = engine.translate(texts, "vi", "en")
    assert outputs[7] == "Tea số 7 of province. Tourism year 7!"
    assert [(size, options["beam_size"], options["max_batch_size"], options["batch_type"]) for size, options in counting.calls] \
        == [(100, 2, 2048, "tokens")]


def test_a_sentence_longer_than_argos_cuts_comes_back_whole(engine):
    import argostranslate.translate

    sentence, expected = _long_sentence(160)  # > 256 pieces: Argos's default decoding length cuts it
    assert len(engine._load("vi", "en").tokenizer.encode(sentence)) > 256
    assert engine.translate([sentence], "vi", "en") == [expected]
    assert argostranslate.translate.translate(sentence, "vi", "en") != expected


def test_a_sentence_over_the_model_limit_is_split_not_cut(demo_models):
    """Over 1024 pieces, the demo model's position limit: whole, CTranslate2 refuses it; in chunks it passes."""
    sentence, expected = _long_sentence(600)
    engine = ArgosEngine(max_sentence_tokens=200)
    assert len(engine._load("vi", "en").tokenizer.encode(sentence)) > 1024
    counting = _count_calls(engine)
    assert engine.translate([sentence], "vi", "en") == [expected]
    size, options = counting.calls[0]
    assert size >= 6 and options["max_input_length"] == 0
    with pytest.raises(Exception, match="position"):
        ArgosEngine(max_sentence_tokens=5000).translate([sentence], "vi", "en")


def test_truncated_outputs_are_detected_and_redone(demo_models):
    sentence, expected = _long_sentence(60)
    engine = ArgosEngine(max_sentence_tokens=1000, max_decoding_length=64)
    counting = _count_calls(engine)
    assert engine.translate([sentence], "vi", "en") == [expected]
    sizes = [size for size, _ in counting.calls]
    assert sizes[0] == 1 and sizes[1] >= 2, "first try cut at 64 pieces, then again in shorter parts"


def test_split_pieces_at_word_starts():
    pieces = ["▁Một", ",", "▁hai", "▁ba", "▁bốn", "n", "▁năm"]
    assert split_pieces(pieces, 3) == [["▁Một", ","], ["▁hai", "▁ba"], ["▁bốn", "n", "▁năm"]]
    assert split_pieces(pieces, 10) == [pieces]
    assert split_pieces(["a", "b", "c", "d"], 2) == [["a", "b"], ["c", "d"]]  # no word start: hard cut


def test_a_missing_pair_names_the_pair_and_the_fix(engine):
    with pytest.raises(MissingModel) as error:
        engine.translate(["Chè."], "vi", "fr")
    message = str(error.value)
    assert "vi→fr" in message and "foreigndesk models install SOURCE" in message and "SHA256SUMS" in message


def test_the_package_index_and_the_network_are_never_used(demo_models, monkeypatch):
    import argostranslate.package

    def refuse(*args, **kwargs):
        raise AssertionError("the Argos package index or the network was called")

    for name in ("get_available_packages", "update_package_index", "install_package_for_language_pair"):
        monkeypatch.setattr(argostranslate.package, name, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = ArgosEngine()
    assert fresh.translate([VI], "vi", "en") == [EN]


@pytest.mark.parametrize("style", sorted(PLACEHOLDER_STYLES))
def test_placeholders_survive_both_pivot_hops_through_argostranslate(demo_models, style):
    """The real argostranslate path (MiniSBD split, SentencePiece, CTranslate2) and the engine's."""
    import argostranslate.translate

    chosen = PLACEHOLDER_STYLES[style]
    text = f"{chosen.make(0)} hợp tác với {chosen.make(1)} về du lịch. Chè {chosen.make(12)}."
    engine = ArgosEngine()
    via_engine = engine.translate(engine.translate([text], "vi", "en"), "en", "zh")[0]
    via_argos = argostranslate.translate.translate(text, "vi", "zh")
    for output in (via_engine, via_argos):
        assert [match.group(0) for match in chosen.strict.finditer(output)] == [chosen.make(n) for n in (0, 1, 12)]


def test_double_underscore_placeholders_do_not_survive_argos(demo_models):
    """Why __T0__ is not offered (docs/argos-offline.md): Argos's decoder turns '_' into spaces."""
    import argostranslate.translate

    assert "__T0__" not in argostranslate.translate.translate("__T0__ hợp tác", "vi", "zh")


def test_engine_settings():
    from foreigndesk.core.settings import SettingsError, load_settings

    settings = load_settings({"FOREIGNDESK_BEAM_SIZE": "1", "FOREIGNDESK_BATCH_TOKENS": "512",
                              "FOREIGNDESK_MAX_SENTENCE_TOKENS": "120", "FOREIGNDESK_PLACEHOLDER_STYLE": "{}",
                              "FOREIGNDESK_GLOSSARY_DIR": "/srv/glossary"})
    engine = ArgosEngine.from_settings(settings)
    assert (engine.beam_size, engine.batch_tokens, engine.max_sentence_tokens) == (1, 512, 120)
    assert (settings.placeholder_style, str(settings.glossary_dir)) == ("{}", "/srv/glossary")
    defaults = load_settings({})
    assert (defaults.beam_size, defaults.placeholder_style, defaults.glossary_dir.name) == (4, "[]", "glossary")
    with pytest.raises(SettingsError, match="FOREIGNDESK_BEAM_SIZE='wide' is not a whole number"):
        load_settings({"FOREIGNDESK_BEAM_SIZE": "wide"})
    with pytest.raises(SettingsError, match="FOREIGNDESK_PLACEHOLDER_STYLE='__T__' is not one of"):
        load_settings({"FOREIGNDESK_PLACEHOLDER_STYLE": "__T__"})
