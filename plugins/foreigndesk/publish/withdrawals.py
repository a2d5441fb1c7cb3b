"""Withdrawing an article: off every channel, exactly once, recorded and audited.

``foreigndesk withdraw ARTICLE [--lang L] --reason TEXT`` (and the board's Withdraw) calls
:func:`withdraw`. Per language it writes the request first, then per channel claims
each attempt before calling and records its outcome — the records and the state
derived from them are the takedown ledger's (:mod:`foreigndesk.publish.takedown_ledger`).

What each channel does: the feeds are rebuilt without the item; the web page is
replaced by a short withdrawal notice at the same URL (the other languages' pages
lose their alternate link to it, the indexes lose the entry); the fanpage post is
deleted (Graph ``DELETE /{post-id}``); the portal is told (``POST
{endpoint}/withdrawals``, docs/portal-push.openapi.yaml). The reason stays in the
desk's records: readers and the portal are told only that it was withdrawn.

A publish run and a withdrawal never miss each other: the withdrawal writes its
request, then reads the ledger; a publish run writes its claim, then looks for a
request (:mod:`foreigndesk.publish.runner`). Whichever comes second sees the
other: a send claimed before the request is either finished and then taken down,
or still in flight, and then the withdrawal says so and is run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

from foreigndesk.core import records
from foreigndesk.core.decisions import Decision
from foreigndesk.core.revisions import Registered
from foreigndesk.core.store import Store
from foreigndesk.publish import ledger, publications
from foreigndesk.publish.channels import (
    CHANNEL_NAMES,
    Ambiguous,
    Catalogue,
    ChannelError,
    NotSent,
    PermanentError,
)
from foreigndesk.publish.policies import RetryPolicy
from foreigndesk.publish.publications import load_article, publication
from foreigndesk.publish.receipts import Receipts
from foreigndesk.publish.takedown_ledger import (
    DONE,
    FAILED,
    PENDING,
    TakedownClaim,
    TakedownDone,
    TakedownFailure,
    TakedownState,
    Withdrawal,
    channel_prefix,
    request_key,
    takedown_state,
    withdrawn_slots,
)


@dataclass(frozen=True)
class Target:
    """What a channel is asked to take down."""

    article_id: str
    language: str
    guid: str
    url: str
    remote_id: str
    withdrawn_at: str


class Withdrawable(Protocol):
    """What a channel adds to :class:`~foreigndesk.publish.channels.Channel` to take an item down.

    ``withdraw`` raises the same :class:`ChannelError` kinds as ``send``; local channels
    rebuild their outputs from ``catalogue`` (what is published, the withdrawn left out).
    ``is_withdrawn`` is the existence check asked before a retry after an unclear outcome.
    """

    name: str
    remote: bool

    def withdraw(self, target: Target, catalogue: Catalogue) -> str: ...

    def is_withdrawn(self, target: Target) -> bool: ...


@dataclass
class WithdrawResult:
    article_id: str
    requests: list[dict[str, str]] = field(default_factory=list)
    done: list[dict[str, str]] = field(default_factory=list)
    pending: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.pending and not self.failed

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "complete": self.complete}


def _now() -> str:
    return records.now_utc()


def ledger_slots(store: Store, article_id: str) -> set[tuple[str, str]]:
    """(channel, language) the ledger holds anything for (published, or claimed): one listing per channel."""
    slots = set()
    for channel in CHANNEL_NAMES:
        for key in store.list(f"ledger/{channel}/{article_id}/"):
            slots.add((channel, key.split("/")[3]))
    return slots


def _newest_proof(store: Store, channel: str, article_id: str, language: str) -> ledger.Published | None:
    found: ledger.Published | None = None
    for key in store.list(f"ledger/{channel}/{article_id}/{language}/"):
        if key.endswith("/published.json"):
            proof = records.load(store, ledger.Published, key)
            if found is None or proof.published_at > found.published_at:
                found = proof
    return found


def _open_sends(store: Store, channel: str, article_id: str, language: str) -> list[ledger.DeliveryState]:
    """Units of this slot on this channel with a claim and no clear outcome."""
    grouped: dict[ledger.Delivery, list[str]] = {}
    for key in store.list(f"ledger/{channel}/{article_id}/{language}/"):
        unit = ledger.delivery_of(key)
        if unit is not None:
            grouped.setdefault(unit, []).append(key)
    states = [ledger.derive(unit, keys, lambda kind, key: records.load(store, kind, key))
              for unit, keys in grouped.items()]
    return [state for state in states if state.state == ledger.UNCERTAIN]


def _unsent_lookup(store: Store, channel: Withdrawable, open_sends: list[ledger.DeliveryState], site_url: str,
                   article_id: str, language: str) -> str:
    """An abandoned send (claim, no outcome, lease over): ask the channel whether it went out; its id or ''."""
    find = getattr(channel, "find", None)
    if find is None:
        return ""
    for state in open_sends:
        decision_key = records.load(store, ledger.AttemptClaim,
                                    f"ledger/{state.channel}/{article_id}/{language}/{state.revision}/"
                                    f"claim-{state.attempts:03d}.json").decision
        decision = records.load(store, Decision, decision_key)
        item = publication(decision, load_article(store, article_id, state.revision), site_url, "", "")
        unit = ledger.Delivery(state.channel, article_id, language, state.revision)  # a two-step channel (Zalo)
        kept = {"receipts": Receipts(store, unit, state.attempts)} if getattr(channel, "keeps_receipts", False) else {}
        remote_id = find(item, None, **kept)  # reads the token its first step left: see publish.receipts
        if remote_id:
            return str(remote_id)
    return ""


def withdraw(
    store: Store,
    site_url: str,
    channels: Sequence[Withdrawable],
    article_id: str,
    *,
    who: str,
    reason: str,
    languages: Sequence[str] = (),
    policy: RetryPolicy | None = None,
    run_id: str = "",
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> WithdrawResult:
    """Take ``article_id`` (all its languages, or ``languages``) off every channel; safe to run again.

    A language's request is written once (a second call keeps the first who/when/why
    and finishes what is left). Per channel, an attempt is claimed before the call;
    an unclear outcome is checked before any new call. Channels the ledger knows for
    the article but that are not configured here are reported pending.
    """
    if not reason.strip():
        raise ValueError("a withdrawal needs a reason (--reason TEXT): it is kept in the audit record")
    if not who.strip():
        raise ValueError("a withdrawal needs the name of who asks for it")
    policy = policy or RetryPolicy()
    result = WithdrawResult(article_id)
    chosen = sorted(set(languages) or _all_languages(store, article_id))
    if not chosen:
        raise ValueError(f"article {article_id!r} is not registered and nothing of it was published: nothing to withdraw")
    for language in chosen:
        key = request_key(article_id, language)
        records.write_once(store, key, Withdrawal(article_id, language, reason.strip(), who.strip(), _now()))
        request = records.load(store, Withdrawal, key)
        result.requests.append(asdict(request))
    left_out = withdrawn_slots(store)
    configured = {channel.name for channel in channels}
    known = ledger_slots(store, article_id)
    for missing in sorted({channel for channel, _ in known} - configured):
        for language in chosen:
            if (missing, language) in known and takedown_state(store, article_id, language, missing).state != DONE:
                result.pending.append({"channel": missing, "language": language,
                                       "reason": "published there, but the channel is not configured here"})
    for channel in channels:
        catalogue = publications.catalogue(store, site_url, channel.name, left_out) if not channel.remote else None
        for language in chosen:
            _take_down(store, site_url, channel, catalogue, article_id, language, policy, run_id, now, result)
    return result


def _all_languages(store: Store, article_id: str) -> set[str]:
    languages = {language for _, language in ledger_slots(store, article_id)}
    for key in store.list(f"articles/{article_id}/"):
        if key.endswith("/article.json"):
            languages |= set(records.load(store, Registered, key).languages)
    return languages


def _record_done(store: Store, article_id: str, language: str, channel: str, attempt: int, remote_id: str,
                 note: str) -> TakedownDone:
    proof = TakedownDone(article_id, language, channel, attempt, remote_id, _now(), note)
    if not records.write_once(store, channel_prefix(article_id, language, channel) + "done.json", proof):
        return records.load(store, TakedownDone, channel_prefix(article_id, language, channel) + "done.json")
    return proof


def _take_down(store: Store, site_url: str, channel: Withdrawable, catalogue: Catalogue | None, article_id: str,
               language: str, policy: RetryPolicy, run_id: str, now: Callable[[], datetime],
               result: WithdrawResult) -> None:
    row = {"channel": channel.name, "language": language}
    state = takedown_state(store, article_id, language, channel.name)
    if state.state == DONE:
        result.done.append({**row, "remote_id": state.remote_id, "note": state.reason})
        return
    if state.state == FAILED:  # running withdraw again is the operator's retry: look first, then try again
        state = TakedownState(state.channel, PENDING, state.attempts, state.reason, uncertain=True)
    sends = _open_sends(store, channel.name, article_id, language)
    moment = now()
    in_flight = [s for s in sends if s.in_flight and s.last_claimed_at and
                 datetime.fromisoformat(s.last_claimed_at) + timedelta(seconds=policy.claim_lease_seconds) > moment]
    if in_flight:
        result.pending.append({**row, "reason": f"a publish run is sending revision {in_flight[0].revision} right "
                               "now; run withdraw again when it has finished"})
        return
    proof = _newest_proof(store, channel.name, article_id, language)
    remote_id = proof.remote_id if proof else ""
    if channel.remote and not remote_id and sends:
        try:
            remote_id = _unsent_lookup(store, channel, sends, site_url, article_id, language)
        except ChannelError as error:
            result.pending.append({**row, "reason": f"could not check an unfinished send: {error}"})
            return
    never_out = not remote_id if channel.remote else (proof is None and not sends)
    if never_out:
        done = _record_done(store, article_id, language, channel.name, state.attempts, "", "never published here")
        result.done.append({**row, "remote_id": "", "note": done.note})
        return
    target = Target(article_id, language, f"{article_id}:{language}",
                    proof.url if proof else f"{site_url}/{language}/{article_id}.html", remote_id,
                    records.load(store, Withdrawal, request_key(article_id, language)).requested_at)
    _attempts(store, channel, catalogue, target, state, policy, run_id, result, row)


def _attempts(store: Store, channel: Withdrawable, catalogue: Catalogue | None, target: Target,
              state: TakedownState, policy: RetryPolicy, run_id: str, result: WithdrawResult,
              row: dict[str, str]) -> None:
    prefix = channel_prefix(target.article_id, target.language, channel.name)
    attempt, uncertain = state.attempts, state.uncertain
    for _number in range(policy.attempts_per_run):
        if uncertain and channel.remote:
            try:
                if channel.is_withdrawn(target):
                    done = _record_done(store, target.article_id, target.language, channel.name, attempt,
                                        target.remote_id, "found gone after an unclear outcome")
                    result.done.append({**row, "remote_id": done.remote_id, "note": done.note})
                    return
            except ChannelError as error:
                result.pending.append({**row, "reason": f"could not check attempt {attempt}: {error}"})
                return
        attempt += 1
        claimed = records.write_once(store, f"{prefix}claim-{attempt:03d}.json", TakedownClaim(
            target.article_id, target.language, channel.name, attempt, _now(), run_id))
        if not claimed:
            result.pending.append({**row, "reason": f"attempt {attempt} is claimed by another run"})
            return
        try:
            note = channel.withdraw(target, catalogue)  # type: ignore[arg-type]
        except PermanentError as error:
            _fail(store, prefix, target, channel.name, attempt, ledger.PERMANENT, str(error))
            result.failed.append({**row, "reason": str(error)})
            return
        except NotSent as error:
            _fail(store, prefix, target, channel.name, attempt, ledger.NOT_SENT, str(error))
            result.pending.append({**row, "reason": str(error)})
            return
        except Ambiguous as error:
            _fail(store, prefix, target, channel.name, attempt, ledger.AMBIGUOUS, str(error))
            uncertain = True
            continue
        done = _record_done(store, target.article_id, target.language, channel.name, attempt, target.remote_id,
                            note or "")
        result.done.append({**row, "remote_id": done.remote_id, "note": done.note})
        return
    result.pending.append({**row, "reason": f"no clear outcome after {policy.attempts_per_run} attempts; "
                           "run withdraw again (it checks before calling)"})


def _fail(store: Store, prefix: str, target: Target, channel: str, attempt: int, kind: str, reason: str) -> None:
    records.write_once(store, f"{prefix}failed-{attempt:03d}.json", TakedownFailure(
        target.article_id, target.language, channel, attempt, kind, reason, _now()))
