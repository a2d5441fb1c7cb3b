"""The publish planner: which units are due on which channel, opening as few records as it can.

What is due is derived from records: per article and language the latest
approved decision (``review.Decision.approved``; rejected, "needs fix" and
expired decisions never count), whose article's ``publish_at`` embargo has
passed, and whose unit (channel, article, language, revision) has no
``published`` or permanent ``failed`` record in the ledger.

Exactly once per unit (see ``foreigndesk.ledger``): a create-only claim before
every call, the remote id after success; after an ambiguous failure (5xx,
timeout, reset, unreadable answer) the channel is asked whether the item is
out before any retry; a 429 is honoured (waited for when short, otherwise the
channel rests until Retry-After); a refused connection rests the channel until
the next run; a 4xx is recorded as failed with its reason and never retried.

A run with nothing due must not grow with the archive, so it must not open, or
even list, the archive's records. The review stage journals every decision
(``review.JOURNAL``: one entry per decision record, named by when it was written,
written before the record). Each channel keeps a *due index*
(``publish/index/<channel>/``), a cache derived from the records and never the
truth: how far it has read the journal (a mark, and the entries after it already
taken), the decision keys settled for that channel, and the few that are open
(embargoed, resting, uncertain) with the time they ripen. A run reads each head
and the journal after the mark (``Store.list_after``: only the partitions after
it); when nothing is new and nothing ripened it stops there. Otherwise it opens
only the decisions of the articles the new entries and the ripe keys name.
Without a head, and once a day, the channel is swept instead: every decision
name is listed and the unsettled ones opened, which also catches anything the
journal cannot show. Losing the index costs one slow run; it can never cause a
double post, because the ledger claim, not the index, guards every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from foreigndesk.core import records
from foreigndesk.core.decisions import (
    JOURNAL,
    Decision,
    journal_entry,
    journal_mark,
    parse_decision_key,
)
from foreigndesk.core.revisions import Registered, article_key, revision_order
from foreigndesk.core.settings import Settings
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger
from foreigndesk.publish.due_index import JOURNAL_SETTLE, ChannelIndex
from foreigndesk.publish.policies import RetryPolicy
from foreigndesk.publish.publications import (
    embargo_of,
    key_of,
    latest_approvals_of,
    load_article,
)
from foreigndesk.publish.takedown_ledger import is_withdrawn


@dataclass(frozen=True)
class Task:
    """One unit the run will act on, with everything needed to build its publication."""

    unit: ledger.Delivery
    decision_key: str
    decision: Decision
    article: Registered
    state: ledger.DeliveryState


@dataclass
class ChannelPlan:
    tasks: list[Task] = field(default_factory=list)
    index: ChannelIndex = field(default_factory=ChannelIndex)
    quiet: bool = True
    settled_changed: bool = False
    waiting: list[dict[str, str]] = field(default_factory=list)
    #: Full sweep this run (no head, an unreadable one, or the daily reconciliation).
    sweep: bool = False
    #: Where this run reads the journal from, and the entries after it not yet taken.
    start: str = ""
    entries: list[str] = field(default_factory=list)


class Planner:
    """Works out, per channel, which units are due — opening as few records as it can.

    A run reads each channel's head and the journal after the channels' marks
    (``Store.list_after``). Nothing new and nothing ripe: the channel is quiet and
    nothing else is read. Otherwise only the articles named by new entries or by
    ripe open keys are looked at (``decisions/<article>/``). Without a usable head,
    or once a day, the channel is swept: every decision name is listed and the
    articles with unsettled keys are opened, as a first run must.
    """

    def __init__(self, store: Store, settings: Settings, now: datetime, policy: RetryPolicy) -> None:
        self.store = store
        self.settings = settings
        self.now = now
        self.policy = policy
        self._articles: dict[tuple[str, str], Registered] = {}
        self._decisions: dict[str, Decision] = {}
        self._folders: dict[str, list[str]] = {}
        self._listed_all = False
        self.errors: list[str] = []

    def article(self, article_id: str, revision: str) -> Registered:
        slot = (article_id, revision)
        if slot not in self._articles:
            self._articles[slot] = load_article(self.store, article_id, revision)
        return self._articles[slot]

    def revision_rank(self, article_id: str, revision: str) -> tuple:
        """Where a revision stands among its article's: registration order (core.revisions.revision_order)."""
        return revision_order(self.store, self.article(article_id, revision))

    def heads(self, channels: Sequence[str]) -> dict[str, ChannelPlan]:
        """Each channel's head and the journal after its mark: enough to tell whether it is quiet."""
        plans = {channel: ChannelPlan(index=ChannelIndex.load_head(self.store, channel)) for channel in channels}
        if not plans:
            return plans
        settle_mark = journal_mark(self.now - JOURNAL_SETTLE)
        for plan in plans.values():
            plan.sweep = plan.index.needs_sweep(self.now)
            plan.start = settle_mark if plan.sweep else plan.index.mark
        # The journal's tail is read before any decision is listed: a decision written in between is
        # then either in the listing, or its entry is new to the next run.
        tail = list(self.store.list_after(JOURNAL, min(plan.start for plan in plans.values())))
        for plan in plans.values():
            taken = set() if plan.sweep else plan.index.taken
            plan.entries = [key for key in tail if key > plan.start and key not in taken]
            plan.quiet = not plan.sweep and not plan.entries and not plan.index.ripe(self.now)
        return plans

    def plan(self, channels: Sequence[str]) -> dict[str, ChannelPlan]:
        plans = self.heads(channels)
        if not plans:
            return plans
        settle_mark = journal_mark(self.now - JOURNAL_SETTLE)
        for channel in channels:
            plan = plans[channel]
            if plan.quiet:
                continue
            articles = self._swept(channel, plan) if plan.sweep else self._named(plan)
            self._plan_articles(channel, plan, articles)
            self._advance(channel, plan, settle_mark)
        return plans

    def _folder(self, article_id: str) -> list[str]:
        if article_id not in self._folders:
            self._folders[article_id] = [key for key in self.store.list(f"decisions/{article_id}/")
                                         if key.endswith(".json")]
        return self._folders[article_id]

    def _list_all(self) -> None:
        if not self._listed_all:
            self._folders.clear()
            for key in self.store.list("decisions/"):
                ref = parse_decision_key(key)
                if ref is not None:
                    self._folders.setdefault(ref.article_id, []).append(key)
            self._listed_all = True

    def _swept(self, channel: str, plan: ChannelPlan) -> list[str]:
        """A full sweep: the articles with a key neither settled nor waiting for a later time."""
        self._list_all()
        index = plan.index
        settled = index.load_settled(self.store, channel)
        ripe = set(index.ripe(self.now))
        return sorted(article_id for article_id, keys in self._folders.items()
                      if any(key not in settled and (key not in index.open or key in ripe) for key in keys))

    def _named(self, plan: ChannelPlan) -> list[str]:
        """The fast path's articles: those named by new journal entries and by ripe open keys."""
        named = {entry.article_id for entry in map(journal_entry, plan.entries) if entry is not None}
        named |= {ref.article_id for ref in map(parse_decision_key, plan.index.ripe(self.now)) if ref is not None}
        return sorted(named)

    def _decisions_of(self, keys: list[str]) -> list[Decision]:
        """Each decision opened once per run, whichever channels plan it."""
        for key in keys:
            if key not in self._decisions:
                self._decisions[key] = records.load(self.store, Decision, key)
        return [self._decisions[key] for key in keys]

    def _plan_articles(self, channel: str, plan: ChannelPlan, articles: list[str]) -> None:
        index = plan.index
        settled = index.load_settled(self.store, channel)
        for article_id in articles:
            keys = self._folder(article_id)
            for key in keys:
                index.open.pop(key, None)
            try:
                latest = latest_approvals_of(self._decisions_of(keys), self.revision_rank)
            except (KeyError, ValueError, TypeError) as error:
                self.errors.append(f"{channel}: decisions of {article_id} could not be read ({error}); "
                                   "they are left for the next run")
                index.open.update({key: "" for key in keys})
                continue
            latest_keys = {key_of(decision) for decision in latest}
            for key in keys:
                if key not in latest_keys and key not in settled:
                    settled.add(key)
                    plan.settled_changed = True
            for decision in sorted(latest, key=lambda d: d.decided_at):
                self._plan_unit(channel, plan, decision)

    def _advance(self, channel: str, plan: ChannelPlan, settle_mark: str) -> None:
        """Move the channel's journal mark to trail the clock by JOURNAL_SETTLE; remember what it took after it.

        An entry is taken once its decision has been seen. One whose decision is not
        there (a writer between entry and record, or one that crashed there) is looked
        at again each run until the mark passes it, an hour on; then it is forgotten.
        """
        index = plan.index
        taken = set() if plan.sweep else set(index.taken)
        for key in plan.entries:
            entry = journal_entry(key)
            if entry is None:
                self.errors.append(f"{channel}: {key} is not a journal entry the review stage writes; ignored")
                taken.add(key)
            elif entry.decision in self._folders.get(entry.article_id, ()):
                taken.add(key)
        index.mark = max(plan.start, settle_mark)
        index.taken = {key for key in taken if key > index.mark}
        if plan.sweep:
            index.swept_at = self.now.isoformat()

    def _wait(self, plan: ChannelPlan, key: str, unit: ledger.Delivery, until: str, reason: str) -> None:
        plan.index.open[key] = until
        plan.waiting.append({**unit_dict(unit), "until": until, "reason": reason})

    def _plan_unit(self, channel: str, plan: ChannelPlan, decision: Decision) -> None:
        key = key_of(decision)
        unit = ledger.Delivery(channel, decision.article_id, decision.language, decision.revision)
        if is_withdrawn(self.store, decision.article_id, decision.language):  # off every channel, for good
            plan.index.settled.add(key)  # type: ignore[union-attr]
            plan.settled_changed = True
            return
        try:
            article = self.article(decision.article_id, decision.revision)
            embargo = embargo_of(article, self.settings.timezone)
        except (KeyError, ValueError, TypeError) as error:
            self.errors.append(f"{channel}: article record {article_key(decision.article_id, decision.revision)} "
                               f"is unreadable or missing ({error}); the approval waits for it")
            plan.index.open[key] = ""
            return
        if embargo is not None and embargo > self.now:
            self._wait(plan, key, unit, embargo.astimezone(timezone.utc).isoformat(), "embargoed until publish_at")
            return
        state = ledger.delivery_state(self.store, unit)
        if state.state in (ledger.PUBLISHED, ledger.FAILED, ledger.STUCK):
            plan.index.settled.add(key)  # type: ignore[union-attr]
            plan.settled_changed = True
            return
        if state.state in (ledger.RETRY, ledger.UNCERTAIN) and state.not_before and \
                datetime.fromisoformat(state.not_before) > self.now:
            self._wait(plan, key, unit, state.not_before, state.reason)
            return
        if state.state == ledger.UNCERTAIN and state.in_flight:
            lease_end = datetime.fromisoformat(state.last_claimed_at) + timedelta(seconds=self.policy.claim_lease_seconds)
            if lease_end > self.now:
                self._wait(plan, key, unit, lease_end.isoformat(), "another run holds the claim")
                return
        plan.tasks.append(Task(unit, key, decision, article, state))


def unit_dict(unit: ledger.Delivery) -> dict[str, str]:
    return {"channel": unit.channel, "article_id": unit.article_id, "revision": unit.revision, "language": unit.language}
