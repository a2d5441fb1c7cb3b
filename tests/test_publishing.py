"""The publish run: what is due, read cheaply; the same code behind the DAG task and the CLI."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from channel_servers import GraphServer
from desk_records import approved_article, latest_approvals, put_article, put_decision
from foreigndesk.cli import main
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.publish import ledger
from foreigndesk.publish.channels import CHANNEL_NAMES
from foreigndesk.publish.run import desk_channels, publish, run_publish


class CountingStore(LocalStore):
    """A real store that counts what a run opens, by top-level folder, and what it lists."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.reads: Counter[str] = Counter()
        self.lists: list[tuple[str, ...]] = []

    def read(self, key: str) -> bytes:
        self.reads[key.split("/")[0]] += 1
        return super().read(key)

    def list(self, prefix: str):
        self.lists.append(("list", prefix))
        return LocalStore.list_after(self, prefix, "")

    def list_after(self, prefix: str, start_after: str):
        self.lists.append(("list_after", prefix, start_after))
        return super().list_after(prefix, start_after)

    def clear(self) -> None:
        self.reads.clear()
        self.lists.clear()


@pytest.fixture
def store(tmp_path):
    return CountingStore(tmp_path / "store")


def _run(store, **kwargs):
    settings = load_settings()
    return publish(store, settings, desk_channels(store, settings, None), **kwargs)


def test_latest_approvals_skip_rejections_and_take_the_newest_approval(store):
    put_article(store, "a1")
    put_decision(store, "a1", "r1", "en", decided_at="2025-03-15T10:00:00+00:00")
    put_article(store, "a1", "r2")
    put_decision(store, "a1", "r2", "en", decided_at="2025-03-16T10:00:00+00:00")
    put_decision(store, "a1", "r2", "zh", "Reject")
    assert [(d.revision, d.language) for d in latest_approvals(store)] == [("r2", "en")]


def test_a_run_with_nothing_due_opens_no_record(store):
    for number in range(5):
        approved_article(store, f"a{number}")
    assert len(_run(store).published) == 30
    store.reads.clear()
    quiet = _run(store)
    assert (quiet.published, quiet.written, quiet.waiting) == ([], [], [])
    assert set(store.reads) == {"publish"}, store.reads  # the two channels' index heads, nothing else
    assert store.reads["publish"] == 2


def test_a_new_decision_opens_only_its_own_articles_records(store):
    for number in range(5):
        approved_article(store, f"a{number}")
    _run(store)
    put_decision(store, "a2", "r1", "en", attempt=2, title="Re-approved", decided_at="2025-04-01T00:00:00+00:00")
    store.reads.clear()
    result = _run(store)
    assert result.published == []  # same revision, already out: the newer approval of r1 changes nothing
    assert store.reads["decisions"] == 4, "a2's four decisions, opened once for both channels"
    assert store.reads["articles"] <= 2


def test_losing_the_index_costs_a_slow_run_never_a_second_copy(store):
    approved_article(store, "a1")
    _run(store)
    for key in list(store.list("publish/")):
        (store.root / key).unlink()
    again = _run(store)
    assert again.published == [] and again.written == []
    store.reads.clear()
    assert _run(store).published == [] and set(store.reads) == {"publish"}, "the index is back"


def test_a_corrupt_index_is_rebuilt_from_the_records(store):
    approved_article(store, "a1", languages=("en",))
    _run(store)
    store.replace("publish/index/web/head.json", b"{not json")
    store.replace("publish/index/web/settled.json", b"[1, 2")
    assert _run(store).published == []
    approved_article(store, "a2", languages=("en",))
    assert sorted((p["channel"], p["article_id"]) for p in _run(store).published) == [
        ("portal-feed", "a2"), ("web", "a2")]


