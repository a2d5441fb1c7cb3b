"""The publish stage: approved translations out to every channel, each exactly once.

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

import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from foreigndesk import ledger, records
from foreigndesk.channels import (
    CHANNEL_NAMES,
    Ambiguous,
    Catalogue,
    Channel,
    ChannelError,
    Entry,
    NotSent,
    PermanentError,
    Publication,
    RateLimited,
)
from foreigndesk.intake import Registered, article_key
from foreigndesk.review import JOURNAL, OUTLET_NAMES, Decision, all_decisions, decision_key, journal_entry, journal_mark
from foreigndesk.settings import Settings
from foreigndesk.store import Store

if TYPE_CHECKING:
    import requests

    from foreigndesk.channels.fanpage import FanpageConfig
    from foreigndesk.channels.portal_push import PushConfig



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


@dataclass
class PublishResult:
    dry_run: bool = False
    published: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    waiting: list[dict[str, str]] = field(default_factory=list)
    due: list[dict[str, str]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Task:
    """One unit the run will act on, with everything needed to build its publication."""

    unit: ledger.Unit
    decision_key: str
    decision: Decision
    article: ArticleInfo
    state: ledger.UnitState


# ---------------------------------------------------------------- approvals


def latest_approvals_of(decisions: Iterable[Decision]) -> list[Decision]:
    """Per (article, language), the most recent approved decision; others never appear."""
    latest: dict[tuple[str, str], Decision] = {}
    for decision in decisions:
        if not decision.approved:
            continue
        key = (decision.article_id, decision.language)
        if key not in latest or decision.decided_at > latest[key].decided_at:
            latest[key] = decision
    return list(latest.values())


def latest_approvals(store: Store) -> list[Decision]:
    """Per (article, language), the most recent approved decision in the whole store."""
    return latest_approvals_of(all_decisions(store))


def key_of(decision: Decision) -> str:
    return decision_key(decision.article_id, decision.revision, decision.language, decision.attempt)


@dataclass(frozen=True)
class ArticleInfo:
    """An intake record plus its raw fields, so fields intake adds later (``image``,
    ``image_caption``, ``publish_at``, ``flags``) are honoured whether or not this
    build's ``Registered`` knows them yet."""

    record: Registered
    raw: dict

    def get(self, name: str, default: object = "") -> object:
        value = getattr(self.record, name, None)
        return self.raw.get(name, default) if value is None else value


def load_article(store: Store, article_id: str, revision: str) -> ArticleInfo:
    data = store.read(article_key(article_id, revision))
    return ArticleInfo(records.decode(Registered, data), json.loads(data))


def _parse_time(value: str, zone: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def embargo_of(article: ArticleInfo, zone: str) -> datetime | None:
    """The article's ``publish_at`` embargo (naive times are the desk's timezone)."""
    value = article.get("publish_at", "") or ""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))
    return _parse_time(str(value), zone) if str(value).strip() else None


def _image_of(article: ArticleInfo) -> tuple[str, str]:
    image = article.get("image", "") or ""
    caption = article.get("image_caption", "") or ""
    if isinstance(image, dict):
        caption = caption or str(image.get("caption") or "")
        image = image.get("url") or image.get("src") or ""
    return str(image), str(caption)


def publication(decision: Decision, info: ArticleInfo, site_url: str, first: str, published: str) -> Publication:
    """What every channel shows for one approved translation."""
    from foreigndesk.channels.web import page_url

    image, caption = _image_of(info)
    article = info.record
    outlet = OUTLET_NAMES.get(article.outlet, article.outlet)
    return Publication(
        article_id=decision.article_id, revision=decision.revision, language=decision.language,
        title=decision.title, summary=decision.summary, body=decision.body, outlet=outlet,
        url=page_url(site_url, decision.language, decision.article_id),
        guid=f"{decision.article_id}:{decision.language}", first_published_at=first, published_at=published,
        source_url=article.source_url, image=image, image_caption=caption,
        author=str(info.get("author", "") or outlet), demo_model=decision.demo_model,
    )


# ---------------------------------------------------------------- the due index

#: Journal entries younger than this are still settling: a writer stamps its entry a moment before the
#: entry can be listed (longer on a stalled worker or a skewed clock) and writes the decision a moment
#: after it. So the mark trails the clock by this much (entries after it already taken are remembered
#: in the head), and an entry whose decision is not there yet is looked at again until the mark passes
#: it; by then it is a crash's leftover, and ignored.
JOURNAL_SETTLE = timedelta(hours=1)
#: How often each channel reconciles against the full listing of decisions, to catch what the journal
#: cannot show (a decision restored from a backup or written by hand, an entry later than JOURNAL_SETTLE).
#: Linear in the archive, once a day; every other run reads only the journal's tail.
FULL_SWEEP_EVERY = timedelta(hours=24)


def _head_key(channel: str) -> str:
    return f"publish/index/{channel}/head.json"


