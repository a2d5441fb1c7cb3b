"""``foreigndesk`` — the desk's command line: the same stage code the DAGs run.

Commands that touch the engine import it lazily, so ``--help`` and the
intake/publish commands stay fast and never load a model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from foreigndesk.core.settings import REPO_ROOT, SettingsError, load_settings
from foreigndesk.publish.channels import CHANNEL_NAMES


def cmd_run(args: argparse.Namespace) -> int:
    from foreigndesk.launcher import run_desk

    return run_desk(Path(args.desk_dir), args.port, args.host)


def cmd_run_cluster(args: argparse.Namespace) -> int:
    from foreigndesk.cluster import run_cluster

    return run_cluster(Path(args.desk_dir), args.port, args.host, workers=args.workers,
                       concurrency=args.concurrency, postgres_port=args.postgres_port, redis_port=args.redis_port)


def cmd_seed_reviewers(args: argparse.Namespace) -> int:
    import tempfile

    from foreigndesk.launcher import seed_reviewers

    with tempfile.TemporaryDirectory(prefix="foreigndesk-seed-") as folder:
        seed_reviewers(dict(os.environ), Path(folder))
    print("Airflow Variable foreigndesk_reviewers is set (an existing value was kept)")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Exit 0 when the run worked (quarantines included); 1 when a source or the store failed."""
    from foreigndesk.core.store import StoreError, s3_client
    from foreigndesk.intake.ingest import run_intake

    settings = load_settings()
    inbox = Path(args.inbox) if args.inbox else None
    if inbox is not None and not inbox.is_dir():
        raise SettingsError(f"--inbox {inbox} is not a folder; give the folder that holds one folder per outlet")
    try:
        result = run_intake(settings, s3_client, store_url=args.store, inbox=inbox)
    except (StoreError, OSError) as error:
        print(f"foreigndesk ingest: the run failed, nothing was lost; fix this and run again: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    else:
        for item in result.accepted:
            flagged = f"  [flagged: {len(item.flags)}]" if item.flags else ""
            print(f"accepted    {item.article_id} ({item.revision}){flagged}")
        for article_id, revision in result.unchanged:
            print(f"unchanged   {article_id} ({revision})")
        for item in result.quarantined:
            print(f"quarantined {item['file']}: {item['reason']}")
    for location in result.waiting:
        print(f"foreigndesk ingest: {location} is still being copied in; left for the next run", file=sys.stderr)
    for error in result.errors:
        print(f"foreigndesk ingest: source failed: {error}", file=sys.stderr)
    return 1 if result.errors else 0


REMOTE_CONNECTION_VARIABLES = ("AIRFLOW_CONN_FOREIGNDESK_FANPAGE", "AIRFLOW_CONN_FOREIGNDESK_PORTAL_PUSH")


def _remote_configs():  # type: ignore[no-untyped-def]
    """The fanpage and push configs from the same Connections the DAG uses (None when not set)."""
    if not any(os.environ.get(name) for name in REMOTE_CONNECTION_VARIABLES):
        return None, None
    # Parsed by Airflow's own code, imported only when needed.
    from foreigndesk.airflow_side.connections import env_connection, remote_channel_configs

    return remote_channel_configs(env_connection)


def cmd_publish(args: argparse.Namespace) -> int:
    from foreigndesk.core.store import open_store
    from foreigndesk.publish.run import run_publish

    settings = load_settings()
    try:
        fanpage, push = _remote_configs()
    except ValueError as error:
        print(f"foreigndesk: connection error: {error}", file=sys.stderr)
        return 2
    try:
        result = run_publish(open_store(args.store or settings.store), settings, fanpage=fanpage, push=push,
                             only=args.channel, dry_run=args.dry_run, lease_wait=args.wait, retry=args.retry,
                             retry_by=f"{_operator()} (foreigndesk publish --retry)")
    except ValueError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 2
    if result.lease_held:
        print(f"foreigndesk publish: {result.lease_held}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: nothing was done; try again later
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    else:
        _print_publish(result)
    return 1 if result.errors else 0


def _operator() -> str:
    """Who ran an operator command (recorded in requeue and withdrawal records): FOREIGNDESK_USER, else the login."""
    import getpass

    try:
        return os.environ.get("FOREIGNDESK_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def _print_publish(result) -> None:  # type: ignore[no-untyped-def]
    verb = "would publish" if result.dry_run else "published"
    for unit in result.requeued:
        print(f"requeued  {unit}")
    for item in result.due:
        print(f"due       {item['channel']:12} {item['article_id']} {item['language']} ({item['state']})")
    for item in result.published:
        print(f"{verb:9} {item['channel']:12} {item['article_id']} {item['language']} -> {item['remote_id']}")
    for item in result.failed:
        print(f"failed    {item['channel']:12} {item['article_id']} {item['language']}: {item['reason']}")
    for item in result.waiting:
        print(f"waiting   {item['channel']:12} {item['article_id']} {item['language']}: {item['reason']}"
              + (f" (until {item['until']})" if item.get("until") else ""))
    for channel, reason in result.paused.items():
        print(f"PAUSED    {channel:12} {reason} (its items stay pending; fix the cause, the next run resumes)",
              file=sys.stderr)
    for error in result.errors:
        if not any(error.startswith(f"{channel} paused:") for channel in result.paused):
            print(f"error     {error}", file=sys.stderr)
    if not (result.due or result.published or result.failed or result.waiting or result.errors):
        print("nothing due")


def cmd_withdraw(args: argparse.Namespace) -> int:
    """Exit 0 when every channel no longer shows the article; 1 when something is pending or failed."""
    import requests
    from foreigndesk.core.store import open_store
    from foreigndesk.publish.run import desk_channels
    from foreigndesk.publish.withdrawals import withdraw

    settings = load_settings()
    try:
        fanpage, push = _remote_configs()
    except ValueError as error:
        print(f"foreigndesk: connection error: {error}", file=sys.stderr)
        return 2
    store = open_store(args.store or settings.store)
    who = args.by or _operator()
    with requests.Session() as session:
        channels = desk_channels(store, settings, session, fanpage=fanpage, push=push)
        try:
            result = withdraw(store, settings.site_url, channels, args.article, who=who, reason=args.reason,
                              languages=args.lang or ())
        except ValueError as error:
            print(f"foreigndesk: {error}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    else:
        for request in result.requests:
            print(f"withdrawn {args.article} {request['language']}: by {request['who']} at {request['requested_at']}"
                  f" — {request['reason']}")
        for row in result.done:
            print(f"done      {row['channel']:12} {row['language']}" + (f" ({row['note']})" if row.get("note") else ""))
        for row in result.pending:
            print(f"pending   {row['channel']:12} {row['language']}: {row['reason']}")
        for row in result.failed:
            print(f"failed    {row['channel']:12} {row['language']}: {row['reason']}")
    if not result.complete:
        print("foreigndesk withdraw: not finished everywhere; fix what is named and run the same command again",
              file=sys.stderr)
    return 0 if result.complete else 1


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from foreigndesk.core.store import open_store
    from foreigndesk.quality.scores import evaluate, format_evaluation
    from foreigndesk.status import collect_status, format_status, open_requests

    settings = load_settings()
    store = open_store(args.store or settings.store)
    task_states = None
    if not args.no_airflow:
        try:
            from foreigndesk.airflow_side.review_tasks import review_task_states

            task_states = review_task_states(open_requests(store))
        except Exception as error:  # no Airflow DB here: say so rather than guess
            print(f"foreigndesk status: Airflow's database could not be read ({type(error).__name__}); "
                  "open reviews are shown as the store records them", file=sys.stderr)
    report = collect_status(store, datetime.now(timezone.utc), settings.languages, task_states)
    scores = evaluate(store, languages=settings.languages, overall_only=True)
    if args.json:
        print(json.dumps(report.as_json() | {"model_scores": scores.as_json()["rows"]}, ensure_ascii=False, indent=1))
    else:
        print(format_status(report) + "\n\n" + format_evaluation(scores, overall_only=True))
    return 0


def _since(value: str | None):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"--since {value!r} is not a date; write YYYY-MM-DD") from None


def cmd_models_evaluate(args: argparse.Namespace) -> int:
    from foreigndesk.core.store import open_store
    from foreigndesk.quality.scores import evaluate, format_evaluation

    settings = load_settings()
    result = evaluate(open_store(args.store or settings.store), args.lang, _since(args.since), settings.languages)
    print(json.dumps(result.as_json(), ensure_ascii=False, indent=1) if args.json else format_evaluation(result))
    return 0


def cmd_memory_rebuild(args: argparse.Namespace) -> int:
    """Feed every recorded decision to the translation memory, e.g. after restoring a store from backup."""
    from foreigndesk.core.store import open_store
    from foreigndesk.translate.memory import rebuild_memory

    written = rebuild_memory(open_store(args.store or load_settings().store))
    print(f"translation memory: {written} new unit(s) remembered from the recorded approvals")
    return 0


def cmd_models_ensure(args: argparse.Namespace) -> int:
    from foreigndesk.translate.models import InstallError, ensure_models

    settings = load_settings()
    try:
        result = ensure_models(Path(args.models_dir) if args.models_dir else settings.models_dir, settings.languages)
    except InstallError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    for pair in result["installed"]:
        print(f"installed {pair} from {settings.models_dir}")
    for pair in result["demo"]:
        print(f"WARNING: no model for {pair}; installed the DEMO model — its output is not a real translation")
    return 0


def cmd_models_install(args: argparse.Namespace) -> int:
    from foreigndesk.core.store import s3_client
    from foreigndesk.translate.models import InstallError, install_source

    # Credentials and endpoint from the standard AWS settings (AWS_*, AWS_ENDPOINT_URL_S3), built the
    # one way the desk builds S3 clients (path-style addressing for a self-hosted endpoint).
    client = s3_client() if args.source.startswith("s3://") else None
    try:
        packages = install_source(args.source, s3_client=client)
    except InstallError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    for package in packages:
        print(f"installed {package.from_code}-{package.to_code} {package.version} from {package.path.name} (sha256 checked)")
    return 0


def _read_article_file(path: Path) -> tuple[str, str, str]:
    """(title, summary, body) of a Markdown file, with or without YAML front matter."""
    import unicodedata

    import yaml

    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8").lstrip("\ufeff"))
    if text.startswith("---"):
        head, sep, body = text[3:].partition("\n---")
        if sep:
            front = yaml.safe_load(head) or {}
            if isinstance(front, dict):
                return str(front.get("title") or ""), str(front.get("summary") or ""), body.partition("\n")[2].strip() + "\n"
    return "", "", text


def cmd_translate(args: argparse.Namespace) -> int:
    from foreigndesk.core.store import StoreError, open_store
    from foreigndesk.translate.engine import ArgosEngine, MissingModel
    from foreigndesk.translate.glossary import GlossaryError, load_glossary
    from foreigndesk.translate.memory import TranslationMemory
    from foreigndesk.translate.pipeline import SourceText, translate_texts
    from foreigndesk.translate.placeholder_styles import PLACEHOLDER_STYLES

    settings = load_settings()
    languages = tuple(lang.strip() for lang in args.lang.split(",") if lang.strip())
    unknown = [lang for lang in languages if lang not in settings.languages]
    if unknown or not languages:
        print(f"foreigndesk: --lang {args.lang!r}: use some of {','.join(settings.languages)}", file=sys.stderr)
        return 2
    try:
        title, summary, body = _read_article_file(Path(args.file))
        glossary = load_glossary(settings.glossary_dir)
        memory = TranslationMemory(open_store(args.store or settings.store))
        result = translate_texts([SourceText(title, summary, body, languages)], ArgosEngine.from_settings(settings),
                                 glossary, memory, PLACEHOLDER_STYLES[settings.placeholder_style])[0]
    except (OSError, UnicodeDecodeError, GlossaryError, MissingModel, StoreError) as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    payload = {
        lang: {"title": t.title, "summary": t.summary, "markdown": t.body, "findings": t.findings,
               "models": [model.name for model in t.models], "memory_hits": t.memory_hits}
        for lang, t in result.items()
    }
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        return 0
    for lang, item in payload.items():
        print(f"===== {lang} ({' + '.join(item['models']) or 'translation memory'})")
        if item["title"]:
            print(f"# {item['title']}\n")
        print(item["markdown"])
        for finding in item["findings"]:
            print(f"  [{finding['severity']}] {finding['check']} {finding['segment']}: {finding['message']}")
    return 0


def cmd_glossary_check(args: argparse.Namespace) -> int:
    from foreigndesk.translate.glossary import check_glossary

    folder = Path(args.dir) if args.dir else load_settings().glossary_dir
    entries, problems = check_glossary(folder)
    for problem in problems:
        where = problem.where if problem.where == str(folder) else str(folder / problem.where)
        print(f"{where}: {problem.kind}: {problem.message}")
    if problems:
        print(f"{len(problems)} problem(s) in {folder}; fix them, then run this again", file=sys.stderr)
        return 1
    print(f"glossary OK: {len(entries)} concepts in {folder}")
    return 0


def _suggestion_context(args: argparse.Namespace):
    from foreigndesk.translate.glossary import load_glossary
    from foreigndesk.core.store import open_store

    settings = load_settings()
    folder = Path(args.dir) if getattr(args, "dir", None) else settings.glossary_dir
    return open_store(args.store or settings.store), folder, load_glossary(folder)


def cmd_glossary_suggest(args: argparse.Namespace) -> int:
    from foreigndesk.quality.suggestions import format_suggestions, suggest

    store, _, glossary = _suggestion_context(args)
    found = suggest(store, glossary, args.min_count, args.lang)
    print(json.dumps([s.as_json() for s in found], ensure_ascii=False, indent=1) if args.json
          else format_suggestions(found))
    return 0


def cmd_glossary_accept(args: argparse.Namespace) -> int:
    from foreigndesk.quality.suggestions import SuggestionError, accept

    store, folder, glossary = _suggestion_context(args)
    try:
        mark = accept(store, folder, glossary, args.id, args.vi or "",
                      {"en": args.en, "zh": args.zh, "ko": args.ko}, args.min_count)
    except SuggestionError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    row = mark.row
    print(f"accepted {mark.suggestion_id}: {row['vi']} → en {row['en']} · zh {row['zh']} · ko {row['ko']} "
          f"(written to {folder / 'from-approvals.csv'}; glossary check passes)")
    return 0


def cmd_glossary_dismiss(args: argparse.Namespace) -> int:
    from foreigndesk.quality.suggestions import SuggestionError, dismiss

    store, _, glossary = _suggestion_context(args)
    try:
        mark = dismiss(store, glossary, args.id, args.min_count)
    except SuggestionError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    print(f"dismissed {mark.suggestion_id}: '{mark.machine}' → '{mark.approved}' will not be suggested again")
    return 0


def cmd_models_compare(args: argparse.Namespace) -> int:
    from foreigndesk.translate.models import InstallError
    from foreigndesk.quality.compare import CompareError, compare_package, format_comparison
    from foreigndesk.core.store import open_store

    settings = load_settings()
    try:
        result = compare_package(open_store(args.store or settings.store), Path(args.package), settings.glossary_dir,
                                 settings.placeholder_style, settings.languages, args.lang, args.limit)
    except (CompareError, InstallError) as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result.as_json(), ensure_ascii=False, indent=1) if args.json else format_comparison(result))
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from foreigndesk.translate.demo_models import is_demo_package_dir
    from foreigndesk.translate.models import installed_pairs

    rows = [
        {"pair": f"{a}-{b}", "path": str(path), "demo": is_demo_package_dir(path)}
        for (a, b), path in sorted(installed_pairs().items())
    ]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            print(f"{row['pair']:8} {'DEMO ' if row['demo'] else ''}{row['path']}")
    return 0


def cmd_models_build_demo(args: argparse.Namespace) -> int:
    from foreigndesk.translate.demo_models import build_demo_packages

    for path in build_demo_packages(Path(args.out)):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foreigndesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    from foreigndesk.accounts_cli import add_parser as add_accounts_parser

    add_accounts_parser(commands)

    run = commands.add_parser("run", help="run the desk: Airflow standalone on this machine (make run)")
    run.add_argument("--desk-dir", default=os.environ.get("FOREIGNDESK_DESK_DIR", str(REPO_ROOT / ".desk")))
    run.add_argument("--port", type=int, default=int(os.environ.get("FOREIGNDESK_PORT", "8080")))
    run.add_argument("--host", default=os.environ.get("FOREIGNDESK_HOST", "127.0.0.1"))
    run.set_defaults(func=cmd_run)

    cluster = commands.add_parser(
        "run-cluster", help="run the production topology here: PostgreSQL, Redis, Celery workers (make run-cluster)")
    cluster.add_argument("--desk-dir",
                         default=os.environ.get("FOREIGNDESK_CLUSTER_DIR", str(REPO_ROOT / ".desk" / "cluster")))
    cluster.add_argument("--port", type=int, default=int(os.environ.get("FOREIGNDESK_PORT", "8080")))
    cluster.add_argument("--host", default=os.environ.get("FOREIGNDESK_HOST", "127.0.0.1"))
    cluster.add_argument("--workers", type=int, default=int(os.environ.get("FOREIGNDESK_WORKERS", "2")),
                         help="Celery workers, each its own process (default 2)")
    cluster.add_argument("--concurrency", type=int,
                         default=int(os.environ.get("FOREIGNDESK_WORKER_CONCURRENCY", "2")),
                         help="task slots per worker (default 2)")
    cluster.add_argument("--postgres-port", type=int, default=int(os.environ.get("FOREIGNDESK_POSTGRES_PORT", "0")),
                         help="0: a free port at every start")
    cluster.add_argument("--redis-port", type=int, default=int(os.environ.get("FOREIGNDESK_REDIS_PORT", "0")),
                         help="0: a free port at every start")
    cluster.set_defaults(func=cmd_run_cluster)

    seed = commands.add_parser(
        "seed-reviewers",
        help="create the Airflow Variable foreigndesk_reviewers with the default reviewers, unless it exists",
    )
    seed.set_defaults(func=cmd_seed_reviewers)

    ingest = commands.add_parser(
        "ingest", help="register new articles from the drop folders, S3 inboxes and outlet feeds"
    )
    ingest.add_argument("--inbox", help="folder holding one subfolder per outlet (default: FOREIGNDESK_INBOX)")
    ingest.add_argument("--store", help="store: a folder or s3://BUCKET/PREFIX (default: FOREIGNDESK_STORE)")
    ingest.add_argument("--json", action="store_true",
                        help='print {"accepted": [ids], "unchanged": [ids], "quarantined": [{"file", "reason"}]}')
    ingest.set_defaults(func=cmd_ingest)

    publish = commands.add_parser(
        "publish", help="publish approved translations to every channel, each exactly once (what the DAG runs)")
    publish.add_argument("--store", help="store folder (default: FOREIGNDESK_STORE)")
    publish.add_argument("--channel", choices=CHANNEL_NAMES, help="only this channel")
    publish.add_argument("--dry-run", action="store_true", help="show what is due; claim, send and write nothing")
    publish.add_argument("--retry", choices=("FAILED", "STUCK"), type=str.upper,
                         help="after fixing the cause: requeue the units that failed (a refused item) or need the "
                              "operator (no outcome after the attempt limit), then publish; exactly once still holds")
    publish.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                         help="wait up to SECONDS for another publish run to finish (default: give up at once)")
    publish.add_argument("--json", action="store_true")
    publish.set_defaults(func=cmd_publish)

    withdraw = commands.add_parser(
        "withdraw", help="take an article off every channel (feeds, web page → notice, fanpage post deleted, "
                         "portal told), exactly once, recorded with who, when and why")
    withdraw.add_argument("article", help="the article id")
    withdraw.add_argument("--lang", action="append", help="only this language (repeatable; default: all)")
    withdraw.add_argument("--reason", required=True, help="why: kept in the audit record, never published")
    withdraw.add_argument("--by", help="who asks (default: FOREIGNDESK_USER, else the login name)")
    withdraw.add_argument("--store", help="store: a folder or s3://BUCKET/PREFIX (default: FOREIGNDESK_STORE)")
    withdraw.add_argument("--json", action="store_true")
    withdraw.set_defaults(func=cmd_withdraw)

    translate = commands.add_parser("translate", help="translate one Markdown article with the installed models")
    translate.add_argument("--file", required=True, help="the article (Markdown, front matter optional)")
    translate.add_argument("--lang", default="en,zh,ko", help="target languages, e.g. en,zh,ko")
    translate.add_argument("--store", help="store holding the translation memory (default: FOREIGNDESK_STORE)")
    translate.add_argument("--json", action="store_true")
    translate.set_defaults(func=cmd_translate)

    glossary = commands.add_parser("glossary", help="the provincial glossary").add_subparsers(dest="glossary", required=True)
    glossary_check = glossary.add_parser("check", help="report duplicates, conflicts, empty targets and malformed rows")
    glossary_check.add_argument("--dir", help="glossary folder (default: FOREIGNDESK_GLOSSARY_DIR or glossary/)")
    glossary_check.set_defaults(func=cmd_glossary_check)
    suggest = glossary.add_parser("suggest", help="recurring reviewer corrections that could become glossary rows")
    accept = glossary.add_parser("accept", help="write a suggestion as a row of glossary/from-approvals.csv")
    dismiss = glossary.add_parser("dismiss", help="never suggest this again")
    for sub in (suggest, accept, dismiss):
        sub.add_argument("--min-count", type=int, default=3, help="distinct articles an edit must recur in (default 3)")
        sub.add_argument("--store", help="store (default: FOREIGNDESK_STORE)")
        sub.add_argument("--dir", help="glossary folder (default: FOREIGNDESK_GLOSSARY_DIR or glossary/)")
    suggest.add_argument("--lang", help="only this language")
    suggest.add_argument("--json", action="store_true")
    suggest.set_defaults(func=cmd_glossary_suggest)
    for sub in (accept, dismiss):
        sub.add_argument("id", help="the suggestion's ID, as `glossary suggest` prints it")
    accept.add_argument("--vi", help="the Vietnamese term (default: the one the suggestion names)")
    for lang in ("en", "zh", "ko"):
        accept.add_argument(f"--{lang}", help=f"the {lang} term, when no {lang} suggestion gives it")
    accept.set_defaults(func=cmd_glossary_accept)
    dismiss.set_defaults(func=cmd_glossary_dismiss)

    status = commands.add_parser("status", help="where every article stands; review figures per language")
    status.add_argument("--store")
    status.add_argument("--json", action="store_true")
    status.add_argument("--no-airflow", action="store_true",
                        help="do not ask Airflow whether review tasks still wait (the store alone)")
    status.set_defaults(func=cmd_status)

    memory = commands.add_parser("memory", help="the translation memory").add_subparsers(dest="memory", required=True)
    rebuild = memory.add_parser("rebuild", help="feed every recorded approval to the memory (idempotent)")
    rebuild.add_argument("--store", help="store folder or s3:// URL (default: FOREIGNDESK_STORE)")
    rebuild.set_defaults(func=cmd_memory_rebuild)
    models = commands.add_parser("models", help="translation models").add_subparsers(dest="models", required=True)
    ensure = models.add_parser("ensure", help="install models/ and fill missing pairs with demo models")
    ensure.add_argument("--models-dir")
    ensure.set_defaults(func=cmd_models_ensure)
    install = models.add_parser("install", help="install the .argosmodel files of SOURCE, checked against its SHA256SUMS")
    install.add_argument("source", help="a folder, s3://bucket/prefix or an https URL (file or folder/)")
    install.set_defaults(func=cmd_models_install)
    listing = models.add_parser("list", help="installed models")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_models_list)
    evaluate = models.add_parser("evaluate", help="chrF, TER and unchanged share of the machine drafts against "
                                 "the approved texts, per language, model, outlet and month")
    evaluate.add_argument("--lang", help="only this language, e.g. en")
    evaluate.add_argument("--since", help="only decisions on or after this date (YYYY-MM-DD)")
    evaluate.add_argument("--store", help="store (default: FOREIGNDESK_STORE)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=cmd_models_evaluate)
    compare = models.add_parser("compare", help="score a candidate .argosmodel against the installed model on the "
                                "last approved articles, without installing it")
    compare.add_argument("package", help="the candidate PACKAGE.argosmodel")
    compare.add_argument("--lang", help="only this language")
    compare.add_argument("--limit", type=int, default=50, help="the last N approved articles (default 50)")
    compare.add_argument("--store", help="store (default: FOREIGNDESK_STORE)")
    compare.add_argument("--json", action="store_true")
    compare.set_defaults(func=cmd_models_compare)
    demo = models.add_parser("build-demo", help="build the tiny demo packages into a folder")
    demo.add_argument("out")
    demo.set_defaults(func=cmd_models_build_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as error:
        print(f"foreigndesk: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