def test_an_embargoed_item_ripens_without_reopening_the_archive(store):
    from datetime import datetime, timezone

    for number in range(3):
        approved_article(store, f"a{number}", languages=("en",))
    put_article(store, "late", publish_at="2030-06-01T07:00:00+07:00")
    put_decision(store, "late", "r1", "en")
    _run(store, now=datetime(2030, 5, 1, tzinfo=timezone.utc))
    store.reads.clear()
    assert _run(store, now=datetime(2030, 5, 2, tzinfo=timezone.utc)).published == []
    assert set(store.reads) == {"publish"}
    store.reads.clear()
    ripe = _run(store, now=datetime(2030, 6, 1, 0, 0, 1, tzinfo=timezone.utc))
    assert sorted(p["channel"] for p in ripe.published) == ["portal-feed", "web"]
    # one decision opened to plan (the embargoed one), three to rebuild the feed's other items; none for web
    assert store.reads["decisions"] == 1 + 3


# ---- the journal's fast path -----------------------------------------------------------------


def _head(store, channel: str) -> dict:
    return json.loads((store.root / f"publish/index/{channel}/head.json").read_text())


def _full_listings(store) -> int:
    return store.lists.count(("list", "decisions/"))


def _claims(store) -> Counter:
    return Counter(key.rsplit("/", 1)[0] for key in store.list("ledger/") if "/claim-" in key)


@pytest.fixture
def scanned(store, monkeypatch):
    """The folders of the store the run opens (os.scandir), relative to its root."""
    real_scandir = os.scandir
    folders: list[str] = []

    def scandir(path):
        folders.append(os.path.relpath(path, store.root).replace(os.sep, "/"))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return folders


def test_a_quiet_run_reads_the_heads_and_only_the_journal_after_the_mark(store, scanned):
    now = datetime.now(timezone.utc)
    for days in (40, 12, 9, 2):
        approved_article(store, f"old{days}", journaled_at=now - timedelta(days=days))
    approved_article(store, "today")
    assert len(_run(store).published) == 30
    marks = {_head(store, channel)["mark"] for channel in ("portal-feed", "web")}
    [mark] = marks
    partitions = {key.rsplit("/", 1)[0] for key in store.list("journal/decisions/")}
    assert len(partitions) == 5
    store.clear()
    scanned.clear()
    quiet = _run(store)
    assert (quiet.published, quiet.written, quiet.waiting, quiet.errors) == ([], [], [], [])
    assert store.reads == Counter({"publish": 2}), "the two heads; no record, not even settled.json"
    assert store.lists == [("list_after", "journal/decisions/", mark)], "one listing, of the journal's tail"
    opened = set(scanned) - {"journal/decisions"}
    assert opened and all(folder.startswith("journal/decisions/") for folder in opened)
    for folder in opened:
        assert folder + "/" > mark or mark.startswith(folder + "/"), f"{folder} holds only entries before the mark"
    earlier = {folder for folder in partitions if folder + "/" < mark and not mark.startswith(folder + "/")}
    assert len(earlier) == 4 and not opened & earlier, "no earlier day is opened"


def test_a_new_decision_after_a_quiet_run_goes_out_on_the_next_run(store):
    approved_article(store, "a1")
    _run(store)
    assert _run(store).published == []
    approved_article(store, "a2", languages=("ko",))
    store.clear()
    result = _run(store)
    assert sorted((p["channel"], p["article_id"], p["language"]) for p in result.published) == [
        ("portal-feed", "a2", "ko"), ("web", "a2", "ko")]
    assert _full_listings(store) == 0, "no channel listed every decision"
    assert ("list", "decisions/a2/") in store.lists and ("list", "decisions/a1/") not in store.lists
    assert store.reads["decisions"] == 1 + 1, "a2's decision to plan; a1's ko decision to rebuild the ko feed"
    store.clear()
    assert _run(store).published == [] and set(store.reads) == {"publish"}