def _settled_key(channel: str) -> str:
    return f"publish/index/{channel}/settled.json"


def _read_json(store: Store, key: str) -> object | None:
    try:
        return json.loads(store.read(key))
    except (KeyError, ValueError):
        return None


@dataclass
class ChannelIndex:
    """One channel's due index: a cache of what the records say, rebuilt when absent.

    ``mark`` and ``taken`` say how far the channel has read the decision journal:
    every entry at or before the mark, and the entries after it named in ``taken``.
    ``open`` holds the decision keys waiting for a time (embargo, Retry-After, a
    claim's lease; "" = next run); ``settled`` the keys done for this channel.
    """

    mark: str = ""
    taken: set[str] = field(default_factory=set)
    swept_at: str = ""
    open: dict[str, str] = field(default_factory=dict)
    settled: set[str] | None = None  # loaded only on the slow path

    @classmethod
    def load_head(cls, store: Store, channel: str) -> "ChannelIndex":
        """The head, or an empty index (a full sweep) when it is absent, unreadable or of an older form."""
        raw = _read_json(store, _head_key(channel))
        if not isinstance(raw, dict) or not raw.get("mark") or not raw.get("swept_at"):
            return cls()
        try:
            return cls(mark=str(raw["mark"]), taken=set(raw.get("taken") or ()), swept_at=str(raw["swept_at"]),
                       open=dict(raw.get("open") or {}))
        except (TypeError, ValueError):
            return cls()

    def needs_sweep(self, now: datetime) -> bool:
        try:
            swept = datetime.fromisoformat(self.swept_at)
        except ValueError:
            return True
        return not self.mark or swept.tzinfo is None or swept + FULL_SWEEP_EVERY <= now

    def load_settled(self, store: Store, channel: str) -> set[str]:
        if self.settled is None:
            raw = _read_json(store, _settled_key(channel))
            self.settled = set(raw) if isinstance(raw, list) else set()
        return self.settled

    def ripe(self, now: datetime) -> list[str]:
        return [key for key, when in self.open.items() if not when or datetime.fromisoformat(when) <= now]

    def save(self, store: Store, channel: str, settled_changed: bool) -> None:
        if settled_changed and self.settled is not None:
            store.replace(_settled_key(channel), json.dumps(sorted(self.settled)).encode())
        head = {"mark": self.mark, "taken": sorted(self.taken), "swept_at": self.swept_at,
                "open": dict(sorted(self.open.items()))}
        store.replace(_head_key(channel), json.dumps(head, indent=1).encode())


# ---------------------------------------------------------------- planning


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
        self._articles: dict[tuple[str, str], ArticleInfo] = {}
        self._decisions: dict[str, Decision] = {}
        self._folders: dict[str, list[str]] = {}
        self._listed_all = False
        self.errors: list[str] = []

    def article(self, article_id: str, revision: str) -> ArticleInfo:
        slot = (article_id, revision)
        if slot not in self._articles:
            self._articles[slot] = load_article(self.store, article_id, revision)
        return self._articles[slot]

    def plan(self, channels: Sequence[str]) -> dict[str, ChannelPlan]:
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
                if key.endswith(".json"):
                    self._folders.setdefault(key.split("/")[1], []).append(key)
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
        named |= {key.split("/")[1] for key in plan.index.ripe(self.now)}
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
                latest = latest_approvals_of(self._decisions_of(keys))
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

    def _wait(self, plan: ChannelPlan, key: str, unit: ledger.Unit, until: str, reason: str) -> None:
        plan.index.open[key] = until
        plan.waiting.append({**_unit_dict(unit), "until": until, "reason": reason})

    def _plan_unit(self, channel: str, plan: ChannelPlan, decision: Decision) -> None:
        key = key_of(decision)
        unit = ledger.Unit(channel, decision.article_id, decision.language, decision.revision)
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
        state = ledger.unit_state(self.store, unit)
        if state.state in (ledger.PUBLISHED, ledger.FAILED):
            plan.index.settled.add(key)  # type: ignore[union-attr]
            plan.settled_changed = True
            return
        if state.state == ledger.RETRY and state.not_before and datetime.fromisoformat(state.not_before) > self.now:
            self._wait(plan, key, unit, state.not_before, state.reason)
            return
        if state.state == ledger.UNCERTAIN and state.in_flight:
            lease_end = datetime.fromisoformat(state.last_claimed_at) + timedelta(seconds=self.policy.claim_lease_seconds)
            if lease_end > self.now:
                self._wait(plan, key, unit, lease_end.isoformat(), "another run holds the claim")
                return
        plan.tasks.append(Task(unit, key, decision, article, state))


def _unit_dict(unit: ledger.Unit) -> dict[str, str]:
    return {"channel": unit.channel, "article_id": unit.article_id, "revision": unit.revision, "language": unit.language}


