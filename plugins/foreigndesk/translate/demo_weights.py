"""The demo packages' tokenizer and hand-written CTranslate2 weights (see :mod:`foreigndesk.translate.demo_models`).

Nothing is trained beyond SentencePiece on a few built-in sentences; every
weight is written with numpy so that the model copies its input and swaps the
lexicon's words.
"""

from __future__ import annotations

import functools
import hashlib
import io
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from foreigndesk.translate.demo_lexicons import LEXICONS

if TYPE_CHECKING:  # numpy is imported lazily: the CLI imports the demo packages' module.
    import numpy as np

#: Rows of the position table: the longest sentence (in pieces, with ``</s>``).
MAX_POSITIONS = 1024

# --- Model geometry -----------------------------------------------------------
# The residual stream is laid out in fixed blocks so every LayerNorm sees a
# zero-mean vector of known norm (LayerNorm is then a known constant scale):
#   TOK   64  token code, balanced ±1 (the output layer reads only this block)
#   POS   32  cos/sin of the position at 16 frequencies (+32 unused dims)
#   NEG   32  -POS, keeps the mean at zero (+32 unused dims)
#   CONT   2  (+c, -c): c = +1 if the piece continues the previous word
#   NONKEY 2  (+1, -1) for pieces that are no lexicon key
#   LEX   2n  (+1, -1) at pair i for the i-th lexicon key
D_MODEL = 256
NUM_HEADS = 4
HEAD_DIM = D_MODEL // NUM_HEADS
CODE_DIM = 64
NUM_FREQ = 16
POSITION_GRID = 256  # table values rounded to 1/256: the zip shrinks 3x, margins hold
TOK, POS, NEG = 0, 64, 128
CONT_P, CONT_N = 192, 193
NONKEY_P = 194
LEX0 = 196
MAX_LEXICON = (D_MODEL - LEX0) // 2
FFN_DIM = MAX_LEXICON
LN_EPS = 1e-6  # CTranslate2's default; only the last digits of the scales depend on it
ATTN_SHARPNESS = 12.0  # attention score margin to the next-best position: 12 * 3.6 (checked at build)
LOGIT_GAIN = 2.0  # logit of the right piece is 128, of any other <= 128 * max code overlap

SPM_VOCAB_SIZE = 600

_VI_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợ"
    "pqrstuùúủũụưừứửữựvxyỳýỷỹỵfjwz"
)

_TRAINING_TEXT = """\
Tỉnh Thái Nguyên hợp tác với Luông Pha Băng về du lịch.
Chè Thái Nguyên nổi tiếng khắp cả nước và thế giới.
Năm 2025, tỉnh Thái Nguyên hợp nhất với tỉnh Bắc Kạn.
Ủy ban nhân dân tỉnh đã tổ chức hội nghị xúc tiến đầu tư.
Du lịch cộng đồng phát triển mạnh ở các huyện miền núi.
Người dân trồng chè, trồng lúa và nuôi cá trên hồ Núi Cốc.
Đoàn công tác của tỉnh thăm Hàn Quốc và Trung Quốc.
Việt Nam là điểm đến an toàn, thân thiện của du khách quốc tế.
Lễ hội Trà quốc tế được tổ chức hai năm một lần.
Sở Văn hóa, Thể thao và Du lịch công bố kế hoạch năm mới.
Kinh tế của tỉnh tăng trưởng 8,5% trong năm qua.
Các doanh nghiệp Nhật Bản, Hàn Quốc đầu tư vào khu công nghiệp.
Thái Nguyen province and Luang Prabang cooperate in tourism.
The tea of Thai Nguyen is famous in Vietnam and the world.
In the year 2025, the province merged with Bac Kan province.
Cooperation with Korea and China brings investment and visitors.
Tourism grows every year, with new hotels, roads and festivals.
The provincial people's committee held a conference on investment.
""" + _VI_LETTERS + " " + _VI_LETTERS.upper() + " 0123456789 .,;:!?'\"()[]{}%-/&@#*+=<>|~$^`\\"


# --- SentencePiece --------------------------------------------------------------


def _piece(word: str) -> str:
    """The piece a word becomes when it follows a space: ``hợp tác`` → ``▁hợp▁tác``."""
    return "▁" + word.replace(" ", "▁")


def _user_symbols(extra: dict[str, str] | None = None) -> list[str]:
    """Every lexicon word of every pair, so all demo packages tokenize alike (pivots too), and a variant's own."""
    words = {word for lexicon in [*LEXICONS.values(), extra or {}] for item in lexicon.items() for word in item}
    return sorted(_piece(word) for word in words)


