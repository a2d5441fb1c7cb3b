"""The publish runner: acts on one channel's due units under the ledger's exactly-once rules.

Exactly once per unit (see :mod:`foreigndesk.publish.ledger`): a create-only
claim before every call, the remote id after success; after an ambiguous
failure (5xx, timeout, reset, unreadable answer) the channel is asked whether
the item is out before any retry; a 429 is honoured (waited for when short,
otherwise the channel rests until Retry-After); a refused connection rests the
channel until the next run; a 4xx is recorded as failed with its reason and
never retried.

One remote item per (channel, article, language), ever: before a revision is sent,
every earlier revision of the same slot whose call has no clear outcome is resolved
by the existence check (found: recorded as out, and the new revision updates that
item in place; not found: recorded as superseded). A channel-wide failure (token
expired or revoked, 401/403, the endpoint answering 404, an existence check that
keeps failing, nothing reachable) pauses the channel for the run: its items stay
pending, the run reports the reason as an error (the DAG task fails visibly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from foreigndesk.core import records
from foreigndesk.core.decisions import Decision
from foreigndesk.core.settings import Settings
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger
from foreigndesk.publish.channels import (
    Ambiguous,
    Channel,
    ChannelDown,
    ChannelError,
    NotSent,
    PermanentError,
    Publication,
    RateLimited,
)
from foreigndesk.publish.planner import Task, unit_dict
from foreigndesk.publish.policies import LOOKS_PER_RUN, RetryPolicy
from foreigndesk.publish.publications import catalogue, load_article, publication
from foreigndesk.publish.receipts import Receipts
from foreigndesk.publish.takedown_ledger import is_withdrawn, withdrawn_slots


@dataclass
class PublishResult:
    dry_run: bool = False
    published: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    waiting: list[dict[str, str]] = field(default_factory=list)
    due: list[dict[str, str]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Channels paused for this run, with the reason (channel-wide failures: items left pending).
    paused: dict[str, str] = field(default_factory=dict)
    #: Set when another run held the publish lease and this one did nothing.
    lease_held: str = ""
    #: Units the operator's ``--retry`` requeued in this run.
    requeued: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


class Runner:
    """Acts on one channel's due units under the ledger's exactly-once rules."""

    def __init__(self, store: Store, settings: Settings, channel: Channel, now: datetime, policy: RetryPolicy,
                 sleep: Callable[[float], None], run_id: str, result: PublishResult,
                 guard: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.settings = settings
        self.channel = channel
        self.now = now
        self.stamp = now.astimezone(timezone.utc).replace(microsecond=0).isoformat()
        self.policy = policy
        self.sleep = sleep
        self.run_id = run_id
        self.result = result
        self.resting_until: str | None = None
        self.settled: list[str] = []
        self.open: dict[str, str] = {}
        self.to_flush: list[tuple[Task, Publication, str, int]] = []
        #: Called before every claim and before the flush: raises when this run no longer holds the lease.
        self.guard = guard
        self.paused: str | None = None

    def _publication(self, task: Task, previous: ledger.Published | None) -> Publication:
        first = previous.first_published_at if previous else self.stamp
        return publication(task.decision, task.article, self.settings.site_url, first, self.stamp)

    def _proof(self, task: Task, item: Publication, remote_id: str, attempt: int, found: bool) -> ledger.Published:
        return ledger.Published(
            channel=self.channel.name, article_id=item.article_id, language=item.language, revision=item.revision,
            attempt=attempt, decision=task.decision_key, remote_id=remote_id, url=item.url, title=item.title,
            summary=item.summary, first_published_at=item.first_published_at, published_at=item.published_at,
            found_after_failure=found,
        )

    def _done(self, task: Task, item: Publication, remote_id: str, attempt: int, found: bool = False) -> None:
        proof = ledger.record_published(self.store, self._proof(task, item, remote_id, attempt, found))
        self.settled.append(task.decision_key)
        self.result.published.append({**unit_dict(task.unit), "remote_id": proof.remote_id})

    def _failed(self, task: Task, reason: str) -> None:
        self.settled.append(task.decision_key)
        self.result.failed.append({**unit_dict(task.unit), "reason": reason})

    def _wait(self, task: Task, until: str, reason: str) -> None:
        self.open[task.decision_key] = until
        self.result.waiting.append({**unit_dict(task.unit), "until": until, "reason": reason})

    def _rest(self, until: str) -> None:
        self.resting_until = until

    def _pause(self, reason: str) -> None:
        """Stop calling the channel for this run; the run fails with the reason, items stay pending."""
        if self.paused is None:
            self.paused = reason
            self.resting_until = ""
            self.result.paused[self.channel.name] = reason
            self.result.errors.append(f"{self.channel.name} paused: {reason}")

    def _claim(self, unit: ledger.Delivery, attempt: int, decision_key: str) -> bool:
        self.guard()
        return ledger.claim(self.store, unit, attempt, decision_key, self.run_id)

    def _receipts(self, unit: ledger.Delivery, attempt: int) -> dict[str, Receipts]:
        """A two-step channel (``keeps_receipts``, e.g. Zalo) is handed the unit's receipts for this call."""
        if getattr(self.channel, "keeps_receipts", False):
            return {"receipts": Receipts(self.store, unit, attempt)}
        return {}

    def run(self, tasks: Sequence[Task]) -> None:
        for number, task in enumerate(tasks):
            if self.paused is not None:
                self._wait(task, "", f"{self.channel.name} is paused: {self.paused}")
                continue
            if self.resting_until is not None:
                self._wait(task, self.resting_until, f"{self.channel.name} is resting after an earlier failure")
                continue
            if self.channel.remote and number >= self.policy.max_remote_items_per_run:
                self._wait(task, "", f"more than {self.policy.max_remote_items_per_run} items due: sent next run")
                continue
            self._unit(task)
        if self.to_flush:
            self._flush()

    def _look(self, task: Task, item: Publication, previous_id: str | None, attempt: int) -> bool | None:
        """Ask the channel whether the item is out: True when found (and recorded), False when not,
        None when the channel could not answer (the check is recorded; the channel is paused)."""
        remote_id = self._ask(task.unit, item, previous_id, attempt)
        if remote_id is None:
            return None
        if remote_id:
            if self.channel.remote:
                self._done(task, item, remote_id, attempt, found=True)
            else:
                self.to_flush.append((task, item, remote_id, attempt))
            return True
        return False

    def _ask(self, unit: ledger.Delivery, item: Publication, previous_id: str | None, attempt: int) -> str | None:
        """The existence check, tried LOOKS_PER_RUN times: the remote id, "" when not out, None when no answer."""
        error: ChannelError | None = None
        for number in range(LOOKS_PER_RUN):
            try:
                return self.channel.find(item, previous_id, **self._receipts(unit, attempt)) or ""
            except ChannelDown as down:
                self._pause(str(down))
                return None
            except ChannelError as failed:
                error = failed
                if number + 1 < LOOKS_PER_RUN:
                    self.sleep(self.policy.backoff_seconds * (2 ** number))
        reason = f"could not check whether attempt {attempt} of {unit.revision} went out: {error}"
        ledger.record_check_failed(self.store, unit, attempt, reason, self.run_id)
        self._pause(f"the existence check keeps failing ({error})")
        return None

    def _resolve_slot(self, task: Task) -> str | None:
        """Settle every earlier revision of this slot that has no outcome; the slot's remote id or "" if none.

        None when it could not be settled this run (the task waits; the reason is recorded).
        An earlier revision whose call may have gone out is looked for (with its own text,
        so an update's check compares the right message); found, it is recorded as out
        and this revision will update that item; not found, it is recorded as superseded.
        One that never sent anything is superseded without asking.
        """
        unit = task.unit
        previous = ledger.previous_publication(self.store, unit)
        known = previous.remote_id if previous else ""
        for state in ledger.slot_states(self.store, unit):
            if state.state in (ledger.PUBLISHED, ledger.FAILED, ledger.SUPERSEDED):
                continue
            older = ledger.Delivery(unit.channel, unit.article_id, unit.language, state.revision)
            maybe_out = self.channel.remote and (state.unclear_attempts > 0 or state.state in (ledger.UNCERTAIN,
                                                                                                ledger.STUCK))
            if maybe_out and state.in_flight and state.last_claimed_at:
                lease_end = datetime.fromisoformat(state.last_claimed_at) + timedelta(
                    seconds=self.policy.claim_lease_seconds)
                if lease_end > self.now:
                    self._wait(task, lease_end.isoformat(), f"revision {state.revision}'s call may still be in flight")
                    return None
            if maybe_out:
                try:
                    decision = records.load(self.store, Decision, state.decision)
                    article = load_article(self.store, unit.article_id, state.revision)
                except (KeyError, ValueError, TypeError) as error:
                    self._wait(task, "", f"revision {state.revision}'s records are unreadable ({error}); "
                               "its call cannot be checked")
                    return None
                old_item = publication(decision, article, self.settings.site_url, self.stamp, self.stamp)
                found = self._ask(older, old_item, known or None, state.attempts)
                if found is None:
                    self._wait(task, "", f"{self.channel.name} could not say whether revision {state.revision} "
                               "went out; nothing is sent until it can")
                    return None
                if found:
                    ledger.record_published(self.store, ledger.Published(
                        channel=unit.channel, article_id=unit.article_id, language=unit.language,
                        revision=state.revision, attempt=state.attempts, decision=state.decision, remote_id=found,
                        url=old_item.url, title=old_item.title, summary=old_item.summary,
                        first_published_at=old_item.first_published_at, published_at=old_item.published_at,
                        found_after_failure=True))
                    known = known or found
                    continue
            how = "the channel has nothing of it" if maybe_out else "nothing of it was sent"
            ledger.record_superseded(self.store, older, unit.revision, f"superseded by {unit.revision}: {how}",
                                     self.run_id)
        return known

    def _unit(self, task: Task) -> None:
        unit = task.unit
        resolved = self._resolve_slot(task)
        if resolved is None:
            return
        previous = ledger.previous_publication(self.store, unit)
        previous_id = previous.remote_id if previous else (resolved or None)
        item = self._publication(task, previous)
        attempt = task.state.attempts
        unclear = task.state.unclear_attempts
        uncertain = task.state.state == ledger.UNCERTAIN
        for number in range(self.policy.attempts_per_run):
            if uncertain:
                found = self._look(task, item, previous_id, attempt)
                if found is None:
                    self._wait(task, "", f"could not check whether attempt {attempt} went out")
                    return
                if found:
                    return
            if unclear >= ledger.MAX_ATTEMPTS:
                self._failed(task, f"{ledger.STUCK}: gave up after {ledger.MAX_ATTEMPTS} attempts with no clear "
                             "outcome")
                return
            attempt += 1
            if not self._claim(unit, attempt, task.decision_key):
                self._wait(task, "", f"attempt {attempt} is claimed by another run")
                return
            if is_withdrawn(self.store, unit.article_id, unit.language):  # claim first, then look: see withdrawals
                ledger.record_failure(self.store, unit, attempt, ledger.PERMANENT, "withdrawn before it was sent")
                self._failed(task, "withdrawn before it was sent")
                return
            try:
                remote_id = self.channel.send(item, previous_id, **self._receipts(unit, attempt))
            except PermanentError as error:
                ledger.record_failure(self.store, unit, attempt, ledger.PERMANENT, str(error))
                self._failed(task, str(error))
                return
            except ChannelDown as error:
                ledger.record_failure(self.store, unit, attempt, ledger.NOT_SENT, str(error), self.stamp)
                self._wait(task, "", f"{self.channel.name} is paused: {error}")
                self._pause(str(error))
                return
            except RateLimited as error:
                until = (self.now + timedelta(seconds=error.retry_after)).astimezone(timezone.utc).isoformat()
                ledger.record_failure(self.store, unit, attempt, ledger.NOT_SENT, str(error), until)
                if error.retry_after <= self.policy.max_inline_wait and number + 1 < self.policy.attempts_per_run:
                    self.sleep(error.retry_after)
                    uncertain = False
                    continue
                self._wait(task, until, str(error))
                self._rest(until)
                return
            except NotSent as error:
                ledger.record_failure(self.store, unit, attempt, ledger.NOT_SENT, str(error), self.stamp)
                self._wait(task, "", str(error))
                self._pause(str(error))
                return
            except Ambiguous as error:
                ledger.record_failure(self.store, unit, attempt, ledger.AMBIGUOUS, str(error))
                unclear += 1
                uncertain = True
                if number + 1 < self.policy.attempts_per_run:
                    self.sleep(self.policy.backoff_seconds * (2 ** number))
                continue
            if self.channel.remote:
                self._done(task, item, remote_id, attempt)
            else:
                self.to_flush.append((task, item, remote_id, attempt))
            return
        if uncertain and self.paused is None:
            if self._look(task, item, previous_id, attempt):
                return
        self._wait(task, "", f"no clear outcome after {self.policy.attempts_per_run} attempts this run")

    def _flush(self) -> None:
        """Rewrite the channel's whole outputs, then — only then — record the items as published."""
        withdrawn = withdrawn_slots(self.store)  # never back into a feed or an index once withdrawn
        self.to_flush = [entry for entry in self.to_flush if (entry[1].article_id, entry[1].language) not in withdrawn]
        changed = {(item.article_id, item.language): item for _task, item, _rid, _n in self.to_flush}
        self.guard()
        self.result.written += self.channel.flush(
            catalogue(self.store, self.settings.site_url, self.channel.name, withdrawn, changed))
        for task, item, remote_id, attempt in self.to_flush:
            self._done(task, item, remote_id, attempt)
