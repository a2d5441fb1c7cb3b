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

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

from foreigndesk.quality.approvals import Approval, Segment, load_approvals
from foreigndesk.store import Store

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


def corpus_scores(language: str, segments: Sequence[Segment]) -> tuple[float | None, float | None]:
    """(chrF, TER) of machine against approved text over ``segments``; (None, None) with no segment."""
    if not segments:
        return None, None
    hypotheses = [segment.machine for segment in segments]
    references = [[segment.approved for segment in segments]]
    return (round(chrf_metric().corpus_score(hypotheses, references).score, 2),
            round(ter_metric(language).corpus_score(hypotheses, references).score, 2))


def score_group(language: str, by: str, group: str, approvals: Iterable[Approval]) -> ScoreRow:
    approvals = list(approvals)
    segments = [segment for approval in approvals for segment in approval.model_segments]
    chrf, ter = corpus_scores(language, segments)
    return ScoreRow(
        language=language, by=by, group=group,
        articles=len({(a.decision.article_id, a.decision.revision) for a in approvals}),
        segments=len(segments), unchanged=sum(segment.unchanged for segment in segments), chrf=chrf, ter=ter,
        memory_segments=sum(len(a.segments) - len(a.model_segments) for a in approvals),
    )


_GROUPINGS: tuple[tuple[str, Callable[[Approval], str]], ...] = (
    ("model", lambda a: a.model),
    ("outlet", lambda a: a.outlet),
    ("month", lambda a: a.period),
)


def evaluate_approvals(approvals: Sequence[Approval], languages: Sequence[str] = ()) -> Evaluation:
    """Rows per language (in ``languages`` order, then any other), then per model, outlet and month."""
    by_language: dict[str, list[Approval]] = defaultdict(list)
    for approval in approvals:
        by_language[approval.language].append(approval)
    order = [lang for lang in languages if lang in by_language] + sorted(set(by_language) - set(languages))
    rows: list[ScoreRow] = []
    for language in order:
        group = by_language[language]
        rows.append(score_group(language, "language", language, group))
        for by, key in _GROUPINGS:
            parts: dict[str, list[Approval]] = defaultdict(list)
            for approval in group:
                parts[key(approval)].append(approval)
            rows += [score_group(language, by, name, parts[name]) for name in sorted(parts)]
    return Evaluation(rows)


def evaluate(store: Store, language: str | None = None, since: date | None = None,
             languages: Sequence[str] = ()) -> Evaluation:
    """Score every approved decision of the store (one language, on or after ``since``)."""
    return evaluate_approvals(load_approvals(store, language, since), languages)


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
