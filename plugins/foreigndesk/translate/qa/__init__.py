"""Quality checks on machine translations, as a registry of tiny classes (see :mod:`.base`).

Importing this package registers every check; :func:`run_checks` runs them.
"""

from foreigndesk.translate.qa import glossary_checks, subtitle_checks, text_checks
from foreigndesk.translate.qa.base import CHECKS, Check, DocumentResult, Finding, SegmentResult, register, run_checks
from foreigndesk.translate.qa.text_checks import numbers, repeated_runs, structure

__all__ = ["CHECKS", "Check", "DocumentResult", "Finding", "SegmentResult", "glossary_checks", "numbers",
           "register", "repeated_runs", "run_checks", "structure",
           "subtitle_checks", "text_checks"]
