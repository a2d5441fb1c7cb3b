"""Channel 5: TNTV's Zalo Official Account — OA articles (Zalo OA Open API v2.0).

A first revision is created in two steps (docs/publishing.md, "Zalo OA"):
``POST {base}/article/create`` with the article answers a **token**, and
``POST {base}/article/verify`` with that token answers the article **id** once
Zalo has processed it. The runner's claim comes before the create; the token is
written to the ledger the moment it arrives (:mod:`foreigndesk.publish.receipts`);
the id becomes the proof. Anything that goes wrong after the create — verify
not ready, a timeout, a garbled answer, the token expiring — is *ambiguous*,
never "not sent": the article exists.

Before any retry the runner asks :meth:`ZaloChannel.find`: with a recorded
token it asks ``verify`` again; without one (the create itself got a 5xx or
no answer) it lists the OA's articles, ``GET {base}/article/getslice`` ten at a
time (Zalo's maximum), and counts one only when its title is this item's and
its body carries the desk's marker link (``?fdref=…``, as on the fanpage),
confirmed with ``GET {base}/article/getdetail``.

A later revision updates the article in place (``POST {base}/article/update``
with its id); a withdrawal removes it (``POST {base}/article/remove``). Zalo
answers its errors in the body (``{"error": -216, ...}``, mostly with HTTP 200):
an expired or invalid OA token pauses the channel (:func:`policies.zalo_channel_wide_reason`);
other codes on create or update are the article's (a permanent failure).

Title, author and description are shortened to Zalo's limits by
:func:`foreigndesk.core.zalo_limits.fit`, the same function the review form
uses to tell the reviewer before approval.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from foreigndesk.core.zalo_limits import fit
from foreigndesk.publish.channels import (
    Ambiguous,
    Catalogue,
    ChannelDown,
    ChannelError,
    PermanentError,
    Publication,
    RateLimited,
    redact,
)
from foreigndesk.publish.channels.fanpage import MARKER_PARAM, marked_link, marker
from foreigndesk.publish.channels.http import DEFAULT_RETRY_AFTER, call, json_of
from foreigndesk.publish.channels.render import public_summary, render_markdown, safe_url, text
from foreigndesk.publish.policies import ZALO_RATE_LIMIT_CODES, zalo_channel_wide_reason

NAME = "zalo"
#: The kind of receipt a create leaves in the ledger: Zalo's processing token.
TOKEN_RECEIPT = "zalo-article-token"
#: Zalo answers at most ten articles per ``getslice`` call (a larger limit is refused).
PAGE_SIZE = 10
#: Stands in for the page id in the fanpage's marker: the OA lists only its own articles.
MARKER_SCOPE = "zalo-oa"


@dataclass(frozen=True)
class ZaloConfig:
    """From the ``foreigndesk_zalo`` connection: host = OA API base URL (``…/v2.0``), password = OA access token."""

    base_url: str
    token: str = field(repr=False)
    #: Cover for an article without an image (Zalo requires one for a normal article); extra ``default_cover``.
    default_cover: str = ""
    timeout: float = 10.0
    #: Pages of ten articles the existence check reads (the newest 100 by default).
    pages_to_search: int = 10
    #: Verify calls one send makes while Zalo processes a new article, and the wait between them.
    verify_tries: int = 3
    verify_wait: float = 2.0


def _code(body: dict) -> int | None:
    code = body.get("error")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


class ZaloChannel:
    name = NAME
    remote = True
    #: The runner hands ``send`` and ``find`` the unit's receipts (the create token, see module docstring).
    keeps_receipts = True

    def __init__(self, config: ZaloConfig, session: requests.Session,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.session = session
        self.base = config.base_url.rstrip("/")
        self.secrets = (config.token,)
        self.sleep = sleep

    # ---- one call: HTTP faults sorted by http.call, then Zalo's own error field

    def _call(self, method: str, path: str, what: str, endpoint: bool = False, **kwargs: object) -> dict:
        response = call(self.session, method, f"{self.base}/{path}", headers={"access_token": self.config.token},
                        secrets=self.secrets, timeout=self.config.timeout, what=what, endpoint=endpoint, **kwargs)
        body = json_of(response, secrets=self.secrets, what=what)
        if not isinstance(body, dict) or _code(body) is None:
            raise Ambiguous(redact(f"{what}: the answer is not a Zalo answer (no error code): {str(body)[:200]}",
                                   self.secrets))
        wide = zalo_channel_wide_reason(body)
        if wide:
            raise ChannelDown(f"{what}: {wide}")
        return body

    def _refused(self, body: dict, what: str) -> ChannelError:
        """A non-zero code on create/update/remove: Zalo did nothing; a rate limit says come back later."""
        detail = redact(f"{what}: Zalo error {_code(body)}: {str(body.get('message', ''))[:300]}", self.secrets)
        if _code(body) in ZALO_RATE_LIMIT_CODES:
            return RateLimited(detail, DEFAULT_RETRY_AFTER)
        return PermanentError(detail)

    # ---- what is sent

    def article(self, item: Publication) -> dict:
        """The normal article Zalo gets: shortened fields, a cover, the body as sanitised HTML, the marker link."""
        cover = safe_url(item.image) or safe_url(self.config.default_cover)
        if not cover:
            raise PermanentError(f"zalo: {item.article_id} {item.language} has no image, and Zalo needs a cover for "
                                 "a normal article: add an image to the article, or set extra "
                                 '{"default_cover": "https://…"} in the foreigndesk_zalo connection')
        fields = fit(item.title, item.author or item.outlet, public_summary(item) or item.title)
        # The whole body rendered once (a list or a code block may span blank lines), by the house's renderer.
        body = [{"type": "text", "content": render_markdown(item.body)}]
        if safe_url(item.image):
            body.insert(0, {"type": "image", "url": safe_url(item.image), "caption": item.image_caption})
        link = marked_link(MARKER_SCOPE, item)
        body.append({"type": "text", "content": f'<p><a href="{text(link)}">{text(item.url)}</a></p>'})
        return {"type": "normal", **fields, "cover": {"cover_type": "photo", "photo_url": cover, "status": "show"},
                "body": body, "status": "show", "comment": "show"}

    # ---- the channel interface

    def send(self, item: Publication, previous_id: str | None, receipts=None) -> str:
        article = self.article(item)
        if previous_id:
            what = f"zalo update of article {previous_id} ({item.article_id} {item.language})"
            update = {key: value for key, value in article.items() if key != "status"}
            body = self._call("POST", "article/update", what, json={"id": previous_id, **update})
            if _code(body) != 0:
                raise self._refused(body, what)
            return previous_id
        what = f"zalo create of {item.article_id} {item.language}"
        body = self._call("POST", "article/create", what, endpoint=True, json=article)
        if _code(body) != 0:
            raise self._refused(body, what)
        token = (body.get("data") or {}).get("token") if isinstance(body.get("data"), dict) else None
        if not isinstance(token, str) or not token:
            raise Ambiguous(f"{what}: the answer carried no token")
        if receipts is not None:
            receipts.record(TOKEN_RECEIPT, token)
        try:
            return self._verify(token, what, self.config.verify_tries)
        except ChannelError as error:  # the article exists: whatever happened now, look before any retry
            raise Ambiguous(f"{what}: created (token kept in the ledger), not confirmed yet: {error}") from None

    def _verify(self, token: str, what: str, tries: int) -> str:
        """The article id for a create token; Ambiguous while Zalo is still processing it."""
        last = ""
        for number in range(tries):
            body = self._call("POST", "article/verify", f"{what} (verify)", json={"token": token})
            found = (body.get("data") or {}).get("id") if isinstance(body.get("data"), dict) else None
            if _code(body) == 0 and isinstance(found, str) and found:
                return found
            last = f"Zalo error {_code(body)}: {str(body.get('message', ''))[:200]}"
            if number + 1 < tries:
                self.sleep(self.config.verify_wait)
        raise Ambiguous(f"{what}: Zalo has not processed the article yet ({last})")

    def find(self, item: Publication, previous_id: str | None, receipts=None) -> str | None:
        if previous_id:
            return self._find_update(item, previous_id)
        tokens = receipts.recorded(TOKEN_RECEIPT) if receipts is not None else []
        if not tokens:  # the create's own answer was lost: look through the OA's articles
            return self._search(item)
        # The create answered: its token says whether (and as what) the article exists. Still being
        # processed is no answer (Ambiguous): the unit stays uncertain and is never created again.
        what = f"zalo check of {item.article_id} {item.language}"
        pending: list[str] = []
        for token in tokens:
            try:
                return self._verify(token, what, 1)
            except Ambiguous as error:
                pending.append(str(error))
        raise Ambiguous("; ".join(pending))

    def _find_update(self, item: Publication, article_id: str) -> str | None:
        """Did the update of ``article_id`` go through? Its title and description are this revision's."""
        body = self._call("GET", "article/getdetail", f"zalo check of article {article_id}", params={"id": article_id})
        detail = body.get("data") if _code(body) == 0 else None
        if not isinstance(detail, dict):
            return None
        fields = fit(item.title, item.author or item.outlet, public_summary(item) or item.title)
        same = detail.get("title") == fields["title"] and detail.get("description") == fields["description"]
        return article_id if same else None

    def _search(self, item: Publication) -> str | None:
        """List the OA's articles ten at a time; the one with this title and the desk's marker, or None."""
        what = f"zalo search for {item.article_id} {item.language}"
        title = fit(item.title, "", "")["title"]
        for page in range(self.config.pages_to_search):
            body = self._call("GET", "article/getslice", what, endpoint=True,
                              params={"offset": page * PAGE_SIZE, "limit": PAGE_SIZE, "type": "normal"})
            medias = (body.get("data") or {}).get("medias") if isinstance(body.get("data"), dict) else None
            if _code(body) != 0 or not isinstance(medias, list):
                raise Ambiguous(f"{what}: the list could not be read (Zalo error {_code(body)})")
            for media in medias:
                if isinstance(media, dict) and media.get("id") and media.get("title") == title:
                    if self._carries_marker(str(media["id"]), item, what):
                        return str(media["id"])
            if len(medias) < PAGE_SIZE:
                break
        return None

    def _carries_marker(self, article_id: str, item: Publication, what: str) -> bool:
        body = self._call("GET", "article/getdetail", f"{what} (detail of {article_id})", params={"id": article_id})
        detail = body.get("data") if _code(body) == 0 else None
        if not isinstance(detail, dict):
            return False
        return f"{MARKER_PARAM}={marker(MARKER_SCOPE, item)}" in json.dumps(detail.get("body"))

    def flush(self, catalogue: Catalogue) -> list[str]:
        return []

    # ---- withdrawal (foreigndesk.publish.withdrawals): the article is removed

    def withdraw(self, target, catalogue=None) -> str:
        """``article/remove``; an article already gone (removed by hand, or by an unclear earlier try) counts."""
        what = f"zalo remove of article {target.remote_id} ({target.article_id} {target.language})"
        body = self._call("POST", "article/remove", what, json={"id": target.remote_id})
        if _code(body) == 0:
            return "article removed"
        if _code(body) not in ZALO_RATE_LIMIT_CODES and self.is_withdrawn(target):
            return "the article was already gone"
        raise self._refused(body, what)

    def is_withdrawn(self, target) -> bool:
        """Is the article gone? ``getdetail`` answers it with an error code once it was removed."""
        body = self._call("GET", "article/getdetail", f"zalo check of article {target.remote_id}",
                          params={"id": target.remote_id})
        return _code(body) != 0
