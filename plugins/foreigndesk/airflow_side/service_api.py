"""The desk's service account on Airflow's public REST API, signed in once for a task that needs it.

A task can ask the Task SDK about its own task instance only. Three jobs need
more, so they go through the REST API as the desk's service account (Airflow
Connection ``foreigndesk_api``: host = the API's base URL, login/password):
reading back an answer Airflow lost (:mod:`.earlier_answer`), looking reviewers
up by username (:mod:`.reviewer_lookup`), and ending the parked review tasks of
a superseded revision (:mod:`.parked_reviews`).

The HTTP session is handed in where the work is done (``requests.Session`` in
production; the tests hand the real REST app's test client).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: The Airflow Connection holding the API's base URL and the desk's service account.
API_CONNECTION = "foreigndesk_api"


@dataclass(frozen=True)
class ServiceApi:
    """A signed-in session: ``session`` (requests-like), the API's ``base_url``, a bearer ``token``."""

    session: Any
    base_url: str
    token: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def api_token(session: Any, base_url: str, username: str, password: str, timeout: float = 10.0) -> str:
    """A JWT for the public API (``POST /auth/token``); the password never appears in an error."""
    response = session.post(f"{base_url}/auth/token", json={"username": username, "password": password},
                            timeout=timeout)
    if response.status_code not in (200, 201):
        raise PermissionError(f"the service account {username!r} of Connection {API_CONNECTION!r} could not sign in "
                              f"(HTTP {response.status_code}); check its login and password")
    return str(response.json()["access_token"])


@contextlib.contextmanager
def service_api() -> Iterator[ServiceApi | None]:
    """The service account signed in through the Connection; None when the Connection is not set."""
    import requests
    from foreigndesk.airflow_side.connections import airflow_connection

    connection = airflow_connection(API_CONNECTION)
    if connection is None or not connection.host or not connection.login:
        yield None
        return
    base_url = connection.host.rstrip("/")
    with requests.Session() as session:
        yield ServiceApi(session, base_url, api_token(session, base_url, connection.login, connection.password or ""))