def sentencepiece_model(extra: dict[str, str] | None = None) -> bytes:
    """The shared tokenizer for the current LEXICONS (trained once per process), with a variant's words."""
    return _train_sentencepiece(tuple(_user_symbols(extra)))


@functools.lru_cache(maxsize=4)
def _train_sentencepiece(user_symbols: tuple[str, ...]) -> bytes:
    """Train on the built-in sentences (~20 ms); one thread so the model is reproducible."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_TRAINING_TEXT.splitlines()),
        model_writer=model,
        model_type="unigram",
        vocab_size=SPM_VOCAB_SIZE,
        hard_vocab_limit=False,
        byte_fallback=True,
        character_coverage=1.0,
        normalization_rule_name="identity",
        user_defined_symbols=list(user_symbols),
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def pieces_of(spm_bytes: bytes) -> list[str]:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=spm_bytes)
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


def lexicon_ids(pieces: Sequence[str], lexicon: dict[str, str]) -> list[tuple[int, int]]:
    """(source piece id, target piece id) per lexicon entry; every word must be one piece."""
    index = {piece: i for i, piece in enumerate(pieces)}
    pairs = []
    for key, value in lexicon.items():
        missing = [_piece(word) for word in (key, value) if _piece(word) not in index]
        if missing:
            raise ValueError(f"lexicon words are not single pieces: {missing}")
        pairs.append((index[_piece(key)], index[_piece(value)]))
    return pairs


def _continues_word(piece: str) -> bool:
    """Does this piece glue onto the previous one inside a word (so no swap before it)?

    Byte pieces count as letters unless they are ASCII punctuation or space:
    a byte of a rare letter must not let ``tỉnh`` swap inside a longer word.
    """
    if piece.startswith("▁") or piece in ("<unk>", "<s>", "</s>"):
        return False
    if piece.startswith("<0x") and piece.endswith(">") and len(piece) == 6:
        value = int(piece[3:5], 16)
        return value >= 0x80 or chr(value).isalnum()
    first = piece[0]
    return first.isalnum() or unicodedata.category(first).startswith("M")


# --- CTranslate2 model ------------------------------------------------------------


def _token_codes(count: int) -> np.ndarray:
    """Balanced ±1 codes (32 of each sign), one per piece, derived from sha256.

    sha256 rather than numpy's RNG so the codes never change with numpy's version.
    """
    import numpy as np

    codes = np.empty((count, CODE_DIM), dtype=np.float32)
    for i in range(count):
        keys = [hashlib.sha256(f"foreigndesk-demo:{i}:{j}".encode()).digest() for j in range(CODE_DIM)]
        order = sorted(range(CODE_DIM), key=lambda j: keys[j])
        codes[i, order[: CODE_DIM // 2]] = 1.0
        codes[i, order[CODE_DIM // 2 :]] = -1.0
    return codes


def _frequencies() -> np.ndarray:
    """16 angular frequencies, geometric from 2.5 rad down to half a turn over MAX_POSITIONS.

    Chosen numerically: P(t)·P(s) <= 16 - 3.6 for every s != t below MAX_POSITIONS.
    """
    import numpy as np

    return np.geomspace(2.5, np.pi / MAX_POSITIONS, NUM_FREQ)


def _position_table() -> np.ndarray:
    """Row t = [0, P(t), -P(t), 0]; P(t)·P(s) peaks at s == t (16 vs at most 12.4)."""
    import numpy as np

    angles = np.outer(np.arange(MAX_POSITIONS), _frequencies())
    table = np.zeros((MAX_POSITIONS, D_MODEL), dtype=np.float32)
    table[:, POS : POS + NUM_FREQ] = np.round(np.cos(angles) * POSITION_GRID) / POSITION_GRID
    table[:, POS + NUM_FREQ : POS + 2 * NUM_FREQ] = np.round(np.sin(angles) * POSITION_GRID) / POSITION_GRID
    table[:, NEG : NEG + 2 * NUM_FREQ] = -table[:, POS : POS + 2 * NUM_FREQ]
    return table


def _next_position_rotation() -> np.ndarray:
    """The linear map P(t) → P(t+1) (a rotation per frequency), for the look-ahead head."""
    import numpy as np

    rotation = np.zeros((2 * NUM_FREQ, 2 * NUM_FREQ))
    for i, omega in enumerate(_frequencies()):
        cos, sin = np.cos(omega), np.sin(omega)
        rotation[i, i], rotation[i, NUM_FREQ + i] = cos, -sin
        rotation[NUM_FREQ + i, i], rotation[NUM_FREQ + i, NUM_FREQ + i] = sin, cos
    return rotation


def _check_margins(codes: np.ndarray) -> None:
    """Fail the build, not the translation, if the hand-set margins do not hold.

    Checks that attention picks position t (copy heads) and t+1 (look-ahead head)
    by a clear score margin, and that no two token codes overlap too much for the
    output layer to tell them apart.
    """
    import numpy as np

    positions = _position_table()[:, POS : POS + 2 * NUM_FREQ].astype(np.float64)
    copy_scores = positions @ positions.T
    look_ahead_scores = (positions @ _next_position_rotation().T)[:-1] @ positions.T
    margins = []
    for scores, offset in ((copy_scores, 0), (look_ahead_scores, 1)):
        rows = np.arange(scores.shape[0])
        best = scores[rows, rows + offset].copy()
        scores[rows, rows + offset] = -np.inf
        margins.append(float((best - scores.max(axis=1)).min()))
    overlap = codes @ codes.T
    np.fill_diagonal(overlap, -np.inf)
    code_overlap = float(overlap.max()) / CODE_DIM
    if min(margins) * ATTN_SHARPNESS < 40 or code_overlap > 0.75:
        raise RuntimeError(f"demo model margins too small: attention {margins}, code overlap {code_overlap:.2f}")


def _layer_norm_scale(squared_norm: float) -> float:
    """LayerNorm of a zero-mean vector is the vector times this constant."""
    return 1.0 / (squared_norm / D_MODEL + LN_EPS) ** 0.5


def _encoder_embeddings(pieces: Sequence[str], codes: np.ndarray, keys: dict[int, int]) -> np.ndarray:
    """Row per piece: its code, whether it continues a word, and which lexicon key it is."""
    import numpy as np

    table = np.zeros((len(pieces), D_MODEL), dtype=np.float32)
    table[:, TOK : TOK + CODE_DIM] = codes
    for i, piece in enumerate(pieces):
        cont = 1.0 if _continues_word(piece) else -1.0
        table[i, CONT_P], table[i, CONT_N] = cont, -cont
        slot = NONKEY_P if i not in keys else LEX0 + 2 * keys[i]
        table[i, slot], table[i, slot + 1] = 1.0, -1.0
    return table


def _cross_attention(scale_dec: float, scale_enc: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Query, fused key/value and output weights of the decoder's cross-attention.

    Head 0 and head 2 attend source position t (same query and key); head 1
    attends t+1. Head 0 carries the token code, head 1 the next piece's
    continuation flag, head 2 the lexicon-key slots. Head 3 is unused.
    """
    import numpy as np

    width = 2 * NUM_FREQ
    eye = np.eye(width)
    pos = slice(POS, POS + width)
    copy_head, look_ahead_head, key_head = 0, HEAD_DIM, 2 * HEAD_DIM  # offsets in the projections
    q_gain = ATTN_SHARPNESS * HEAD_DIM**0.5 / scale_dec  # undo LN scale and CTranslate2's 1/sqrt(d)
    query = np.zeros((D_MODEL, D_MODEL))
    query[copy_head : copy_head + width, pos] = q_gain * eye
    query[look_ahead_head : look_ahead_head + width, pos] = q_gain * _next_position_rotation()
    query[key_head : key_head + width, pos] = q_gain * eye

    key = np.zeros((D_MODEL, D_MODEL))
    for head in (copy_head, look_ahead_head, key_head):
        key[head : head + width, pos] = eye / scale_enc

    slots = D_MODEL - NONKEY_P
    value = np.zeros((D_MODEL, D_MODEL))
    value[copy_head : copy_head + CODE_DIM, TOK : TOK + CODE_DIM] = np.eye(CODE_DIM) / scale_enc
    value[look_ahead_head, CONT_P] = 1.0 / scale_enc
    value[key_head : key_head + slots, NONKEY_P:] = np.eye(slots) / scale_enc

    output = np.zeros((D_MODEL, D_MODEL))
    output[TOK : TOK + CODE_DIM, copy_head : copy_head + CODE_DIM] = np.eye(CODE_DIM)
    output[CONT_P, look_ahead_head], output[CONT_N, look_ahead_head] = 1.0, -1.0
    output[NONKEY_P:, key_head : key_head + slots] = np.eye(slots)
    return query, np.concatenate([key, value]), output


