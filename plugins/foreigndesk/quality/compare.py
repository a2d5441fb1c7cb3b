"""Try a model before installing it: the installed model and a candidate, scored on the same approvals.

``compare_package`` takes the sources of the last N approved articles, translates
them twice through the translate stage's own pipeline (glossary masking, the
English pivot, QA; no translation memory), once with the installed models and
once with the candidate in place of the installed model of its pair, and scores
both against the approved texts with sacrebleu's paired bootstrap resampling
(``PairedTest(test_type="bs")``, 1,000 resamples, sacrebleu's fixed seed).

Isolation: each pass runs in its own interpreter (:mod:`.compare_worker`),
because argostranslate reads its packages folder at import and the engine keeps
loaded models for the life of a process. The candidate's interpreter gets a
private temporary packages folder holding links to the other installed packages
and the candidate, installed there by argostranslate's own ``install_from_path``.
The operator's packages folder is only read; the worker refuses any network
connection.

Reading the result: for each language and metric, the installed score, the
candidate's, and the difference (candidate − installed) with the 95 % interval
of that difference over the same bootstrap resamples, and sacrebleu's p-value.
chrF: a positive difference is better. TER: a negative difference is better. An
interval that contains 0 means the approvals at hand can't tell the two apart.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from foreigndesk.core.names import SOURCE_LANGUAGE
from foreigndesk.core.store import Store
from foreigndesk.quality.approvals import Approval, Segment, latest_articles, load_approvals, segments_of
from foreigndesk.quality.scores import metrics_for
from foreigndesk.translate.models import PackageFile, installed_pairs, read_package_file

RESAMPLES = 1000
#: sacrebleu's default seed (``SACREBLEU_SEED``); the difference interval uses the same resamples as its test.
SEED = 12345
WORKER_TIMEOUT_SECONDS = 3600


class CompareError(RuntimeError):
    """The comparison can't run; the message says what is missing and what to do."""


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    installed: float
    candidate: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    higher_is_better: bool


@dataclass(frozen=True)
class LanguageComparison:
    language: str
    articles: int
    segments: int
    installed_model: str
    candidate_model: str
    metrics: list[MetricComparison]


@dataclass(frozen=True)
class Comparison:
    package: str
    pair: str
    version: str
    languages: list[LanguageComparison]

    def as_json(self) -> dict:
        return asdict(self)


def affected_languages(package: PackageFile, languages: Sequence[str]) -> list[str]:
    """vi→en feeds every language (English is the pivot); en→X only X."""
    if (package.from_code, package.to_code) == (SOURCE_LANGUAGE, "en"):
        return list(languages)
    if package.from_code == "en" and package.to_code in languages:
        return [package.to_code]
    raise CompareError(f"{package.path.name}: the desk translates {SOURCE_LANGUAGE}→en and en→"
                       f"{{{','.join(l for l in languages if l != 'en')}}}; a {package.from_code}→{package.to_code} "
                       "package is never used")


