"""HTTP calls for the remote channels, with every failure sorted by what it means for a retry.

The sorting is the whole point: a connection that was refused never carried
the request (send again later), a 429 says when to come back, a 4xx is the
channel's final word on this item, and everything else — a 5xx, a timeout, a
reset after the request went out, a 2xx whose body can't be read — may have
been carried out, so the runner must look before it sends again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from foreigndesk.publish.channels import (
    Ambiguous,
    ChannelDown,
    NotSent,
    PermanentError,
    RateLimited,
    redact,
)
from foreigndesk.publish.policies import channel_wide_reason
from urllib3.exceptions import NewConnectionError

DEFAULT_RETRY_AFTER = 60.0


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float:
    """Retry-After as seconds: delta-seconds or an HTTP date; a missing or odd value means a minute."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _never_connected(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _excerpt(response: requests.Response) -> str:
    body = response.text[:300].replace("\n", " ").strip()
    return f": {body}" if body else ""


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    secrets: Sequence[str],
    timeout: float,
    what: str,
    endpoint: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """Make one request; return a 2xx response or raise the :mod:`foreigndesk.channels` error that fits.

    ``endpoint`` says the URL is the channel's own endpoint (where items are posted or
    listed), so a 404 there is the channel's problem (:class:`ChannelDown`), not the item's.
    """
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as error:
        detail = redact(f"{what}: {type(error).__name__}: {error}", secrets)
        if _never_connected(error):
            raise NotSent(f"{detail} (nothing was sent)") from None
        raise Ambiguous(f"{detail} (the request may have been carried out)") from None
    status = response.status_code
    if 200 <= status < 300:
        return response
    detail = redact(f"{what}: HTTP {status}{_excerpt(response)}", secrets)
    if status == 429:
        raise RateLimited(detail, retry_after_seconds(response.headers.get("Retry-After")))
    if 400 <= status < 500 and status not in (408, 429):
        try:
            body = response.json()
        except ValueError:
            body = None
        wide = channel_wide_reason(status, body, endpoint)
        if wide:
            raise ChannelDown(f"{detail} — {wide}", status)
    if status == 408 or status >= 500:
        raise Ambiguous(detail, status)
    raise PermanentError(detail, status)


def json_of(response: requests.Response, *, secrets: Sequence[str], what: str) -> Any:
    """The response's JSON; an unreadable body after a 2xx is ambiguous (the call may have worked)."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        raise Ambiguous(redact(f"{what}: HTTP {response.status_code} with a body that is not JSON{_excerpt(response)}", secrets)) from None