def _swap_ffn(codes: np.ndarray, lexicon_ids: Sequence[tuple[int, int]], scale: float):
    """Hidden unit i fires (0.5) iff the copied piece is lexicon key i and the next
    piece starts a new word; it then turns the token code of the key into the target's."""
    import numpy as np

    inner = np.zeros((FFN_DIM, D_MODEL))
    inner_bias = np.zeros(FFN_DIM)
    outer = np.zeros((D_MODEL, FFN_DIM))
    for i, (source, target) in enumerate(lexicon_ids):
        inner[i, LEX0 + 2 * i] = 1.0 / scale
        inner[i, CONT_N] = 1.0 / scale
        inner_bias[i] = -1.5
        outer[TOK : TOK + CODE_DIM, i] = 2.0 * (codes[target] - codes[source])
    return inner, inner_bias, outer


def _set_layer_norm(norm, gamma: np.ndarray, beta: np.ndarray) -> None:
    norm.gamma, norm.beta = gamma, beta


def _set_silent_block(layer, ones: np.ndarray, zeros: np.ndarray) -> None:
    """Self-attention and FFN that add nothing to the residual stream."""
    import numpy as np

    _set_layer_norm(layer.self_attention.layer_norm, ones, zeros)
    layer.self_attention.linear[0].weight = np.zeros((3 * D_MODEL, D_MODEL), dtype=np.float32)
    layer.self_attention.linear[1].weight = np.zeros((D_MODEL, D_MODEL), dtype=np.float32)
    _set_layer_norm(layer.ffn.layer_norm, ones, zeros)
    layer.ffn.linear_0.weight = np.zeros((FFN_DIM, D_MODEL), dtype=np.float32)
    layer.ffn.linear_1.weight = np.zeros((D_MODEL, FFN_DIM), dtype=np.float32)


