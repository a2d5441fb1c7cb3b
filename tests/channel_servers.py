"""Real HTTP servers on loopback that speak the remote channels' APIs and inject faults.

``GraphServer`` speaks the part of the Facebook Graph API the fanpage channel
uses (``POST /{page-id}/feed``, ``GET /{page-id}/feed?fields=id,message,link``
with paging, ``POST /{post-id}``, ``GET /{post-id}``, ``DELETE /{post-id}``).
``PortalServer`` speaks the desk's own push contract (docs/portal-push.openapi.yaml),
withdrawals (``POST /withdrawals``) included. Both check the
Bearer token and keep what was posted, so a test can count copies.

Faults are queued per test and consumed by the next write request (POST or DELETE):

* ``500_after_post``       the post is made, the answer is a 500
* ``timeout_after_post``   the post is made, the answer comes after the client gave up
* ``reset_after_post``     the post is made, the connection is closed without an answer
* ``malformed_after_post`` the post is made, the answer is 200 with a body that is not JSON
* ``429``                  nothing is posted; 429 with ``Retry-After: 1``
* ``400``                  nothing is posted; a 400 with an error body
* ``500_before_post``      nothing is posted; a 500
* ``400_echo_token``       nothing is posted; a 400 whose body quotes the Authorization header
* ``400_token_expired``    nothing is posted; Graph's answer to an expired token: HTTP 400 with an
                           ``OAuthException`` body, code 190 (channel-wide, not the item's fault)
* ``401``, ``403``         nothing is posted; the credentials are refused
* ``404_endpoint``         nothing is posted; the endpoint answers 404 (a wrong URL or API version)

``broken_reads`` (a count) makes that many GET requests answer 500: an existence check
that keeps failing. ``GraphServer.visitor_post`` adds a post by someone else on the page.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FAULTS = ("500_after_post", "timeout_after_post", "reset_after_post", "malformed_after_post", "429", "400",
          "500_before_post")
CHANNEL_WIDE_FAULTS = ("400_token_expired", "401", "403", "404_endpoint")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # a reset or a client that gave up is part of the test, not an error


class FaultyAPI:
    """A loopback HTTP API with a fault queue; subclasses implement ``handle``."""

    token = "tok-SECRET-4242-never-logged"
    retry_after = "1"

    def __init__(self, slow_seconds: float = 1.5) -> None:
        self.faults: deque[str] = deque()
        self.broken_reads = 0
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.start()

    # -- lifecycle: stop() makes the port refuse connections; start() binds it again
    def start(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                api._dispatch(self, "GET")

            def do_POST(self) -> None:
                api._dispatch(self, "POST")

            def do_DELETE(self) -> None:
                api._dispatch(self, "DELETE")

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- plumbing
    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append((method, parts.path))
        if not self.authorized(handler.headers):
            return self._send(handler, *self.unauthorized_answer())
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if method == "GET" and self.broken_reads > 0:
            with self.lock:
                self.broken_reads -= 1
            return self._send(handler, 500, {"error": "internal"})
        status, body, commit = self.handle(method, parts.path, query, raw, handler.headers)
        fault = None
        if self.consumes_fault(method, parts.path):
            with self.lock:
                fault = self.faults.popleft() if self.faults else None
        if fault == "400_token_expired":
            return self._send(handler, *self.token_expired_answer())
        if fault in ("401", "403"):
            return self._send(handler, int(fault), {"error": "credentials refused"})
        if fault == "404_endpoint":
            return self._send(handler, 404, {"error": "no such endpoint"})
        if fault == "400_echo_token":  # a careless API that quotes the request back in its error
            return self._send(handler, 400, {"error": f"bad request from {self.credential(handler.headers)}"})
        if fault in ("429", "400", "500_before_post"):
            if fault == "429":
                return self._send(handler, 429, {"error": "slow down"}, {"Retry-After": self.retry_after})
            if fault == "400":
                return self._send(handler, *self.refusal_answer())
            return self._send(handler, 500, {"error": "internal"})
        if commit is not None:
            with self.lock:
                commit()
        if fault == "500_after_post":
            return self._send(handler, 500, {"error": "internal"})
        if fault == "timeout_after_post":
            time.sleep(self.slow_seconds)
        if fault == "reset_after_post":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            handler.close_connection = True
            handler.connection.close()
            return None
        if fault == "malformed_after_post":
            return self._send_raw(handler, 200, b'{"id": "oops', "application/json")
        if isinstance(body, bytes):  # an API answering garbage on its own (ZaloServer.garbled_verifies)
            return self._send_raw(handler, status, body, "application/json")
        return self._send(handler, status, body)

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: object, headers: dict | None = None) -> None:
        self._send_raw(handler, status, json.dumps(body).encode(), "application/json", headers)

    def _send_raw(self, handler, status: int, data: bytes, kind: str, headers: dict | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout fault)

    def handle(self, method, path, query, raw, headers):  # -> (status, body, commit or None)
        raise NotImplementedError

    # -- what differs between APIs (ZaloServer overrides these: tests/zalo_server.py)
    #: What a refused item's failure reason carries, whatever the API's way of saying it.
    refusal_text = ("HTTP 400", "Invalid parameter")

    def credential(self, headers) -> str | None:
        return headers.get("Authorization")

    def authorized(self, headers) -> bool:
        return self.credential(headers) == f"Bearer {self.token}"

    def unauthorized_answer(self) -> tuple[int, dict]:
        return 401, {"error": "bad token"}

    def consumes_fault(self, method: str, path: str) -> bool:
        """Faults hit the API's writes: the next POST or DELETE."""
        return method in ("POST", "DELETE")

    def writes(self) -> int:
        """Write requests received (what a double post would show as)."""
        return sum(1 for method, path in self.requests if self.consumes_fault(method, path))

    def token_expired_answer(self) -> tuple[int, dict]:
        """Graph's answer to an expired token: HTTP 400, OAuthException code 190 (channel-wide)."""
        return 400, {"error": {"message": "Error validating access token: Session has expired",
                               "type": "OAuthException", "code": 190, "error_subcode": 463}}

    def refusal_answer(self) -> tuple[int, dict]:
        return 400, {"error": {"message": "(#100) Invalid parameter", "code": 100}}


