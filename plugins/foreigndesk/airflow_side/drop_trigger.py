"""The desk's event trigger: drops seen from Airflow's triggerer start ingest within seconds.

``DropZoneTrigger`` runs for as long as the triggerer does, behind an
``AssetWatcher`` on the ``foreigndesk_drops`` asset that ``foreigndesk_ingest``
is scheduled on (besides its per-minute safety-net cron). Every
``poll_seconds`` it lists the drop folders and S3 inboxes
(:func:`foreigndesk.intake.drop_watch.pending_drops`) and fires one event when
something appeared since its previous look; Airflow turns the event into an
asset event and the asset event into an ingest run (events that arrive while a
run is queued fold into it).

A fired event is only a hint: the ingest run decides everything, and intake's
create-only records make a second run over the same drop change nothing. So a
triggerer restart (which fires once for whatever is waiting) or a cron run racing
an event run cannot register anything twice.

Settings come from the triggerer's environment (the same as every desk
process), so the trigger's own arguments are only the polling interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

CLASSPATH = "foreigndesk.airflow_side.drop_trigger.DropZoneTrigger"


def _s3_client_factory(settings: Any):
    """The same S3 client the ingest task builds (the Connection if it exists, else the standard AWS settings)."""

    def make() -> Any:
        from foreigndesk.airflow_side.desk import s3_client_for
        from foreigndesk.core.store import s3_client

        try:
            return s3_client_for(settings)
        except Exception:  # e.g. no Connection API in this process: the environment's AWS settings
            return s3_client()

    return make


class DropZoneTrigger(BaseEventTrigger):
    """Fire when a drop appears in a drop folder or an S3 inbox."""

    def __init__(self, poll_seconds: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.poll_seconds = float(poll_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return CLASSPATH, {"poll_seconds": self.poll_seconds}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from foreigndesk.core.settings import load_settings
        from foreigndesk.intake.drop_watch import new_drops, pending_drops

        settings = load_settings()
        make_client = _s3_client_factory(settings)
        client: list[Any] = []

        def cached_client() -> Any:
            if not client:
                client.append(make_client())
            return client[0]

        def look() -> frozenset[str]:
            return pending_drops(settings, cached_client, on_error=lambda message: self.log.warning("%s", message))

        previous: frozenset[str] = frozenset()
        while True:
            try:
                current = await asyncio.to_thread(look)
            except Exception as error:  # a listing hiccup must not end the watch; the cron run still ingests
                self.log.warning("could not look at the drop zones: %s: %s", type(error).__name__, error)
                current = previous
            appeared = new_drops(previous, current)
            if appeared:
                names = sorted(item.split("|", 1)[0] for item in appeared)
                self.log.info("%d new drop(s): %s", len(names), ", ".join(names[:5]))
                yield TriggerEvent({"new_drops": len(names), "examples": names[:5]})
            previous = current
            await asyncio.sleep(self.poll_seconds)
