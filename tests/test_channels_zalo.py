"""The Zalo OA channel's own ways to fail, against the loopback fake (tests/zalo_server.py).

The shared contract, fault and withdrawal suites run the Zalo channel like every
other channel; these tests cover what only a two-step API has: verify not
ready yet, a create whose answer is lost (found again by listing ten at a
time), an expired token in the middle of a send, a garbled verify answer —
and Zalo's length limits, shortened at a word boundary and announced in the
review form before approval.
"""

from __future__ import annotations

import json

import pytest
from channel_rigs import FAST, make_rig
from desk_records import approved_article, put_article, put_decision
from foreigndesk.core import records
from foreigndesk.core.drafts import Draft, draft_key
from foreigndesk.core.zalo_limits import AUTHOR_LIMIT, DESCRIPTION_LIMIT, ELLIPSIS, TITLE_LIMIT, fit, shorten
from foreigndesk.publish import ledger
from foreigndesk.publish.channels.zalo import ZaloChannel, ZaloConfig
from foreigndesk.publish.run import publish
from foreigndesk.review.form import build_form
from hypothesis import given
from hypothesis import strategies as st


@pytest.fixture
def rig(tmp_path):
    rig = make_rig("zalo", tmp_path)
    yield rig
    rig.close()


def _receipts(rig) -> list[dict]:
    return [json.loads(rig.store.read(key)) for key in rig.store.list("ledger/zalo/") if "/receipt-" in key]


def _proof(rig, article_id="a1", language="en", revision="r1") -> ledger.Published:
    return records.load(rig.store, ledger.Published, f"ledger/zalo/{article_id}/{language}/{revision}/published.json")


def test_a_create_is_claimed_then_its_token_recorded_then_its_id_proven(rig):
    rig.server.verify_pending = 2  # Zalo is still processing for two verify calls: waited out within the send
    approved_article(rig.store, "a1", languages=("en",))
    result = rig.run()
    assert result.errors == [] and rig.server.creates == 1
    [article_id] = rig.server.desk_articles()
    keys = sorted(key.rsplit("/", 1)[-1] for key in rig.store.list("ledger/zalo/a1/en/r1/"))
    assert keys == ["claim-001.json", "published.json", "receipt-001.json"]
    [receipt] = _receipts(rig)
    assert receipt["value"] in rig.server.tokens and rig.server.tokens[receipt["value"]]["id"] == article_id
    assert _proof(rig).remote_id == article_id and not _proof(rig).found_after_failure
    verifies = [path for method, path in rig.server.requests if path.endswith("/article/verify")]
    assert len(verifies) == 3 and rig.sleeps.count(0.01) == 2


def test_verify_not_ready_for_long_keeps_the_item_pending_and_never_creates_twice(rig):
    rig.server.verify_pending = 5
    approved_article(rig.store, "a1", languages=("en",))
    first = rig.run()
    assert first.published == [] and first.failed == [] and rig.server.creates == 1
    assert "zalo" in first.paused and "not processed" in first.paused["zalo"]
    [state] = ledger.publication_states(rig.store, "zalo")
    assert state.state == ledger.UNCERTAIN, "an article that exists is never 'not sent'"
    second = rig.run()
    assert [(p["article_id"], p["remote_id"]) for p in second.published] == [("a1", next(iter(rig.server.articles)))]
    assert rig.server.creates == 1 and _proof(rig).found_after_failure
    assert rig.copies() == {("a1", "en"): 1}


def test_a_create_answered_500_is_found_by_listing_ten_at_a_time_before_any_retry(rig):
    approved_article(rig.store, "a1", languages=("en",))
    title = fit("a1 (en)", "", "")["title"]

    def staff_posts_after_ours() -> None:  # the desk's article ends up on the third page of the list
        rig.server.after_create = None
        rig.server.staff_article(title)  # same title, no desk marker: never taken for ours
        for number in range(24):
            rig.server.staff_article(f"Tin tức {number}")

    rig.server.after_create = staff_posts_after_ours
    rig.server.faults.append("500_after_post")
    result = rig.run()
    assert result.errors == [] and rig.server.creates == 26
    assert len(rig.server.desk_articles()) == 1 and rig.copies() == {("a1", "en"): 1}
    [desk_id] = rig.server.desk_articles()
    assert _proof(rig).remote_id == desk_id and _proof(rig).found_after_failure
    slices = [path for method, path in rig.server.requests if path.endswith("/article/getslice")]
    assert len(slices) == 3, "pages of ten: offset 0, 10, 20"
    assert rig.server.writes() == 1, "no second create"