class GraphServer(FaultyAPI):
    """The Graph API, as far as page posts go."""

    version = "v19.0"
    page_id = "1234567890"

    def __init__(self, **kwargs) -> None:
        self.posts: dict[str, dict[str, str]] = {}
        self.order: list[str] = []
        self.deleted: dict[str, dict[str, str]] = {}  # post id -> the post, as it was when deleted
        self.deletions: list[str] = []  # every DELETE that removed a post (exactly-once: each id once)
        super().__init__(**kwargs)

    @property
    def base_url(self) -> str:
        return f"{self.base}/{self.version}"

    def handle(self, method, path, query, raw, headers):
        segments = path.strip("/").split("/")
        if segments[0] != self.version:
            return 404, {"error": "unknown version"}, None
        form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        if len(segments) == 2 and segments[1] in self.deleted:  # what Graph answers for a deleted post
            return 400, {"error": {"message": f"Unsupported {method.lower()} request. Object with ID "
                                              f"'{segments[1]}' does not exist", "type": "GraphMethodException",
                                   "code": 100, "error_subcode": 33}}, None
        if segments[1:] == [self.page_id, "feed"]:
            if method == "POST":
                if not form.get("message"):
                    return 400, {"error": {"message": "message is required"}}, None
                post_id = f"{self.page_id}_{len(self.order) + 1}"

                def commit() -> None:
                    self.posts[post_id] = {"id": post_id, "message": form["message"], "link": form.get("link", ""),
                                           "from": {"id": self.page_id, "name": "Dynamic Thainguyen"}}
                    self.order.append(post_id)

                return 200, {"id": post_id}, commit
            return 200, self._page(query), None
        if len(segments) == 2 and segments[1] in self.posts:
            post_id = segments[1]
            if method == "DELETE":
                def commit() -> None:
                    self.deleted[post_id] = self.posts.pop(post_id)
                    self.order.remove(post_id)
                    self.deletions.append(post_id)

                return 200, {"success": True}, commit
            if method == "POST":
                def commit() -> None:
                    self.posts[post_id]["message"] = form["message"]

                return 200, {"success": True}, commit
            return 200, {"id": post_id, "message": self.posts[post_id]["message"],
                         "from": self.posts[post_id]["from"]}, None
        return 400, {"error": {"message": "Unsupported request", "code": 100}}, None

    def _page(self, query: dict[str, str]) -> dict:
        limit, after = int(query.get("limit", "25")), int(query.get("after", "0"))
        newest_first = list(reversed(self.order))
        chunk = newest_first[after : after + limit]
        fields = query.get("fields", "id").split(",")
        body: dict = {"data": [{name: self.posts[post_id][name] for name in fields} for post_id in chunk]}
        if after + limit < len(newest_first):
            body["paging"] = {"next": f"{self.base_url}/{self.page_id}/feed?fields={query.get('fields', 'id')}"
                                      f"&limit={limit}&after={after + limit}"}
        return body

    def visitor_post(self, link: str, message: str = "Look at this!") -> str:
        """A post on the page by a visitor (not the page), e.g. sharing the desk's article."""
        with self.lock:
            post_id = f"{self.page_id}_{len(self.order) + 1}"
            self.posts[post_id] = {"id": post_id, "message": message, "link": link,
                                   "from": {"id": "99887766", "name": "A visitor"}}
            self.order.append(post_id)
        return post_id

    def page_posts(self) -> list[dict]:
        """The page's own posts (what readers see as the desk's)."""
        return [post for post in self.posts.values() if post["from"]["id"] == self.page_id]

    def copies(self) -> dict[str, int]:
        """The page's own posts per link (without the desk's marker): exactly-once means every value is 1."""
        counts: dict[str, int] = {}
        for post in self.page_posts():
            link = post["link"].split("?", 1)[0]
            counts[link] = counts.get(link, 0) + 1
        return counts


