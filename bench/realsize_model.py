"""A size-realistic stand-in Argos package for benchmarks — NOT a model for the desk's users.

    .venv/bin/python bench/realsize_model.py OUT_DIR [--pair vi-en ...]

Why: every speed figure measured with the demo packages (a 1-layer, 256-wide copy
model with a 600-piece vocabulary) says how fast the desk's own code is, not how
long a translator waits for a real model. Real Argos packages cannot be fetched
here, so this builds, offline and in seconds, a package with the architecture and
size of one:

* a Transformer with 6 encoder and 6 decoder layers, d_model 512, 8 heads, FFN 2048,
  ReLU, pre-norm (the shape of Argos's OpenNMT-py models), saved through
  ``ctranslate2.specs`` and quantised to int8 like the published packages;
* a 32,000-piece SentencePiece vocabulary (source, target and output projection
  all 32,000 rows): a unigram model trained on the given text — so Vietnamese
  words split as a trained model splits them — padded to 32,000 with pieces that
  never match real text (``▁q…``, every 12th ending a sentence with ``.``);
* random weights (numpy, fixed seed), so its output is noise; the cost of every
  matrix product, softmax over 32,000 pieces and beam step is the real cost.

Decoding length is what makes a random model's cost realistic or not: left alone it
would emit ``</s>`` at a random step or never (then the engine, taking an output at
``max_decoding_length`` as truncated, halves the input and translates again). The
translate options are per batch, not per sentence, so the length is built into the
weights instead, and neither the engine nor Argos is touched: a reserved block of
the residual stream (``R``, 96 of 512 dims, never written by the random layers)
carries a sinusoidal position code; one cross-attention head of the last decoder
layer attends the source position equal to the decoding step (the demo packages'
copy trick, ``foreigndesk.translate.demo_weights``) and reads whether it holds the source's
``</s>`` (``add_source_eos``). The output projection turns that flag into a ±60
logit for ``</s>``: every sentence's output has exactly as many pieces as its
input — a realistic vi→en ratio (≈1) — whatever the batch or beam. The build
checks it on sentences of 1 to 300 pieces and fails otherwise.

The package says what it is: ``metadata.json`` carries the demo flag (everything the
desk makes with it is marked DEMO MODEL) and ``foreigndesk_realsize_stand_in``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

# The demo packages' builders, reused: package layout and zip, sentence splitter, position code.
from foreigndesk.translate.demo_models import ARGOS_VERSION, DEMO_FLAG, LANGUAGE_NAMES, _zip_folder  # noqa: E402
from foreigndesk.translate.demo_splitter import minisbd_onnx  # noqa: E402
from realsize_vocab import VOCAB_SIZE, pieces_per_word, sentencepiece_model, vocabulary_pieces  # noqa: E402,F401

from foreigndesk.translate.demo_weights import (  # noqa: E402
    ATTN_SHARPNESS,
    MAX_POSITIONS,
    NUM_FREQ,
    POSITION_GRID,
    _frequencies,
)
from realsize_vocab import VOCAB_SIZE, pieces_per_word, sentencepiece_model, vocabulary_pieces  # noqa: E402

__all__ = ["build_realsize_packages", "pieces_per_word"]  # pieces_per_word: bench/translate.py prints it

LAYERS = 6
D_MODEL = 512
HEADS = 8
HEAD_DIM = D_MODEL // HEADS
FFN_DIM = 2048
QUANTIZATION = "int8"
PACKAGE_VERSION = "0.0.1"
REALSIZE_FLAG = "foreigndesk_realsize_stand_in"
SEED = 2025

# The reserved block R of the residual stream (the random layers never write it):
POS = 416  # 32 dims: cos, sin of the position at NUM_FREQ frequencies
NEG = POS + 2 * NUM_FREQ  # 32 dims: -POS, so R has zero mean (LayerNorm subtracts the mean)
FLAG_P, FLAG_N = NEG + 2 * NUM_FREQ, NEG + 2 * NUM_FREQ + 1  # encoder: ±1 "this piece is </s>"
OUT_P, OUT_N = FLAG_P + 2, FLAG_P + 3  # decoder: ±1 "the attended source piece is </s>"
R = slice(POS, D_MODEL)
R_NORM = 2 * NUM_FREQ  # squared norm of P(t) and -P(t) together (cos² + sin² = 1 per frequency, twice)
LENGTH_HEAD = HEADS - 1  # the cross-attention head that measures the length, in the last decoder layer
EOS_LOGIT = 30.0  # the </s> logit is ±2x this: +60 at the end of the source, -60 everywhere before
WEIGHT_STD = 0.01  # random weights stay small next to R, so LayerNorm scales R by a near-constant
LN_EPS = 1e-6


# --- Public API -------------------------------------------------------------------------------


def build_realsize_packages(pairs: Iterable[tuple[str, str]], out_dir: Path, corpus: Iterable[str] = ()) -> list[Path]:
    """Write ``translate-<from>_<to>-realsize.argosmodel`` per pair into ``out_dir``; return their paths.

    One tokenizer and one model serve every pair (their output is noise in any
    language), so the ~20 s of building happen once. ``corpus``: extra lines to
    train the SentencePiece model on (the benchmark's own text).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with tempfile.TemporaryDirectory(prefix="foreigndesk-realsize-") as scratch:
        shared = Path(scratch) / "shared"
        shared.mkdir()
        spm_bytes = sentencepiece_model(tuple(corpus))
        pieces = vocabulary_pieces(spm_bytes)
        save_model(pieces, shared / "model")
        check_lengths(shared / "model", pieces)
        for from_code, to_code in pairs:
            folder = f"translate-{from_code}_{to_code}-realsize"
            root = Path(scratch) / folder
            root.mkdir()
            (root / "metadata.json").write_text(json.dumps(_metadata(from_code, to_code), ensure_ascii=False, indent=2))
            (root / "README.md").write_text(f"# foreigndesk real-size stand-in {from_code}→{to_code}\n\n"
                                            "Random weights, for benchmarks: the output is noise. "
                                            "See bench/realsize_model.py.\n")
            (root / "sentencepiece.model").write_bytes(spm_bytes)
            shutil.copytree(shared / "model", root / "model", copy_function=os.link)  # hard links: no copy
            (root / "minisbd").mkdir()
            (root / "minisbd" / f"{from_code}-demo.onnx").write_bytes(minisbd_onnx(from_code))
            paths.append(out_dir / f"{folder}.argosmodel")
            _zip_folder(root, paths[-1])
    return paths


def _metadata(from_code: str, to_code: str) -> dict:
    return {
        "package_version": PACKAGE_VERSION,
        "argos_version": ARGOS_VERSION,
        "type": "translate",
        "from_code": from_code,
        "from_name": LANGUAGE_NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": LANGUAGE_NAMES.get(to_code, to_code),
        "name": f"foreigndesk REAL-SIZE STAND-IN {from_code}→{to_code} (random weights, output is noise)",
        "description": "Transformer 6+6, d_model 512, 8 heads, FFN 2048, 32k vocabulary, int8, random weights; "
                       "for benchmarks only. Built by bench/realsize_model.py.",
        "links": [],
        DEMO_FLAG: True,
        REALSIZE_FLAG: True,
    }


# --- CTranslate2 model ----------------------------------------------------------------------


def _position_table():
    """Rows t: [0 … 0, P(t), -P(t), 0 …]; P(t)·P(s) peaks at s == t (demo_models' frequencies)."""
    import numpy as np

    angles = np.outer(np.arange(MAX_POSITIONS), _frequencies())
    table = np.zeros((MAX_POSITIONS, D_MODEL), dtype=np.float32)
    table[:, POS : POS + NUM_FREQ] = np.round(np.cos(angles) * POSITION_GRID) / POSITION_GRID
    table[:, POS + NUM_FREQ : NEG] = np.round(np.sin(angles) * POSITION_GRID) / POSITION_GRID
    table[:, NEG : NEG + 2 * NUM_FREQ] = -table[:, POS:NEG]
    return table


def _ln_scale(squared_norm: float) -> float:
    """LayerNorm of a zero-mean vector is the vector times this (R dominates the norm)."""
    return 1.0 / (squared_norm / D_MODEL + LN_EPS) ** 0.5


class _Random:
    """Small random weights whose rows writing into R are zero (R belongs to the length mechanism).

    Matrices are cut cyclically from one pool of 4M normal draws at random offsets:
    drawing all ~95M weights would be most of the build time, and what a matrix
    product costs does not depend on whether its weights are independent.
    """

    POOL = 4_000_037  # prime, so rows of a repeated pool never line up

    def __init__(self, seed: int) -> None:
        import numpy as np

        self.rng = np.random.default_rng(seed)
        self.pool = self.rng.standard_normal(self.POOL, dtype=np.float32) * np.float32(WEIGHT_STD)

    def matrix(self, rows: int, cols: int, writes_residual: bool = False):
        import numpy as np

        offset = int(self.rng.integers(self.POOL))
        weight = np.resize(self.pool[offset:], (rows, cols))
        if writes_residual:
            weight[R] = 0.0
        return weight

    def vector(self, size: int):
        import numpy as np

        return np.zeros(size, dtype=np.float32)


def _layer_norm(norm) -> None:
    import numpy as np

    norm.gamma, norm.beta = np.ones(D_MODEL, dtype=np.float32), np.zeros(D_MODEL, dtype=np.float32)


def _self_attention_and_ffn(layer, random: _Random) -> None:
    _layer_norm(layer.self_attention.layer_norm)
    layer.self_attention.linear[0].weight = random.matrix(3 * D_MODEL, D_MODEL)
    layer.self_attention.linear[0].bias = random.vector(3 * D_MODEL)
    layer.self_attention.linear[1].weight = random.matrix(D_MODEL, D_MODEL, writes_residual=True)
    layer.self_attention.linear[1].bias = random.vector(D_MODEL)
    _layer_norm(layer.ffn.layer_norm)
    layer.ffn.linear_0.weight = random.matrix(FFN_DIM, D_MODEL)
    layer.ffn.linear_0.bias = random.vector(FFN_DIM)
    layer.ffn.linear_1.weight = random.matrix(D_MODEL, FFN_DIM, writes_residual=True)
    layer.ffn.linear_1.bias = random.vector(D_MODEL)


def _cross_attention(layer, random: _Random, measures_length: bool) -> None:
    """Random heads; in the last layer, head LENGTH_HEAD attends source position == step and reads its flag."""
    import numpy as np

    _layer_norm(layer.attention.layer_norm)
    query = random.matrix(D_MODEL, D_MODEL)
    key_value = random.matrix(2 * D_MODEL, D_MODEL)
    output = random.matrix(D_MODEL, D_MODEL, writes_residual=True)
    if measures_length:
        width, head = 2 * NUM_FREQ, LENGTH_HEAD * HEAD_DIM
        scale_dec = _ln_scale(R_NORM)  # the decoder's R: P(t), -P(t)
        scale_enc = _ln_scale(R_NORM + 2)  # the encoder's R: P(s), -P(s), the flag
        gain = ATTN_SHARPNESS * HEAD_DIM**0.5 / scale_dec / scale_enc  # undo both LayerNorms and 1/sqrt(d)
        query[head : head + HEAD_DIM] = 0.0
        query[head : head + width, POS:NEG] = gain * np.eye(width)
        key_value[head : head + HEAD_DIM] = 0.0
        key_value[head : head + width, POS:NEG] = np.eye(width)
        value = D_MODEL + head  # the head's value rows start after the D_MODEL key rows
        key_value[value : value + HEAD_DIM] = 0.0
        key_value[value, FLAG_P] = 0.5 / scale_enc  # (+1 - (-1)) / 2: +1 at </s>, -1 elsewhere
        key_value[value, FLAG_N] = -0.5 / scale_enc
        output[:, head : head + HEAD_DIM] = 0.0
        output[OUT_P, head], output[OUT_N, head] = 1.0, -1.0
    layer.attention.linear[0].weight, layer.attention.linear[0].bias = query, random.vector(D_MODEL)
    layer.attention.linear[1].weight, layer.attention.linear[1].bias = key_value, random.vector(2 * D_MODEL)
    layer.attention.linear[2].weight, layer.attention.linear[2].bias = output, random.vector(D_MODEL)


def save_model(pieces: Sequence[str], model_dir: Path) -> None:
    """The 6+6 Transformer through ``ctranslate2.specs``, random but for R, int8."""
    import numpy as np
    from ctranslate2.specs import transformer_spec

    random = _Random(SEED)
    eos = pieces.index("</s>")
    spec = transformer_spec.TransformerSpec.from_config(num_layers=(LAYERS, LAYERS), num_heads=HEADS, pre_norm=True)
    spec.config.add_source_eos = True
    positions = _position_table()

    encoder = spec.encoder
    encoder.scale_embeddings = False
    embeddings = random.matrix(len(pieces), D_MODEL, writes_residual=True) * np.float32(2.0)
    embeddings[:, FLAG_P], embeddings[:, FLAG_N] = -1.0, 1.0
    embeddings[eos, FLAG_P], embeddings[eos, FLAG_N] = 1.0, -1.0
    encoder.embeddings[0].weight = embeddings
    encoder.position_encodings.encodings = positions
    _layer_norm(encoder.layer_norm)
    for layer in encoder.layer:
        _self_attention_and_ffn(layer, random)

    decoder = spec.decoder
    decoder.scale_embeddings = False
    decoder.embeddings.weight = random.matrix(len(pieces), D_MODEL, writes_residual=True) * np.float32(2.0)
    decoder.position_encodings.encodings = positions
    _layer_norm(decoder.layer_norm)
    for number, layer in enumerate(decoder.layer):
        _self_attention_and_ffn(layer, random)
        _cross_attention(layer, random, measures_length=number == LAYERS - 1)
    projection = random.matrix(len(pieces), D_MODEL) * np.float32(40.0)  # logits of a few units: noise
    projection[:, R] = 0.0
    projection[eos] = 0.0
    scale_final = _ln_scale(R_NORM + 2)  # P, -P and the length head's ±1
    projection[eos, OUT_P], projection[eos, OUT_N] = EOS_LOGIT / scale_final, -EOS_LOGIT / scale_final
    decoder.projection.weight = projection
    decoder.projection.bias = np.zeros(len(pieces), dtype=np.float32)

    spec.register_source_vocabulary(list(pieces))
    spec.register_target_vocabulary(list(pieces))
    spec.validate()
    spec.optimize(quantization=QUANTIZATION)
    model_dir.mkdir(parents=True)
    spec.save(str(model_dir))


def check_lengths(model_dir: Path, pieces: Sequence[str]) -> None:
    """Fail the build, not the benchmark, if the length head could misfire.

    Analytically: at every position below MAX_POSITIONS the code P(t) matches itself
    better than any other position by a margin that, times ATTN_SHARPNESS, makes the
    attention one-hot. Then on the model: in one batch (greedy, to keep the build
    short), each output is exactly as long as its input.
    """
    import ctranslate2
    import numpy as np

    codes = _position_table()[:, POS:NEG].astype(np.float64)
    scores = codes @ codes.T
    best = np.diag(scores).copy()
    np.fill_diagonal(scores, -np.inf)
    margin = float((best - scores.max(axis=1)).min())
    if margin * ATTN_SHARPNESS < 40:
        raise RuntimeError(f"real-size stand-in: position margin {margin:.2f} too small for a one-hot attention")
    rng = np.random.default_rng(7)
    normal = [p for p in pieces[3:] if not p.startswith("<")]
    lengths = [1, 3, 12, 40, 120]
    batch = [[normal[i] for i in rng.integers(0, len(normal), n)] for n in lengths]
    translator = ctranslate2.Translator(str(model_dir), device="cpu", inter_threads=1, intra_threads=2)
    results = translator.translate_batch(batch, beam_size=1, max_decoding_length=2 * max(lengths) + 16,
                                         max_input_length=0)
    got = [len(result.hypotheses[0]) for result in results]
    if got != lengths:
        raise RuntimeError(f"real-size stand-in: output lengths {got} for inputs {lengths}; the length head misfires")


# --- CLI --------------------------------------------------------------------------------------


def _parse_pair(text: str) -> tuple[str, str]:
    from_code, sep, to_code = text.partition("-")
    if not sep or not from_code or not to_code:
        raise argparse.ArgumentTypeError(f"expected FROM-TO like vi-en, got {text!r}")
    return from_code, to_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pair", action="append", type=_parse_pair, help="FROM-TO (repeatable; default vi-en)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = build_realsize_packages(args.pair or [("vi", "en")], args.out_dir)
    elapsed = time.perf_counter() - started
    for path in paths:
        print(f"{path}\t{path.stat().st_size / 1e6:.1f} MB")
    print(f"built {len(paths)} package(s) in {elapsed:.1f} s (Transformer {LAYERS}+{LAYERS}, d_model {D_MODEL}, "
          f"{HEADS} heads, FFN {FFN_DIM}, {VOCAB_SIZE} pieces, {QUANTIZATION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
