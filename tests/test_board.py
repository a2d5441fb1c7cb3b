"""The desk board without a browser: what it reads from the store, what it counts, draws and refuses.

The store is written through the stages' own record functions (tests/board_desk.py);
the board app is served in-process by Starlette's TestClient with a stand-in for
Airflow's login (the real login is exercised in tests/test_board_browser.py).
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone

import pytest
from board_desk import LANGUAGES, build_desk
from foreigndesk.board import charts, i18n, states
from foreigndesk.board.actions import DONE, REFUSED, actions_of
from foreigndesk.board.app import Desk, Viewer, create_app
from foreigndesk.board.chart_data import _percentile
from foreigndesk.board.copies import Reader
from foreigndesk.board.filters import (
    Filters,
    filter_rows,
    my_reviews,
    period_start,
    state_counts,
)
from foreigndesk.board.rows import collect_rows
from foreigndesk.core.settings import load_settings
from foreigndesk.core.store import LocalStore
from foreigndesk.publish import ledger

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def desk_store(tmp_path):
    store = LocalStore(tmp_path / "store")
    return store, build_desk(store, 40, NOW)


def _client(store, user: str = "reviewer_zh", chief: bool = False, clock=lambda: NOW):
    from fastapi.testclient import TestClient

    desk = Desk(load_settings(), lambda: store, clock=clock)
    return TestClient(create_app(desk, lambda: Viewer(user, chief)))


def _rows(store, days: int = 30):
    return collect_rows(store, Reader(), period_start(NOW, days))


def test_every_cell_shows_the_state_its_records_say(desk_store):
    store, built = desk_store
    seen = {}
    for row in _rows(store):
        for cell in row.cells:
            seen[(row.article.article_id, row.article.revision, cell.language)] = (
                cell.state.id, {channel.channel: channel.state.id for channel in cell.channels})
    assert seen == built.cells
    counts = state_counts(_rows(store))
    assert {state: n for state, n in counts.items() if n} == built.counts()
    assert set(built.counts()) >= {"translating", "in_review", "approved", "published", "rejected", "needs_fix",
                                   "expired", "superseded", "pending", "channel_published", "failed"}


def _task_states(failed: set[str]):
    """Airflow's answer for the open reviews' tasks: failed for the articles in ``failed``, waiting for the rest."""
    def ask(requests):
        return {(r.run_id, r.task_id, r.map_index): "failed" if r.article_id in failed else "awaiting_input"
                for r in requests}
    return ask


def test_the_board_agrees_with_foreigndesk_status(desk_store):
    """For the latest revisions, the board's language states are status's states (one source, two views)."""
    from foreigndesk.status import collect_status, open_requests

    store, built = desk_store
    stopped = {article_id for (article_id, _, _), (state, _) in list(built.cells.items())[::4] if state == "in_review"}
    assert stopped
    ask = _task_states(stopped)
    names = {"translating": "translating", "in review": "in_review", "approved": "approved", "rejected": "rejected",
             "needs fix": "needs_fix", "expired": "expired", "published": "published",
             "review stopped": "review_stopped"}
    status = {(row.article_id, row.revision, row.language): (names[row.state], row.holder)
              for row in collect_status(store, NOW, LANGUAGES, ask(open_requests(store))).articles}
    rows = collect_rows(store, Reader(), period_start(NOW, 30), task_states=ask)
    board = {(row.article.article_id, row.article.revision, cell.language): cell.state.id
             for row in rows if row.latest for cell in row.cells}
    assert board == {key: state for key, (state, _) in status.items()}
    assert "review_stopped" in board.values()
    for row in rows:
        for cell in row.cells:
            if cell.state is states.REVIEW_STOPPED:  # the same words on what to do as the status report
                assert cell.holder == status[(row.article.article_id, row.article.revision, cell.language)][1]
                assert "clear review.round_" in cell.holder
                assert row.article.article_id not in {r.article.article_id for r in my_reviews(rows, "reviewer_en")
                                                       if r.language == cell.language}


def test_my_reviews_are_exactly_the_users_open_reviews_oldest_first(desk_store):
    store, built = desk_store
    mine = my_reviews(_rows(store), "reviewer_zh")
    expected = sorted(built.open_reviews["reviewer_zh"], key=lambda item: item[2])
    assert [(r.article.article_id, r.language, r.opened_at) for r in mine] == expected
    assert len(expected) >= 5 and {r.language for r in mine} == {"zh"}
    assert my_reviews(_rows(store), "editor") == []


def test_filters_narrow_rows_and_search_ignores_accents(desk_store):
    store, _ = desk_store
    rows = _rows(store)
    tntv = filter_rows(rows, Filters(outlet="tntv"))
    assert tntv and all(row.article.outlet == "tntv" for row in tntv) and len(tntv) < len(rows)
    zh = filter_rows(rows, Filters(language="zh"))
    assert all([cell.language for cell in row.cells] == ["zh"] for row in zh)
    failed = filter_rows(rows, Filters(state="failed"))
    assert failed and all("failed" in row.states() for row in failed)
    found = filter_rows(rows, Filters(search="thai nguyen don doan cong tac so 18"))
    assert [row.article.article_id for row in found] == ["bai-00018"]
    assert filter_rows(rows, Filters(search="BAI-00018"))[0].article.article_id == "bai-00018"


def test_the_period_limits_rows_to_recent_activity(tmp_path):
    store = LocalStore(tmp_path / "store")
    build_desk(store, 10, NOW - timedelta(days=200), days=5)  # an old archive
    recent = build_desk(store, 10, NOW, days=5, first=100)
    ids = {row.article.article_id for row in _rows(store, 7)}
    assert ids == {article_id for (article_id, _, _) in recent.cells}


class CountingStore:
    """A LocalStore that counts what the board asks of it."""

    def __init__(self, store: LocalStore) -> None:
        self.store, self.url, self.calls, self.listed = store, store.url, 0, 0

    def read(self, key):
        self.calls += 1
        return self.store.read(key)

    def exists(self, key):
        self.calls += 1
        return self.store.exists(key)

    def list(self, prefix):
        return self.list_after(prefix, "")

    def list_after(self, prefix, start_after):
        self.calls += 1
        keys = list(self.store.list_after(prefix, start_after))
        self.listed += len(keys)
        return iter(keys)


def test_reading_the_board_does_not_grow_with_the_archive(tmp_path):
    """The same recent desk, with no archive and with 120 older articles: the same store calls and keys."""
    costs = []
    for archive in (0, 120):
        store = LocalStore(tmp_path / f"store-{archive}")
        if archive:
            build_desk(store, archive, NOW - timedelta(days=400), days=60, first=1000)
        build_desk(store, 30, NOW, days=10)
        counting = CountingStore(store)
        rows = collect_rows(counting, Reader(), period_start(NOW, 30))
        costs.append((len(rows), counting.calls, counting.listed))
    assert costs[0] == costs[1], costs


def test_a_second_reading_reads_no_record_again_only_what_is_still_missing(desk_store):
    store, _ = desk_store
    reader = Reader()
    first, second = CountingStore(store), CountingStore(store)
    collect_rows(first, reader, period_start(NOW, 30))
    reads = []
    second.read = lambda key, _read=second.read: reads.append(key) or _read(key)  # type: ignore[method-assign]
    collect_rows(second, reader, period_start(NOW, 30))
    # Only what is still absent is asked again (a draft not written yet may appear any moment).
    assert reads and not [key for key in reads if store.exists(key)] and second.calls < first.calls


def test_recorded_superseded_decisions_render_as_superseded(tmp_path):
    """The state name the publish stage records when it closes an older revision's review."""
    from foreigndesk.core.decisions import Decision, write_decision

    store = LocalStore(tmp_path / "store")
    built = build_desk(store, 10, NOW, days=3)
    (article_id, revision, language), _ = next(
        (key, value) for key, value in built.cells.items() if value[0] == "in_review")
    write_decision(store, Decision(article_id=article_id, revision=revision, language=language, attempt=1,
                                   option="", reviewer="", decided_at=NOW.isoformat(), title="", summary="",
                                   body="", note="", machine_title="", machine_body="", demo_model=False,
                                   state="superseded"))
    cell = next(cell for row in _rows(store) if row.article.revision == revision for cell in row.cells
                if cell.language == language)
    assert cell.state is states.SUPERSEDED


