"""The one channel interface, and what every channel is handed and may raise.

A channel turns a :class:`Publication` into something a reader sees: a feed
item, a web page, a portal record, a fanpage post. The publish runner
(:mod:`foreigndesk.publish.runner`) owns the exactly-once bookkeeping — ledger claims,
retries, the existence check after an ambiguous failure — so a channel only
has to answer three questions truthfully:

* ``send``  — put this item out (or update the earlier revision's copy) and
  return its remote id, or raise a :class:`ChannelError` that says whether the
  item may already be out;
* ``find``  — is this item already out? (asked before retrying after an
  ambiguous failure, never guessed);
* ``flush`` — rewrite any whole outputs (feeds, pages, indexes) from the
  catalogue of what is published. Channels whose ``send`` reaches the outside
  world (``remote = True``) are durable when ``send`` returns and flush nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Every channel the desk knows, in publishing order (the feed and the web are always on).
CHANNEL_NAMES = ("portal-feed", "portal-push", "web", "fanpage", "zalo")


@dataclass(frozen=True)
class Publication:
    """One approved translation of one article revision, as every channel shows it."""

    article_id: str
    revision: str
    language: str
    title: str
    summary: str
    body: str
    outlet: str
    url: str
    guid: str
    first_published_at: str
    published_at: str
    source_url: str = ""
    image: str = ""
    image_caption: str = ""
    author: str = ""
    demo_model: bool = False
    #: The article's event as published (``channels.events.public_event``); empty: the article has none.
    event: dict[str, Any] = field(default_factory=dict)
    #: A subtitled clip: the clip file's URL and this language's subtitles as WebVTT (``channels.video``).
    video_url: str = ""
    subtitles: str = ""


@dataclass(frozen=True)
class CatalogueItem:
    """What the catalogue knows about a published item without opening its text."""

    article_id: str
    revision: str
    language: str
    title: str
    summary: str
    url: str
    first_published_at: str
    published_at: str


@dataclass
class Catalogue:
    """Everything currently published on one channel (newest revision per article and language).

    ``changed`` are the items sent in this run; ``load`` opens an entry's full
    text only when an output needs it (a feed shows the latest N, a page one article).
    """

    entries: Sequence[CatalogueItem]
    changed: Sequence[Publication]
    load: Callable[[CatalogueItem], Publication]
    _by_language: dict[str, list[CatalogueItem]] = field(default_factory=dict, init=False, repr=False)
    _by_article: dict[str, list[CatalogueItem]] | None = field(default=None, init=False, repr=False)

    def languages(self) -> list[str]:
        return sorted({entry.language for entry in self.entries})

    def newest(self, language: str) -> list[CatalogueItem]:
        """This language's entries, newest first (first publication date, then id: a stable order)."""
        if language not in self._by_language:
            chosen = [entry for entry in self.entries if entry.language == language]
            chosen.sort(key=lambda entry: (entry.first_published_at, entry.article_id), reverse=True)
            self._by_language[language] = chosen
        return self._by_language[language]

    def article(self, article_id: str) -> list[CatalogueItem]:
        if self._by_article is None:
            self._by_article = {}
            for entry in self.entries:
                self._by_article.setdefault(entry.article_id, []).append(entry)
        return self._by_article.get(article_id, [])


class ChannelError(Exception):
    """A send or check failed; the message is safe to log (secrets already removed)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PermanentError(ChannelError):
    """The channel refused this item for good (a 4xx): record it as failed, never retry."""


class NotSent(ChannelError):
    """Nothing reached the channel (connection refused, bad credentials): safe to send again later."""


class ChannelDown(NotSent):
    """The whole channel is unusable (token expired or revoked, 401/403, its endpoint answers 404).

    Nothing was carried out, and nothing about the item is wrong: the runner stops
    calling the channel for the run, leaves its items pending and fails the run with
    the reason (``foreigndesk status`` shows it) — it never marks the items failed.
    """


class RateLimited(NotSent):
    """429: the channel asks us to wait ``retry_after`` seconds before calling it again."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, 429)
        self.retry_after = retry_after


class Ambiguous(ChannelError):
    """The request may have been carried out (5xx, timeout, reset, unreadable answer): look before retrying."""


class Channel(Protocol):
    """The one interface every channel implements (see the module docstring)."""

    name: str
    remote: bool

    def send(self, item: Publication, previous_id: str | None) -> str: ...

    def find(self, item: Publication, previous_id: str | None) -> str | None: ...

    def flush(self, catalogue: Catalogue) -> list[str]: ...


def redact(message: str, secrets: Sequence[str]) -> str:
    """Remove every secret from a message before it can reach a log, an exception or a record."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message
