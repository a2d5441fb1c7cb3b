"""The publish run: what is due, read cheaply; the same code behind the DAG task and the CLI."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from channel_servers import GraphServer
from desk_records import approved_article, put_article, put_decision
from foreigndesk import ledger
from foreigndesk.cli import CHANNEL_NAMES as CLI_CHANNELS
from foreigndesk.cli import main
from foreigndesk.publishing import CHANNEL_NAMES, desk_channels, latest_approvals, publish, run_publish
from foreigndesk.settings import load_settings
from foreigndesk.store import LocalStore


class CountingStore(LocalStore):
    """A real store that counts what a run opens, by top-level folder."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.reads: Counter[str] = Counter()

    def read(self, key: str) -> bytes:
        self.reads[key.split("/")[0]] += 1
        return super().read(key)


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


def test_one_channel_at_a_time(store):
    approved_article(store, "a1", languages=("en",))
    settings = load_settings()
    only_web = run_publish(store, settings, only="web")
    assert [p["channel"] for p in only_web.published] == ["web"]
    rest = run_publish(store, settings)
    assert [p["channel"] for p in rest.published] == ["portal-feed"]
    with pytest.raises(ValueError, match="'fanpage' is not configured"):
        run_publish(store, settings, only="fanpage")


def test_the_cli_knows_every_channel():
    assert CLI_CHANNELS == CHANNEL_NAMES


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
    assert graph.posts[item["remote_id"]]["link"] == "https://dynamic.thainguyen.example/en/a1.html"
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
    from foreigndesk.airflow_glue import env_connection, remote_channel_configs

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
