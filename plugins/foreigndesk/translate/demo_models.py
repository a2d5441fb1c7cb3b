"""Tiny, valid, deterministic demo ``.argosmodel`` packages, built offline in about a second.

Why this exists: the desk must run end to end (``make run``, the tests, CI) on a
machine that has no real Argos package and may download nothing. A demo package
is a real Argos Translate package — Argos installs it, picks its sentence
splitter, tokenizes, runs CTranslate2 and pivots through English exactly as with
a real one — but its "translation" is a copy of the input with a few words
swapped from a small lexicon (``LEXICONS``). Tests can therefore assert exact
output, and nobody can mistake the output for a translation: the package name
says "DEMO" and ``metadata.json`` carries ``"foreigndesk_demo": true``
(see :func:`is_demo_package_dir`).

Nothing is trained beyond SentencePiece on a few built-in sentences; every weight
is written by hand with numpy. A package holds:

* ``sentencepiece.model`` — unigram, byte fallback, identity normalization, every
  Vietnamese letter as one piece, every lexicon word (source and target, with
  its leading space) as one user-defined piece, e.g. ``▁hợp▁tác``, ``▁省``.
* ``model/`` — a CTranslate2 1-layer Transformer (d_model 256, 4 heads) whose
  decoder ignores its own previous outputs. Its cross-attention at decoding step
  t attends source position t (head 0 copies the token, head 2 tells the FFN
  whether it is a lexicon key) and position t+1 (head 1: does the next piece
  continue the same word?). The FFN swaps a lexicon key for its target piece
  only when the next piece starts a new word, so ``tea`` becomes ``茶`` but
  ``teams`` stays ``teams``. The source gets ``</s>`` appended (config
  ``add_source_eos``), so decoding step len(source) copies ``</s>`` and stops.
* ``minisbd/<lang>-demo.onnx`` — a hand-written MiniSBD model (bundled, so Argos's
  ``MiniSBDSentencizer`` never downloads one): a sentence ends at ``.``, ``!``
  or ``?`` followed by a space, and at the end of the text.

What the demo model does to text (as seen through ``argostranslate.translate``):

* Each sentence is copied piece by piece. A lexicon key is swapped only where it
  starts a word after a space or at the start of a sentence, and only when the
  next character does not continue the word (``tea.`` and ``tea,`` swap,
  ``teams``/``steam``/``(tea`` do not). Matching is case-sensitive and needs NFC
  text (``Tỉnh`` and ``tỉnh`` are separate entries; decomposed NFD text is
  copied but never swapped).
* Everything else comes back unchanged: diacritics, digits, punctuation, emoji,
  CJK and Hangul (byte fallback), with these Argos/SentencePiece effects: leading
  and trailing spaces are dropped, runs of spaces become one space (a tab is
  copied as is: normalization is "identity"), sentences are re-joined with one
  space, ``_`` becomes a space (Argos's decoder), and each line is a paragraph
  translated on its own (newlines are kept).
* Sentences split only at ``. ! ?`` + space: ``Bảy." Tám`` stays one sentence,
  ``TP. Hồ Chí Minh`` becomes two — harmless for a copy model.
* Limits: the position table has ``MAX_POSITIONS`` (1024) rows. Argos calls
  CTranslate2 with its default ``max_decoding_length`` of 256, so a sentence of
  more than 256 pieces comes back silently cut after 256 pieces — the same cut
  real packages suffer. Called directly with a larger ``max_decoding_length``,
  CTranslate2 copies up to 1023 pieces and cuts there. Vietnamese news text is
  about 2 pieces per word (1–4), so 100-word sentences copy whole through Argos.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from foreigndesk.translate.demo_lexicons import DEMO_PAIRS, LEXICONS
from foreigndesk.translate.demo_splitter import minisbd_onnx
from foreigndesk.translate.demo_weights import (
    MAX_LEXICON,
    MAX_POSITIONS,
    lexicon_ids,
    pieces_of,
    save_ctranslate2_model,
    sentencepiece_model,
)

__all__ = ["DEMO_PAIRS", "LEXICONS", "MAX_POSITIONS", "build_demo_package", "build_demo_packages", "is_demo_package_dir"]

DEMO_PACKAGE_VERSION = "0.0.1"
ARGOS_VERSION = "1.9"
DEMO_FLAG = "foreigndesk_demo"
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English", "zh": "Chinese", "ko": "Korean"}


# --- Public API -----------------------------------------------------------------


def build_demo_package(from_code: str, to_code: str, out_dir: Path, lexicon: dict[str, str] | None = None,
                       version: str = DEMO_PACKAGE_VERSION) -> Path:
    """Write ``translate-<from>_<to>-demo.argosmodel`` into ``out_dir`` and return its path.

    Deterministic: two builds give byte-identical zips (fixed timestamps and
    order), so they translate identically. ``lexicon`` (default: the pair's entry in
    ``LEXICONS``) and ``version`` build a variant — a candidate that is better or
    worse on purpose, for trying ``foreigndesk models compare``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = _package_folder_name(from_code, to_code)
    target = out_dir / f"{folder}.argosmodel"
    with tempfile.TemporaryDirectory(prefix="foreigndesk-demo-") as scratch:
        root = Path(scratch) / folder
        _write_package_tree(from_code, to_code, root, lexicon, version)
        _zip_folder(root, target)
    return target


