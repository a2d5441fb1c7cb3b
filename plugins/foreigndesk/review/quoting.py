"""Article text shown in a review form exactly as written: Markdown that can never become markup or HTML.

Every field that comes from an article (its text, who approved it, a URL, a caption) goes
through here before the form shows it: the article form and the clip's cue table alike.
"""

from __future__ import annotations

import re

_MARKDOWN_INLINE = re.compile(r"([\\`*_~\[\]<>&|])")


def quote(text: str) -> str:
    """Article or machine text as Markdown that displays exactly this text, never markup or HTML."""
    return _MARKDOWN_INLINE.sub(r"\\\1", text)


def quote_line(text: str) -> str:
    """A one-line field of the article (who approved it, a URL, a caption), quoted and kept on its line:
    a line break in it must not start a heading or a list item of its own."""
    return quote(" ".join(str(text).split()))
