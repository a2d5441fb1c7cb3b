"""A real HTTP server on loopback that speaks the Zalo OA article API (v2.0) and misbehaves on cue.

The shapes follow what docs/publishing.md ("Zalo OA") records: the token in an
``access_token`` header; every answer a JSON object with ``error`` (0 = success)
and ``message``, errors mostly with HTTP 200; ``POST /v2.0/article/create``
answers ``{"data": {"token": …}}``; ``POST /v2.0/article/verify`` with the token
answers ``{"data": {"id": …}}`` once the article is processed; ``GET
/v2.0/article/getslice?offset&limit&type`` answers ``{"data": {"medias": [...],
"total": n}}`` newest first and refuses a limit over 10; ``GET
/v2.0/article/getdetail?id``; ``POST /v2.0/article/update`` and ``/remove``.

On top of the shared faults (tests/channel_servers.py, consumed by the next
create, update or remove), Zalo's own ways to go wrong:

* ``verify_pending``   each new article answers "being processed" to that many verify calls;
* ``garbled_verifies`` that many verify calls answer HTTP 200 with a body that is not JSON;
* ``expire_token()``   the OA token stops working: every call answers ``{"error": -216}`` (HTTP 200);
* ``400_token_expired`` (the shared fault) is Zalo's -216 on the next write;
* ``staff_article``    an article the OA's own staff posted (same title possible, no desk marker).
"""

from __future__ import annotations

import json
import threading

from channel_servers import FaultyAPI

VERSION = "v2.0"
WRITES = ("article/create", "article/update", "article/remove")
LIMITS = {"title": 150, "author": 50, "description": 300}


def _answer(code: int, message: str, data: object = None) -> dict:
    body: dict = {"error": code, "message": message}
    if data is not None:
        body["data"] = data
    return body