def test_a_token_that_expires_between_create_and_verify_pauses_the_channel_and_nothing_is_lost(rig):
    approved_article(rig.store, "a1", languages=("en",))
    approved_article(rig.store, "a2", languages=("en",))
    rig.server.after_create = rig.server.expire_token
    first = rig.run()
    assert first.failed == [] and first.published == []
    assert "-216" in first.paused["zalo"] and "renew" in first.paused["zalo"]
    assert rig.server.creates == 1 and rig.server.token not in json.dumps(first.as_json())
    states = {s.article_id: s.state for s in ledger.publication_states(rig.store, "zalo")}
    assert states == {"a1": ledger.UNCERTAIN}, "a2 was never claimed: the channel paused"
    rig.server.after_create = None
    rig.server.expired = False  # the operator renewed the token in the connection
    second = rig.run()
    assert sorted(p["article_id"] for p in second.published) == ["a1", "a2"] and second.errors == []
    assert rig.server.creates == 2 and rig.copies() == {("a1", "en"): 1, ("a2", "en"): 1}


def test_an_expired_token_on_a_correction_pauses_the_channel_and_the_update_follows_the_renewal(rig):
    approved_article(rig.store, "a1", languages=("en",))
    rig.run()
    [article_id] = rig.server.desk_articles()
    put_article(rig.store, "a1", "r2")
    put_decision(rig.store, "a1", "r2", "en", title="Corrected title", decided_at="2025-03-20T10:00:00+00:00")
    rig.server.expire_token()
    paused = rig.run()
    assert paused.failed == [] and "zalo" in paused.paused
    assert {s.revision: s.state for s in ledger.publication_states(rig.store, "zalo")}["r2"] == ledger.RETRY
    rig.server.expired = False
    again = rig.run()
    assert [(p["revision"], p["remote_id"]) for p in again.published] == [("r2", article_id)]
    assert rig.server.articles[article_id]["title"] == "Corrected title" and rig.server.creates == 1


def test_a_garbled_verify_answer_is_settled_with_the_recorded_token(rig):
    rig.server.garbled_verifies = 1
    approved_article(rig.store, "a1", languages=("en",))
    result = rig.run()
    assert result.errors == [] and rig.server.creates == 1
    [failure] = [k for k in rig.store.list("ledger/zalo/") if "/failed-" in k]
    assert records.load(rig.store, ledger.Failure, failure).kind == ledger.AMBIGUOUS
    assert _proof(rig).found_after_failure and rig.copies() == {("a1", "en"): 1}
    assert not [path for method, path in rig.server.requests if path.endswith("/article/getslice")], \
        "the token answered: no need to list"


def test_long_fields_are_shortened_at_a_word_boundary_as_the_form_said(rig):
    title = "Thai Nguyen province welcomes delegations " * 6
    summary = "The provincial tea festival brings growers, buyers and visitors together in Tan Cuong. " * 5
    put_article(rig.store, "a1", author="Phòng Thông tin đối ngoại, Sở Văn hóa, Thể thao và Du lịch Thái Nguyên")
    put_decision(rig.store, "a1", "r1", "en", title=title, summary=summary)
    assert rig.run().errors == []
    [article] = rig.server.desk_articles().values()
    expected = fit(title, "Phòng Thông tin đối ngoại, Sở Văn hóa, Thể thao và Du lịch Thái Nguyên", summary)
    assert {name: article[name] for name in expected} == expected
    assert len(article["title"]) <= TITLE_LIMIT and article["title"].endswith(ELLIPSIS)
    assert len(article["author"]) <= AUTHOR_LIMIT and len(article["description"]) <= DESCRIPTION_LIMIT
    assert title.startswith(article["title"][:-1]) and article["title"][-2] != " "
    assert title[len(article["title"]) - 1] == " ", "cut at a word boundary"


def test_the_review_form_shows_what_zalo_will_shorten_before_approval(tmp_path):
    from foreigndesk.core.store import LocalStore

    store = LocalStore(tmp_path / "store")
    title = "Thai Nguyen and Gyeongsangbuk-do sign a memorandum on tourism, tea culture and vocational training " \
            "cooperation for the years 2025 to 2030, with exchanges"
    put_article(store, "a1")
    _draft(store, "en", title)
    body = build_form(store, "a1", "r1", "en").body
    lines = body.splitlines()
    assert "### Zalo OA: shortened to fit TNTV's Official Account" in lines
    [cut] = [line for line in lines if line.startswith("- ✂ **Title**")]
    assert f"({len(title)} characters; Zalo takes {TITLE_LIMIT})" in cut
    assert cut.endswith(f"will read: {shorten(title, TITLE_LIMIT)}"), "the very text the channel will send"
    assert lines.index("### Zalo OA: shortened to fit TNTV's Official Account") < \
        next(i for i, line in enumerate(lines) if line.startswith("### Source and")), "before the text, with the fixes"
    _draft(store, "ko", "Short title")
    assert "Zalo" not in build_form(store, "a1", "r1", "ko").body, "nothing to say when everything fits"


