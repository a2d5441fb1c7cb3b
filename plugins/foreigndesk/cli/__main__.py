"""``python -m foreigndesk.cli``: the same command line as the ``foreigndesk`` script (processes the desk starts use it)."""

import sys

from foreigndesk.cli.commands import main

sys.exit(main())
