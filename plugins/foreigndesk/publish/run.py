"""One publish run: the channels the desk has, planned and run; what the DAG task and the CLI both call.

The stage's overview — what is due, the exactly-once rules, the due index —
is in docs/publishing.md; the parts are :mod:`~foreigndesk.publish.planner`,
:mod:`~foreigndesk.publish.runner` and :mod:`~foreigndesk.publish.policies`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from foreigndesk.core.settings import Settings
from foreigndesk.core.store import Store
from foreigndesk.publish.channels import Channel
from foreigndesk.publish.planner import Planner, unit_dict
from foreigndesk.publish.policies import RetryPolicy
from foreigndesk.publish.runner import PublishResult, Runner

if TYPE_CHECKING:
    import requests
    from foreigndesk.publish.channels.fanpage import FanpageConfig
    from foreigndesk.publish.channels.portal_push import PushConfig


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
) -> PublishResult:
    """One publish run over ``channels``: the code the DAG task and ``foreigndesk publish`` both run."""
    now = now or datetime.now(timezone.utc)
    policy = policy or RetryPolicy()
    run_id = run_id or uuid.uuid4().hex
    result = PublishResult(dry_run=dry_run)
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
        runner = Runner(store, settings, channel, now, policy, sleep, run_id, result)
        try:
            runner.run(plan.tasks)
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
    if only is None:
        return channels
    chosen = [channel for channel in channels if channel.name == only]
    if not chosen:
        known = ", ".join(channel.name for channel in channels)
        raise ValueError(f"channel {only!r} is not configured here (configured: {known}); remote channels need "
                         "their Airflow Connection (foreigndesk_portal_push, foreigndesk_fanpage)")
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
) -> PublishResult:
    """Build the channels with one HTTP session and run one publish: shared by the DAG task and the CLI."""
    import requests

    with requests.Session() as session:
        channels = desk_channels(store, settings, session, fanpage=fanpage, push=push, only=only)
        return publish(store, settings, channels, dry_run=dry_run, run_id=run_id)