@pytest.mark.parametrize(("unit_state", "channel", "language"), [
    (ledger.PUBLISHED, states.CHANNEL_PUBLISHED, states.PUBLISHED),
    (ledger.FAILED, states.FAILED, states.APPROVED_STATE),
    (ledger.STUCK, states.NEEDS_OPERATOR, states.APPROVED_STATE),
    (ledger.UNCERTAIN, states.PENDING, states.APPROVED_STATE),
    (ledger.RETRY, states.PENDING, states.APPROVED_STATE),
])
def test_ledger_states_map_to_the_boards_states(unit_state, channel, language):
    """One table for every ledger state, including those the publish stage's operator work adds."""
    assert states.channel_state(unit_state) is channel
    assert states.language_state(latest_outcome="approved", review_open=False, channels=[channel],
                                 newer_revision=False) is language
    assert channel.retryable == (channel in (states.FAILED, states.NEEDS_OPERATOR))


def test_board_page_counts_every_state_and_escapes_record_text(tmp_path):
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

    store = LocalStore(tmp_path / "store")
    built = build_desk(store, 30, NOW)
    # Intake removes raw HTML from a title; markup written as code stays as text, for the board to escape.
    raw = ("---\ntitle: \"`<script>alert('x')</script>` Tin\"\noutlet: tntv\napproved_by: A\n"
           "approved_at: 2025-03-14T09:30:00+07:00\n---\nNội dung.\n").encode()
    register(store, parse_article(raw, "x.md", "tntv"), raw, "x.md")
    page = _client(store, "admin", chief=True).get("/?ui=en")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "`&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;` Tin" in page.text
    expected = dict(built.counts())
    expected["translating"] = expected.get("translating", 0) + 3
    for state in states.ALL:
        assert f'data-state="{state.id}" data-count="{expected.get(state.id, 0)}"' in page.text, state.id
    assert page.text.count('class="retry"') == built.counts()["failed"]  # the chief's retry buttons
    assert 'class="retry"' not in _client(store, "reviewer_zh").get("/").text