def _worker(request: dict, env: dict[str, str]) -> dict:
    plugins = str(Path(__file__).resolve().parents[2])
    env = dict(env, ORT_DISABLE_TELEMETRY="1",
               PYTHONPATH=os.pathsep.join(filter(None, [plugins, env.get("PYTHONPATH", "")])))
    done = subprocess.run([sys.executable, "-m", "foreigndesk.quality.compare_worker"], input=json.dumps(request),
                          capture_output=True, text=True, env=env, timeout=WORKER_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise CompareError(f"the translation pass failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
    return json.loads(done.stdout)


def private_packages(folder: Path, package: PackageFile) -> None:
    """Links to every installed package except the candidate's pair (read-only use of the installed folder)."""
    for (from_code, to_code), path in installed_pairs().items():
        if (from_code, to_code) != (package.from_code, package.to_code):
            (folder / Path(path).name).symlink_to(Path(path).resolve(), target_is_directory=True)


def translate_both(sources: list[dict], package: PackageFile, glossary_dir: Path, style: str) -> tuple[dict, dict]:
    """(installed pass, candidate pass) of the worker, each in its own interpreter."""
    request = {"sources": sources, "glossary_dir": str(glossary_dir), "style": style, "install": None}
    installed = _worker(request, dict(os.environ))
    with tempfile.TemporaryDirectory(prefix="foreigndesk-compare-") as scratch:
        packages, data = Path(scratch) / "packages", Path(scratch) / "data"
        packages.mkdir()
        data.mkdir()
        private_packages(packages, package)
        env = dict(os.environ, ARGOS_PACKAGES_DIR=str(packages), XDG_DATA_HOME=str(data), XDG_CACHE_HOME=str(data))
        candidate = _worker(dict(request, install=str(Path(package.path).resolve())), env)
    return installed, candidate


def _paired_segments(approval: Approval, installed: dict, candidate: dict) -> list[tuple[str, str, str]]:
    """(installed, candidate, approved) per segment; the whole text as one when the passes cut it differently."""
    def segments(output: dict) -> list[Segment]:
        machine = dataclasses.replace(approval.decision, machine_title=output["title"],
                                      machine_summary=output["summary"], machine_body=output["body"])
        return list(segments_of(approval.article, machine))

    left, right = segments(installed), segments(candidate)
    if [s.unit for s in left] == [s.unit for s in right]:
        return [(a.machine, b.machine, a.approved) for a, b in zip(left, right)]
    whole = lambda t: "\n".join(part for part in (t["title"], t["summary"], t["body"]) if part.strip())  # noqa: E731
    decision = approval.decision
    return [(whole(installed), whole(candidate), whole(dataclasses.asdict(decision)))]


def paired_bootstrap(language: str, installed: list[str], candidate: list[str], references: list[str],
                     resamples: int = RESAMPLES) -> list[MetricComparison]:
    """sacrebleu's paired bootstrap test per metric, and the interval of the difference on the same resamples."""
    import numpy as np
    from sacrebleu.significance import PairedTest

    metrics = metrics_for(language)
    seed = os.environ.get("SACREBLEU_SEED", str(SEED))
    _, results = PairedTest([("installed", installed), ("candidate", candidate)], metrics, [references],
                            test_type="bs", n_samples=resamples)()
    indices = np.random.default_rng(int(seed) if seed.isdigit() else SEED).choice(
        len(references), size=(resamples, len(references)), replace=True)
    out = []
    for (name, metric), (_, (base, cand)) in zip(metrics.items(), [(k, v) for k, v in results.items() if k != "System"]):
        stats = [np.array(metric._extract_corpus_statistics(h, [references]), dtype="float32")
                 for h in (installed, candidate)]
        differences = np.sort([metric._compute_score_from_stats(stats[1][i].sum(0)).score
                               - metric._compute_score_from_stats(stats[0][i].sum(0)).score for i in indices])
        cut = resamples // 40  # sacrebleu's own 95 % interval (estimate_ci)
        # sacrebleu's test counts resamples whose |difference| exceeds the observed one after centring; with
        # no difference at all (the same output) that count is 0 and it reports its smallest p, 1/(n+1).
        # Two systems that never differ are not significantly different: p = 1.
        p_value = 1.0 if not differences.any() and cand.score == base.score else float(cand.p_value)
        out.append(MetricComparison(
            metric=name, installed=round(base.score, 2), candidate=round(cand.score, 2),
            difference=round(cand.score - base.score, 2), ci_low=round(float(differences[cut]), 2),
            ci_high=round(float(differences[resamples - cut - 1]), 2), p_value=round(p_value, 4),
            higher_is_better=name == "chrF"))
    return out


def compare_package(store: Store, package_path: Path, glossary_dir: Path, style: str, languages: Sequence[str],
                    only: str | None = None, limit: int = 50) -> Comparison:
    package = read_package_file(Path(package_path))
    wanted = affected_languages(package, languages)
    if only:
        if only not in wanted:
            raise CompareError(f"--lang {only}: a {package.from_code}→{package.to_code} package only changes "
                               f"{', '.join(wanted)}")
        wanted = [only]
    approvals = [a for a in load_approvals(store) if a.language in wanted]
    chosen = list(latest_articles(approvals, limit))
    if not chosen:
        raise CompareError(f"no approved {'/'.join(wanted)} translation in {store.url} to compare against; "
                           "approve some reviews first")
    revisions = list(dict.fromkeys((a.decision.article_id, a.decision.revision) for a in chosen))
    articles = {(a.decision.article_id, a.decision.revision): a.article for a in chosen}
    asked = {key: sorted({a.language for a in chosen if (a.decision.article_id, a.decision.revision) == key})
             for key in revisions}
    sources = [{"title": articles[k].title, "summary": articles[k].summary, "body": articles[k].body,
                "languages": asked[k]} for k in revisions]
    installed, candidate = translate_both(sources, package, glossary_dir, style)
    position = {key: i for i, key in enumerate(revisions)}
    report = []
    for language in wanted:
        mine = [a for a in chosen if a.language == language]
        if not mine:
            continue
        triples = []
        for approval in mine:
            i = position[(approval.decision.article_id, approval.decision.revision)]
            triples += _paired_segments(approval, installed["results"][i][language], candidate["results"][i][language])
        first = position[(mine[0].decision.article_id, mine[0].decision.revision)]
        report.append(LanguageComparison(
            language=language, articles=len(mine), segments=len(triples),
            installed_model=" + ".join(installed["results"][first][language]["models"]),
            candidate_model=" + ".join(candidate["results"][first][language]["models"]),
            metrics=paired_bootstrap(language, [t[0] for t in triples], [t[1] for t in triples],
                                     [t[2] for t in triples])))
    return Comparison(package=Path(package_path).name, pair=f"{package.from_code}-{package.to_code}",
                      version=package.version, languages=report)


def _signed(value: float) -> str:
    return f"{value:+.2f}"


def format_comparison(result: Comparison) -> str:
    lines = [f"candidate {result.package} ({result.pair} {result.version}) against the installed models",
             f"{'lang':4} {'metric':6} {'installed':>9} {'candidate':>9} {'difference':>10}  {'95% interval':17} "
             f"{'p':>6}  verdict"]
    for lang in result.languages:
        for m in lang.metrics:
            better = (m.ci_low > 0) if m.higher_is_better else (m.ci_high < 0)
            worse = (m.ci_high < 0) if m.higher_is_better else (m.ci_low > 0)
            verdict = "candidate better" if better else "candidate worse" if worse else "no clear difference"
            lines.append(f"{lang.language:4} {m.metric:6} {m.installed:9.2f} {m.candidate:9.2f} {_signed(m.difference):>10}"
                         f"  [{_signed(m.ci_low)}, {_signed(m.ci_high)}]{'':2} {m.p_value:6.3f}  {verdict}")
        lines.append(f"     {lang.articles} approved articles, {lang.segments} segments · installed: "
                     f"{lang.installed_model} · candidate: {lang.candidate_model}")
    lines.append("chrF: higher is better (difference > 0 favours the candidate) · TER: lower is better "
                 "(difference < 0 favours the candidate) · an interval containing 0: no clear difference")
    return "\n".join(lines)
