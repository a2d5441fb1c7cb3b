"""Publishing's exactly-once rules, one case each, on the real channels and loopback servers.

The newest approved revision wins (registration order, never review order); a
correction after an unknown outcome updates the one remote item; one publish at a
time (the lease); a channel-wide failure pauses the channel without failing its
items; nothing stays stuck silently (needs operator, ``--retry``); the fanpage's
existence check never takes a visitor's post for the desk's; the stores are
durable and refuse a server that ignores create-only writes. The stateful test
(tests/test_publish_stateful.py) and the crash sweep cover every order of these.
"""

from __future__ import annotations

import json
import os
import pytest
from foreigndesk.cli import main
from foreigndesk.core import records
from foreigndesk.core.store import LocalStore, S3Store, StoreError
from foreigndesk.publish import lease, ledger
from foreigndesk.publish.channels.fanpage import marked_link
from foreigndesk.publish.publications import latest_approvals_of
from foreigndesk.status import collect_status, format_status
from publish_sim import CHANNELS, Crash, CrashPoints, Desk, sim_servers


@pytest.fixture
def desk(tmp_path):
    graph, portal = sim_servers()
    desk = Desk(tmp_path / "store", graph, portal)
    yield desk
    graph.stop()
    portal.stop()


def _states(desk, article="a"):
    return {s.channel: s for s in ledger.publication_states(desk.store) if s.article_id == article
            and s.revision == desk.newest_approved(article)}


def _live_revisions(desk, article="a"):
    return {channel: slots.get((article, "en")) for channel, slots in desk.live().items()}


# ---- the newest approved revision wins


def test_a_late_approval_of_an_older_revision_never_replaces_the_newer_one(desk):
    old = desk.register("a")
    new = desk.register("a")
    desk.approve("a", new)
    assert desk.run().errors == []
    desk.approve("a", old)  # answered last, but registered first
    later = desk.run()
    assert later.published == [] and later.errors == []
    assert _live_revisions(desk) == {channel: [new] for channel in CHANNELS}


def test_both_approved_in_one_run_the_later_registered_goes_out_whatever_the_answer_order(desk):
    old = desk.register("a")
    new = desk.register("a")
    desk.approve("a", new)
    desk.approve("a", old)
    assert {(p["channel"], p["revision"]) for p in desk.run().published} == {(c, new) for c in CHANNELS}
    assert _live_revisions(desk) == {channel: [new] for channel in CHANNELS}


def test_approvals_are_ranked_by_registration_not_by_revision_name_or_answer_time():
    from foreigndesk.core.decisions import Decision

    def decision(revision, decided_at):
        return Decision(article_id="a", revision=revision, language="en", attempt=1, option="Approve",
                        reviewer="r", decided_at=decided_at, title="t", summary="", body="b", note="",
                        machine_title="", machine_body="", demo_model=False)

    registered = {"ffff": 1, "0000": 2}  # the later registration has the smaller name
    chosen = latest_approvals_of([decision("0000", "2026-01-01T00:00:00+00:00"),
                                  decision("ffff", "2026-02-01T00:00:00+00:00")],
                                 lambda _article, revision: registered[revision])
    assert [d.revision for d in chosen] == ["0000"]


# ---- a correction never posts twice


@pytest.mark.parametrize("channel", ["fanpage", "portal-push"])
def test_a_correction_after_an_unknown_outcome_updates_the_one_remote_item(desk, channel):
    first = desk.register("a")
    desk.approve("a", first)
    # The run dies after the server carried out the post, before the desk recorded it.
    proof_key = f"ledger/{channel}/a/en/{first}/published.json"
    with pytest.raises(Crash):
        desk.run(CrashPoints(before=lambda event: event == f"create {proof_key}"))
    assert desk.remote_copies()[channel] == {("a", "en"): 1}
    assert ledger.delivery_state(desk.store, ledger.Delivery(channel, "a", "en", first)).state == ledger.UNCERTAIN
    desk.tick(16 * 60)  # the dead run's lease expires
    correction = desk.register("a")
    desk.approve("a", correction)
    result = desk.run()
    assert result.errors == []
    assert desk.remote_copies() == {"fanpage": {("a", "en"): 1}, "portal-push": {("a", "en"): 1}}
    assert _live_revisions(desk) == {name: [correction] for name in CHANNELS}
    found = records.load(desk.store, ledger.Published, proof_key)
    assert found.found_after_failure, "the earlier revision's item was found and recorded, then updated in place"
    newest = records.load(desk.store, ledger.Published, f"ledger/{channel}/a/en/{correction}/published.json")
    assert newest.remote_id == found.remote_id


def test_an_earlier_revision_that_never_went_out_is_superseded_not_left_pending(desk):
    first = desk.register("a")
    desk.approve("a", first)
    desk.graph.faults.append("429")
    desk.graph.retry_after = "600"  # the fanpage rests past this run
    desk.run()
    second = desk.register("a")
    desk.approve("a", second)
    desk.tick(700)
    assert desk.run().errors == []
    older = ledger.delivery_state(desk.store, ledger.Delivery("fanpage", "a", "en", first))
    assert older.state == ledger.SUPERSEDED and second in older.reason
    assert desk.remote_copies()["fanpage"] == {("a", "en"): 1}