class PortalServer(FaultyAPI):
    """The desk's push contract: POST items with an Idempotency-Key; GET a key to see if it was carried out."""

    def __init__(self, **kwargs) -> None:
        self.items: dict[str, dict] = {}  # by guid: the portal's current copy
        self.created: dict[str, int] = {}  # by Idempotency-Key: how many times a POST created/replaced
        self.receipts: dict[str, str] = {}  # Idempotency-Key -> portal id
        self.ids: dict[str, str] = {}  # guid -> portal id
        self.attempts: dict[str, int] = {}  # Idempotency-Key -> POST requests received
        self.withdrawn: dict[str, dict] = {}  # guid -> the withdrawal notice received
        self.withdrawals: dict[str, int] = {}  # Idempotency-Key -> times a withdrawal was carried out
        super().__init__(**kwargs)

    @property
    def url(self) -> str:
        return f"{self.base}/api/items"

    def handle(self, method, path, query, raw, headers):
        if path == "/api/items" and method == "POST":
            key = headers.get("Idempotency-Key")
            if not key:
                return 400, {"error": "Idempotency-Key is required"}, None
            self.attempts[key] = self.attempts.get(key, 0) + 1
            if key in self.receipts:
                return 200, {"id": self.receipts[key]}, None
            item = json.loads(raw)
            portal_id = self.ids.get(item["id"]) or f"vnp-{len(self.ids) + 1}"

            def commit() -> None:
                self.ids[item["id"]] = portal_id
                self.items[item["id"]] = item
                self.receipts[key] = portal_id
                self.created[key] = self.created.get(key, 0) + 1

            return 201, {"id": portal_id}, commit
        if path == "/api/items/withdrawals" and method == "POST":
            key = headers.get("Idempotency-Key")
            if not key:
                return 400, {"error": "Idempotency-Key is required"}, None
            if key in self.receipts:
                return 200, {"id": self.receipts[key], "withdrawn": True}, None
            notice = json.loads(raw)
            if notice["id"] not in self.ids:
                return 404, {"error": "no such item"}, None
            portal_id = self.ids[notice["id"]]

            def commit() -> None:
                self.items.pop(notice["id"], None)
                self.withdrawn[notice["id"]] = notice
                self.receipts[key] = portal_id
                self.withdrawals[key] = self.withdrawals.get(key, 0) + 1

            return 200, {"id": portal_id, "withdrawn": True}, commit
        if path.startswith("/api/items/") and method == "GET":
            key = path.rsplit("/", 1)[-1]
            if key in self.receipts:
                return 200, {"id": self.receipts[key]}, None
            return 404, {"error": "no such key"}, None
        return 404, {"error": "not found"}, None
