"""The ``foreigndesk`` command line, one module per command group (see :mod:`foreigndesk.cli.commands`)."""

from foreigndesk.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
