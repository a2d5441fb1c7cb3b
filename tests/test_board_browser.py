"""The desk board in the real Airflow UI: Chromium, the real login, the real plugin, a real review form.

``airflow api-server`` on loopback loads ``plugins/foreigndesk_board.py`` from
this repository; the store holds a desk in every state (tests/board_desk.py) and
one real article whose Chinese review is parked by the translate DAG running
under ``dag.test()`` in the main thread. Debian's Chromium (Playwright with
``executable_path``) logs in as reviewer_zh, finds exactly the Chinese reviews
under "My reviews", follows the real article's link to its form; logs in as
admin, reads every state's count, the figures, and presses Retry; opens the
board from Airflow's own navigation; then reviewer_zh answers the form so the
run ends. Screenshots land in test-artifacts/board-*.png.

Every route the plugin registers is also called anonymously, with a forged
token and (for the desk chief's actions) as a reviewer, against the same server.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import pytest

from board_desk import build_desk
from conftest import REPO, TEST_PASSWORDS
from test_review_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ApiServer

pytestmark = pytest.mark.airflow

#: Every route the board registers (method, path); test_route_table_is_complete keeps it honest.
ROUTES = [
    ("GET", "/"),
    ("GET", "/api/board"),
    ("GET", "/api/mine"),
    ("GET", "/api/charts"),
    ("GET", "/chart/{name}.svg"),
    ("GET", "/article/{article_id}"),
    ("GET", "/api/article/{article_id}"),
    ("POST", "/actions/retry"),
    ("POST", "/actions/withdraw"),
]
CHIEF_ONLY = {("POST", "/actions/retry"), ("POST", "/actions/withdraw")}
REAL_ARTICLE = (b"---\ntitle: Thai Nguyen tiep doan Tu Xuyen\noutlet: tntv\nlanguages: [zh]\n"
                b"approved_by: Tran Thi Mai\napproved_at: 2025-05-18T16:00:00+07:00\n"
                b"source_url: https://tntv.vn/tu-xuyen\n---\nTinh Thai Nguyen don doan cong tac tinh Tu Xuyen.\n")


def test_route_table_is_complete():
    """The plugin mounts this app; a route added without being listed here fails this test."""
    import foreigndesk_board

    app = foreigndesk_board.build_app()
    found = sorted((method, route.path) for route in app.routes for method in getattr(route, "methods", ()) or ())
    assert found == sorted(ROUTES)
    assert app.openapi_url is None and app.docs_url is None and app.redoc_url is None
    [mounted] = foreigndesk_board.ForeigndeskBoardPlugin.fastapi_apps
    assert mounted["url_prefix"] == "/foreigndesk"
    [view] = foreigndesk_board.ForeigndeskBoardPlugin.external_views
    assert (view["destination"], view["href"], view["url_route"]) == ("nav", "foreigndesk/", "desk-board")


@pytest.fixture(scope="module")
def board(tmp_path_factory, airflow_db):
    """The api-server with the board plugin, over a store holding a desk in every state."""
    from foreigndesk.core.store import LocalStore

    root = tmp_path_factory.mktemp("board")
    store = LocalStore(root / "store")
    # No Airflow task waits for these written reviews: without a task place they stay "in review" (the
    # board asks Airflow only about requests that name their task, as the real article's does).
    built = build_desk(store, 40, datetime.now(timezone.utc), places=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FOREIGNDESK_STORE", str(store.root))
        # This checkout's plugins first: the venv's editable install may point at another checkout.
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO / "plugins"), os.environ.get("PYTHONPATH")])))
        server = ApiServer(root / "api-home")
        patch.setenv("AIRFLOW__API__BASE_URL", server.base)
        try:
            server.wait_healthy()
            yield server, store, built
        finally:
            server.stop()


def _token(server: ApiServer, user: str) -> str:
    request = urllib.request.Request(
        f"{server.base}/auth/token", data=json.dumps({"username": user, "password": TEST_PASSWORDS[user]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


def _call(server: ApiServer, method: str, path: str, token: str | None, data: dict | None = None) -> int:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = None
    if method == "POST":
        body = urllib.parse.urlencode(data or {}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(server.base + "/foreigndesk" + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _concrete(path: str, article_id: str) -> str:
    return path.replace("{name}", "flow").replace("{article_id}", article_id)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_refuses_anonymous_forged_and_wrong_role_requests(board, method, path):
    from foreigndesk.board.actions import actions_of

    server, store, built = board
    article_id, revision, language = next(key for key, (_, channels) in built.cells.items()
                                          if "failed" in channels.values())
    url = _concrete(path, article_id)
    form = {"article_id": article_id, "revision": revision, "language": language, "channel": "fanpage",
            "reason": "test"}
    before = len(actions_of(store, article_id))
    assert _call(server, method, url, None, form) == 401
    assert _call(server, method, url, "not-a-token", form) in (401, 403)
    forged = _token(server, "admin")[:-4] + "AAAA"
    assert _call(server, method, url, forged, form) in (401, 403)
    reviewer = _call(server, method, url, _token(server, "reviewer_zh"), form)
    if (method, path) in CHIEF_ONLY:
        assert reviewer == 403
    else:
        assert reviewer == 200  # any logged-in user reads the board: the positive control
    assert len(actions_of(store, article_id)) == before, "a refused request left a record"


class DeskStaff(threading.Thread):
    """reviewer_zh and admin at a browser while the translate run waits for the Chinese review."""

    def __init__(self, server: ApiServer, store, built, article) -> None:
        super().__init__(daemon=True)
        self.server, self.store, self.built, self.article = server, store, built, article
        self.error: BaseException | None = None
        self.seen: dict = {}

    def run(self) -> None:
        try:
            self._wait_for_review()
            self._browse()
        except BaseException as error:  # reported by the test after dag.test() ends
            self.error = error
            self._unpark()

    def _wait_for_review(self, timeout: float = 240) -> None:
        from foreigndesk.core.decisions import current_request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if current_request(self.store, self.article.article_id, self.article.revision, "zh") is not None:
                pending = self._api("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false")["hitl_details"]
                if any(d["task_instance"]["state"] == "awaiting_input" for d in pending):
                    return
            time.sleep(0.5)
        raise AssertionError("the Chinese review never opened")

    def _api(self, path: str, method: str = "GET", data: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.server.base + path, method=method, data=json.dumps(data).encode() if data else None,
            headers={"Authorization": f"Bearer {_token(self.server, 'reviewer_zh')}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def _unpark(self) -> None:
        try:
            for detail in self._api("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false")["hitl_details"]:
                ti = detail["task_instance"]
                self._api(f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
                          f"{ti['map_index']}/hitlDetails", "PATCH", {"chosen_options": ["Reject"], "params_input": {}})
        except (urllib.error.URLError, OSError, KeyError):
            pass

    def _login(self, browser, user: str):
        context = browser.new_context(viewport={"width": 1440, "height": 2200}, locale="en-US")
        page = context.new_page()
        page.goto(self.server.base + "/")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(TEST_PASSWORDS[user])
        page.get_by_role("button", name="Sign in").click()
        # Signing in ends in the UI's own client-side redirect: a goto issued before it has landed is
        # aborted by it (net::ERR_ABORTED, seen once in CI). Wait until the sign-in page is left.
        page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
        page.wait_for_load_state("networkidle")
        return page

    def _browse(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                reviewer = self._login(browser, "reviewer_zh")
                self._my_reviews(reviewer)
                admin = self._login(browser, "admin")
                self._as_admin(admin)
                reviewer.get_by_role("button", name="Reject").click()
                reviewer.get_by_text("Response received").wait_for(timeout=30_000)
            finally:
                browser.close()

    def _my_reviews(self, page) -> None:
        page.goto(self.server.base + "/foreigndesk/?ui=en")
        page.locator("#my-reviews").wait_for()
        self.seen["user"] = page.locator("#user").inner_text()
        self.seen["mine"] = page.locator("li.my-review").evaluate_all(
            "items => items.map(i => [i.dataset.article, i.dataset.language])")
        page.screenshot(path=str(ARTIFACTS / "board-my-reviews.png"))
        page.locator(f'li.my-review[data-article="{self.article.article_id}"] a').click()
        page.wait_for_load_state("networkidle")
        page.locator("textarea").first.wait_for(timeout=30_000)  # the review form is on screen
        self.seen["form_text"] = page.locator("body").inner_text()
        self.seen["form_url"] = page.url
        page.screenshot(path=str(ARTIFACTS / "board-review-form.png"), full_page=True)

    def _as_admin(self, page) -> None:
        page.goto(self.server.base + "/foreigndesk/?ui=en")
        page.locator("#counts").wait_for()
        self.seen["counts"] = dict(page.locator("#counts a.count").evaluate_all(
            "links => links.map(a => [a.dataset.state, Number(a.dataset.count)])"))
        self.seen["cells"] = page.locator("td.cell").count()
        self.seen["charts"] = page.locator("figure[data-chart]").evaluate_all("""figures => figures.map(f => [
            f.dataset.chart, f.querySelectorAll('svg .bar, svg .series').length,
            f.querySelectorAll('svg .empty').length, f.querySelector('svg').getBoundingClientRect().height])""")
        page.screenshot(path=str(ARTIFACTS / "board-admin.png"), full_page=True)
        page.locator("#charts").screenshot(path=str(ARTIFACTS / "board-charts.png"))

        first = page.locator("form.retry").first
        self.seen["retry_target"] = first.evaluate(
            "f => Object.fromEntries([...new FormData(f)].map(([k, v]) => [k, String(v)]))")
        with page.expect_response(lambda r: r.url.endswith("/actions/retry")) as answer:
            first.locator("button").click()
        self.seen["retry_status"] = answer.value.status
        self.seen["retry_flash"] = page.locator("#flash").inner_text()
        page.screenshot(path=str(ARTIFACTS / "board-retry.png"))
        again = page.request.post(self.server.base + "/foreigndesk/actions/retry", form=self.seen["retry_target"],
                                  headers={"Accept": "application/json"})
        self.seen["retry_again"] = (again.status, again.json().get("outcome"))

        page.goto(self.server.base + "/foreigndesk/?ui=vi")
        page.locator("#counts").wait_for()
        self.seen["vi_heading"] = page.locator("h1").inner_text()
        page.screenshot(path=str(ARTIFACTS / "board-admin-vi.png"))

        page.goto(self.server.base + "/plugin/desk-board")
        frame = page.frame_locator("iframe").first
        frame.locator("#user").wait_for(timeout=30_000)
        self.seen["iframe_user"] = frame.locator("#user").inner_text()
        page.screenshot(path=str(ARTIFACTS / "board-in-airflow.png"))


def test_desk_board_in_chromium(board, demo_models, chromium_path):
    from airflow.dag_processing.dagbag import DagBag

    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.board.actions import DONE, REFUSED, actions_of
    from foreigndesk.intake.ingest import register
    from foreigndesk.core.decisions import decisions_for

    server, store, built = board
    ARTIFACTS.mkdir(exist_ok=True)
    article = register(store, parse_article(REAL_ARTICLE, "tu-xuyen.md", "tntv"), REAL_ARTICLE, "tu-xuyen.md")
    staff = DeskStaff(server, store, built, article)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FOREIGNDESK_STORE", str(store.root))
        patch.setenv("AIRFLOW__API__BASE_URL", server.base)
        staff.start()
        try:
            dag = DagBag(dag_folder=REPO / "dags").dags["foreigndesk_translate"]
            run = dag.test(run_conf={"article_id": article.article_id, "revision": article.revision})
        finally:
            staff.join(timeout=120)
    assert staff.error is None, staff.error
    seen = staff.seen

    # reviewer_zh: exactly the Chinese reviews, oldest first, and the real one's link opens its form.
    expected = [(article_id, language) for article_id, language, _ in
                sorted(built.open_reviews["reviewer_zh"], key=lambda item: item[2])] + [(article.article_id, "zh")]
    assert seen["user"] == "reviewer_zh"
    assert [tuple(item) for item in seen["mine"]] == expected
    assert f"[ZH] {article.title}" in seen["form_text"] and "/required_actions" in seen["form_url"]
    assert run.state == "success"
    [decision] = decisions_for(store, article.article_id, article.revision, "zh")
    assert (decision.outcome, decision.reviewer) == ("rejected", "reviewer_zh")

    # admin: every state with its count, as written (plus the real article's open review).
    counts = dict(built.counts())
    counts["in_review"] += 1
    assert seen["counts"] == {state: counts.get(state, 0) for state in seen["counts"]}
    assert all(seen["counts"][state] > 0 for state in ("translating", "in_review", "needs_fix", "approved",
                                                       "published", "rejected", "expired", "superseded", "pending",
                                                       "channel_published", "failed"))
    for name, marks, empty, height in seen["charts"]:
        assert marks > 0 and empty == 0 and height > 100, name

    # Retry: works once (the unit is requeued through the publish stage), refused the second time.
    assert seen["retry_status"] == 200 and "Done" in seen["retry_flash"]
    assert seen["retry_again"] == (409, REFUSED)
    target = seen["retry_target"]
    assert [(a.actor, a.action, a.channel, a.outcome) for a in actions_of(store, target["article_id"])] == [
        ("admin", "retry", target["channel"], DONE), ("admin", "retry", target["channel"], REFUSED)]

    assert seen["vi_heading"] == "Bảng điều phối" and seen["iframe_user"] == "admin"
    for name in ("my-reviews", "review-form", "admin", "charts", "retry", "admin-vi", "in-airflow"):
        assert (ARTIFACTS / f"board-{name}.png").stat().st_size > 10_000, name


@pytest.fixture(scope="module")
def chromium_path():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it (apt-get install -y chromium)")
    return CHROMIUM
