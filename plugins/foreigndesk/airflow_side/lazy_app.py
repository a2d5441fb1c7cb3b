"""An ASGI app built on its first request, for the desk's Airflow plugins.

Every Airflow component imports plugins (task processes too, for macros); only the
API server ever serves the desk's pages, so nothing else pays for importing FastAPI,
the API's security module or the auth manager.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class LazyApp:
    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            self.app = self.build()
        await self.app(scope, receive, send)
