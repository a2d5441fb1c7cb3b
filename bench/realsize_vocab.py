"""The size-realistic stand-in's tokenizer: a 32,000-piece SentencePiece model, trained offline on real text.

Part of ``bench/realsize_model.py`` (the model's weights and package are there): a
unigram model trained on the demo training text, the example articles and the
glossary — so Vietnamese words split as a trained model splits them — padded to
32,000 pieces with filler that never matches real text.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

from foreigndesk.translate.demo_weights import _TRAINING_TEXT  # noqa: E402

VOCAB_SIZE = 32_000


def _filler(index: int) -> str:
    """A piece no real text contains; every 12th ends a sentence, every other one is capitalised."""
    word = f"▁{'Q' if index % 2 else 'q'}{index:05d}x"
    return word + "." if index % 12 == 0 else word


def sentencepiece_model(corpus: tuple[str, ...]) -> bytes:
    """Unigram model (byte fallback, identity normalisation) on the corpus, then filler pieces up to 32,000.

    A unigram model trained on a few thousand lines keeps only ~1,600 pieces and splits
    Vietnamese syllables into letters (2.2 pieces a word), where a 32k model trained on
    millions of lines has a piece for every common syllable: every word of the corpus
    becomes a piece, scored above its parts, which gives about 1.2 pieces a word
    (punctuation, digits and unseen words still split). The filler never matches text.
    """
    import re

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    lines = [line for line in (*_TRAINING_TEXT.splitlines(), *_repo_text(), *corpus) if line.strip()]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="unigram", vocab_size=VOCAB_SIZE,
        hard_vocab_limit=False, byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity",
        num_threads=1, minloglevel=2,
    )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    known = {piece.piece for piece in proto.pieces}
    words = sorted({"▁" + word for line in lines for word in re.findall(r"\w+", line)} - known)
    for word in words[: VOCAB_SIZE - len(proto.pieces)]:
        piece = proto.pieces.add()
        piece.piece, piece.score, piece.type = word, -3.0, piece.NORMAL
    lowest = min(piece.score for piece in proto.pieces if piece.type == piece.NORMAL)
    for index in range(VOCAB_SIZE - len(proto.pieces)):
        piece = proto.pieces.add()
        piece.piece, piece.score, piece.type = _filler(index), lowest - 10.0, piece.USER_DEFINED
    proto.trainer_spec.vocab_size = len(proto.pieces)
    return proto.SerializeToString()


def pieces_per_word(spm_bytes: bytes, lines: Iterable[str]) -> float:
    """How finely the model splits text (printed by the benchmark next to its figures)."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=spm_bytes)
    lines = list(lines)
    return sum(len(processor.encode(line)) for line in lines) / max(1, sum(len(line.split()) for line in lines))


def _repo_text() -> list[str]:
    """The example articles and the glossary: the province's own words."""
    lines: list[str] = []
    for path in sorted((REPO / "content" / "examples").glob("*.md")):
        lines += path.read_text(encoding="utf-8").splitlines()
    glossary = REPO / "glossary" / "glossary.csv"
    if glossary.is_file():
        lines += [line.replace(",", " ") for line in glossary.read_text(encoding="utf-8").splitlines()]
    return lines


def vocabulary_pieces(spm_bytes: bytes) -> list[str]:
    """Every piece of the model by id: the rows of the embeddings and the output projection, in order."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=spm_bytes)
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
