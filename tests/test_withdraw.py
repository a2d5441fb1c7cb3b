"""Withdrawing an article, against all five channels: off every channel, exactly once, audited.

What is checked is what readers see (feeds with feedparser, pages parsed, the
loopback servers' state: the Graph fake's deletions, the portal's withdrawals),
then the records.
"""

from __future__ import annotations

import json

import feedparser
import pytest
from channel_rigs import CHANNELS, FAST, REMOTE, make_rig, parse_page
from desk_records import approved_article, put_article, put_decision
from foreigndesk.core import records
from foreigndesk.core.store import LocalStore
from foreigndesk.publish import ledger
from foreigndesk.publish.policies import RetryPolicy
from foreigndesk.publish.takedown_ledger import DONE, Withdrawal, request_key, takedown_state


@pytest.fixture(params=CHANNELS)
def rig(request, tmp_path):
    rig = make_rig(request.param, tmp_path)
    yield rig
    rig.close()


def _publish_two(rig) -> None:
    approved_article(rig.store, "a1")
    approved_article(rig.store, "a2", languages=("en",))
    result = rig.run()
    assert result.errors == [] and len(result.published) == 4


def _remote_calls(rig) -> int:
    """Withdrawal calls that changed something on the server."""
    if rig.name == "fanpage":
        return len(rig.server.deletions)
    if rig.name == "portal-push":
        return sum(rig.server.withdrawals.values())
    if rig.name == "zalo":
        return len(rig.server.removals)
    return 0


def test_a_withdrawn_language_is_off_the_channel_and_the_rest_stays(rig):
    _publish_two(rig)
    before = rig.observed()
    result = rig.withdraw("a1", languages=["en"], who="chief", reason="the source article was retracted")
    assert result.complete and [(r["channel"], r["language"]) for r in result.done] == [(rig.name, "en")]
    after = rig.observed()
    assert ("a1", "en") not in after
    # (on the web the other versions of a1 are rewritten too: their language menu loses English)
    kept = (("a2", "en"),) if rig.name == "web" else (("a1", "zh"), ("a1", "ko"), ("a2", "en"))
    assert {slot: after[slot] for slot in kept} == {slot: before[slot] for slot in kept}, "the rest is untouched"
    assert {("a1", "zh"), ("a1", "ko")} <= set(after)
    request = records.load(rig.store, Withdrawal, request_key("a1", "en"))
    assert (request.who, request.reason) == ("chief", "the source article was retracted") and request.requested_at
    if rig.name == "fanpage":
        assert rig.server.deletions == [before[("a1", "en")][0][0]]
    if rig.name == "zalo":
        assert rig.server.removals == [before[("a1", "en")][0][0]]
    if rig.name == "portal-push":
        assert rig.server.withdrawals == {"a1.withdrawal.en": 1}
        assert "reason" not in json.dumps(rig.server.withdrawn["a1:en"]), "the reason stays in the desk's records"
    if rig.name == "portal-feed":
        assert [e.id for e in feedparser.parse(rig.store.read("feeds/en/rss.xml")).entries] == ["a2:en"]
        assert [i["id"] for i in json.loads(rig.store.read("feeds/en/feed.json"))["items"]] == ["a2:en"]
    if rig.name == "web":
        assert list(rig.notices()) == [("a1", "en")], "the same URL now holds a notice"
        notice = rig.store.read("web/en/a1.html").decode()
        assert "withdrew this article" in notice and "retracted" not in notice and 'content="noindex"' in notice
        zh = parse_page(rig.store.read("web/zh/a1.html"))
        assert sorted(zh.alternates()) == ["ko", "x-default", "zh-Hans"], "no link to the notice"
        index = rig.store.read("web/en/index.html").decode()
        assert "/en/a2.html" in index and "/en/a1.html" not in index


def test_withdrawing_again_calls_nothing_and_keeps_the_first_audit(rig):
    _publish_two(rig)
    first = rig.withdraw("a1", who="chief", reason="first reason")
    assert first.complete and sorted(r["language"] for r in first.done) == ["en", "ko", "zh"]
    requests_before = list(rig.server.requests) if rig.server else []
    outputs_before = {key: rig.store.read(key) for key in rig.store.list("web/")} if rig.name == "web" else {}
    second = rig.withdraw("a1", who="someone else", reason="second reason")
    assert second.complete and sorted(r["language"] for r in second.done) == ["en", "ko", "zh"]
    if rig.server:
        assert rig.server.requests == requests_before, "no second call to the channel"
    if rig.name == "web":
        assert {key: rig.store.read(key) for key in rig.store.list("web/")} == outputs_before
    assert {r["who"] for r in second.requests} == {"chief"} and {r["reason"] for r in second.requests} == {"first reason"}
    assert _remote_calls(rig) == (3 if rig.name in REMOTE else 0)
    assert set(rig.observed()) == {("a2", "en")}


