"""Placeholder formats: how a number hidden from the model is written, and how it may come back garbled.

Kept apart from masking because the Markdown tokenizer needs them too: text in
an article that merely *looks* like a placeholder is kept verbatim, or the model's
output could not be told from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from foreigndesk.core.names import PLACEHOLDER_STYLE_NAMES


@dataclass(frozen=True)
class PlaceholderStyle:
    """One placeholder format: ``open + number + close``, and how it may come back garbled."""

    name: str
    open: str
    close: str
    #: Variants a model may produce that still clearly mean placeholder n (spaces, full-width).
    loose_open: str
    loose_close: str

    def make(self, number: int) -> str:
        return f"{self.open}{number}{self.close}"

    @property
    def strict(self) -> re.Pattern[str]:
        return _compiled(f"{re.escape(self.open)}(\\d{{1,4}}){re.escape(self.close)}")

    @property
    def loose(self) -> re.Pattern[str]:
        return _compiled(f"(?:{self.loose_open})[ \\t]*(\\d{{1,4}})[ \\t]*(?:{self.loose_close})")


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


PLACEHOLDER_STYLES: dict[str, PlaceholderStyle] = {
    style.name: style
    for style in (
        PlaceholderStyle("[]", "[", "]", r"\[|［|【", r"\]|］|】"),
        PlaceholderStyle("{}", "{", "}", r"\{|｛", r"\}|｝"),
        PlaceholderStyle("##", "#", "#", r"#|＃", r"#|＃"),
        PlaceholderStyle("<t>", "<t", ">", r"<\s*t|＜\s*t", r">|＞"),
        PlaceholderStyle("⟦⟧", "⟦", "⟧", r"⟦|〚", r"⟧|〛"),
    )
}
DEFAULT_STYLE = PLACEHOLDER_STYLES["[]"]

assert tuple(PLACEHOLDER_STYLES) == PLACEHOLDER_STYLE_NAMES, "core.names lists the styles the settings accept"
