"""One publish run in its own process, killed with SIGKILL at a chosen store write or remote call.

Used by tests/test_publish_crash_sweep.py: ``python crash_publish.py SPEC.json``
where the spec names the store folder, the loopback servers, the run's clock and
``kill_at`` (0: run to the end). Event n is the n-th store write (create or
replace) or remote HTTP call of the run; the process sends itself SIGKILL just
before it, so nothing after that point happens — no finally block, no lease
release, no flushed buffer, exactly as a power cut or the OOM killer would leave
it. The run's events are written to ``events`` (one per line, as they start) so
the parent knows how many points there are.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "plugins")]

from foreigndesk.core.settings import load_settings  # noqa: E402
from foreigndesk.publish.channels.fanpage import FanpageConfig  # noqa: E402
from foreigndesk.publish.channels.portal_push import PushConfig  # noqa: E402
from foreigndesk.publish.run import desk_channels, publish  # noqa: E402
from publish_sim import CLIENT_TIMEOUT, POLICY, CrashingSession, CrashingStore, CrashPoints  # noqa: E402


def main(spec_file: str) -> int:
    spec = json.loads(Path(spec_file).read_text())
    log = open(spec["events"], "w", buffering=1)

    def kill() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    points = CrashPoints(spec["kill_at"], after=False, hook=kill)
    original = points.event

    def logged(what, action):
        log.write(what + "\n")
        return original(what, action)

    points.event = logged  # type: ignore[method-assign]
    now = datetime.fromisoformat(spec["now"])
    settings = load_settings()
    store = CrashingStore(spec["store"], points)
    with CrashingSession(points) as session:
        channels = desk_channels(store, settings, session,
                                 fanpage=FanpageConfig(spec["graph"], spec["token"], spec["page_id"],
                                                       timeout=CLIENT_TIMEOUT),
                                 push=PushConfig(spec["portal"], spec["token"], timeout=CLIENT_TIMEOUT))
        result = publish(store, settings, channels, now=now, policy=POLICY, sleep=lambda _s: None,
                         lease_clock=lambda: now)
    print(json.dumps(result.as_json()))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