def test_labels_follow_the_toggle_then_the_cookie_then_the_browser(desk_store):
    store, _ = desk_store
    client = _client(store)
    assert 'lang="vi"' in client.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}).text
    assert "Bảng điều phối" in client.get("/", headers={"Accept-Language": "fr, vi;q=0.4"}).text
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Desk board" in english.text and "My reviews" in english.text
    toggled = client.get("/?ui=vi", headers={"Accept-Language": "en"})
    assert "Bài tôi cần duyệt" in toggled.text and toggled.cookies.get(i18n.COOKIE) == "vi"
    assert 'lang="vi"' in client.get("/", headers={"Accept-Language": "en"}).text  # the cookie remembers
    assert i18n.choose(None, None, None) == "vi" and i18n.choose("en", "vi", "vi") == "en"
    assert 'href="?outlet=tntv&amp;period=7&amp;ui=vi"' in client.get("/?outlet=tntv&period=7&ui=en").text


def test_every_label_has_both_languages():
    assert all(en.strip() and vi.strip() for en, vi in i18n.LABELS.values())
    assert all(state.en and state.vi for state in states.ALL)


def test_charts_are_well_formed_svg_with_data(desk_store):
    store, _ = desk_store
    client = _client(store)
    for name in ("flow", "review", "effort", "qa", "failures"):
        response = client.get(f"/chart/{name}.svg")
        assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
        svg = ElementTree.fromstring(response.text)
        marks = [e for e in svg.iter() if e.get("class") in ("bar", "series")]
        assert marks and not [e for e in svg.iter() if e.get("class") == "empty"], name
        assert any(float(e.get("height", e.get("width", "0")) or 0) > 0 or e.get("points") for e in marks), name
    data = client.get("/api/charts").json()
    assert sum(sum(days) for days in data["intake"].values()) == sum(
        len(LANGUAGES) for _ in range(40)) + 3 * len([n for n in range(40) if n % 7 == 3])
    assert data["channel_failures"]["fanpage"] > 0 and data["qa_findings"]
    assert {row["language"] for row in data["effort"]} <= set(LANGUAGES)


