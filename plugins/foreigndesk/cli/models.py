"""The translation models: install (checked against SHA256SUMS), list, the demo packages, and how a model
scores against what reviewers approved (``evaluate``) or how a candidate would (``compare``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from foreigndesk.core.settings import SettingsError, load_settings


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


def cmd_models_compare(args: argparse.Namespace) -> int:
    from foreigndesk.core.store import open_store
    from foreigndesk.quality.compare import (
        CompareError,
        compare_package,
        format_comparison,
    )
    from foreigndesk.translate.models import InstallError

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


def add_commands(commands: argparse._SubParsersAction) -> None:
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