def test_a_journal_entry_without_its_decision_is_ignored_and_a_late_one_is_still_seen(store):
    from foreigndesk.core import records
    from foreigndesk.core.decisions import Decision, decision_key, journal_key

    approved_article(store, "a1", languages=("en",))
    _run(store)
    now = datetime.now(timezone.utc)
    store.create(journal_key("ghost", "r1", "en", 1, now), decision_key("ghost", "r1", "en").encode())
    put_article(store, "late")
    store.create(journal_key("late", "r1", "en", 1, now), decision_key("late", "r1", "en").encode())
    first = _run(store, now=now)
    assert (first.published, first.errors) == ([], []), "two entries whose decisions are not (yet) there"
    # the stalled writer of "late" finishes after that run: the entry is looked at again
    decision = Decision("late", "r1", "en", 1, "Approve", "reviewer_en", now.isoformat(), "Late", "S.", "Body.\n",
                        "", "", "", False)
    assert records.write_once(store, decision_key("late", "r1", "en"), decision)
    second = _run(store, now=now + timedelta(minutes=15))
    assert sorted(p["channel"] for p in second.published if p["article_id"] == "late") == ["portal-feed", "web"]
    assert second.errors == [] and not [p for p in second.published if p["article_id"] != "late"]
    # the ghost's entry settles: taken, never published, and the runs go quiet
    settled = _run(store, now=now + timedelta(hours=2))
    assert (settled.published, settled.errors) == ([], [])
    for channel in ("portal-feed", "web"):
        head = _head(store, channel)
        assert head["taken"] == [] and head["mark"] > journal_key("ghost", "r1", "en", 1, now)
    store.clear()
    assert _run(store, now=now + timedelta(hours=2, minutes=15)).published == []
    assert set(store.reads) == {"publish"} and _full_listings(store) == 0
    assert not any(key.startswith("ledger/") and "/ghost/" in key for key in store.list("ledger/"))


def test_an_entry_listed_late_behind_one_already_taken_is_still_seen(store):
    """Two reviewers answer at once; the earlier-stamped entry becomes visible only after a run took the later one."""
    now = datetime.now(timezone.utc)
    approved_article(store, "a1", languages=("en",))
    _run(store, now=now)
    approved_article(store, "quick", languages=("en",), journaled_at=now + timedelta(minutes=10))
    assert len(_run(store, now=now + timedelta(minutes=10)).published) == 2
    approved_article(store, "slow", languages=("en",), journaled_at=now + timedelta(minutes=9))
    store.clear()
    late = _run(store, now=now + timedelta(minutes=25))
    assert sorted((p["channel"], p["article_id"]) for p in late.published) == [("portal-feed", "slow"), ("web", "slow")]
    assert _full_listings(store) == 0


def test_lost_or_old_form_heads_cost_one_full_rebuild_and_no_second_post(store):
    for number in range(3):
        approved_article(store, f"a{number}")
    _run(store)
    claims = _claims(store)
    assert len(claims) == 18 and set(claims.values()) == {1}
    (store.root / "publish/index/portal-feed/head.json").unlink()
    store.replace("publish/index/web/head.json", json.dumps({"listing": "0" * 64, "open": {}}).encode())  # old form
    approved_article(store, "lost", languages=("zh",))
    store.clear()
    rebuilt = _run(store)
    assert sorted((p["channel"], p["article_id"]) for p in rebuilt.published) == [
        ("portal-feed", "lost"), ("web", "lost")]
    assert _full_listings(store) == 1, "one full listing, shared by both channels"
    after = _claims(store)
    assert len(after) == 20 and set(after.values()) == {1}, "every unit claimed exactly once, ever"
    store.clear()
    assert _run(store).published == [] and set(store.reads) == {"publish"} and _full_listings(store) == 0


def test_an_embargo_ripens_on_the_fast_path_without_a_journal_entry(store):
    now = datetime.now(timezone.utc)
    approved_article(store, "a1", languages=("en",))
    put_article(store, "late", publish_at=(now + timedelta(hours=3)).isoformat())
    put_decision(store, "late", "r1", "en")
    first = _run(store, now=now)
    assert sorted(w["article_id"] for w in first.waiting) == ["late", "late"]
    entries = list(store.list("journal/decisions/"))
    store.clear()
    assert _run(store, now=now + timedelta(hours=1)).published == [] and set(store.reads) == {"publish"}
    store.clear()
    ripe = _run(store, now=now + timedelta(hours=3, seconds=1))
    assert sorted((p["channel"], p["article_id"]) for p in ripe.published) == [("portal-feed", "late"), ("web", "late")]
    assert list(store.list("journal/decisions/")) == entries, "no entry announced it"
    assert _full_listings(store) == 0 and ("list", "decisions/late/") in store.lists
    assert ("list", "decisions/a1/") not in store.lists


