"""Model scores from approvals: the machine draft against the text a translator approved.

For each group of approved decisions (a language; a language and a model; a
language and an outlet; a language and a month) the desk reports, over the
segments the model produced (translation-memory segments are a reviewer's own
text and are left out):

* **chrF** (sacrebleu's ``CHRF()``: character 6-grams, β = 2), 0–100, higher is
  better: how much of the approved text's character sequences the machine had;
* **TER** (sacrebleu's ``TER()``; for Chinese, Japanese and Korean
  ``TER(normalized=True, asian_support=True)``, which makes each CJK character a
  token — sacrebleu applies ``asian_support`` only to normalized text), 0 and up, lower is better: edits per approved
  word a translator needed;
* the **share of segments approved unchanged**.

Scores are corpus-level over the group's segments, exactly as
``sacrebleu.corpus_chrf`` / ``corpus_ter`` compute them.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

from foreigndesk.core.store import RecordExists, Store
from foreigndesk.quality.approvals import Approval, load_approvals

#: Where each decision's segment statistics are kept once computed (a cache of derived, unchanging numbers).
STATS_PREFIX = "quality-stats"

#: Languages written without spaces between words: TER counts their characters.
CJK_LANGUAGES = ("zh", "ja", "ko")


def chrf_metric():
    from sacrebleu.metrics import CHRF

    return CHRF()


def ter_metric(language: str):
    from sacrebleu.metrics import TER

    cjk = language in CJK_LANGUAGES
    return TER(normalized=cjk, asian_support=cjk)


def metrics_for(language: str) -> dict[str, object]:
    """The metrics of one language, by name; ``compare`` runs its bootstrap on the same ones."""
    return {"chrF": chrf_metric(), "TER": ter_metric(language)}


@dataclass(frozen=True)
class ScoreRow:
    """Scores of one group of approvals."""

    language: str
    by: str  # "language", "model", "outlet" or "month"
    group: str
    articles: int
    segments: int
    unchanged: int
    chrf: float | None
    ter: float | None
    memory_segments: int = 0

    @property
    def unchanged_share(self) -> float | None:
        return self.unchanged / self.segments if self.segments else None


@dataclass(frozen=True)
class Evaluation:
    rows: list[ScoreRow]

    def as_json(self) -> dict:
        return {"rows": [asdict(row) | {"unchanged_share": row.unchanged_share} for row in self.rows]}

    def overall(self) -> list[ScoreRow]:
        return [row for row in self.rows if row.by == "language"]


def _signature(metrics: dict[str, object]) -> str:
    """A short hash of sacrebleu's version and each metric's options: new options, new statistics."""
    import sacrebleu

    options = {name: sorted((k, v) for k, v in vars(metric).items() if isinstance(v, (bool, int, float, str)))
               for name, metric in metrics.items()}
    return hashlib.sha256(f"{sacrebleu.__version__}|{options}".encode()).hexdigest()[:12]


def stats_key(signature: str, approval: Approval) -> str:
    d = approval.decision
    return f"{STATS_PREFIX}/{signature}/{d.article_id}/{d.revision}/{d.language}/{d.attempt:03d}.json"


class _SegmentStats:
    """Each segment's sufficient statistics, computed once per decision and kept in the store.

    A corpus score is ``metric._compute_score_from_stats`` of the summed segment
    statistics — exactly what ``corpus_score`` does — so every group (model,
    outlet, month) is a sum over the same per-segment numbers. A decision, its
    draft and its article are written once, so its statistics never change: they
    are stored beside the records (``quality-stats/<metrics signature>/…``,
    create-only) and a later ``evaluate`` or ``status`` only sums them.
    """

    def __init__(self, language: str, approvals: Sequence[Approval], store: Store | None = None) -> None:
        self.metrics = metrics_for(language)
        self.per_approval: dict[int, dict[str, list[list[float]]]] = {}
        signature = _signature(self.metrics)
        missing: list[Approval] = []
        for approval in approvals:
            cached = self._cached(store, stats_key(signature, approval), approval) if store is not None else None
            if cached is None:
                missing.append(approval)
            else:
                self.per_approval[id(approval)] = cached
        segments = [segment for approval in missing for segment in approval.model_segments]
        if segments:
            hypotheses = [segment.machine for segment in segments]
            references = [[segment.approved for segment in segments]]
            computed = {name: metric._extract_corpus_statistics(hypotheses, references)
                        for name, metric in self.metrics.items()}
            position = 0
            for approval in missing:
                count = len(approval.model_segments)
                own = {name: [list(row) for row in rows[position:position + count]] for name, rows in computed.items()}
                position += count
                self.per_approval[id(approval)] = own
                if store is not None:
                    units = [segment.unit for segment in approval.model_segments]
                    store_once(store, stats_key(signature, approval),
                               json.dumps({"units": units, **own}, sort_keys=True).encode())
        for approval in missing:
            self.per_approval.setdefault(id(approval), {name: [] for name in self.metrics})

    def _cached(self, store: Store, key: str, approval: Approval) -> dict[str, list[list[float]]] | None:
        try:
            cached = json.loads(store.read(key))
        except KeyError:
            return None
        if cached.get("units") != [segment.unit for segment in approval.model_segments]:
            return None
        return {name: cached[name] for name in self.metrics}

    def score(self, name: str, approvals: Iterable[Approval]) -> float | None:
        rows = [row for approval in approvals for row in self.per_approval[id(approval)][name]]
        if not rows:
            return None
        totals = [sum(column) for column in zip(*rows)]
        return round(self.metrics[name]._compute_score_from_stats(totals).score, 2)


def store_once(store: Store, key: str, data: bytes) -> None:
    try:
        store.create(key, data)
    except RecordExists:
        pass


def score_group(language: str, by: str, group: str, approvals: Iterable[Approval],
                stats: _SegmentStats | None = None) -> ScoreRow:
    approvals = list(approvals)
    stats = stats or _SegmentStats(language, approvals)
    segments = [segment for approval in approvals for segment in approval.model_segments]
    return ScoreRow(
        language=language, by=by, group=group,
        articles=len({(a.decision.article_id, a.decision.revision) for a in approvals}),
        segments=len(segments), unchanged=sum(segment.unchanged for segment in segments),
        chrf=stats.score("chrF", approvals), ter=stats.score("TER", approvals),
        memory_segments=sum(len(a.segments) - len(a.model_segments) for a in approvals),
    )


_GROUPINGS: tuple[tuple[str, Callable[[Approval], str]], ...] = (
    ("model", lambda a: a.model),
    ("outlet", lambda a: a.outlet),
    ("month", lambda a: a.period),
)


def evaluate_approvals(approvals: Sequence[Approval], languages: Sequence[str] = (),
                       overall_only: bool = False, store: Store | None = None) -> Evaluation:
    """Rows per language (in ``languages`` order, then any other), then per model, outlet and month."""
    by_language: dict[str, list[Approval]] = defaultdict(list)
    for approval in approvals:
        by_language[approval.language].append(approval)
    order = [lang for lang in languages if lang in by_language] + sorted(set(by_language) - set(languages))
    rows: list[ScoreRow] = []
    for language in order:
        group = by_language[language]
        stats = _SegmentStats(language, group, store)
        rows.append(score_group(language, "language", language, group, stats))
        for by, key in () if overall_only else _GROUPINGS:
            parts: dict[str, list[Approval]] = defaultdict(list)
            for approval in group:
                parts[key(approval)].append(approval)
            rows += [score_group(language, by, name, parts[name], stats) for name in sorted(parts)]
    return Evaluation(rows)


def evaluate(store: Store, language: str | None = None, since: date | None = None,
             languages: Sequence[str] = (), overall_only: bool = False) -> Evaluation:
    """Score every approved decision of the store (one language, on or after ``since``)."""
    return evaluate_approvals(load_approvals(store, language, since), languages, overall_only, store)


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _share(row: ScoreRow) -> str:
    share = row.unchanged_share
    return "—" if share is None else f"{share:.0%}"


def format_evaluation(evaluation: Evaluation, overall_only: bool = False) -> str:
    """A table: one line per group; chrF higher is better, TER lower is better."""
    rows = evaluation.overall() if overall_only else evaluation.rows
    if not rows:
        return "model scores: no approved translation yet"
    lines = [f"{'lang':4} {'by':8} {'group':60} {'articles':>8} {'segments':>8} {'chrF':>6} {'TER':>6} {'unchanged':>9}"]
    for row in rows:
        lines.append(f"{row.language:4} {row.by:8} {row.group[:60]:60} {row.articles:8d} {row.segments:8d} "
                     f"{_number(row.chrf):>6} {_number(row.ter):>6} {_share(row):>9}")
    lines.append("chrF: 0-100, higher is better · TER: edits per approved word ×100, lower is better · "
                 "unchanged: segments approved as the machine wrote them")
    return "\n".join(lines)