def test_review_time_percentiles_are_computed_from_decisions():
    assert _percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert _percentile([5.0], 0.9) == 5.0
    assert _percentile([float(n) for n in range(11)], 0.9) == 9.0


def test_an_empty_chart_says_so():
    svg = ElementTree.fromstring(charts.hbars("QA <&>", [], empty_text="không có"))
    assert [e.text for e in svg.iter() if e.get("class") == "empty"] == ["không có"]
    assert svg.find("{http://www.w3.org/2000/svg}title").text == "QA <&>"


def test_history_shows_revisions_decisions_publications(desk_store):
    store, built = desk_store
    client = _client(store)
    page = client.get("/article/bai-00003?ui=en")  # 3 % 7 == 3: two revisions
    assert page.status_code == 200 and page.text.count('class="revision"') == 2
    data = client.get("/api/article/bai-00003").json()
    assert len(data["revisions"]) == 2 and data["rows"][0]["cells"][0]["state"] == "superseded"
    assert client.get("/article/no-such-article").status_code == 404
    assert client.get("/article/..%2Fetc").status_code == 404


def test_actions_need_the_chief_and_are_recorded_with_who_asked(desk_store):
    store, built = desk_store
    article_id, revision, language = next(key for key, (_, channels) in built.cells.items()
                                          if "failed" in channels.values())
    form = {"article_id": article_id, "revision": revision, "language": language, "channel": "fanpage"}
    refused = _client(store, "reviewer_zh").post("/actions/retry", data=form)
    assert refused.status_code == 403 and actions_of(store, article_id) == []
    cross_site = _client(store, "admin", chief=True).post("/actions/retry", data=form,
                                                          headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403 and actions_of(store, article_id) == []

    response = _client(store, "admin", chief=True).post("/actions/retry", data=form,
                                                        headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["outcome"] == DONE
    cell = next(cell for row in _rows(store) if row.article.revision == revision for cell in row.cells
                if cell.language == language)
    assert {c.channel: c.state for c in cell.channels}["fanpage"] is not states.FAILED, "requeued"
    again = _client(store, "admin", chief=True).post("/actions/retry", data=form, headers={"Accept": "application/json"})
    assert again.status_code == 409 and again.json()["outcome"] == REFUSED, "a second retry changes nothing"
    assert [(a.actor, a.action, a.channel, a.outcome) for a in actions_of(store, article_id)] == [
        ("admin", "retry", "fanpage", DONE), ("admin", "retry", "fanpage", REFUSED)]

    withdraw = _client(store, "admin", chief=True).post("/actions/withdraw",
                                                        data={"article_id": article_id, "reason": "sai số liệu"})
    assert withdraw.status_code == 501 and "withdraw is not available" in withdraw.text
    assert [a.action for a in actions_of(store, article_id)] == ["retry", "retry", "withdraw"]
    assert "sai số liệu" in _client(store).get(f"/article/{article_id}").text
    assert _client(store, "admin", chief=True).post(
        "/actions/withdraw", data={"article_id": article_id, "reason": "  "}).status_code == 422


def test_row_json_names_states_by_id(desk_store):
    store, _ = desk_store
    payload = _client(store).get("/api/board?state=failed").json()
    assert payload["counts"]["failed"] > 0
    cells = [cell for row in payload["rows"] for cell in row["cells"]]
    assert {cell["state"] for cell in cells} <= set(states.BY_ID)
    assert any(channel["state"] == "failed" for cell in cells for channel in cell["channels"])
    assert dataclasses.is_dataclass(Filters())
    assert _client(store).get("/api/board?period=3").status_code == 422


def test_the_chief_withdraws_an_article_from_the_board_through_the_publish_stage(tmp_path):
    """The board's Withdraw calls the same function as ``foreigndesk withdraw``: the article leaves the feed."""
    from desk_records import approved_article
    from fastapi.testclient import TestClient
    from foreigndesk.board.actions import DONE
    from foreigndesk.publish.run import desk_channels, publish

    store = LocalStore(tmp_path / "store")
    settings = load_settings()
    approved_article(store, "bai-rut", languages=("en",), revision="a1")  # hex, as intake names revisions
    assert publish(store, settings, desk_channels(store, settings, None)).published
    assert "bai-rut" in store.read("feeds/en/feed.json").decode()
    desk = Desk(settings, lambda: store, channels=lambda opened: desk_channels(opened, settings, None))
    chief = TestClient(create_app(desk, lambda: Viewer("admin", True)))
    no_reason = chief.post("/actions/withdraw", data={"article_id": "bai-rut", "reason": " "},
                           headers={"Accept": "application/json"})
    assert no_reason.status_code == 422, "a withdrawal says why"
    done = chief.post("/actions/withdraw", data={"article_id": "bai-rut", "reason": "sai số liệu"},
                      headers={"Accept": "application/json"})
    assert done.status_code == 200 and done.json()["outcome"] == DONE, done.text
    assert "bai-rut" not in store.read("feeds/en/feed.json").decode()
    assert [(a.action, a.outcome, a.actor) for a in actions_of(store, "bai-rut")][-1] == ("withdraw", DONE, "admin")
    [cell] = [cell for row in collect_rows(store, Reader(), period_start(NOW, 30)) for cell in row.cells
              if cell.language == "en"]
    assert cell.state is states.WITHDRAWN, "the board shows the withdrawal the takedown ledger records"
    assert cell.channels and {channel.state for channel in cell.channels} == {states.CHANNEL_WITHDRAWN}
    from foreigndesk.status import WITHDRAWN, collect_status

    [row] = [row for row in collect_status(store, NOW, ("en",)).articles if row.language == "en"]
    assert row.state == WITHDRAWN, "the board and foreigndesk status agree"


def test_a_review_the_reviewers_variable_blocked_shows_until_a_review_opens(tmp_path):
    """A malformed reviewers Variable failed the review task: the board says so, in status's words, until
    a review opens after the fix."""
    from desk_records import put_article
    from foreigndesk.core import journal
    from foreigndesk.core.decisions import ReviewBlocked, ReviewRequest, record_blocked, request_key
    from foreigndesk.core.records import write_once
    from foreigndesk.core.revisions import ARTICLES, article_key
    from foreigndesk.status import REVIEW_BLOCKED, collect_status

    store = LocalStore(tmp_path / "store")
    put_article(store, "bai-khoa", "b1", languages=["en"])
    journal.write(store, ARTICLES, NOW, "bai-khoa--b1", article_key("bai-khoa", "b1"))
    reason = "Airflow Variable 'foreigndesk_reviewers': 'en' must be a list of user ids"
    record_blocked(store, ReviewBlocked("bai-khoa", "b1", "en", reason, NOW.isoformat()))

    [cell] = [cell for row in _rows(store) for cell in row.cells]
    assert cell.state is states.REVIEW_BLOCKED and reason in cell.holder
    [row] = collect_status(store, NOW, ("en",)).articles
    assert row.state == REVIEW_BLOCKED and row.holder == cell.holder, "the board and status say the same"

    later = (NOW + timedelta(minutes=5)).isoformat()
    write_once(store, request_key("bai-khoa", "b1", "en", 1),
               ReviewRequest("bai-khoa", "b1", "en", 1, later, ["reviewer_en"]))
    [cell] = [cell for row in _rows(store) for cell in row.cells]
    assert cell.state is states.IN_REVIEW, "a review opened after the fix outranks the block"
