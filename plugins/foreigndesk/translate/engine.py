"""The machine-translation engine: installed Argos packages, run through CTranslate2 directly.

Why not ``argostranslate.translate``: it translates one paragraph at a time in
batches of 32 tokens (about one sentence), turns every ``_`` into a space and
cuts sentences longer than 256 pieces silently (docs/argos-offline.md). The engine uses the
same files Argos installed (found with ``argostranslate.package``), but:

* each model (CTranslate2 translator + the package's own SentencePiece model) is
  loaded once per process (:func:`shared_engine`);
* all segments of a call are split into sentences (:func:`foreigndesk.translate.sentences.split_sentences`),
  and every sentence of every segment goes to CTranslate2 in one ``translate_batch``;
  CTranslate2 sorts them by length, cuts them into batches of ``batch_tokens`` and
  runs the batches in parallel, one single-threaded worker per CPU (measured faster
  on 2 cores than Argos's one worker with a thread pool: bench/translate.py);
  beam size, batch size and workers come from settings;
* a sentence longer than ``max_sentence_tokens`` pieces is cut at word boundaries
  (after punctuation if possible) into chunks translated separately and joined;
  an output that reaches ``max_decoding_length`` is treated as truncated and its
  input is halved and translated again — nothing is cut off silently.

The Argos package index is never consulted: only installed packages are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from foreigndesk.translate.demo_models import is_demo_package_dir  # noqa: E402
from foreigndesk.translate.sentences import join_sentences, split_sentences  # noqa: E402


class MissingModel(RuntimeError):
    """No installed package for a language pair; the message says how to install one."""


@dataclass(frozen=True)
class ModelInfo:
    """What produced a draft, shown to the reviewer and kept in the draft record."""

    from_code: str
    to_code: str
    name: str
    version: str
    demo: bool


@dataclass
class _Loaded:
    info: ModelInfo
    translator: object  # ctranslate2.Translator
    tokenizer: object  # sentencepiece.SentencePieceProcessor
    target_prefix: str


def missing_model_message(from_code: str, to_code: str) -> str:
    return (
        f"no translation model installed for {from_code}→{to_code}: get translate-{from_code}_{to_code}*.argosmodel "
        f"and a SHA256SUMS file listing it, then run `foreigndesk models install SOURCE` "
        f"(SOURCE: a folder, s3://bucket/prefix or an https URL); `foreigndesk models list` shows what is installed"
    )


def find_package(from_code: str, to_code: str):
    """The installed Argos package of a pair, or :class:`MissingModel`."""
    import argostranslate.package

    for package in argostranslate.package.get_installed_packages():
        if (package.from_code, package.to_code) == (from_code, to_code) and package.type == "translate":
            return package
    raise MissingModel(missing_model_message(from_code, to_code))


class ArgosEngine:
    """Translate lists of texts with the installed package of each pair, in large batches."""

    def __init__(
        self,
        beam_size: int = 4,
        batch_tokens: int = 1024,
        max_sentence_tokens: int = 200,
        max_decoding_length: int | None = None,
        threads: int = 0,
    ) -> None:
        self.beam_size = beam_size
        self.batch_tokens = batch_tokens
        self.max_sentence_tokens = max_sentence_tokens
        #: Fixed cap on output pieces (tests); by default 2x the longest input plus 16.
        self.max_decoding_length = max_decoding_length
        #: CTranslate2 workers, one thread each, so the batches of a run go in parallel (0: every CPU we may use).
        self.threads = threads or len(os.sched_getaffinity(0))
        self._loaded: dict[tuple[str, str], _Loaded] = {}

    @classmethod
    def from_settings(cls, settings) -> "ArgosEngine":
        return cls(settings.beam_size, settings.batch_tokens, settings.max_sentence_tokens, threads=settings.engine_threads)

    def model(self, from_code: str, to_code: str) -> ModelInfo:
        return self._load(from_code, to_code).info

    def _load(self, from_code: str, to_code: str) -> _Loaded:
        pair = (from_code, to_code)
        if pair not in self._loaded:
            import ctranslate2
            import sentencepiece

            package = find_package(from_code, to_code)
            folder = Path(package.package_path)
            tokenizer_file = folder / "sentencepiece.model"
            if not tokenizer_file.is_file():
                raise MissingModel(f"{folder}: no sentencepiece.model; the desk runs SentencePiece packages only "
                                   f"(reinstall {from_code}→{to_code} from a current .argosmodel)")
            self._loaded[pair] = _Loaded(
                info=ModelInfo(from_code, to_code, folder.name, str(package.package_version), is_demo_package_dir(folder)),
                translator=ctranslate2.Translator(
                    str(folder / "model"), device="cpu", inter_threads=self.threads, intra_threads=1
                ),
                tokenizer=sentencepiece.SentencePieceProcessor(model_file=str(tokenizer_file)),
                target_prefix=str(getattr(package, "target_prefix", "") or ""),
            )
        return self._loaded[pair]

    def tokenize(self, texts: list[str], from_code: str, to_code: str) -> tuple[list[list[str]], list[list[int]]]:
        """Every sentence chunk of every text as pieces, and which chunks make up each text's sentences."""
        loaded = self._load(from_code, to_code)
        chunks: list[list[str]] = []
        plan: list[list[int]] = []  # per text: number of chunks of each sentence
        for text in texts:
            sentences = split_sentences(text) if text.strip() else []
            counts = []
            for sentence in sentences:
                pieces = loaded.tokenizer.encode(sentence, out_type=str)
                parts = split_pieces(pieces, self.max_sentence_tokens)
                chunks.extend(parts)
                counts.append(len(parts))
            plan.append(counts)
        return chunks, plan

    def translate(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
        """One output per input text, in order; empty texts stay empty. One batched model pass."""
        loaded = self._load(from_code, to_code)
        chunks, plan = self.tokenize(texts, from_code, to_code)
        outputs = iter(self.translate_pieces(chunks, from_code, to_code))
        results = []
        for counts in plan:
            sentences = []
            for count in counts:
                pieces = [piece for _ in range(count) for piece in next(outputs)]
                sentences.append(loaded.tokenizer.decode(pieces).strip())
            results.append(join_sentences(sentences, to_code))
        return results

    def translate_pieces(self, chunks: list[list[str]], from_code: str, to_code: str) -> list[list[str]]:
        """CTranslate2 over all chunks at once; truncated outputs are re-done in halves."""
        if not chunks:
            return []
        loaded = self._load(from_code, to_code)
        limit = self.max_decoding_length or 2 * max(len(chunk) for chunk in chunks) + 16
        results = loaded.translator.translate_batch(
            chunks,
            target_prefix=[[loaded.target_prefix]] * len(chunks) if loaded.target_prefix else None,
            beam_size=self.beam_size,
            max_batch_size=self.batch_tokens,
            batch_type="tokens",
            max_decoding_length=limit,
            max_input_length=0,
            length_penalty=0.2,
            replace_unknowns=True,
        )
        outputs = []
        for chunk, result in zip(chunks, results):
            pieces = list(result.hypotheses[0])
            if loaded.target_prefix and pieces[:1] == [loaded.target_prefix]:
                pieces = pieces[1:]
            outputs.append(pieces)
        redo = {
            i: split_pieces(chunks[i], (len(chunks[i]) + 1) // 2)
            for i, pieces in enumerate(outputs)
            if len(pieces) >= limit and len(chunks[i]) > 1
        }
        if redo:
            again = iter(self.translate_pieces([part for parts in redo.values() for part in parts], from_code, to_code))
            for i, parts in redo.items():
                outputs[i] = [piece for _ in parts for piece in next(again)]
        return outputs


def split_pieces(pieces: list[str], limit: int) -> list[list[str]]:
    """Cut a piece sequence into chunks of at most ``limit``, only where a new word starts.

    Prefers a cut right after punctuation (``,;:``) in the second half of the window;
    a single word longer than the limit is cut inside (a model limit is a hard limit).
    """
    chunks: list[list[str]] = []
    start = 0
    while len(pieces) - start > limit:
        window_end = start + limit
        word_starts = [i for i in range(start + 1, window_end + 1) if i < len(pieces) and pieces[i].startswith("▁")]
        after_punct = [i for i in word_starts if i > start + limit // 2 and pieces[i - 1].rstrip("▁")[-1:] in ",;:"]
        cut = (after_punct or word_starts or [window_end])[-1]
        chunks.append(pieces[start:cut])
        start = cut
    chunks.append(pieces[start:])
    return chunks


_ENGINE: ArgosEngine | None = None


def shared_engine() -> ArgosEngine:
    """The process-wide engine, so a worker loads each model once."""
    global _ENGINE
    if _ENGINE is None:
        from foreigndesk.core.settings import load_settings

        _ENGINE = ArgosEngine.from_settings(load_settings())
    return _ENGINE