# ---------------------------------------------------------------- running


class Runner:
    """Acts on one channel's due units under the ledger's exactly-once rules."""

    def __init__(self, store: Store, settings: Settings, channel: Channel, now: datetime, policy: RetryPolicy,
                 sleep: Callable[[float], None], run_id: str, result: PublishResult) -> None:
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
        self.result.published.append({**_unit_dict(task.unit), "remote_id": proof.remote_id})

    def _failed(self, task: Task, reason: str) -> None:
        self.settled.append(task.decision_key)
        self.result.failed.append({**_unit_dict(task.unit), "reason": reason})

    def _wait(self, task: Task, until: str, reason: str) -> None:
        self.open[task.decision_key] = until
        self.result.waiting.append({**_unit_dict(task.unit), "until": until, "reason": reason})

    def _rest(self, until: str) -> None:
        self.resting_until = until

    def run(self, tasks: Sequence[Task]) -> None:
        for number, task in enumerate(tasks):
            if self.resting_until is not None:
                self._wait(task, self.resting_until, f"{self.channel.name} is resting after an earlier failure")
                continue
            if self.channel.remote and number >= self.policy.max_remote_items_per_run:
                self._wait(task, "", f"more than {self.policy.max_remote_items_per_run} items due: sent next run")
                continue
            self._unit(task)
        if self.to_flush:
            self._flush()

    def _look(self, task: Task, item: Publication, previous_id: str | None, attempt: int) -> bool:
        """Ask the channel whether the item is out; True when recorded as published. Raises ChannelError."""
        remote_id = self.channel.find(item, previous_id)
        if remote_id:
            if self.channel.remote:
                self._done(task, item, remote_id, attempt, found=True)
            else:
                self.to_flush.append((task, item, remote_id, attempt))
            return True
        return False

    def _unit(self, task: Task) -> None:
        unit = task.unit
        previous = ledger.previous_publication(self.store, unit)
        previous_id = previous.remote_id if previous else None
        item = self._publication(task, previous)
        attempt = task.state.attempts
        unclear = task.state.unclear_attempts
        uncertain = task.state.state == ledger.UNCERTAIN
        for number in range(self.policy.attempts_per_run):
            if uncertain:
                try:
                    if self._look(task, item, previous_id, attempt):
                        return
                except ChannelError as error:
                    self._wait(task, "", f"could not check whether attempt {attempt} went out: {error}")
                    self._rest("")
                    return
            if unclear >= ledger.MAX_ATTEMPTS:
                self._failed(task, f"gave up after {ledger.MAX_ATTEMPTS} attempts with no clear outcome")
                return
            attempt += 1
            if not ledger.claim(self.store, unit, attempt, task.decision_key, self.run_id):
                self._wait(task, "", f"attempt {attempt} is claimed by another run")
                return
            try:
                remote_id = self.channel.send(item, previous_id)
            except PermanentError as error:
                ledger.record_failure(self.store, unit, attempt, ledger.PERMANENT, str(error))
                self._failed(task, str(error))
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
                self._rest("")
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
        if uncertain:
            try:
                if self._look(task, item, previous_id, attempt):
                    return
            except ChannelError:
                pass
        self._wait(task, "", f"no clear outcome after {self.policy.attempts_per_run} attempts this run")

    def _flush(self) -> None:
        """Rewrite the channel's whole outputs, then — only then — record the items as published."""
        changed = {(item.article_id, item.language): item for _task, item, _rid, _n in self.to_flush}
        proofs = {(p.article_id, p.language): p for p in ledger.published_records(self.store, self.channel.name)}
        entries = [
            Entry(p.article_id, p.revision, p.language, p.title, p.summary, p.url, p.first_published_at, p.published_at)
            for slot, p in proofs.items() if slot not in changed
        ] + [
            Entry(i.article_id, i.revision, i.language, i.title, i.summary, i.url, i.first_published_at, i.published_at)
            for i in changed.values()
        ]

        def load(entry: Entry) -> Publication:
            slot = (entry.article_id, entry.language)
            if slot in changed:
                return changed[slot]
            proof = proofs[slot]
            decision = records.load(self.store, Decision, proof.decision)
            article = load_article(self.store, proof.article_id, proof.revision)
            return publication(decision, article, self.settings.site_url, proof.first_published_at, proof.published_at)

        self.result.written += self.channel.flush(Catalogue(entries, list(changed.values()), load))
        for task, item, remote_id, attempt in self.to_flush:
            self._done(task, item, remote_id, attempt)


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
            result.due += [{**_unit_dict(task.unit), "state": task.state.state} for task in plan.tasks]
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
    from foreigndesk.channels.fanpage import FanpageChannel
    from foreigndesk.channels.portal_feed import PortalFeedChannel
    from foreigndesk.channels.portal_push import PortalPushChannel
    from foreigndesk.channels.web import WebChannel

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
