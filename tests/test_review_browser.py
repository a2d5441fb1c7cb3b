"""A translator in a real browser: Chromium logs in to the real Airflow UI, edits the review, approves.

The translate DAG runs with dag.test() in the main thread (HITL needs it) and
parks its English review; ``airflow api-server`` serves the real UI from the
same SQLite DB in a subprocess; Debian's Chromium, driven by Playwright with
``executable_path`` (Playwright downloads no browser here), logs in as
reviewer_en, opens the required action, edits the body textarea and clicks
Approve. The stored decision must hold exactly the edited text. A screenshot
of the filled-in form is kept in test-artifacts/review-form.png.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import REPO, TEST_PASSWORDS

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

pytestmark = pytest.mark.airflow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
EXAMPLE = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"
EDITED_BODY = ("The 2025 Tan Cuong Tea Festival opened in Thai Nguyen city, drawing visitors from "
               "Luang Prabang (Laos) and Sichuan (China).\n\n"
               "Thai Nguyen tea is the province's leading OCOP product.\n\n"
               "> Tea tourism is a bridge between Thai Nguyen and its friends abroad.\n")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _own_group_dying_with_parent() -> None:
    """In the child: its own process group (stopped as one), and SIGTERM if pytest itself is killed."""
    import ctypes
    import signal

    os.setsid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


class ApiServer:
    """``airflow api-server`` on loopback against the test session's DB."""

    def __init__(self, home: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            # Its own home: the CLI writes an airflow.cfg (with a fresh Fernet key) into AIRFLOW_HOME.
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__API__BASE_URL": self.base,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        home.mkdir(parents=True, exist_ok=True)
        self.log = open(home / "api-server.log", "wb")
        self.process = subprocess.Popen(
            ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_own_group_dying_with_parent,
        )

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, Path(self.log.name).read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.base}/api/v2/monitor/health", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise AssertionError(f"api-server not healthy in {timeout} s:\n{Path(self.log.name).read_text()[-3000:]}")

    def get(self, path: str, user: str = "admin"):
        token_request = urllib.request.Request(
            f"{self.base}/auth/token", data=json.dumps({"username": user, "password": TEST_PASSWORDS[user]}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(token_request, timeout=10) as response:
            token = json.load(response)["access_token"]
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


class Translator(threading.Thread):
    """reviewer_en at a browser: waits for the review, logs in, then does ``act(page)`` on the open form.

    Every JavaScript dialog the page raises is dismissed and kept in ``dialogs``.
    """

    def __init__(self, server: ApiServer, store, article, act: Callable[[Page], None]) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.store = store
        self.article = article
        self.act = act
        self.link = ""
        self.error: BaseException | None = None
        self.detail: dict | None = None
        self.dialogs: list[str] = []

    def _wait_for_review(self, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = self.server.get("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false")["hitl_details"]
            parked = [d for d in pending if d["task_instance"]["state"] == "awaiting_input"]
            if parked:
                return parked[0]
            time.sleep(0.5)
        raise AssertionError("the review never opened")

    def run(self) -> None:
        try:
            self.server.wait_healthy()
            self.detail = self._wait_for_review()
            self.link = self._link()
            self._browse()
            self._refuse_further_reviews()
        except BaseException as error:
            self.error = error
            self._unpark()

    def _refuse_further_reviews(self, timeout: float = 120) -> None:
        """If the approval opened another review (needs fix), fail instead of leaving dag.test() parked."""
        deadline = time.monotonic() + timeout
        run_path = f"/api/v2/dags/{self.detail['task_instance']['dag_id']}/dagRuns/{self.detail['task_instance']['dag_run_id']}"
        while time.monotonic() < deadline and self.server.get(run_path)["state"] == "running":
            pending = self.server.get("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false")["hitl_details"]
            parked = [d for d in pending if d["task_instance"]["state"] == "awaiting_input"]
            if parked:
                self.detail = parked[0]
                raise AssertionError(f"the approval opened another review: {parked[0]['body'][:500]}")
            time.sleep(0.5)

    def _unpark(self) -> None:
        """After a failure, answer Reject through the API so dag.test() ends and the test reports the error."""
        if self.detail is None:
            return
        ti = self.detail["task_instance"]
        token_request = urllib.request.Request(
            f"{self.server.base}/auth/token", headers={"Content-Type": "application/json"},
            data=json.dumps({"username": "reviewer_en", "password": TEST_PASSWORDS["reviewer_en"]}).encode())
        try:
            with urllib.request.urlopen(token_request, timeout=10) as response:
                token = json.load(response)["access_token"]
            urllib.request.urlopen(urllib.request.Request(
                f"{self.server.base}/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                f"{ti['task_id']}/{ti['map_index']}/hitlDetails", method="PATCH",
                data=json.dumps({"chosen_options": ["Reject"], "params_input": {}}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}), timeout=10)
        except (urllib.error.URLError, OSError):
            pass

    def _link(self) -> str:
        """The link the review notice carried, as recorded with the open attempt."""
        from foreigndesk.review import current_request

        request = current_request(self.store, self.article.article_id, self.article.revision, "en")
        assert request is not None and request.link.startswith(self.server.base), request
        return request.link

    def _dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _browse(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                # Tall enough to show the whole form without scrolling its panel.
                page = browser.new_page(viewport={"width": 1440, "height": 2400})
                page.on("dialog", self._dismiss)
                page.goto(self.link)
                page.wait_for_load_state("networkidle")
                page.get_by_label("Username").fill("reviewer_en")
                page.get_by_label("Password").fill(TEST_PASSWORDS["reviewer_en"])
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state("networkidle")
                page.wait_for_load_state("networkidle")
                page.locator("textarea").first.wait_for(timeout=30_000)  # the form is on screen
                self.act(page)
            finally:
                browser.close()


def _draft_with_checks(store, article) -> None:
    """The English draft as the translation stage writes it once QA, memory and glossary run.

    The demo engine produces none of these, so the draft record is written here; the
    translate task finds it and keeps it (drafts are written once).
    """
    import dataclasses

    from foreigndesk import records
    from foreigndesk.engine import shared_engine
    from foreigndesk.translation import draft_key, translate_revision

    [draft] = translate_revision(store, shared_engine(), article.article_id, article.revision)
    checked = dataclasses.replace(
        draft,
        findings=[
            {"check": "glossary-missing", "severity": "error", "segment": "body.1",
             "message": "'tỉnh Luông Pha Băng' must be 'Luang Prabang Province'"},
            {"check": "untranslated", "severity": "warning", "segment": "body.2",
             "message": "Vietnamese words left in the text"},
            {"check": "memory", "severity": "info", "segment": "summary", "message": "approved text reused"},
        ],
        memory_hits=1,
        glossary_terms=[{"source": "Thái Nguyên", "target": "Thai Nguyen"}, {"source": "OCOP", "target": "OCOP"}],
    )
    (store.root / draft_key(article.article_id, article.revision, "en")).write_bytes(records.encode(checked))


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it (apt-get install -y chromium)")
    return CHROMIUM


def review_in_chromium(raw: bytes, act: Callable[[Page], None], desk: Path, tmp_path: Path, monkeypatch):
    """Register ``raw`` (an example article's bytes), park its English review, let reviewer_en ``act`` on it.

    Returns ``(store, article, dag run, translator)`` once the translate run has ended.
    """
    from airflow.dag_processing.dagbag import DagBag

    from foreigndesk.articles import parse_article
    from foreigndesk.intake import register
    from foreigndesk.store import LocalStore

    ARTIFACTS.mkdir(exist_ok=True)
    store = LocalStore(desk / "store")
    raw = raw.replace(
        b"outlet: tntv\n", b"outlet: tntv\nlanguages: [en]\nsource_url: https://tntv.vn/le-hoi-tra-tan-cuong\n")
    article = register(store, parse_article(raw, EXAMPLE.name, "tntv"), raw, EXAMPLE.name)
    _draft_with_checks(store, article)

    server = ApiServer(tmp_path / "api-home")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", server.base)  # the links in notices point at this UI
    translator = Translator(server, store, article, act)
    translator.start()
    try:
        dag = DagBag(dag_folder=REPO / "dags").dags["foreigndesk_translate"]
        run = dag.test(run_conf={"article_id": article.article_id, "revision": article.revision})
    finally:
        translator.join(timeout=60)
        server.stop()
    assert translator.error is None, translator.error
    return store, article, run, translator


def test_reviewer_approves_an_edited_translation_in_chromium(desk, demo_models, airflow_db, chromium, tmp_path,
                                                             monkeypatch):
    from foreigndesk.review import decisions_for

    def edit_and_approve(page: Page) -> None:
        body = page.locator("textarea")  # the one multiline field: the body
        assert body.count() == 1, body.count()
        body.fill(EDITED_BODY)
        page.screenshot(path=str(ARTIFACTS / "review-form.png"), full_page=True)
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("Response received").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "review-answered.png"))

    store, article, run, _ = review_in_chromium(EXAMPLE.read_bytes(), edit_and_approve, desk, tmp_path, monkeypatch)
    assert run.state == "success"

    [decision] = decisions_for(store, article.article_id, article.revision, "en")
    assert (decision.outcome, decision.reviewer, decision.body) == ("approved", "reviewer_en", EDITED_BODY)
    assert decision.edit_distance > 0
    assert (ARTIFACTS / "review-form.png").stat().st_size > 10_000