def test_the_daily_sweep_finds_a_decision_the_journal_never_showed(store):
    from foreigndesk.core import records
    from foreigndesk.core.decisions import Decision, decision_key

    now = datetime.now(timezone.utc)
    approved_article(store, "a1", languages=("en",))
    _run(store, now=now)
    put_article(store, "restored")
    decision = Decision("restored", "r1", "en", 1, "Approve", "reviewer_en", now.isoformat(), "Restored", "S.",
                        "Body.\n", "", "", "", False)
    assert records.write_once(store, decision_key("restored", "r1", "en"), decision)  # e.g. back from a backup
    store.clear()
    assert _run(store, now=now + timedelta(hours=23)).published == [] and _full_listings(store) == 0
    store.clear()
    swept = _run(store, now=now + timedelta(hours=24, minutes=1))
    assert sorted(p["channel"] for p in swept.published) == ["portal-feed", "web"]
    assert _full_listings(store) == 1
    store.clear()
    assert _run(store, now=now + timedelta(hours=24, minutes=16)).published == [] and _full_listings(store) == 0


def test_on_s3_a_quiet_run_is_two_reads_and_one_listing_after_the_mark(s3_bucket):
    """The same planner on the S3 store (moto's server on loopback): ListObjectsV2 with StartAfter=mark."""
    from foreigndesk.core.store import S3Store

    client, bucket = s3_bucket
    s3 = S3Store(client, bucket, "desk")
    for number in range(3):
        approved_article(s3, f"a{number}", journaled_at=datetime.now(timezone.utc) - timedelta(days=number))
    assert len(_run(s3).published) == 18
    approved_article(s3, "next", languages=("en",))
    assert sorted(p["channel"] for p in _run(s3).published) == ["portal-feed", "web"]
    calls: list[tuple[str, dict]] = []
    handler = lambda model, params, **_: calls.append((model.name, params))  # noqa: E731
    client.meta.events.register("provide-client-params.s3", handler)
    try:
        quiet = _run(s3)
    finally:
        client.meta.events.unregister("provide-client-params.s3", handler)
    assert (quiet.published, quiet.written, quiet.errors) == ([], [], [])
    assert sorted(name for name, _ in calls) == ["GetObject", "GetObject", "ListObjectsV2"]
    [listing] = [params for name, params in calls if name == "ListObjectsV2"]
    mark = json.loads(s3.read("publish/index/web/head.json"))["mark"]
    assert listing["Prefix"] == "desk/journal/decisions/" and listing["StartAfter"] == f"desk/{mark}"


def test_one_channel_at_a_time(store):
    approved_article(store, "a1", languages=("en",))
    settings = load_settings()
    only_web = run_publish(store, settings, only="web")
    assert [p["channel"] for p in only_web.published] == ["web"]
    rest = run_publish(store, settings)
    assert [p["channel"] for p in rest.published] == ["portal-feed"]
    with pytest.raises(ValueError, match="'fanpage' is not configured"):
        run_publish(store, settings, only="fanpage")


def test_the_cli_offers_every_channel_and_refuses_others():
    from foreigndesk.cli import build_parser

    for name in CHANNEL_NAMES:
        assert build_parser().parse_args(["publish", "--channel", name]).channel == name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["publish", "--channel", "twitter"])


@pytest.fixture
def graph():
    server = GraphServer()
    yield server
    server.stop()


