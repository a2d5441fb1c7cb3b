"""A real HTTP server on loopback that records what is POSTed to it (webhooks, channel APIs)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(ThreadingHTTPServer):
    """Records every POST (path, headers, JSON body) and answers with ``status``; serves in a thread."""

    def __init__(self, status: int = 204) -> None:
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/hooks/desk"

    @property
    def json_bodies(self) -> list:
        return [request["json"] for request in self.requests]

    def close(self) -> None:
        self.shutdown()
        self.server_close()