def _draft(store, language: str, title: str) -> None:
    records.write_once(store, draft_key("a1", "r1", language), Draft(
        article_id="a1", revision="r1", language=language, source_language="vi", title=title, summary="Short.",
        body="Body.\n", model_name="m", model_version="1", demo_model=False, created_at="2025-03-14T10:00:00+00:00"))


def test_a_title_made_too_long_after_the_form_goes_back_once_with_the_cut_never_cut_silently(rig):
    """The form showed no cut; the reviewer wrote a longer title: the cut is shown before it counts."""
    from foreigndesk.core.decisions import APPROVED, NEEDS_FIX
    from foreigndesk.review.rounds import open_review, plan_review, record_decision

    store = rig.store
    put_article(store, "a1", image="https://img.example/tea.jpg")
    _draft(store, "en", "Tea festival opens")
    assert "Zalo" not in build_form(store, "a1", "r1", "en").body
    plan = plan_review(store, "a1", "r1", "en", entry=True)
    open_review(store, "a1", "r1", "en", plan, build_form(store, "a1", "r1", "en"), "2025-05-19T08:00:00+00:00")
    long_title = "The Tan Cuong tea festival opens in Thai Nguyen with growers, buyers and visitors from " \
                 "every province of the north and delegations from Korea, China and Japan"
    first = record_decision(store, "a1", "r1", "en", ["Approve"], {"title": long_title, "body": "Body.\n"},
                            "reviewer_en", "2025-05-19T08:30:00+00:00")
    cut = shorten(long_title, TITLE_LIMIT)
    assert first.outcome == NEEDS_FIX and not first.approved
    assert first.problems == [f"Title: too long for TNTV's Zalo OA, where it would read “{cut}”. Shorten it, or "
                              "approve it again as it is (the form now shows that cut)."]
    again = plan_review(store, "a1", "r1", "en", entry=False)
    form = build_form(store, "a1", "r1", "en", None, again.fix_of, again.attempt)
    assert f"will read: {cut}" in form.body, "the fix form shows the cut"
    open_review(store, "a1", "r1", "en", again, form, "2025-05-19T08:40:00+00:00")
    second = record_decision(store, "a1", "r1", "en", ["Approve"], {}, "reviewer_en", "2025-05-19T09:00:00+00:00")
    assert (second.outcome, second.title) == (APPROVED, long_title), "approved as it is, the cut now announced"
    assert rig.run().errors == []
    [article] = rig.server.desk_articles().values()
    assert article["title"] == cut, "Zalo readers see exactly what the form showed"


def test_an_article_without_a_cover_fails_with_its_reason_and_calls_nothing(rig):
    approved_article(rig.store, "a1", languages=("en",))
    channel = ZaloChannel(ZaloConfig(rig.server.base_url, rig.server.token, timeout=0.5), rig.session)
    result = publish(rig.store, rig.settings, [channel], policy=FAST, sleep=rig.sleep)
    [failed] = result.failed
    assert "needs a cover" in failed["reason"] and "default_cover" in failed["reason"]
    assert rig.server.requests == [] and ledger.publication_states(rig.store, "zalo")[0].state == ledger.FAILED


@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400), st.integers(10, 300))
def test_shorten_never_exceeds_the_limit_and_keeps_what_fits(text, limit):
    shown = shorten(text, limit)
    whole = " ".join(text.split())
    assert len(shown) <= limit
    if len(shorten(whole, 10_000)) <= limit:
        assert shown == shorten(whole, 10_000), "what fits is untouched"
    else:
        assert shown.endswith(ELLIPSIS) and len(shown) >= 1


def test_shorten_cuts_at_a_word_boundary_and_cuts_unspaced_scripts_by_character():
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("泰原省与庆尚北道签署旅游合作备忘录", 8) == "泰原省与庆尚北…"
    assert shorten("short", 150) == "short"


