"""Channel 4: the Dynamic Thainguyen fanpage — Graph API page posts.

A first revision is ``POST /{page-id}/feed`` with ``message`` (title + summary)
and ``link`` (the article's web page). The Graph API has no idempotency key and
a 500 can still have posted (docs/publishing.md), so after an ambiguous failure the
runner asks :meth:`FanpageChannel.find`, which reads
``GET /{page-id}/feed?fields=id,message,link`` and matches on the link.

A later revision **updates the existing post in place** (``POST /{post-id}``
with the new ``message``; the link — the same web page URL — stays): followers
see one post per article and language, corrected, never a second one. An
update is idempotent, and ``find`` for it checks the post's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from foreigndesk.publish.channels import Ambiguous, Catalogue, PermanentError, Publication
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

    def _call(self, method: str, url: str, what: str, **kwargs: object) -> object:
        response = call(self.session, method, url, headers={"Authorization": f"Bearer {self.config.token}"},
                        secrets=self.secrets, timeout=self.config.timeout, what=what, **kwargs)
        return json_of(response, secrets=self.secrets, what=what)

    def send(self, item: Publication, previous_id: str | None) -> str:
        if previous_id:
            what = f"fanpage update of post {previous_id} ({item.article_id} {item.language})"
            body = self._call("POST", f"{self.base}/{previous_id}", what, data={"message": message(item)})
            if not (isinstance(body, dict) and body.get("success") is True):
                raise Ambiguous(f"{what}: the answer did not say success")
            return previous_id
        what = f"fanpage post of {item.article_id} {item.language}"
        body = self._call("POST", f"{self.base}/{self.config.page_id}/feed", what,
                          data={"message": message(item), "link": item.url})
        post_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(post_id, str) or not post_id:
            raise Ambiguous(f"{what}: the answer carried no post id")
        return post_id

    def find(self, item: Publication, previous_id: str | None) -> str | None:
        if previous_id:
            what = f"fanpage check of post {previous_id}"
            try:
                body = self._call("GET", f"{self.base}/{previous_id}", what, params={"fields": "id,message"})
            except PermanentError as error:
                if error.status in (400, 404):  # Graph API answers 400 "does not exist" for a deleted post
                    return None
                raise
            return previous_id if isinstance(body, dict) and body.get("message") == message(item) else None
        what = f"fanpage search for {item.url}"
        url: str | None = f"{self.base}/{self.config.page_id}/feed"
        params: dict[str, str] | None = {"fields": "id,message,link", "limit": "100"}
        for _page in range(self.config.pages_to_search):
            if not url:
                break
            body = self._call("GET", url, what, params=params)
            if not isinstance(body, dict):
                raise Ambiguous(f"{what}: the answer is not a JSON object")
            for post in body.get("data") or []:
                if isinstance(post, dict) and post.get("link") == item.url and post.get("id"):
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