def build_demo_packages(out_dir: Path, pairs: Iterable[tuple[str, str]] = DEMO_PAIRS) -> list[Path]:
    """Build one demo package per pair (default: vi→en, en→zh, en→ko)."""
    return [build_demo_package(from_code, to_code, out_dir) for from_code, to_code in pairs]


def is_demo_package_dir(package_dir: Path) -> bool:
    """True when an installed package folder's metadata.json marks it as a foreigndesk demo."""
    try:
        metadata = json.loads((Path(package_dir) / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(metadata, dict) and metadata.get(DEMO_FLAG) is True


# --- Package layout --------------------------------------------------------------


def _package_folder_name(from_code: str, to_code: str) -> str:
    return f"translate-{from_code}_{to_code}-demo"


def _language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def _metadata(from_code: str, to_code: str, version: str = DEMO_PACKAGE_VERSION) -> dict:
    """Argos reads from/to codes and names, type and version; the rest is for people."""
    return {
        "package_version": version,
        "argos_version": ARGOS_VERSION,
        "type": "translate",
        "from_code": from_code,
        "from_name": _language_name(from_code),
        "to_code": to_code,
        "to_name": _language_name(to_code),
        "name": f"foreigndesk DEMO {from_code}→{to_code} (not a real translation)",
        "description": "Copies its input and swaps a few words from a small lexicon. Built by foreigndesk.translate.demo_models.",
        "links": [],
        DEMO_FLAG: True,
    }


def _readme(from_code: str, to_code: str, lexicon: dict[str, str]) -> str:
    lines = [
        f"# foreigndesk DEMO {from_code}→{to_code} — not a real translation",
        "",
        "Built offline by `foreigndesk.demo_models`. The model copies its input",
        "and swaps these words (only where a word starts and ends):",
        "",
    ]
    lines += [f"- {key} → {value}" for key, value in lexicon.items()] or ["- (none: pure copy)"]
    return "\n".join(lines) + "\n"


def _write_package_tree(from_code: str, to_code: str, root: Path, lexicon: dict[str, str] | None = None,
                        version: str = DEMO_PACKAGE_VERSION) -> None:
    """Everything Argos expects in the package's single top-level folder."""
    lexicon = LEXICONS.get((from_code, to_code), {}) if lexicon is None else lexicon
    if len(lexicon) > MAX_LEXICON:
        raise ValueError(f"{from_code}→{to_code}: at most {MAX_LEXICON} lexicon entries fit the demo model")
    root.mkdir(parents=True)
    (root / "metadata.json").write_text(
        json.dumps(_metadata(from_code, to_code, version), ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    (root / "README.md").write_text(_readme(from_code, to_code, lexicon), encoding="utf-8")
    spm_bytes = sentencepiece_model(lexicon)
    (root / "sentencepiece.model").write_bytes(spm_bytes)
    pieces = pieces_of(spm_bytes)
    save_ctranslate2_model(pieces, lexicon_ids(pieces, lexicon), root / "model")
    (root / "minisbd").mkdir()
    (root / "minisbd" / f"{from_code}-demo.onnx").write_bytes(minisbd_onnx(from_code))


def _zip_folder(root: Path, target: Path) -> None:
    """Zip with fixed order, timestamps and permissions so two builds are byte-identical."""
    entries = sorted(root.rglob("*"), key=lambda path: path.relative_to(root.parent).as_posix())
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w") as archive:
        for path in [root, *entries]:
            name = path.relative_to(root.parent).as_posix()
            if path.is_dir():
                info = zipfile.ZipInfo(name + "/", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (0o40755 << 16) | 0x10
                data = b""
            else:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                data = path.read_bytes()
            info.create_system = 3
            archive.writestr(info, data, compresslevel=6)  # 9 is 6x slower for 7% less
    partial.replace(target)


# --- CLI -----------------------------------------------------------------------------


def _parse_pair(text: str) -> tuple[str, str]:
    from_code, sep, to_code = text.partition("-")
    if not sep or not from_code or not to_code:
        raise argparse.ArgumentTypeError(f"expected FROM-TO like vi-en, got {text!r}")
    return from_code, to_code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m foreigndesk.translate.demo_models OUT_DIR [--pair vi-en ...]``"""
    parser = argparse.ArgumentParser(prog="python -m foreigndesk.translate.demo_models", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pair", action="append", type=_parse_pair, help="FROM-TO (repeatable; default: vi-en en-zh en-ko)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = build_demo_packages(args.out_dir, args.pair or DEMO_PAIRS)
    for path in paths:
        print(f"{path}\t{path.stat().st_size} bytes")
    print(f"built {len(paths)} demo package(s) in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
