"""One publish run: the channels the desk has, planned and run; what the DAG task and the CLI both call.

The stage's overview — what is due, the exactly-once rules, the due index —
is in docs/publishing.md; the parts are :mod:`~foreigndesk.publish.planner`,
:mod:`~foreigndesk.publish.runner` and :mod:`~foreigndesk.publish.policies`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from foreigndesk.core.settings import Settings
from foreigndesk.core.store import Store
from foreigndesk.publish.channels import Channel
from foreigndesk.publish.lease import (
    DEFAULT_TTL,
    Holding,
    LeaseHeld,
    LeaseLost,
    acquire,
)
from foreigndesk.publish.planner import Planner, unit_dict
from foreigndesk.publish.policies import RetryPolicy
from foreigndesk.publish.requeue import requeue
from foreigndesk.publish.runner import PublishResult, Runner

if TYPE_CHECKING:
    import requests
    from foreigndesk.publish.channels.fanpage import FanpageConfig
    from foreigndesk.publish.channels.portal_push import PushConfig
    from foreigndesk.publish.channels.zalo import ZaloConfig


def publish(
    store: Store,
    settings: Settings,
    channels: Sequence[Channel],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    run_id: str = "",
    lease_wait: float = 0.0,
    lease_ttl: timedelta = DEFAULT_TTL,
    retry: str | None = None,
    retry_by: str = "",
    lease_clock: Callable[[], datetime] | None = None,
) -> PublishResult:
    """One publish run over ``channels``: the code the DAG task and ``foreigndesk publish`` both run.

    Everything but a dry run happens under the publish lease (:mod:`foreigndesk.publish.lease`):
    a run that cannot get it within ``lease_wait`` seconds does nothing and says who holds it
    (``result.errors``). ``retry`` (FAILED or STUCK) first requeues those units
    (:mod:`foreigndesk.publish.requeue`) on the channels of this run.
    """
    now = now or datetime.now(timezone.utc)
    policy = policy or RetryPolicy()
    run_id = run_id or uuid.uuid4().hex
    result = PublishResult(dry_run=dry_run)
    if dry_run:
        return _publish(store, settings, channels, result, now, policy, sleep, run_id, None)
    if not retry and all(plan.quiet for plan in Planner(store, settings, now, policy).heads(
            [channel.name for channel in channels]).values()):
        return result  # nothing new, nothing ripe: no write at all, so no lease is needed either
    try:
        lease = acquire(store, run_id, ttl=lease_ttl, wait_seconds=lease_wait, clock=lease_clock or _utcnow)
    except LeaseHeld as held:
        result.errors.append(str(held))
        result.lease_held = str(held)
        return result
    holding = Holding(store, lease, lease_ttl, clock=lease_clock or _utcnow)
    try:
        if retry:
            for channel in channels:
                result.requeued += [f"{s.channel} {s.article_id} {s.language} {s.revision} (was {s.state})"
                                    for s in requeue(store, retry, channel.name, retry_by or run_id)]
        return _publish(store, settings, channels, result, now, policy, sleep, run_id, holding)
    except LeaseLost as lost:
        result.errors.append(str(lost))
        return result
    finally:
        holding.release()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _publish(store: Store, settings: Settings, channels: Sequence[Channel], result: PublishResult, now: datetime,
             policy: RetryPolicy, sleep: Callable[[float], None], run_id: str, holding: Holding | None) -> PublishResult:
    dry_run = holding is None
    planner = Planner(store, settings, now, policy)
    plans = planner.plan([channel.name for channel in channels])
    result.errors += planner.errors
    for channel in channels:
        plan = plans[channel.name]
        if plan.quiet:
            continue
        result.waiting += plan.waiting
        if dry_run:
            result.due += [{**unit_dict(task.unit), "state": task.state.state} for task in plan.tasks]
            continue
        runner = Runner(store, settings, channel, now, policy, sleep, run_id, result,
                        guard=holding.check if holding else (lambda: None))
        try:
            runner.run(plan.tasks)
        except LeaseLost:
            raise  # another run holds the lease now: write nothing more, not even the index
        except Exception as error:  # one channel's crash must not stop the others; the ledger holds its state
            result.errors.append(f"{channel.name}: {type(error).__name__}: {error}")
            for task in plan.tasks:
                if task.decision_key not in runner.settled:
                    runner.open.setdefault(task.decision_key, "")
        index = plan.index
        if runner.settled:
            index.load_settled(store, channel.name).update(runner.settled)
            plan.settled_changed = True
        for key in runner.settled:
            index.open.pop(key, None)
        index.open.update(runner.open)
        stamp = now.astimezone(timezone.utc).replace(microsecond=0).isoformat()
        if runner.paused is not None:
            index.health = {"state": "paused", "reason": runner.paused, "at": stamp, "run": run_id}
        elif plan.tasks:
            index.health = {"state": "ok", "at": stamp, "run": run_id}
        if holding is not None:
            holding.check()
        index.save(store, channel.name, plan.settled_changed)
    return result


def desk_channels(
    store: Store,
    settings: Settings,
    session: "requests.Session | None",
    *,
    fanpage: "FanpageConfig | None" = None,
    push: "PushConfig | None" = None,
    only: str | None = None,
    zalo: "ZaloConfig | None" = None,
) -> list[Channel]:
    """The desk's channels: feed and web always, push and fanpage when configured; ``only`` picks one."""
    from foreigndesk.publish.channels.fanpage import FanpageChannel
    from foreigndesk.publish.channels.portal_feed import PortalFeedChannel
    from foreigndesk.publish.channels.portal_push import PortalPushChannel
    from foreigndesk.publish.channels.web import WebChannel

    channels: list[Channel] = [PortalFeedChannel(store, settings.site_url, settings.feed_items),
                               WebChannel(store, settings.site_url)]
    if push is not None:
        channels.append(PortalPushChannel(push, session, settings.site_url))  # type: ignore[arg-type]
    if fanpage is not None:
        channels.append(FanpageChannel(fanpage, session))  # type: ignore[arg-type]
    if zalo is not None:
        from foreigndesk.publish.channels.zalo import ZaloChannel

        channels.append(ZaloChannel(zalo, session))  # type: ignore[arg-type]
    if only is None:
        return channels
    chosen = [channel for channel in channels if channel.name == only]
    if not chosen:
        known = ", ".join(channel.name for channel in channels)
        raise ValueError(f"channel {only!r} is not configured here (configured: {known}); remote channels need "
                         "their Airflow Connection (foreigndesk_portal_push, foreigndesk_fanpage, foreigndesk_zalo)")
    return chosen


def run_publish(
    store: Store,
    settings: Settings,
    *,
    fanpage: "FanpageConfig | None" = None,
    push: "PushConfig | None" = None,
    only: str | None = None,
    dry_run: bool = False,
    run_id: str = "",
    lease_wait: float = 0.0,
    retry: str | None = None,
    retry_by: str = "",
    zalo: "ZaloConfig | None" = None,
) -> PublishResult:
    """Build the channels with one HTTP session and run one publish: shared by the DAG task and the CLI."""
    import requests

    with requests.Session() as session:
        channels = desk_channels(store, settings, session, fanpage=fanpage, push=push, only=only, zalo=zalo)
        return publish(store, settings, channels, dry_run=dry_run, run_id=run_id, lease_wait=lease_wait,
                       retry=retry, retry_by=retry_by)
