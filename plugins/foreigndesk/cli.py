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

from foreigndesk.settings import REPO_ROOT, SettingsError, load_settings


def _print(payload: object, as_json: bool) -> None:
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=1))
    else:
        for key, value in payload.items():  # type: ignore[union-attr]
            print(f"{key}: {value}")


def cmd_run(args: argparse.Namespace) -> int:
    from foreigndesk.launcher import run_desk

    return run_desk(Path(args.desk_dir), args.port, args.host)


def cmd_ingest(args: argparse.Namespace) -> int:
    from foreigndesk.intake import ingest_inbox
    from foreigndesk.store import open_store

    settings = load_settings()
    store = open_store(args.store or settings.store)
    result = ingest_inbox(store, Path(args.inbox) if args.inbox else settings.inbox, settings.outlets)
    _print(result.as_json(), args.json)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from foreigndesk.publishing import publish_feeds
    from foreigndesk.store import open_store

    settings = load_settings()
    result = publish_feeds(open_store(args.store or settings.store), settings)
    _print({"published": result.published, "feeds_written": result.feeds_written}, args.json)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from foreigndesk.status import collect_status, format_status
    from foreigndesk.store import open_store

    settings = load_settings()
    report = collect_status(open_store(args.store or settings.store), datetime.now(timezone.utc), settings.languages)
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=1) if args.json else format_status(report))
    return 0


def cmd_models_ensure(args: argparse.Namespace) -> int:
    from foreigndesk.models import ensure_models

    settings = load_settings()
    result = ensure_models(Path(args.models_dir) if args.models_dir else settings.models_dir, settings.languages)
    for pair in result["installed"]:
        print(f"installed {pair} from {settings.models_dir}")
    for pair in result["demo"]:
        print(f"WARNING: no model for {pair}; installed the DEMO model — its output is not a real translation")
    return 0


def cmd_models_install(args: argparse.Namespace) -> int:
    from foreigndesk.models import install_folder

    for package in install_folder(Path(args.source)):
        print(f"installed {package.from_code}-{package.to_code} {package.version} from {package.path.name}")
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from foreigndesk.demo_models import is_demo_package_dir
    from foreigndesk.models import installed_pairs

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
    from foreigndesk.demo_models import build_demo_packages

    for path in build_demo_packages(Path(args.out)):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foreigndesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the desk: Airflow standalone on this machine (make run)")
    run.add_argument("--desk-dir", default=os.environ.get("FOREIGNDESK_DESK_DIR", str(REPO_ROOT / ".desk")))
    run.add_argument("--port", type=int, default=int(os.environ.get("FOREIGNDESK_PORT", "8080")))
    run.add_argument("--host", default=os.environ.get("FOREIGNDESK_HOST", "127.0.0.1"))
    run.set_defaults(func=cmd_run)

    ingest = commands.add_parser("ingest", help="register new drops from the inbox")
    ingest.add_argument("--inbox", help="folder holding one subfolder per outlet")
    ingest.add_argument("--store", help="store folder (default: FOREIGNDESK_STORE)")
    ingest.add_argument("--json", action="store_true")
    ingest.set_defaults(func=cmd_ingest)

    publish = commands.add_parser("publish", help="publish approved translations to the feeds")
    publish.add_argument("--store")
    publish.add_argument("--json", action="store_true")
    publish.set_defaults(func=cmd_publish)

    status = commands.add_parser("status", help="where every article stands; review figures per language")
    status.add_argument("--store")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    models = commands.add_parser("models", help="translation models").add_subparsers(dest="models", required=True)
    ensure = models.add_parser("ensure", help="install models/ and fill missing pairs with demo models")
    ensure.add_argument("--models-dir")
    ensure.set_defaults(func=cmd_models_ensure)
    install = models.add_parser("install", help="install every .argosmodel in a folder")
    install.add_argument("source")
    install.set_defaults(func=cmd_models_install)
    listing = models.add_parser("list", help="installed models")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_models_list)
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
