"""What TNTV's Zalo Official Account takes of an article, and what the desk shortens to fit.

Zalo OA articles have hard limits (docs/publishing.md, "Zalo OA"): a title of at
most 150 characters, an author of at most 50 and a description of at most 300.
The desk never lets Zalo refuse or cut an approved text on its own: it shortens
a field that is too long at a word boundary and ends it with an ellipsis, and
the review form says so **before** approval (``review/form.py`` shows
:func:`shortenings`), so the reviewer sees what readers on Zalo will see and
can rewrite it. The Zalo channel (``publish/channels/zalo.py``) sends exactly
:func:`fit`'s text: one function, so the form and the channel cannot disagree.

It lives in core because both the review stage and the publish stage read it,
and stages never import each other.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: Zalo OA article limits, in characters (Unicode code points after NFC, so a Vietnamese letter with its
#: tone mark counts once).
TITLE_LIMIT = 150
AUTHOR_LIMIT = 50
DESCRIPTION_LIMIT = 300
LIMITS = {"title": TITLE_LIMIT, "author": AUTHOR_LIMIT, "description": DESCRIPTION_LIMIT}
ELLIPSIS = "…"
#: A word boundary further back than this share of the limit loses too much: cut inside the word instead
#: (and always for scripts written without spaces, e.g. Chinese).
_BOUNDARY_SHARE = 0.6


def shorten(text: str, limit: int) -> str:
    """``text`` when it fits; else cut at the last word boundary that fits with ``…`` appended.

    The result is never longer than ``limit`` characters. Trailing spaces and
    punctuation before the cut are dropped so it never reads ``word,…``.
    """
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    head = text[:room]
    boundary = head.rfind(" ") if not text[room].isspace() else room
    if boundary >= int(room * _BOUNDARY_SHARE):
        head = head[:boundary]
    return head.rstrip(" ,;:.-–—") + ELLIPSIS


@dataclass(frozen=True)
class Shortening:
    """One field Zalo would not take whole: what the reviewer wrote and what Zalo readers will see."""

    field: str
    limit: int
    length: int
    shown: str


def fit(title: str, author: str, description: str) -> dict[str, str]:
    """The title, author and description exactly as the Zalo channel sends them."""
    return {"title": shorten(title, TITLE_LIMIT), "author": shorten(author, AUTHOR_LIMIT),
            "description": shorten(description, DESCRIPTION_LIMIT)}


def shortenings(title: str, author: str, description: str) -> list[Shortening]:
    """Every field the desk will shorten for Zalo (empty when everything fits): plain data for the form."""
    given = {"title": title, "author": author, "description": description}
    fitted = fit(title, author, description)
    found = []
    for name, value in given.items():
        whole = unicodedata.normalize("NFC", " ".join(value.split()))
        if fitted[name] != whole:
            found.append(Shortening(name, LIMITS[name], len(whole), fitted[name]))
    return found
