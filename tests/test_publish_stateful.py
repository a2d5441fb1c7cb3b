"""Exactly once under every order of events: a hypothesis state machine over the whole publish stage.

The machine drives the real ledger, planner, runner, lease and all four channels
(the two remote ones over HTTP to loopback servers, tests/publish_sim.py) through
random interleavings of: revisions registered, approvals given in any order (an
older revision's approval may come last), publish runs, two runs started at once,
runs killed at a chosen store write or remote call (before or after it took
effect), ambiguous remote outcomes (500 after posting, reset, unreadable answer,
timeout), 429s, item refusals (400) and channel-wide failures (Graph's HTTP 400
with OAuthException code 190, 401, 403, an endpoint answering 404, an existence
check that keeps failing).

After every step: at most one remote item per (article, language, channel); what
readers see never goes back to an older revision than they saw before, and is
always an approved one; every feed parses; after every completed run each
approved item's newest revision is published or visibly pending with a reason.
After the example, recovery (a correction of one article arrives, whatever its earlier
revisions were left in; the operator's ``--retry``; quiet runs): every channel shows
exactly the newest approved revision of every article, once.

Profiles: ``ci`` (the default, sized for the suite) and ``long`` by hand:
``FOREIGNDESK_HYPOTHESIS_PROFILE=long pytest tests/test_publish_stateful.py`` (1000 examples of
40 steps, about 40 minutes here; ``FOREIGNDESK_HYPOTHESIS_EXAMPLES=N`` sets the count).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from publish_sim import REMOTE, Crash, CrashPoints, Desk, sim_servers, zalo_sim_server
from foreigndesk.publish import ledger

settings.register_profile("ci", max_examples=50, stateful_step_count=20, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=int(os.environ.get("FOREIGNDESK_HYPOTHESIS_EXAMPLES", "1000")),
                          stateful_step_count=40, deadline=None,
                          suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("FOREIGNDESK_HYPOTHESIS_PROFILE", "ci")

ARTICLES = ("a", "b")
AMBIGUOUS = ("500_after_post", "reset_after_post", "malformed_after_post", "timeout_after_post")
OTHER = ("429", "500_before_post", "400")
CHANNEL_WIDE = ("400_token_expired", "401", "403", "404_endpoint")
#: Per-item refusals the servers can answer (nothing posted): these leave the item FAILED until --retry.
LANGUAGE = "en"
CHANNELS = ("portal-feed", "portal-push", "web", "fanpage", "zalo")
REMOTE_CHANNELS = REMOTE + ("zalo",)


class PublishMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="publish-sim-"))
        self.graph, self.portal = sim_servers()
        self.zalo = zalo_sim_server()
        self.servers = {"fanpage": self.graph, "portal-push": self.portal, "zalo": self.zalo}
        self.desk = Desk(self.folder / "store", self.graph, self.portal, zalo=self.zalo)
        self.seen: dict[tuple[str, tuple[str, str]], int] = {}  # the newest registration index readers saw
        self.runs = self.crashes = 0

    @initialize()
    def two_approved_articles(self):
        for article in ARTICLES:
            self.desk.approve(article, self.desk.register(article))

    # ---- upstream events
    # (No preconditions: a rule that has nothing to do returns, so hypothesis never retries draws.)
    @rule(article=st.sampled_from(ARTICLES))
    def register_revision(self, article):
        if len(self.desk.registered.get(article, [])) < 4:
            self.desk.register(article)

    @rule(data=st.data())
    def approve_any_revision(self, data):
        waiting = sorted((a, r) for a, revs in self.desk.registered.items() for r in revs
                         if (a, r) not in self.desk.approved)
        if waiting:  # in any order: an older revision's approval may come after a newer one's
            article, revision = data.draw(st.sampled_from(waiting), label="approval")
            self.desk.approve(article, revision, LANGUAGE)

    # ---- what the channels will do next
    @rule(channel=st.sampled_from(REMOTE_CHANNELS), fault=st.sampled_from(AMBIGUOUS + OTHER + CHANNEL_WIDE))
    def queue_fault(self, channel, fault):
        self.servers[channel].faults.append(fault)

    @rule(channel=st.sampled_from(REMOTE_CHANNELS), count=st.integers(1, 6))
    def break_reads(self, channel, count):
        self.servers[channel].broken_reads = count

    @rule(count=st.integers(1, 4))
    def zalo_processes_slowly(self, count):
        """New Zalo articles answer "being processed" to the next ``count`` verify calls."""
        self.zalo.verify_pending = count

    # ---- runs
    @rule()
    def run(self):
        result = self.desk.run()
        self.runs += 1
        self._check_visible(result)

    @rule(at=st.integers(1, 60), after=st.booleans())
    def run_killed(self, at, after):
        self.run_with(CrashPoints(at, after))

    @rule(channel=st.sampled_from(REMOTE_CHANNELS), nth=st.integers(1, 2), correct_now=st.booleans())
    def run_killed_after_a_remote_post(self, channel, nth, correct_now):
        """The outcome nobody recorded: the server made the post, the run died before writing it down."""
        url = {"fanpage": self.graph.base_url, "portal-push": self.portal.url, "zalo": self.zalo.base_url}[channel]
        posts = []

        def after_post(event: str) -> bool:
            if event.startswith(f"POST {url}"):
                posts.append(event)
            return len(posts) == nth and event.startswith(f"POST {url}")

        self.run_with(CrashPoints(right_after=after_post))
        if correct_now:  # a correction arrives while the post's outcome is still unknown to the desk
            unknown = {s.article_id for s in ledger.publication_states(self.desk.store, channel)
                       if s.state == ledger.UNCERTAIN}
            for article in sorted(unknown):
                self.desk.approve(article, self.desk.register(article))

    def run_with(self, points):
        try:
            result = self.desk.run(points)
        except Crash:
            self.crashes += 1
            self.desk.tick(16 * 60)  # the dead run never released its lease: it expires
        else:
            self._check_visible(result)
        self.runs += 1

    @rule()
    def two_runs_at_once(self):
        now = self.desk.tick()
        results: list = [None, None]

        def one(number: int) -> None:
            results[number] = self.desk.run(now=now)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        held = [result for result in results if result.lease_held]
        assert len(held) < 2, "one of two runs always gets the lease"
        for result in results:
            if not result.lease_held:
                self._check_visible(result)
        self.runs += 2

    @rule(which=st.sampled_from(("FAILED", "STUCK")))
    def operator_retries(self, which):
        self._check_visible(self.desk.run(retry=which))
        self.runs += 1

    # ---- what must hold after every step
    def _check_visible(self, result) -> None:
        """After a completed run: each article's newest approved revision is out, or pending with a reason."""
        waiting = {(w["channel"], w["article_id"], w["revision"]): w["reason"] for w in result.waiting}
        failed = {(f["channel"], f["article_id"], f["revision"]): f["reason"] for f in result.failed}
        for article in ARTICLES:
            newest = self.desk.newest_approved(article)
            if newest is None:
                continue
            for channel in CHANNELS:
                state = ledger.delivery_state(self.desk.store, ledger.Delivery(channel, article, LANGUAGE, newest))
                if state.state == ledger.PUBLISHED:
                    continue
                reason = (waiting.get((channel, article, newest)) or failed.get((channel, article, newest))
                          or result.paused.get(channel) or (state.reason if state.state in (ledger.FAILED, ledger.STUCK)
                                                            else ""))
                assert reason, f"{channel} {article}@{newest} is neither out nor pending with a reason ({state})"

    @invariant()
    def at_most_one_remote_item_per_slot(self):
        for channel, slots in self.desk.remote_copies().items():
            assert all(count <= 1 for count in slots.values()), (channel, slots)

    @invariant()
    def readers_never_go_back_and_see_only_approved_revisions(self):
        for channel, slots in self.desk.live().items():
            for (article, language), revisions in slots.items():
                assert len(revisions) == 1, f"{channel} shows {article} {language} {len(revisions)} times"
                [revision] = revisions
                assert (article, revision) in self.desk.approved, f"{channel} shows unapproved {article}@{revision}"
                order = self.desk.registered[article].index(revision)
                before = self.seen.get((channel, (article, language)), -1)
                assert order >= before, f"{channel} went back from revision #{before} to #{order} of {article}"
                self.seen[(channel, (article, language))] = order

    @invariant()
    def every_feed_parses(self):
        assert self.desk.feeds_parse() == []

    # ---- recovery, then the end state must be exact
    def teardown(self):
        try:
            for server in self.servers.values():
                server.faults.clear()
                server.broken_reads = 0
            self.zalo.verify_pending = 0
            for entry in self.zalo.tokens.values():  # Zalo finished processing what it was given
                entry["pending"] = 0
            self.desk.tick(16 * 60)
            # A correction of "a" arrives now, whatever state its earlier revisions were left in
            # (unknown outcomes included): it must update the one item; "b" recovers as it is.
            self.desk.approve("a", self.desk.register("a"))
            self.desk.run(retry="STUCK")
            self.desk.run(retry="FAILED")
            for _ in range(3):
                last = self.desk.run()
                if not (last.waiting or last.published or last.errors):
                    break
            assert last.errors == [] and last.waiting == [], (last.errors, last.waiting)
            live = self.desk.live()
            copies = self.desk.remote_copies()
            for article in ARTICLES:
                newest = self.desk.newest_approved(article)
                slot = (article, LANGUAGE)
                for channel in CHANNELS:
                    shown = live[channel].get(slot, [])
                    assert shown == ([newest] if newest else []), f"{channel}: {article} shows {shown}, not {newest}"
                for channel, slots in copies.items():
                    assert slots.get(slot, 0) <= 1
            self.at_most_one_remote_item_per_slot()
            self.every_feed_parses()
        finally:
            for server in self.servers.values():  # stopping waits for the serve loop's poll: don't wait here
                threading.Thread(target=server.stop, daemon=True).start()
            shutil.rmtree(self.folder, ignore_errors=True)


PublishMachine.TestCase.settings = settings.get_profile(PROFILE)
TestPublishMachine = PublishMachine.TestCase
