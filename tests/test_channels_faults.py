"""Faults on the remote channels: never a double post, never a lost post, never a retry storm.

Each test runs the real channel against a loopback server (tests/channel_servers.py)
that misbehaves on cue, then runs publish again as the schedule would, and
checks the servers' state: every approved item exactly once, every remote id
recorded, permanent refusals recorded with their reason and left alone.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from channel_rigs import REMOTE, make_rig
from channel_servers import CHANNEL_WIDE_FAULTS
from desk_records import approved_article, put_article, put_decision
from foreigndesk.core import records
from foreigndesk.publish import ledger

AMBIGUOUS_FAULTS = ("500_after_post", "timeout_after_post", "reset_after_post", "malformed_after_post")


@pytest.fixture(params=REMOTE)
def rig(request, tmp_path):
    rig = make_rig(request.param, tmp_path)
    yield rig
    rig.close()


def _writes(rig) -> int:
    return rig.server.writes()


def _proofs(rig) -> list[ledger.Published]:
    return [records.load(rig.store, ledger.Published, key) for key in rig.store.list(f"ledger/{rig.name}/")
            if key.endswith("/published.json")]


@pytest.mark.parametrize("fault", AMBIGUOUS_FAULTS)
def test_an_ambiguous_failure_is_checked_before_any_retry(rig, fault):
    approved_article(rig.store, "a1", languages=("en",))
    rig.server.faults.append(fault)
    result = rig.run()
    assert result.errors == []
    assert [(p["article_id"], p["language"]) for p in result.published] == [("a1", "en")]
    assert _writes(rig) == 1, "the post was made once; the channel found it instead of posting again"
    assert rig.copies() == {("a1", "en"): 1}
    [proof] = _proofs(rig)
    assert proof.found_after_failure and proof.remote_id == rig.observed()[("a1", "en")][0][0]
    [failure_key] = [k for k in rig.store.list(f"ledger/{rig.name}/") if "/failed-" in k]
    assert records.load(rig.store, ledger.Failure, failure_key).kind == ledger.AMBIGUOUS


def test_a_500_before_posting_is_retried_after_looking(rig):
    approved_article(rig.store, "a1", languages=("en",))
    rig.server.faults.append("500_before_post")
    result = rig.run()
    assert [p["remote_id"] for p in result.published] == [rig.observed()[("a1", "en")][0][0]]
    assert _writes(rig) == 2 and rig.copies() == {("a1", "en"): 1}
    gets = [path for method, path in rig.server.requests if method == "GET"]
    assert gets, "it looked before posting again"


def test_429_honours_retry_after(rig):
    approved_article(rig.store, "a1", languages=("en",))
    rig.server.faults.append("429")
    result = rig.run()
    assert 1.0 in rig.sleeps, "waited the Retry-After the server asked for"
    assert [(p["article_id"], p["language"]) for p in result.published] == [("a1", "en")]
    assert rig.copies() == {("a1", "en"): 1}


def test_a_long_retry_after_rests_the_channel_until_then(rig):
    approved_article(rig.store, "a1")
    rig.server.faults.append("429")
    rig.server.retry_after = "120"
    start = datetime.now(timezone.utc)
    result = rig.run(now=start)
    assert result.published == [] and rig.sleeps == []
    assert _writes(rig) == 1, "after a 429 the channel is not called again in this run"
    assert len(result.waiting) == 3
    assert {w["until"] for w in result.waiting} == {(start + timedelta(seconds=120)).isoformat()}
    early = rig.run(now=start + timedelta(seconds=60))
    assert early.published == [] and _writes(rig) == 1, "a run before Retry-After passes leaves it alone"
    later = rig.run(now=start + timedelta(seconds=121))
    assert len(later.published) == 3 and rig.copies() == {("a1", lang): 1 for lang in ("en", "zh", "ko")}


def test_a_400_is_recorded_as_failed_with_its_reason_and_never_retried(rig):
    approved_article(rig.store, "a1", languages=("en",))
    approved_article(rig.store, "a2", languages=("en",))
    rig.server.faults.append("400")
    first = rig.run()
    refused, detail = rig.server.refusal_text
    assert [(f["article_id"], refused in f["reason"]) for f in first.failed] == [("a1", True)]
    assert [p["article_id"] for p in first.published] == ["a2"]
    writes = _writes(rig)
    for _ in range(2):
        again = rig.run(now=datetime.now(timezone.utc) + timedelta(hours=1))
        assert again.published == [] and again.failed == []
    assert _writes(rig) == writes, "a permanent refusal is not retried"
    states = {s.article_id: s for s in ledger.publication_states(rig.store, rig.name)}
    assert states["a1"].state == ledger.FAILED and detail in states["a1"].reason
    assert states["a2"].state == ledger.PUBLISHED
    assert rig.copies() == {("a2", "en"): 1}


@pytest.mark.parametrize("fault", CHANNEL_WIDE_FAULTS)
def test_an_expired_token_or_refused_credentials_pause_the_channel_and_fail_no_item(rig, fault):
    """Graph's OAuthException 190 (HTTP 400), Zalo's -216 (HTTP 200), 401, 403, a 404 endpoint: the channel's."""
    approved_article(rig.store, "a1")
    rig.server.faults.append(fault)
    first = rig.run()
    assert first.failed == [] and first.published == [] and len(first.waiting) == 3
    assert list(first.paused) == [rig.name] and first.errors == [f"{rig.name} paused: {first.paused[rig.name]}"]
    assert rig.server.token not in json.dumps(first.as_json())
    assert _writes(rig) == 1, "one call, then the channel is left alone for the run"
    assert [s.state for s in ledger.publication_states(rig.store, rig.name)] == [ledger.RETRY]
    second = rig.run()
    assert len(second.published) == 3 and second.paused == {}
    assert rig.copies() == {("a1", lang): 1 for lang in ("en", "zh", "ko")}


