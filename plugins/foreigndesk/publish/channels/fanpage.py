"""Channel 4: the Dynamic Thainguyen fanpage — Graph API page posts.

A first revision is ``POST /{page-id}/feed`` with ``message`` (title + summary)
and ``link`` (the article's web page, with the desk's marker ``?fdref=<token>``). The
Graph API has no idempotency key and a 500 can still have posted (docs/publishing.md),
so after an ambiguous failure the runner asks :meth:`FanpageChannel.find`, which reads
``GET /{page-id}/feed?fields=id,message,link,from`` and counts a post only when it is
the page's own (``from.id`` is the page) **and** its link carries the desk's marker for
this article and language. A visitor who shares the same article on the page posts the
same URL, but never as the page: it is never taken for the desk's post.

A later revision **updates the existing post in place** (``POST /{post-id}``
with the new ``message``; the link — the same web page URL — stays): followers
see one post per article and language, corrected, never a second one. An
update is idempotent, and ``find`` for it checks the post's message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests
from foreigndesk.publish.channels import (
    Ambiguous,
    Catalogue,
    PermanentError,
    Publication,
)
from foreigndesk.publish.channels.http import call, json_of
from foreigndesk.publish.channels.render import public_summary

NAME = "fanpage"


@dataclass(frozen=True)
class FanpageConfig:
    """From the ``foreigndesk_fanpage`` connection: host = Graph API base URL with version, password = Page token."""

    base_url: str
    token: str = field(repr=False)
    page_id: str
    timeout: float = 10.0
    pages_to_search: int = 5


#: The query parameter that carries the desk's marker on every link the desk posts.
MARKER_PARAM = "fdref"


def marker(page_id: str, item: Publication) -> str:
    """The desk's token for one (article, language) on one page: the same for every revision."""
    return hashlib.sha256(f"{page_id}\n{item.article_id}\n{item.language}".encode()).hexdigest()[:16]


def marked_link(page_id: str, item: Publication) -> str:
    """The link the desk posts: the article's page with the marker in the query (readers land on the same page)."""
    joiner = "&" if "?" in item.url else "?"
    return f"{item.url}{joiner}{MARKER_PARAM}={marker(page_id, item)}"


def is_desk_post(post: object, page_id: str, item: Publication) -> bool:
    """The page's own post (``from.id``) whose link carries this item's marker."""
    if not isinstance(post, dict) or not post.get("id"):
        return False
    author = post.get("from")
    if not isinstance(author, dict) or str(author.get("id")) != str(page_id):
        return False
    link = post.get("link")
    if not isinstance(link, str):
        return False
    return parse_qs(urlsplit(link).query).get(MARKER_PARAM) == [marker(page_id, item)]


def message(item: Publication) -> str:
    summary = public_summary(item)
    return f"{item.title}\n\n{summary}" if summary else item.title


class FanpageChannel:
    name = NAME
    remote = True

    def __init__(self, config: FanpageConfig, session: requests.Session) -> None:
        self.config = config
        self.session = session
        self.base = config.base_url.rstrip("/")
        self.secrets = (config.token,)

    def _call(self, method: str, url: str, what: str, endpoint: bool = False, **kwargs: object) -> object:
        response = call(self.session, method, url, headers={"Authorization": f"Bearer {self.config.token}"},
                        secrets=self.secrets, timeout=self.config.timeout, what=what, endpoint=endpoint, **kwargs)
        return json_of(response, secrets=self.secrets, what=what)

    def send(self, item: Publication, previous_id: str | None) -> str:
        if previous_id:
            what = f"fanpage update of post {previous_id} ({item.article_id} {item.language})"
            body = self._call("POST", f"{self.base}/{previous_id}", what, data={"message": message(item)})
            if not (isinstance(body, dict) and body.get("success") is True):
                raise Ambiguous(f"{what}: the answer did not say success")
            return previous_id
        what = f"fanpage post of {item.article_id} {item.language}"
        body = self._call("POST", f"{self.base}/{self.config.page_id}/feed", what, endpoint=True,
                          data={"message": message(item), "link": marked_link(self.config.page_id, item)})
        post_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(post_id, str) or not post_id:
            raise Ambiguous(f"{what}: the answer carried no post id")
        return post_id

    def find(self, item: Publication, previous_id: str | None) -> str | None:
        if previous_id:
            what = f"fanpage check of post {previous_id}"
            try:
                body = self._call("GET", f"{self.base}/{previous_id}", what, params={"fields": "id,message,from"})
            except PermanentError as error:
                if error.status in (400, 404):  # Graph API answers 400 "does not exist" for a deleted post
                    return None
                raise
            return previous_id if isinstance(body, dict) and body.get("message") == message(item) else None
        what = f"fanpage search for {item.url}"
        url: str | None = f"{self.base}/{self.config.page_id}/feed"
        params: dict[str, str] | None = {"fields": "id,message,link,from", "limit": "100"}
        for _page in range(self.config.pages_to_search):
            if not url:
                break
            body = self._call("GET", url, what, endpoint=True, params=params)
            if not isinstance(body, dict):
                raise Ambiguous(f"{what}: the answer is not a JSON object")
            for post in body.get("data") or []:
                if is_desk_post(post, self.config.page_id, item):
                    return str(post["id"])
            url, params = (body.get("paging") or {}).get("next"), None
        return None

    def flush(self, catalogue: Catalogue) -> list[str]:
        return []

    # ---- withdrawal (foreigndesk.publish.withdrawals): the post is deleted ----

    def withdraw(self, target, catalogue=None) -> str:
        """``DELETE /{post-id}``; a post already gone (deleted by hand, or by an unclear earlier try) counts."""
        what = f"fanpage delete of post {target.remote_id} ({target.article_id} {target.language})"
        try:
            body = self._call("DELETE", f"{self.base}/{target.remote_id}", what)
        except PermanentError as error:
            if _gone(error) and self.is_withdrawn(target):
                return "the post was already gone"
            raise
        if not (isinstance(body, dict) and body.get("success") is True):
            raise Ambiguous(f"{what}: the answer did not say success")
        return "post deleted"

    def is_withdrawn(self, target) -> bool:
        """Is the post gone? Graph answers 400 ("does not exist") or 404 for a deleted post."""
        what = f"fanpage check of post {target.remote_id}"
        try:
            self._call("GET", f"{self.base}/{target.remote_id}", what, params={"fields": "id"})
        except PermanentError as error:
            if _gone(error):
                return True
            raise
        return False


def _gone(error: PermanentError) -> bool:
    """A 400/404 that says the object does not exist — not a token problem (OAuthException) answered as 400."""
    return error.status in (400, 404) and "OAuthException" not in str(error)
