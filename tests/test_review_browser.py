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
        from foreigndesk.core.decisions import current_request

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

    from foreigndesk.core import records
    from foreigndesk.core.drafts import draft_key
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

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
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

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
    from foreigndesk.core.decisions import decisions_for

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


#: Raw HTML, script URLs and Markdown tricks an editor's article may carry, each one a line of its own
#: paragraph. Every active one tries to set ``window.__xss`` (or raise a dialog) to its own name.
XSS_PAYLOADS = {
    "img": """<img src=x onerror="window.__xss='img';alert('img')">""",
    "script": """<script>window.__xss='script';alert('script')</script>""",
    "a-href": """<a href="javascript:window.__xss='a-href'">bấm a-href</a>""",
    "iframe": """<iframe src="javascript:parent.__xss='iframe'"></iframe>""",
    "iframe-srcdoc": """<iframe srcdoc="<script>parent.__xss='srcdoc'</script>"></iframe>""",
    "object": """<object data="javascript:window.__xss='object'"></object>""",
    "embed": """<embed src="javascript:window.__xss='embed'">""",
    "svg": """<svg onload="window.__xss='svg'"></svg>""",
    "details": """<details open ontoggle="window.__xss='details'">mở</details>""",
    "md-link": """[bấm md-link](javascript:window.__xss='md-link')""",
    "md-autolink": """<javascript:window.__xss='autolink'>""",
    "md-image": """![ảnh md-image](javascript:window.__xss='md-image')""",
    "comment": """trước <!-- CHỮ BỊ GIẤU --> sau""",
    "pipe": """cột | cột giả | thêm""",
}
#: What the page knows after the form rendered: the form's Markdown box and what landed in it.
INSPECT_FORM = """() => {
  const table = [...document.querySelectorAll('table')].find(t => t.textContent.includes('Tiếng Việt (source)'));
  let box = table.parentElement;
  while (!box.textContent.includes('Quality checks')) box = box.parentElement;
  const all = [...document.querySelectorAll('*')];
  const rows = {};
  for (const tr of table.querySelectorAll('tr')) {
    const cells = [...tr.children].map(c => c.innerText);
    rows[cells[0]] = cells;
  }
  return {
    xss: window.__xss === undefined ? null : String(window.__xss),
    active: [...box.querySelectorAll('script, iframe, object, embed, svg, details, frame, frameset')]
      .map(e => e.outerHTML),
    on: all.filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).map(e => e.outerHTML),
    scriptUrls: all.filter(e => ['href', 'src', 'data', 'action', 'formaction', 'srcdoc']
      .some(n => /^\\s*(javascript|vbscript|data):/i.test(e.getAttribute(n) || ''))).map(e => e.outerHTML),
    rows,
    text: box.innerText,
  };
}"""


def _xss_article() -> bytes:
    paragraphs = "".join(f"\nMẫu {name}: {payload} hết.\n" for name, payload in XSS_PAYLOADS.items())
    return EXAMPLE.read_bytes() + paragraphs.encode()


def test_raw_html_and_script_urls_in_an_article_stay_inert_in_the_review_form(desk, demo_models, airflow_db,
                                                                               chromium, tmp_path, monkeypatch):
    """The form quotes an article carrying XSS payloads; in the live UI none runs, and the reviewer sees them.

    Guards the Markdown rendering of the Airflow UI (an upgrade could turn raw HTML on)
    and the form's own quoting (a pipe must not break the table).
    """
    from foreigndesk.core.decisions import decisions_for

    seen: dict = {}

    def inspect_and_reject(page: Page) -> None:
        page.get_by_text("Source and English machine translation").wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
        # An <img onerror> fires after its failed load; give late handlers a moment before looking.
        page.wait_for_timeout(1_000)
        seen.update(page.evaluate(INSPECT_FORM))
        page.screenshot(path=str(ARTIFACTS / "review-form-xss.png"), full_page=True)
        page.get_by_role("button", name="Reject").click()
        page.get_by_text("Response received").wait_for(timeout=30_000)
        seen["xss_after_answer"] = page.evaluate("() => window.__xss === undefined ? null : String(window.__xss)")

    store, article, run, translator = review_in_chromium(_xss_article(), inspect_and_reject, desk, tmp_path,
                                                         monkeypatch)
    assert translator.dialogs == [], "a payload raised a dialog"
    assert seen["xss"] is None and seen["xss_after_answer"] is None, f"payload {seen['xss']!r} ran"
    assert seen["active"] == [], "active elements rendered inside the form body"
    assert seen["on"] == [], "elements with an on* handler attribute"
    assert seen["scriptUrls"] == [], "links or sources with a script URL"

    # Every payload is shown exactly as intake registered it, in both columns: the UI would drop raw
    # HTML and comments without a trace and make links and images of Markdown. Intake took the raw
    # HTML out (flagged), so what reaches the form is the text around it and the Markdown tricks.
    from foreigndesk.intake.raw_html import clean_html

    rows = [[" ".join(cell.split()) for cell in cells] for cells in seen["rows"].values()]
    rows = {cells[1]: cells for cells in rows if cells[1].startswith("Mẫu ")}
    unseen = {}
    for name, payload in XSS_PAYLOADS.items():
        source = " ".join(clean_html(f"Mẫu {name}: {payload} hết.", "body")[0].split())
        row = next((cells for text, cells in rows.items() if text.startswith(f"Mẫu {name}: ")), None)
        assert row is not None, f"no table row for payload {name}: {sorted(rows)}"
        assert len(row) == 3, f"payload {name} broke the table row: {row}"
        if row[1:] != [source, source]:
            unseen[name] = row[1:]
    assert unseen == {}, "payloads the reviewer cannot see as text"
    assert "<script> removed with its content at intake" in seen["text"], "the intake flag names the tag"
    [decision] = decisions_for(store, article.article_id, article.revision, "en")
    assert decision.outcome == "rejected"
    assert (ARTIFACTS / "review-form-xss.png").stat().st_size > 10_000