def test_a_refused_connection_rests_the_channel_and_the_next_run_publishes(rig):
    approved_article(rig.store, "a1")
    rig.server.stop()
    first = rig.run()
    assert first.published == [] and len(first.waiting) == 3
    states = ledger.publication_states(rig.store, rig.name)
    assert [s.state for s in states] == [ledger.RETRY], "one attempt, then the channel rests: no storm"
    assert "nothing was sent" in states[0].reason
    rig.server.start()
    second = rig.run()
    assert len(second.published) == 3
    assert rig.copies() == {("a1", lang): 1 for lang in ("en", "zh", "ko")}
    assert rig.recorded_ids() == {slot: copies[0][0] for slot, copies in rig.observed().items()}


def test_a_backlog_reaches_a_remote_channel_in_bounded_batches(rig):
    from foreigndesk.publish.policies import RetryPolicy

    for number in range(3):
        approved_article(rig.store, f"b{number}")
    policy = RetryPolicy(backoff_seconds=0.01, claim_lease_seconds=0, max_remote_items_per_run=4)
    sizes = [len(rig.run(policy=policy).published) for _ in range(4)]
    assert sizes == [4, 4, 1, 0]
    assert rig.copies() == {(f"b{n}", lang): 1 for n in range(3) for lang in ("en", "zh", "ko")}


def test_the_token_never_reaches_errors_records_or_output(rig, capsys):
    approved_article(rig.store, "a1", languages=("en",))
    rig.server.faults.append("400_echo_token")
    result = rig.run()
    assert result.failed and "***" in result.failed[0]["reason"]
    stored = b"".join(rig.store.read(key) for key in rig.store.list(""))
    assert rig.server.token.encode() not in stored
    assert rig.server.token not in json.dumps(result.as_json())
    assert rig.server.token not in repr(rig.channel().config)
    assert rig.server.token not in capsys.readouterr().out


def test_endless_ambiguity_gives_up_after_the_attempt_limit(rig, monkeypatch):
    monkeypatch.setattr(ledger, "MAX_ATTEMPTS", 4)
    approved_article(rig.store, "a1", languages=("en",))
    rig.server.faults.extend(["500_before_post"] * 50)
    for _ in range(4):
        rig.run()
    [state] = ledger.publication_states(rig.store, rig.name)
    assert state.state == ledger.STUCK and "gave up after 4 attempts" in state.reason
    writes = _writes(rig)
    rig.run()
    assert _writes(rig) == writes and rig.copies() == {}


def test_repeated_runs_under_mixed_faults_publish_every_approved_item_exactly_once(rig):
    """Many articles, a fault on most writes, runs repeated as the schedule would: the end state is exact."""
    rng = random.Random(20250315)
    for number in range(6):
        approved_article(rig.store, f"m{number}")
    put_article(rig.store, "rej")
    put_decision(rig.store, "rej", "r1", "en", "Reject")
    put_article(rig.store, "emb", publish_at="2999-01-01T00:00:00+07:00")
    put_decision(rig.store, "emb", "r1", "en")
    faults = list(AMBIGUOUS_FAULTS) + ["429", "500_before_post", "400"]
    rig.server.faults.extend(rng.choice(faults) if rng.random() < 0.7 else "none" for _ in range(60))
    clock = datetime.now(timezone.utc)
    for _ in range(12):
        clock += timedelta(minutes=15)
        rig.run(now=clock)
        states = ledger.publication_states(rig.store, rig.name)
        if len(states) == 18 and all(s.state in (ledger.PUBLISHED, ledger.FAILED) for s in states):
            break
    states = {(s.article_id, s.language): s for s in ledger.publication_states(rig.store, rig.name)}
    assert len(states) == 18 and all(s.state in (ledger.PUBLISHED, ledger.FAILED) for s in states.values())
    published = {slot for slot, s in states.items() if s.state == ledger.PUBLISHED}
    failed = {slot for slot, s in states.items() if s.state == ledger.FAILED}
    assert published and all(rig.server.refusal_text[0] in states[slot].reason for slot in failed)
    assert rig.copies() == {slot: 1 for slot in published}, "exactly once; nothing for refused items"
    assert rig.recorded_ids() == {slot: copies[0][0] for slot, copies in rig.observed().items()}
    assert ("rej", "en") not in rig.copies() and ("emb", "en") not in rig.copies()