def test_a_withdrawn_article_never_comes_back(rig):
    _publish_two(rig)
    rig.withdraw("a1", languages=["en"])
    put_article(rig.store, "a1", "r2")
    put_decision(rig.store, "a1", "r2", "en", title="Corrected", decided_at="2025-03-20T10:00:00+00:00")
    approved_article(rig.store, "a3", languages=("en",))  # a run that rebuilds the feed and the index
    result = rig.run()
    assert result.errors == []
    assert [(p["article_id"], p["language"]) for p in result.published] == [("a3", "en")]
    assert ("a1", "en") not in rig.observed()
    if rig.name == "web":
        assert "/en/a1.html" not in rig.store.read("web/en/index.html").decode()
        assert ("a1", "en") in rig.notices()
    if rig.name == "portal-feed":
        assert [e.id for e in feedparser.parse(rig.store.read("feeds/en/rss.xml")).entries] == ["a3:en", "a2:en"]


@pytest.mark.parametrize("fault", ["500_after_post", "timeout_after_post", "reset_after_post", "500_before_post"])
def test_an_unclear_answer_is_checked_and_the_takedown_happens_once(tmp_path, fault):
    for name in REMOTE:
        rig = make_rig(name, tmp_path / name)
        try:
            approved_article(rig.store, "a1", languages=("en",))
            rig.run()
            rig.server.faults.append(fault)
            result = rig.withdraw("a1")
            assert result.complete, result.as_json()
            assert ("a1", "en") not in rig.observed()
            assert _remote_calls(rig) == 1
            state = takedown_state(rig.store, "a1", "en", name)
            assert state.state == DONE and state.attempts == (2 if fault == "500_before_post" else 1)
        finally:
            rig.close()


def test_a_refused_takedown_is_reported_and_running_withdraw_again_retries_it(tmp_path):
    rig = make_rig("fanpage", tmp_path)
    try:
        approved_article(rig.store, "a1", languages=("en",))
        rig.run()
        rig.server.faults.append("400")  # Graph refuses the DELETE; the post is still there
        refused = rig.withdraw("a1")
        assert not refused.complete and "Invalid parameter" in refused.failed[0]["reason"]
        assert ("a1", "en") in rig.observed() and rig.server.deletions == []
        assert takedown_state(rig.store, "a1", "en", "fanpage").state == "failed"
        again = rig.withdraw("a1")
        assert again.complete and ("a1", "en") not in rig.observed() and len(rig.server.deletions) == 1
    finally:
        rig.close()


def test_an_article_withdrawn_before_it_went_out_never_goes_out(rig):
    from datetime import datetime, timezone

    put_article(rig.store, "e1", publish_at="2030-01-01T08:00:00+07:00")
    put_decision(rig.store, "e1", "r1", "en")
    assert rig.run(now=datetime(2029, 12, 1, tzinfo=timezone.utc)).published == []
    result = rig.withdraw("e1", who="chief", reason="embargo broken by the source")
    assert result.complete and {r["note"] for r in result.done} == {"never published here"}
    assert list(rig.store.list("web/")) == [] and list(rig.store.list("feeds/")) == [], "no notice for a page never out"
    later = rig.run(now=datetime(2030, 1, 2, tzinfo=timezone.utc))
    assert later.published == [] and rig.observed() == {}
    assert rig.server is None or rig.server.requests == [], "no channel was ever called"


class CrashAfterCall(LocalStore):
    """A real store whose worker dies after the channel call, before the takedown is recorded."""

    def create(self, key: str, data: bytes) -> None:
        if key.startswith("withdrawals/") and key.endswith("/done.json") and not getattr(self, "crashed", False):
            self.crashed = True
            raise OSError("worker lost after the call, before the record")
        super().create(key, data)