def test_cli_publish_reads_the_connections_from_the_environment(desk, graph, monkeypatch, capsys):
    store = LocalStore(desk / "store")
    approved_article(store, "a1", languages=("en",))
    put_article(store, "a2")
    put_decision(store, "a2", "r1", "en", "Reject")
    connection = {"conn_type": "http", "host": graph.base_url, "password": graph.token,
                  "extra": {"page_id": graph.page_id}}
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_FANPAGE", json.dumps(connection))

    assert main(["publish", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert sorted(d["channel"] for d in plan["due"]) == ["fanpage", "portal-feed", "web"]
    assert graph.posts == {} and list(store.list("ledger/")) == []

    assert main(["publish", "--channel", "fanpage", "--json"]) == 0
    out = capsys.readouterr().out
    assert graph.token not in out
    [item] = json.loads(out)["published"]
    assert item["remote_id"] == f"{graph.page_id}_1"
    assert graph.posts[item["remote_id"]]["link"].split("?fdref=")[0] == "https://dynamic.thainguyen.example/en/a1.html"
    assert graph.posts[item["remote_id"]]["message"] == "a1 (en)\n\nSummary en."

    assert main(["publish"]) == 0
    text = capsys.readouterr().out
    assert "published portal-feed" in text and "published web" in text and "fanpage" not in text
    assert main(["publish"]) == 0
    assert capsys.readouterr().out.strip() == "nothing due"
    assert len(graph.posts) == 1


def test_cli_publish_with_a_uri_connection_and_a_missing_page_id(desk, monkeypatch, capsys):
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_FANPAGE", "https://:tok-very-secret@graph.example/v19.0")
    assert main(["publish"]) == 2
    err = capsys.readouterr().err
    assert "page_id" in err and "tok-very-secret" not in err


def test_connections_become_plain_settings(monkeypatch):
    from foreigndesk.airflow_side.connections import env_connection, remote_channel_configs

    env = {
        "AIRFLOW_CONN_FOREIGNDESK_FANPAGE": "https://:page-token-123@graph.example/v19.0?page_id=42",
        "AIRFLOW_CONN_FOREIGNDESK_PORTAL_PUSH": json.dumps(
            {"conn_type": "http", "host": "https://portal.example.vn/api/items", "password": "push-token-9"}),
    }
    fanpage, push = remote_channel_configs(lambda conn_id: env_connection(conn_id, env))
    assert (fanpage.base_url, fanpage.token, fanpage.page_id) == ("https://graph.example/v19.0", "page-token-123", "42")
    assert (push.url, push.token) == ("https://portal.example.vn/api/items", "push-token-9")
    assert "page-token-123" not in repr(fanpage) and "push-token-9" not in repr(push)
    assert remote_channel_configs(lambda conn_id: env_connection(conn_id, {})) == (None, None)


@pytest.mark.airflow
def test_the_dag_publishes_to_the_channels_whose_connections_exist(desk, graph, monkeypatch, airflow_db):
    """The real DAG, run with dag.test(): Airflow's Connection (from AIRFLOW_CONN_*) switches the fanpage on."""
    from airflow.dag_processing.dagbag import DagBag
    from conftest import REPO

    store = LocalStore(desk / "store")
    approved_article(store, "a1", languages=("en", "ko"))
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_FANPAGE", json.dumps(
        {"conn_type": "http", "host": graph.base_url, "password": graph.token, "extra": {"page_id": graph.page_id}}))
    dag = DagBag(dag_folder=REPO / "dags").dags["foreigndesk_publish"]
    assert dag.max_active_runs == 1
    assert dag.timetable.summary == "*/15 * * * *"
    run = dag.test()
    assert run.state == "success"
    assert graph.copies() == {"https://dynamic.thainguyen.example/en/a1.html": 1,
                              "https://dynamic.thainguyen.example/ko/a1.html": 1}
    states = {(s.channel, s.language): s.state for s in ledger.publication_states(store)}
    assert states == {(c, lang): ledger.PUBLISHED for c in ("fanpage", "portal-feed", "web") for lang in ("en", "ko")}
    assert dag.test().state == "success" and len(graph.posts) == 2