# ---- one publish at a time


def test_a_second_run_gives_up_with_who_holds_the_lease_and_takes_over_once_it_expires(desk, capsys):
    desk.approve("a", desk.register("a"))
    held = lease.acquire(desk.store, "dag-run-1", holder="scheduler-2 pid 42", clock=lambda: desk.clock)
    result = desk.run()
    assert result.published == [] and result.lease_held
    assert "scheduler-2 pid 42" in result.lease_held and "dag-run-1" in result.lease_held
    assert list(desk.store.list("ledger/")) == [], "the run that gave up wrote nothing"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FOREIGNDESK_STORE", str(desk.root))
        assert main(["publish", "--channel", "portal-feed"]) == 75
    assert "another publish run holds the publish lease" in capsys.readouterr().err
    desk.tick(16 * 60)  # the holder died: its lease expires
    assert len(desk.run().published) == 4
    with pytest.raises(lease.LeaseLost):
        lease.renew(desk.store, held, clock=lambda: desk.clock)


def test_a_released_lease_is_free_at_once_and_two_contenders_never_both_win(tmp_path):
    store = LocalStore(tmp_path)
    first = lease.acquire(store, "run-1")
    with pytest.raises(lease.LeaseHeld):
        lease.acquire(store, "run-2")
    lease.release(store, first)
    second = lease.acquire(store, "run-2")
    assert second.generation == first.generation + 1
    renewed = lease.renew(store, second)
    assert renewed.generation == second.generation + 1 and renewed.run == "run-2"
    with pytest.raises(lease.LeaseHeld):
        lease.acquire(store, "run-3")


# ---- a channel-wide failure pauses the channel


@pytest.mark.parametrize("fault", ["400_token_expired", "401", "403", "404_endpoint"])
def test_a_channel_wide_failure_pauses_the_channel_and_fails_no_item(desk, fault):
    for article in ("a", "b"):
        desk.approve(article, desk.register(article))
    desk.graph.faults.append(fault)
    result = desk.run()
    assert "fanpage" in result.paused and any(e.startswith("fanpage paused:") for e in result.errors)
    assert result.failed == []
    assert [p for p in result.published if p["channel"] == "fanpage"] == []
    fanpage_requests = [r for r in desk.graph.requests if r[0] == "POST"]
    assert len(fanpage_requests) == 1, "no second call to a paused channel in the same run"
    states = [s for s in ledger.publication_states(desk.store, "fanpage")]
    assert all(s.state not in (ledger.FAILED, ledger.STUCK) for s in states)
    report = collect_status(desk.store, desk.clock, ("en",))
    assert report.channels["fanpage"]["state"] == "paused"
    assert "channel fanpage PAUSED" in format_status(report)
    if fault == "400_token_expired":
        assert "code 190" in report.channels["fanpage"]["reason"]
    others = {p["channel"] for p in result.published}
    assert others == {"portal-feed", "web", "portal-push"}, "the other channels go on"
    again = desk.run()  # the operator renewed the token
    assert again.errors == [] and {p["article_id"] for p in again.published} == {"a", "b"}
    assert desk.remote_copies()["fanpage"] == {("a", "en"): 1, ("b", "en"): 1}
    assert collect_status(desk.store, desk.clock, ("en",)).channels["fanpage"]["state"] == "ok"


def test_a_400_about_the_item_still_fails_only_that_item(desk):
    for article in ("a", "b"):
        desk.approve(article, desk.register(article))
    desk.graph.faults.append("400")
    result = desk.run()
    assert [f["article_id"] for f in result.failed] == ["a"] and "fanpage" not in result.paused
    assert ("b", "en") in desk.remote_copies()["fanpage"]


# ---- nothing stays stuck silently


def test_an_existence_check_that_keeps_failing_pauses_then_needs_the_operator_then_retry_publishes_once(desk):
    desk.approve("a", desk.register("a"))
    desk.graph.faults.append("500_after_post")
    desk.graph.broken_reads = 1000
    for _ in range(ledger.MAX_CHECK_RUNS):
        result = desk.run()
        assert "fanpage" in result.paused and "existence check" in result.paused["fanpage"]
        desk.tick(600)
    state = _states(desk)["fanpage"]
    assert state.state == ledger.STUCK and "existence check failed" in state.reason
    report = collect_status(desk.store, desk.clock, ("en",))
    assert any("--retry STUCK --channel fanpage" in line for line in report.needs_operator)
    assert desk.run().paused == {}, "a unit that needs the operator is not called again"
    desk.graph.broken_reads = 0  # the operator fixed the cause
    retried = desk.run(retry="STUCK")
    assert retried.errors == [] and retried.requeued and len(desk.graph.posts) == 1
    proof = records.load(desk.store, ledger.Published,
                         f"ledger/fanpage/a/en/{desk.newest_approved('a')}/published.json")
    assert proof.found_after_failure, "the requeued unit was looked for first, not posted again"
    assert any(key.rsplit("/", 1)[-1].startswith("requeue-") for key in desk.store.list("ledger/fanpage/"))