def test_a_withdrawal_that_dies_midway_is_finished_by_running_it_again_without_a_second_call(rig):
    _publish_two(rig)
    crashing = type(rig)(rig.name, CrashAfterCall(rig.store.root), rig.server, rig.session)
    with pytest.raises(OSError, match="worker lost"):
        crashing.withdraw("a1", languages=["en"])
    state = takedown_state(rig.store, "a1", "en", rig.name)
    assert state.state != DONE and state.uncertain
    again = rig.withdraw("a1", languages=["en"])
    assert again.complete
    assert ("a1", "en") not in rig.observed()
    assert _remote_calls(rig) == (1 if rig.name in REMOTE else 0)
    assert takedown_state(rig.store, "a1", "en", rig.name).state == DONE


def test_a_send_in_flight_makes_the_withdrawal_wait_and_a_later_send_sees_the_withdrawal(rig):
    approved_article(rig.store, "a1", languages=("en",))
    unit = ledger.Delivery(rig.name, "a1", "en", "r1")
    assert ledger.claim(rig.store, unit, 1, "decisions/a1/r1/en/001.json", "another-run")  # a run sending it now
    waiting = rig.withdraw("a1", policy=RetryPolicy(claim_lease_seconds=900))
    assert not waiting.complete and "sending revision r1 right now" in waiting.pending[0]["reason"]
    later = rig.run(policy=FAST)  # the lease is over: the runner takes the unit up, and sees the withdrawal
    assert later.published == [] and rig.observed() == {}
    assert rig.withdraw("a1").complete


def test_the_cli_withdraws_and_status_shows_it(tmp_path, monkeypatch, capsys):
    from foreigndesk.cli import main

    store = LocalStore(tmp_path / "store")
    approved_article(store, "a1", languages=("en",))
    monkeypatch.delenv("AIRFLOW_CONN_FOREIGNDESK_FANPAGE", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_FOREIGNDESK_PORTAL_PUSH", raising=False)
    assert main(["publish", "--store", str(store.root)]) == 0
    assert main(["withdraw", "a1", "--reason", "wrong figures", "--by", "chief", "--store", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert "withdrawn a1 en: by chief" in out and "done      portal-feed  en" in out and "done      web" in out
    with pytest.raises(SystemExit):
        main(["withdraw", "a1", "--store", str(store.root)])  # --reason is required
    capsys.readouterr()
    assert main(["status", "--json", "--store", str(store.root)]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out)["articles"] if r["language"] == "en"]
    assert (row["state"], row["holder"]) == ("withdrawn", "chief: wrong figures")


class CrashAtWrite(LocalStore):
    """A real store whose worker dies at its ``at``-th write (create or replace) of this run, counting from 0."""

    def __init__(self, root, at: int) -> None:
        super().__init__(root)
        self.at, self.writes = at, 0

    def _maybe_die(self, key: str) -> None:
        if self.writes == self.at:
            self.writes += 1
            raise OSError(f"worker killed before writing {key}")
        self.writes += 1

    def create(self, key: str, data: bytes) -> None:
        self._maybe_die(key)
        super().create(key, data)

    def replace(self, key: str, data: bytes) -> None:
        self._maybe_die(key)
        super().replace(key, data)


def test_a_withdrawal_killed_at_any_store_write_finishes_on_the_next_run_with_one_takedown(tmp_path):
    """Crash-point sweep: for every write the withdrawal makes, die there, run it again, check the outcome."""
    for name in CHANNELS:
        at = 0
        while True:
            rig = make_rig(name, tmp_path / f"{name}-{at}")
            try:
                approved_article(rig.store, "a1", languages=("en", "zh"))
                assert rig.run().errors == []
                crashing = type(rig)(rig.name, CrashAtWrite(rig.store.root, at), rig.server, rig.session)
                try:
                    first = crashing.withdraw("a1", languages=["en"])
                except OSError:
                    first = None
                again = rig.withdraw("a1", languages=["en"])
                assert again.complete, (name, at, again.as_json())
                assert ("a1", "en") not in rig.observed() and ("a1", "zh") in rig.observed(), (name, at)
                assert _remote_calls(rig) == (1 if name in REMOTE else 0), (name, at)
                if name == "web":
                    assert list(rig.notices()) == [("a1", "en")]
                if first is not None:  # this write index is past the last write: every crash point was tried
                    break
                at += 1
            finally:
                rig.close()
        assert at >= 3, f"{name}: the sweep covered {at} write points"