def test_a_withdrawal_during_processing_waits_for_the_token_and_then_removes_the_article(rig):
    """A send abandoned with its token recorded: the withdrawal asks verify, never says "never published"."""
    rig.server.verify_pending = 100
    approved_article(rig.store, "a1", languages=("en",))
    assert rig.run().published == [] and rig.server.creates == 1
    [article_id] = rig.server.desk_articles()
    waiting = rig.withdraw("a1")
    assert not waiting.complete and "en" not in [d["language"] for d in waiting.done]
    assert [p["channel"] for p in waiting.pending] == ["zalo"] and "processed" in waiting.pending[0]["reason"]
    assert article_id in rig.server.articles and rig.server.removals == []
    for entry in rig.server.tokens.values():  # Zalo finishes processing
        entry["pending"] = 0
    done = rig.withdraw("a1")
    assert done.complete and rig.server.removals == [article_id] and rig.server.desk_articles() == {}


# ---- switched on by the Airflow Connection foreigndesk_zalo (the DAG and the CLI read the same one)


@pytest.fixture
def zalo():
    from zalo_server import ZaloServer

    server = ZaloServer()
    yield server
    server.stop()


def _connection(server) -> str:
    return json.dumps({"conn_type": "http", "host": server.base_url, "password": server.token,
                       "extra": {"default_cover": "https://tntv.vn/static/cover.jpg"}})


def test_the_connection_becomes_plain_settings_and_no_connection_means_off():
    from foreigndesk.airflow_side.connections import env_connection, zalo_channel_config

    uri = "https://:oa-token-77@openapi.zalo.me/v2.0?default_cover=https%3A%2F%2Fx.vn%2Fc.jpg"
    env = {"AIRFLOW_CONN_FOREIGNDESK_ZALO": uri}
    config = zalo_channel_config(lambda conn_id: env_connection(conn_id, env))
    assert (config.base_url, config.token, config.default_cover) == (
        "https://openapi.zalo.me/v2.0", "oa-token-77", "https://x.vn/c.jpg")
    assert "oa-token-77" not in repr(config)
    assert zalo_channel_config(lambda conn_id: env_connection(conn_id, {})) is None
    with pytest.raises(ValueError, match="OA access token as password"):
        no_token = json.dumps({"conn_type": "http", "host": "https://openapi.zalo.me/v2.0"})
        zalo_channel_config(lambda conn_id: env_connection(conn_id, {"AIRFLOW_CONN_FOREIGNDESK_ZALO": no_token}))


def test_cli_publish_reaches_zalo_when_its_connection_is_set(desk, zalo, monkeypatch, capsys):
    from foreigndesk.cli import main
    from foreigndesk.core.store import LocalStore

    store = LocalStore(desk / "store")
    approved_article(store, "a1", languages=("en",))
    assert main(["publish", "--channel", "zalo"]) == 2, "no connection: the channel is off"
    assert "foreigndesk_zalo" in capsys.readouterr().err
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_ZALO", _connection(zalo))
    assert main(["publish", "--channel", "zalo", "--json"]) == 0
    out = capsys.readouterr().out
    [item] = json.loads(out)["published"]
    assert zalo.token not in out and item["remote_id"] in zalo.desk_articles()
    assert main(["withdraw", "a1", "--reason", "retracted", "--by", "chief"]) == 0
    assert zalo.removals == [item["remote_id"]] and zalo.desk_articles() == {}


@pytest.mark.airflow
def test_the_dag_publishes_to_zalo_when_its_connection_exists_and_corrects_in_place(desk, zalo, monkeypatch,
                                                                                   airflow_db):
    """The real publish DAG with dag.test(): Airflow's Connection (AIRFLOW_CONN_FOREIGNDESK_ZALO) switches Zalo on."""
    from airflow.dag_processing.dagbag import DagBag
    from conftest import REPO
    from foreigndesk.core.store import LocalStore

    store = LocalStore(desk / "store")
    approved_article(store, "a1", languages=("en", "ko"))
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_ZALO", _connection(zalo))
    dag = DagBag(dag_folder=REPO / "dags").dags["foreigndesk_publish"]
    assert dag.test().state == "success"
    states = {(s.channel, s.language): s.state for s in ledger.publication_states(store)}
    assert states == {(c, lang): ledger.PUBLISHED for c in ("portal-feed", "web", "zalo") for lang in ("en", "ko")}
    assert zalo.creates == 2 and len(_receipts_of(store)) == 2
    put_article(store, "a1", "r2")
    put_decision(store, "a1", "r2", "en", title="Corrected title", decided_at="2025-03-20T10:00:00+00:00")
    assert dag.test().state == "success"
    assert zalo.creates == 2 and sorted(a["title"] for a in zalo.desk_articles().values()) == [
        "Corrected title", "a1 (ko)"]
    stored = b"".join(store.read(key) for key in store.list(""))
    assert zalo.token.encode() not in stored


def _receipts_of(store) -> list[str]:
    return [key for key in store.list("ledger/zalo/") if "/receipt-" in key]