def test_cli_retry_failed_requeues_after_the_operator_fixed_the_item(desk, monkeypatch, capsys):
    desk.approve("a", desk.register("a"))
    desk.portal.faults.append("400")
    assert desk.run().failed
    assert desk.run().failed == [], "a refused item is not retried by itself"
    monkeypatch.setenv("FOREIGNDESK_STORE", str(desk.root))
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_PORTAL_PUSH", json.dumps(
        {"conn_type": "http", "host": desk.portal.url, "password": desk.portal.token}))
    assert main(["publish", "--retry", "failed", "--channel", "portal-push"]) == 0
    out = capsys.readouterr().out
    assert "requeued  portal-push a en" in out and "published portal-push" in out
    assert desk.remote_copies()["portal-push"] == {("a", "en"): 1}


# ---- the fanpage's existence check


def test_a_visitors_post_with_the_same_link_is_never_taken_for_the_desks(desk):
    revision = desk.register("a")
    desk.approve("a", revision)
    url = f"{desk.settings.site_url}/en/a.html"
    visitor_plain = desk.graph.visitor_post(url)
    from foreigndesk.publish.channels import Publication  # to build the link with the desk's marker, copied

    item = Publication(article_id="a", revision=revision, language="en", title="", summary="", body="", outlet="",
                       url=url, guid="a:en", first_published_at="", published_at="")
    visitor_marked = desk.graph.visitor_post(marked_link(desk.graph.page_id, item))
    desk.graph.faults.append("500_before_post")  # nothing posted: the check must find nothing of the desk's
    result = desk.run()
    [published] = [p for p in result.published if p["channel"] == "fanpage"]
    assert published["remote_id"] not in (visitor_plain, visitor_marked)
    assert desk.remote_copies()["fanpage"] == {("a", "en"): 1}
    assert desk.graph.posts[published["remote_id"]]["from"]["id"] == desk.graph.page_id


# ---- durable stores


def test_the_local_store_fsyncs_the_folder_after_each_link_and_rename(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync, real_open = os.fsync, os.open
    names: dict[int, str] = {}

    def spy_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if os.path.isdir(path):
            names[fd] = str(path)
        return fd

    def spy_fsync(fd):
        synced.append(names.pop(fd, "a file"))  # the number is reused once closed
        return real_fsync(fd)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    store = LocalStore(tmp_path / "s")
    store.create("ledger/x/claim-001.json", b"{}")
    assert synced == [str(tmp_path / "s"), str(tmp_path / "s" / "ledger"), "a file", str(tmp_path / "s" / "ledger" / "x")]
    synced.clear()
    store.replace("ledger/x/feed.json", b"[]")
    assert synced == ["a file", str(tmp_path / "s" / "ledger" / "x")]


def test_s3_store_runs_where_create_only_is_enforced(s3_bucket):
    client, bucket = s3_bucket
    store = S3Store(client, bucket, "desk")
    store.create("ledger/a.json", b"1")
    assert not [key for key in store.list("") if "create-only" in key], "the probe object is removed"


def test_s3_store_refuses_a_server_that_ignores_if_none_match(s3_endpoint):
    """A real S3 server behind a 'proxy' that drops the If-None-Match header (a botocore hook removes it)."""
    from foreigndesk.core.store import s3_client

    client = s3_client(s3_endpoint)
    bucket = "foreigndesk-test-no-conditional"
    client.create_bucket(Bucket=bucket)

    def drop_condition(request, **_kwargs):
        request.headers.pop("If-None-Match", None)

    client.meta.events.register("before-send.s3.PutObject", drop_condition)
    store = S3Store(client, bucket, "desk")
    with pytest.raises(StoreError, match="accepted a second create-only write"):
        store.create("ledger/a.json", b"1")
    assert not store.exists("ledger/a.json")


def test_a_run_that_lost_its_lease_stops_and_never_drops_what_the_new_holder_recorded(desk):
    """Run A stalls past its lease; run B takes over and publishes; A wakes up and must write nothing more."""
    for article in ("a", "b", "c"):
        desk.approve(article, desk.register(article))
    woke: list = []

    def stall_then_let_b_run(event: str) -> bool:
        if event.startswith("create ledger/") and not woke:
            woke.append(True)
            desk.tick(16 * 60)  # A's lease runs out while it is stalled here
            woke.append(desk.run())  # B: a whole run, under its own lease
        return False

    a_result = desk.run(CrashPoints(before=stall_then_let_b_run))
    b_result = woke[1]
    assert b_result.errors == [] and len(b_result.published) == 12
    assert any("lease" in error for error in a_result.errors), a_result.errors
    assert a_result.published == [], "A published nothing after losing the lease"
    assert {slot for slot in desk.live()["portal-feed"]} == {(a, "en") for a in ("a", "b", "c")}
    assert desk.remote_copies() == {"fanpage": {(a, "en"): 1 for a in "abc"},
                                    "portal-push": {(a, "en"): 1 for a in "abc"}}
    assert desk.run().published == [], "nothing left over: B did it all, once"
