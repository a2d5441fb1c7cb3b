"""How hard a publish run tries, and when it stops calling a channel.

The ledger bounds the total across runs (``ledger.MAX_ATTEMPTS``); this bounds
one run: attempts, backoff, how long a Retry-After is waited out in the run,
how long a claim without an outcome belongs to a run still in flight, and how
many items one run sends to a remote channel.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one run tries; the ledger bounds the total across runs (``ledger.MAX_ATTEMPTS``)."""

    attempts_per_run: int = 3
    backoff_seconds: float = 2.0
    #: A Retry-After up to this long is waited out in the run; a longer one rests the channel until then.
    max_inline_wait: float = 30.0
    #: A claim younger than this with no outcome belongs to a run still in flight: leave it alone.
    claim_lease_seconds: float = 900.0
    #: Items one run sends to a remote channel; the rest wait for the next run. This is what keeps a
    #: newly connected fanpage from receiving the whole archive in one burst.
    max_remote_items_per_run: int = 100


#: Graph API error codes that mean the token (not the item) is bad: 190 invalid/expired/revoked
#: access token, 102 session, 10 and 200-299 missing permission. Graph sends some of them as HTTP 400.
GRAPH_TOKEN_CODES = frozenset({190, 102, 10} | set(range(200, 300)))

#: Existence checks one run makes for one unit before it takes the channel as unable to answer
#: (and pauses it for the run): a check that keeps failing is the channel's problem, not the item's.
LOOKS_PER_RUN = 2


def channel_wide_reason(status: int, body: object, endpoint: bool) -> str | None:
    """Why a failed call says the whole channel is unusable, or None when it is about one item.

    * 401 and 403: the credentials are refused for every item alike;
    * a Graph token or permission error code (190 …) in any 4xx body: Graph answers an
      expired or revoked token with HTTP 400, ``{"error": {"type": "OAuthException", "code": 190}}``;
    * 404 from the channel's own endpoint (``endpoint=True``: the collection items are
      posted to, not one item): the URL or API version is wrong for every item.

    Everything else in 4xx (a malformed field, a rejected text) belongs to the item.
    """
    if status in (401, 403):
        return f"HTTP {status}: the channel refuses the desk's credentials (renew the token in the connection)"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        # Graph types nearly every error "OAuthException" (an invalid parameter is code 100), so the
        # code decides, not the type.
        if isinstance(code, int) and not isinstance(code, bool) and code in GRAPH_TOKEN_CODES:
            return (f"HTTP {status}: the access token is expired, revoked or lacks a permission "
                    f"(Graph error code {code}); renew the page token in the connection")
    if status == 404 and endpoint:
        return "HTTP 404 from the channel's endpoint: check the connection's URL (and API version)"
    return None


#: Zalo OA error codes that mean the OA access token (not the article) is bad. Zalo answers them with
#: HTTP 200 and ``{"error": -216, "message": "Access token is invalid"}`` (also seen for an expired
#: token); -124 is reported for an expired or invalid token by other Zalo OA clients. See docs/publishing.md.
ZALO_TOKEN_CODES = frozenset({-216, -124})
#: Zalo's "too many requests" code (reported, not confirmed in Zalo's own docs): nothing was done.
ZALO_RATE_LIMIT_CODES = frozenset({-32})


def zalo_channel_wide_reason(body: object) -> str | None:
    """Why a Zalo answer (any HTTP status, Zalo puts its errors in the body) says the whole OA is unusable."""
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, int) and not isinstance(code, bool) and code in ZALO_TOKEN_CODES:
        return (f"Zalo error {code}: the OA access token is expired or invalid; renew it in the "
                "foreigndesk_zalo connection (password)")
    return None