class ZaloServer(FaultyAPI):
    """The OA's articles, tokens and removals, kept so a test can count copies."""

    token = "zalo-oa-SECRET-8080-never-logged"
    refusal_text = ("Zalo error -201", "is invalid")

    def __init__(self, **kwargs) -> None:
        self.articles: dict[str, dict] = {}  # id -> the article as Zalo shows it
        self.order: list[str] = []  # ids, oldest first
        self.tokens: dict[str, dict] = {}  # create token -> {"id", "pending"}
        self.removed: dict[str, dict] = {}
        self.removals: list[str] = []  # every remove that removed an article (exactly once: each id once)
        self.creates = 0
        self.verify_pending = 0
        self.garbled_verifies = 0
        self.expired = False
        #: Called right after an article is created (a test's way to act between create and verify).
        self.after_create = None
        super().__init__(**kwargs)
        self.lock = threading.RLock()  # after_create may add staff articles while a create commits

    @property
    def base_url(self) -> str:
        return f"{self.base}/{VERSION}"

    # -- how Zalo differs from Graph (hooks of FaultyAPI)
    def credential(self, headers) -> str | None:
        return headers.get("access_token")

    def authorized(self, headers) -> bool:
        return not self.expired and self.credential(headers) == self.token

    def unauthorized_answer(self) -> tuple[int, dict]:
        return 200, _answer(-216, "Access token is invalid")

    def token_expired_answer(self) -> tuple[int, dict]:
        return 200, _answer(-216, "Access token is invalid")

    def refusal_answer(self) -> tuple[int, dict]:
        return 200, _answer(-201, "description is invalid")

    def consumes_fault(self, method: str, path: str) -> bool:
        return method == "POST" and path.removeprefix(f"/{VERSION}/") in WRITES

    def expire_token(self) -> None:
        self.expired = True

    # -- the API
    def handle(self, method, path, query, raw, headers):
        if not path.startswith(f"/{VERSION}/"):
            return 404, {"error": "unknown version"}, None
        route = (method, path.removeprefix(f"/{VERSION}/"))
        body = json.loads(raw) if raw else {}
        if route == ("POST", "article/create"):
            return self._create(body)
        if route == ("POST", "article/verify"):
            return self._verify(body)
        if route == ("POST", "article/update"):
            return self._update(body)
        if route == ("POST", "article/remove"):
            return self._remove(body)
        if route == ("GET", "article/getslice"):
            return self._slice(query)
        if route == ("GET", "article/getdetail"):
            found = self.articles.get(query.get("id", ""))
            return 200, (_answer(0, "Success", found) if found else _answer(-201, "Article is not exist")), None
        return 404, {"error": "not found"}, None

    def _invalid(self, article: dict) -> dict | None:
        for name, limit in LIMITS.items():
            value = article.get(name)
            if not isinstance(value, str) or not 1 <= len(value) <= limit:
                return _answer(-201, f"{name} allow 1 to {limit} characters")
        cover = article.get("cover") or {}
        if article.get("type") == "normal" and not cover.get("photo_url"):
            return _answer(-201, "cover value is invalid")
        return None

    def _create(self, article: dict):
        refused = self._invalid(article)
        if refused:
            return 200, refused, None
        number = self.creates + len(self.tokens) + 1
        article_id, token = f"zart{number:04d}", f"ztok-{number:04d}=="

        def commit() -> None:
            self.creates += 1
            self.articles[article_id] = {**article, "id": article_id}
            self.order.append(article_id)
            self.tokens[token] = {"id": article_id, "pending": self.verify_pending}
            if self.after_create is not None:
                self.after_create()

        return 200, _answer(0, "Success", {"token": token}), commit

    def _verify(self, body: dict):
        if self.garbled_verifies > 0:
            self.garbled_verifies -= 1
            return 200, b'{"error": 0, "data": {"id": "zar', None
        entry = self.tokens.get(body.get("token", ""))
        if entry is None:
            return 200, _answer(-201, "token is invalid"), None
        if entry["pending"] > 0:
            entry["pending"] -= 1
            return 200, _answer(-202, "The article is being processed"), None
        return 200, _answer(0, "Success", {"id": entry["id"]}), None

    def _update(self, article: dict):
        article_id = article.get("id", "")
        if article_id not in self.articles:
            return 200, _answer(-201, "Article is not exist"), None
        refused = self._invalid(article)
        if refused:
            return 200, refused, None

        def commit() -> None:
            self.articles[article_id].update(article)

        return 200, _answer(0, "Success", {"token": f"ztok-update-{article_id}"}), commit

    def _remove(self, body: dict):
        article_id = body.get("id", "")
        if article_id not in self.articles:
            return 200, _answer(-201, "Article is not exist"), None

        def commit() -> None:
            self.removed[article_id] = self.articles.pop(article_id)
            self.order.remove(article_id)
            self.removals.append(article_id)

        return 200, _answer(0, "Success"), commit

    def _slice(self, query: dict):
        limit, offset = int(query.get("limit", "10")), int(query.get("offset", "0"))
        if limit > 10:
            return 200, _answer(-201, "maximum limit is 10"), None
        if query.get("type") not in ("normal", "video"):
            return 200, _answer(-201, "type accept only 2 value normal and video."), None
        newest_first = list(reversed(self.order))
        medias = [{"id": i, "title": self.articles[i]["title"], "status": self.articles[i].get("status", "show"),
                   "type": "normal"} for i in newest_first[offset: offset + limit]]
        return 200, _answer(0, "Success", {"medias": medias, "total": len(newest_first)}), None

    # -- what a test looks at
    def staff_article(self, title: str, link: str = "https://tntv.vn/tin-tuc") -> str:
        """An article TNTV's staff posted on the OA by hand: maybe the same title, never the desk's marker."""
        with self.lock:
            number = self.creates + len(self.tokens) + 1
            article_id = f"zstaff{number:04d}"
            self.creates += 1
            self.articles[article_id] = {"id": article_id, "type": "normal", "title": title, "author": "TNTV",
                                         "description": title, "body": [{"type": "text", "content": link}],
                                         "staff": True}
            self.order.append(article_id)
        return article_id

    def desk_articles(self) -> dict[str, dict]:
        """The desk's articles (not the staff's), by id."""
        return {i: a for i, a in self.articles.items() if not a.get("staff")}

    def links(self, article: dict) -> list[str]:
        """The page links in an article's body (the desk's last paragraph links its web page)."""
        found = []
        for part in article.get("body") or []:
            content = str(part.get("content", ""))
            if 'href="' in content:
                href = content.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
                found.append(href.split("?", 1)[0])
        return found
