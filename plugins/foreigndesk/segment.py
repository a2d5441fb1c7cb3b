"""Cut a Markdown article into the pieces a model should see, and put it back together.

The model must only ever see prose: Markdown syntax (heading marks, list
bullets, quote marks) and code stay outside it and are re-attached around the
translation, so the reviewer gets back the article's structure, not a flattened
text. This is the skeleton's block-level splitter; inline constructs are kept
as the model returns them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = re.compile(r"^(\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,3}[.)]\s+))")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclass(frozen=True)
class Block:
    """One Markdown block: ``prefix`` + ``text`` per line; ``verbatim`` blocks are never translated."""

    lines: tuple[tuple[str, str], ...]
    verbatim: bool = False

    @property
    def texts(self) -> list[str]:
        return [] if self.verbatim else [text for _, text in self.lines if text.strip()]


def _block_lines(raw_lines: list[str]) -> tuple[tuple[str, str], ...]:
    """Split each line into (markup prefix, prose). Soft-wrapped paragraph lines are joined."""
    pairs: list[tuple[str, str]] = []
    for line in raw_lines:
        match = _PREFIX.match(line)
        prefix = match.group(1) if match else ""
        text = line[len(prefix) :].strip()
        if pairs and not prefix and not pairs[-1][0].startswith("#"):
            last_prefix, last_text = pairs[-1]
            pairs[-1] = (last_prefix, f"{last_text} {text}".strip())
        else:
            pairs.append((prefix, text))
    return tuple(pairs)


def split_blocks(markdown: str) -> list[Block]:
    """Blocks are separated by blank lines; fenced code is one verbatim block."""
    blocks: list[Block] = []
    current: list[str] = []
    fence: list[str] | None = None
    for line in markdown.splitlines():
        if fence is not None:
            fence.append(line)
            if _FENCE.match(line):
                blocks.append(Block(lines=tuple((text, "") for text in fence), verbatim=True))
                fence = None
            continue
        if _FENCE.match(line):
            if current:
                blocks.append(Block(_block_lines(current)))
                current = []
            fence = [line]
        elif line.strip():
            current.append(line)
        elif current:
            blocks.append(Block(_block_lines(current)))
            current = []
    if fence is not None:
        blocks.append(Block(lines=tuple((text, "") for text in fence), verbatim=True))
    if current:
        blocks.append(Block(_block_lines(current)))
    return blocks


def translatable_texts(blocks: list[Block]) -> list[str]:
    return [text for block in blocks for text in block.texts]


def reassemble(blocks: list[Block], translations: list[str]) -> str:
    """Put translated prose back behind its markup, in order."""
    remaining = iter(translations)
    out: list[str] = []
    for block in blocks:
        if block.verbatim:
            out.append("\n".join(prefix for prefix, _ in block.lines))
            continue
        lines = [prefix + (next(remaining) if text.strip() else text) for prefix, text in block.lines]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"
