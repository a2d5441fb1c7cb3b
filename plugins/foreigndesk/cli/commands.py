"""``foreigndesk`` — the desk's command line: the same stage code the DAGs run.

Commands that touch the engine import it lazily, so ``--help`` and the
intake/publish commands stay fast and never load a model.
"""

from __future__ import annotations

import argparse
import os
import sys

from foreigndesk.cli import accounts, desk, models, publishing, translation
from foreigndesk.core.settings import SettingsError

#: The command groups, in the order ``--help`` lists them.
GROUPS = (desk, publishing, translation, models, accounts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foreigndesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(commands)
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