def save_ctranslate2_model(pieces: Sequence[str], lexicon_ids: Sequence[tuple[int, int]], model_dir: Path) -> None:
    """Write the copy-and-swap Transformer through ``ctranslate2.specs``."""
    import numpy as np
    from ctranslate2.specs import transformer_spec

    f32 = functools.partial(np.asarray, dtype=np.float32)
    codes = _token_codes(len(pieces))
    _check_margins(codes)
    keys = {source: i for i, (source, _) in enumerate(lexicon_ids)}
    ones, zeros = np.ones(D_MODEL, dtype=np.float32), np.zeros(D_MODEL, dtype=np.float32)
    # Squared norms of the residual stream: 2*32 (POS, NEG) + 64 (TOK) + 2 (CONT) + 2 (slot).
    scale_full = _layer_norm_scale(2 * NUM_FREQ + CODE_DIM + 4)
    scale_positions_only = _layer_norm_scale(2 * NUM_FREQ)

    spec = transformer_spec.TransformerSpec.from_config(num_layers=1, num_heads=NUM_HEADS, pre_norm=True)
    spec.config.add_source_eos = True
    positions = _position_table()

    encoder = spec.encoder
    encoder.scale_embeddings = False
    encoder.embeddings[0].weight = _encoder_embeddings(pieces, codes, keys)
    encoder.position_encodings.encodings = positions
    _set_layer_norm(encoder.layer_norm, ones, zeros)
    _set_silent_block(encoder.layer[0], ones, zeros)

    decoder = spec.decoder
    decoder.scale_embeddings = False
    decoder.embeddings.weight = np.zeros((len(pieces), D_MODEL), dtype=np.float32)  # ignores its outputs
    decoder.position_encodings.encodings = positions
    _set_layer_norm(decoder.layer_norm, ones, zeros)
    layer = decoder.layer[0]
    _set_silent_block(layer, ones, zeros)
    query, key_value, output = _cross_attention(scale_positions_only, scale_full)
    _set_layer_norm(layer.attention.layer_norm, ones, zeros)
    layer.attention.linear[0].weight = f32(query)
    layer.attention.linear[1].weight = f32(key_value)
    layer.attention.linear[2].weight = f32(output)
    inner, inner_bias, outer = _swap_ffn(codes, lexicon_ids, scale_full)
    layer.ffn.linear_0.weight, layer.ffn.linear_0.bias = f32(inner), f32(inner_bias)
    layer.ffn.linear_1.weight = f32(outer)
    projection = np.zeros((len(pieces), D_MODEL), dtype=np.float32)
    projection[:, TOK : TOK + CODE_DIM] = codes * (LOGIT_GAIN / scale_full)
    decoder.projection.weight = projection

    spec.register_source_vocabulary(list(pieces))
    spec.register_target_vocabulary(list(pieces))
    spec.validate()
    spec.optimize()
    model_dir.mkdir(parents=True)
    spec.save(str(model_dir))
