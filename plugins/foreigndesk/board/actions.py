"""The desk chief's actions on the board: retry a failed or stuck publication, withdraw an article.

The board does not publish or withdraw anything itself: each action calls the
publish stage's own operator function — the same one ``foreigndesk publish
--retry`` and ``foreigndesk withdraw`` call — through :func:`call_publish_stage`,
the one adapter between the board and the publish stage. Every request is
recorded, whatever came of it, with who made it (``desk-actions/<article>/…``,
written once), so the article's history shows who retried or withdrew what, and
who tried and was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from foreigndesk.core import records
from foreigndesk.core.store import Store

RETRY, WITHDRAW = "retry", "withdraw"
DONE, REFUSED, UNAVAILABLE = "done", "refused", "unavailable"


class ActionUnavailable(Exception):
    """The publish stage has no operator function for this action (yet); the message says which is missing."""


class ActionRefused(Exception):
    """The publish stage refused the action (e.g. the unit is not failed any more); the message says why."""


@dataclass(frozen=True)
class DeskAction:
    """Who asked the board for what, when, and what the publish stage answered."""

    action: str
    actor: str
    requested_at: str
    article_id: str
    language: str
    channel: str
    revision: str
    reason: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class ActionRequest:
    action: str
    article_id: str
    language: str = ""
    channel: str = ""
    revision: str = ""
    reason: str = ""


def action_prefix(article_id: str) -> str:
    return f"desk-actions/{article_id}/"


#: Builds the desk's channels for a withdrawal (the Airflow side supplies it from the Connections);
#: takes the store, returns the channels. None: this board cannot reach the channels.
ChannelsFactory = Callable[[Store], list]


@dataclass(frozen=True)
class Publishing:
    """What the publish stage needs from the board's host to withdraw: the site and the channels."""

    site_url: str
    channels: ChannelsFactory | None = None


def call_publish_stage(store: Store, request: ActionRequest, actor: str, publishing: Publishing | None = None) -> str:
    """THE adapter to the publish stage's operator functions; returns what the stage reports.

    Retry requeues one failed or stuck unit (``publish.requeue.requeue_delivery``, the
    one-unit form of ``foreigndesk publish --retry``); the next publish run sends it,
    the existence check first. A unit that is not failed or stuck is refused.
    """
    if request.action == RETRY:
        from foreigndesk.publish.ledger import Delivery
        from foreigndesk.publish.requeue import NothingToRetry, requeue_delivery

        delivery = Delivery(request.channel, request.article_id, request.language, request.revision)
        try:
            state = requeue_delivery(store, delivery, actor, request.reason)
        except NothingToRetry as error:
            raise ActionRefused(str(error)) from None
        return f"requeued ({state.state} before): the next publish run sends it, checking first whether it is out"
    if request.action == WITHDRAW:
        return _withdraw(store, request, actor, publishing)
    raise ActionRefused(f"unknown action {request.action!r}; use {RETRY!r} or {WITHDRAW!r}")


def _withdraw(store: Store, request: ActionRequest, actor: str, publishing: Publishing | None) -> str:
    """``publish.withdrawals.withdraw``, the function behind ``foreigndesk withdraw``, on every channel."""
    from foreigndesk.publish.withdrawals import withdraw

    if publishing is None or publishing.channels is None:
        raise ActionUnavailable("withdraw is not available here: this board was started without the desk's "
                                "channels; use `foreigndesk withdraw ARTICLE --reason TEXT`")
    if not request.reason.strip():
        raise ActionRefused("say why: the reason is recorded with the withdrawal")
    try:
        result = withdraw(store, publishing.site_url, publishing.channels(store), request.article_id, who=actor,
                          reason=request.reason, languages=(request.language,) if request.language else ())
    except ValueError as error:
        raise ActionRefused(str(error)) from None
    left = [f"{row['channel']} {row['language']}: {row.get('reason', '')}" for row in result.pending + result.failed]
    return ("withdrawn from every channel" if not left else
            "withdrawal recorded; not finished on " + "; ".join(left) + " — run it again once fixed")


def perform(store: Store, request: ActionRequest, actor: str, now: datetime | None = None,
            publishing: Publishing | None = None) -> DeskAction:
    """Call the publish stage for ``request`` on behalf of ``actor`` and record the outcome, whatever it is."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    try:
        detail, outcome = call_publish_stage(store, request, actor, publishing), DONE
    except ActionUnavailable as error:
        detail, outcome = str(error), UNAVAILABLE
    except ActionRefused as error:
        detail, outcome = str(error), REFUSED
    action = DeskAction(request.action, actor, moment.isoformat(), request.article_id, request.language,
                        request.channel, request.revision, request.reason, outcome, detail)
    stamp = moment.strftime("%Y%m%dT%H%M%S.%fZ")
    # Two requests in the same instant (a double click, a fixed clock) are two records, in order, never one.
    taken = {key.rsplit("-", 1)[0] for key in store.list(action_prefix(request.article_id))
             if key.startswith(f"{action_prefix(request.article_id)}{stamp}-")}
    for number in range(1, 1000):
        slot = f"{action_prefix(request.article_id)}{stamp}-{number:03d}"
        if slot not in taken and records.write_once(store, f"{slot}-{request.action}.json", action):
            break
    return action


def actor_slug(actor: str) -> str:
    """A user name as a key segment (user names may hold '@' or spaces)."""
    slug = "".join(char if (char.isascii() and char.isalnum()) or char in "._-" else "_" for char in actor)
    return slug.lstrip("._-")[:64] or "user"


def actions_of(store: Store, article_id: str) -> list[DeskAction]:
    """Every recorded board action on one article, oldest first."""
    return [records.load(store, DeskAction, key) for key in store.list(action_prefix(article_id))
            if key.endswith(".json")]
