"""The review form a translator sees, the attempts a review takes, and the decision records they leave."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from conftest import REPO
from foreigndesk.core import records
from foreigndesk.core.decisions import (
    APPROVED,
    EXPIRED,
    JOURNAL,
    NEEDS_FIX,
    REJECTED,
    Decision,
    current_request,
    decision_key,
    decisions_for,
    journal_entry,
    journal_key,
    journal_mark,
    request_key,
)
from foreigndesk.core.drafts import draft_key, load_draft
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.review.form import build_form, quote, reviewers_for
from foreigndesk.review.rounds import (
    ReviewPlan,
    open_review,
    plan_review,
    record_decision,
    record_expiry,
)

EXAMPLE = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"
WHEN = "2025-05-19T08:00:00+00:00"


@pytest.fixture
def translated(translate_example):
    return translate_example(EXAMPLE.name, "tntv")


def _rewrite_draft(store, draft, **changes):
    """Drafts are written once: a test that needs findings the demo engine doesn't produce writes its own."""
    path = store.root / draft_key(draft.article_id, draft.revision, draft.language)
    path.write_bytes(records.encode(dataclasses.replace(draft, **changes)))


def _open(store, article, language, plan, form=None):
    form = form or build_form(store, article.article_id, article.revision, language, None, plan.fix_of, plan.attempt)
    return open_review(store, article.article_id, article.revision, language, plan, form, WHEN, "http://ui/link")


def test_form_shows_demo_warning_first_then_checks_then_source_and_translation_side_by_side(translated):
    store, article, drafts = translated
    form = build_form(store, article.article_id, article.revision, "zh")
    lines = form.body.splitlines()
    assert lines[0].startswith("**⚠ DEMO MODEL — not a real translation")
    assert form.body.index("### Quality checks — fix these first") < form.body.index("| ¶1 |")
    assert "· untranslated · ¶3:" in form.body, "demo output leaves Vietnamese: the checks say where"
    assert form.subject == "[ZH] Lễ hội Trà Tân Cương thu hút du khách quốc tế — Đài PT-TH Thái Nguyên (TNTV)"
    assert "| | Tiếng Việt (source) | 中文 (machine) |" in lines
    assert "| ¶3 | Du lịch chè là cầu nối hợp tác giữa **Thái Nguyên** với bạn bè quốc tế. | " \
           "旅游 茶 là cầu nối 合作 giữa **太原** 与 bạn bè quốc tế. |" in lines
    assert "| Thái Nguyên | 太原 |" in lines, "the glossary terms used, with this language's rendering"
    assert f"- **Model:** {drafts['zh'].model_name} ({drafts['zh'].model_version})" in lines
    assert "- **Source article:** no link given" in lines
    assert form.defaults == {"title": drafts["zh"].title, "summary": drafts["zh"].summary,
                             "body": drafts["zh"].body, "note": ""}
    assert form.assigned_users == ["reviewer_zh"]
    assert form.problems == []


def test_a_review_reopened_after_a_lost_answer_says_so_first_and_nothing_else_changes(translated):
    from foreigndesk.review.form import LOST_ANSWER_NOTICE

    store, article, _ = translated
    plain = build_form(store, article.article_id, article.revision, "ko")
    again = build_form(store, article.article_id, article.revision, "ko", lost_answer=True)
    assert again.body.splitlines()[0] == f"**⚠ {LOST_ANSWER_NOTICE}**"
    assert again.body.split("\n", 2)[2] == plain.body and again.defaults == plain.defaults
    assert LOST_ANSWER_NOTICE not in plain.body


def test_findings_errors_first_memory_hits_and_glossary_terms_marked(translated):
    store, article, drafts = translated
    _rewrite_draft(
        store, drafts["en"], demo_model=False,
        findings=[
            {"check": "length-ratio", "severity": "warning", "segment": "body.2", "message": "much shorter than the source"},
            {"check": "glossary-missing", "severity": "error", "segment": "title",
             "message": "'Trà Tân Cương' must be 'Tan Cuong tea'"},
            {"check": "memory", "severity": "info", "segment": "summary", "message": "approved text reused"},
            {"check": "memory", "severity": "info", "segment": "body.2", "message": "approved text reused"},
        ],
        glossary_terms=[{"source": "Thái Nguyên", "target": "Thai Nguyen"}],
    )
    draft = load_draft(store, article.article_id, article.revision, "en")
    form = build_form(store, article.article_id, article.revision, "en")
    lines = form.body.splitlines()
    assert lines[0] == "### Quality checks — fix these first", "no demo warning for a real model; checks come first"
    assert lines[2].startswith("- ✖ **error** · glossary-missing · Title: 'Trà Tân Cương'")
    assert lines[3].startswith("- ⚠ **warning** · length-ratio · ¶2: much shorter")
    assert not any("· memory ·" in line for line in lines), "memory hits are marked in the table, not listed"
    summary_row = next(line for line in lines if line.startswith("| Summary |"))
    assert summary_row.endswith(f"| ♻ {draft.summary.replace('Thai Nguyen', '**Thai Nguyen**')} |")
    title_row = next(line for line in lines if line.startswith("| Title |"))
    assert "♻" not in title_row and "**Thái Nguyên**" not in title_row
    body_rows = [line for line in lines if line.startswith("| ¶")]
    assert ["♻" in row for row in body_rows] == [False, True, False], "body.2 is the 2nd body paragraph"
    assert "**Thái Nguyên**" in body_rows[0]
    assert "| Thái Nguyên | Thai Nguyen |" in lines


def test_intake_flags_are_shown_before_the_checks(tmp_path, demo_models):
    """Raw HTML in a drop is accepted as text but flagged by intake; the reviewer sees the flag first."""
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")
    raw = EXAMPLE.read_bytes().replace("Du lịch chè là".encode(), "<script>alert(1)</script> Du lịch chè là".encode())
    article = register(store, parse_article(raw, EXAMPLE.name, "tntv"), raw, EXAMPLE.name)
    assert article.flags, "intake flags the script"
    translate_revision(store, shared_engine(), article.article_id, article.revision)
    head = build_form(store, article.article_id, article.revision, "en").body.split("### Quality checks")[0]
    for flag in article.flags:
        assert f"**⚠ Intake:** {quote(flag)}" in head
    assert "\\<script\\>" in head, "the flag names the tag, escaped so the UI shows it instead of dropping it"
    assert "alert(1)" not in build_form(store, article.article_id, article.revision, "en").body, \
        "the script itself was removed at intake"


def test_quote_escapes_every_inline_markdown_and_html_character():
    assert quote("<b>&amp;</b> [x](javascript:y) ![i](u) | *z* _w_ `c` ~s~ \\ # - . ( ) { } +") == (
        "\\<b\\>\\&amp;\\</b\\> \\[x\\](javascript:y) !\\[i\\](u) \\| \\*z\\* \\_w\\_ \\`c\\` \\~s\\~ \\\\ # - . ( ) { } +")


def test_the_form_quotes_raw_html_and_markdown_in_the_article_as_text(tmp_path, demo_models):
    """The UI drops raw HTML and renders links: the form must show what the text really holds."""
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")
    payload = ("[bấm](javascript:alert(1)) ![ảnh](https://tracker.invalid/p.png) "
               "trước sau, cột | giả, *nghiêng* `<img src=x onerror=alert(1)>` &lt;b&gt;")
    raw = EXAMPLE.read_bytes().replace("bạn bè quốc tế.".encode(), f"bạn bè quốc tế. {payload}".encode())
    article = register(store, parse_article(raw, EXAMPLE.name, "tntv"), raw, EXAMPLE.name)
    translate_revision(store, shared_engine(), article.article_id, article.revision)
    form = build_form(store, article.article_id, article.revision, "en")
    row = next(line for line in form.body.splitlines() if line.startswith("| ¶3 |"))
    expected = ("\\[bấm\\](javascript:alert(1)) !\\[ảnh\\](https://tracker.invalid/p.png) "
                "trước sau, cột \\| giả, \\*nghiêng\\* \\`\\<img src=x onerror=alert(1)\\>\\` \\&lt;b\\&gt;")
    source, machine = row.split(" | ")[1:3]
    assert source == "Du lịch chè là cầu nối hợp tác giữa **Thái Nguyên** với bạn bè quốc tế. " + expected
    assert machine.endswith(f" {expected} |"), "the machine text is quoted the same way"
    assert len(re.findall(r"(?<!\\)\|", row)) == 4, "the escaped pipe leaves the row three cells wide"


def test_every_field_from_the_article_is_quoted_in_the_form(tmp_path, demo_models):
    """approved_by, source_url, the image and its caption come from the editor's file: shown as text."""
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")
    raw = EXAMPLE.read_bytes().replace(
        "approved_by: Trần Thị Mai\n".encode(),
        ("approved_by: \"Mai <img src=x onerror=alert(1)> **[chief](https://evil.example)**\"\n"
         "source_url: https://tntv.vn/le-hoi?a=1&b=2\n"
         "image: https://tntv.vn/anh/le-hoi.jpg?x=_y_\n"
         "image_caption: \"Khai mạc ![px](https://tracker.invalid/p.png) | ô\"\n").encode())
    article = register(store, parse_article(raw, EXAMPLE.name, "tntv"), raw, EXAMPLE.name)
    translate_revision(store, shared_engine(), article.article_id, article.revision)
    lines = build_form(store, article.article_id, article.revision, "en").body.splitlines()
    outlet = next(line for line in lines if line.startswith("- **Outlet:**"))
    assert "approved by Mai \\<img src=x onerror=alert(1)\\> \\*\\*\\[chief\\](https://evil.example)\\*\\* at " in outlet
    assert "- **Source article:** https://tntv.vn/le-hoi?a=1\\&b=2" in lines
    assert ("- **Image:** https://tntv.vn/anh/le-hoi.jpg?x=\\_y\\_ — caption: "
            "Khai mạc !\\[px\\](https://tracker.invalid/p.png) \\| ô") in lines


def test_a_correction_shows_what_changed_since_the_approved_revision(translated):
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store, article, drafts = translated
    approved_body = drafts["en"].body.replace("đã tham dự", "attended")
    assert approved_body != drafts["en"].body
    first = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                            {"title": drafts["en"].title, "body": approved_body}, "reviewer_en", WHEN)
    assert first.approved, first.problems
    raw = EXAMPLE.read_bytes().replace(b"Nhi\xe1\xbb\x81u du kh\xc3\xa1ch", b"H\xc3\xa0ng ngh\xc3\xacn du kh\xc3\xa1ch")
    corrected = register(store, parse_article(raw, EXAMPLE.name, "tntv"), raw, EXAMPLE.name)
    assert corrected.article_id == article.article_id and corrected.revision != article.revision
    translate_revision(store, shared_engine(), corrected.article_id, corrected.revision)

    body = build_form(store, corrected.article_id, corrected.revision, "en").body
    section = body.split(f"### Correction: changes since the approved revision `{article.revision}`")[1]
    assert "Approved by reviewer_en at 2025-05-19T08:00:00+00:00" in section
    assert "\n-Lễ hội Trà Tân Cương năm 2025 đã khai mạc tại thành phố Thái Nguyên. Nhiều du khách" in section
    assert "\n+Lễ hội Trà Tân Cương năm 2025 đã khai mạc tại thành phố Thái Nguyên. Hàng nghìn du khách" in section
    assert any(line.startswith("-") and "attended" in line for line in section.splitlines())
    assert "Correction" not in build_form(store, article.article_id, article.revision, "en").body


def test_reviewers_come_from_configuration_with_a_default_per_language():
    assert reviewers_for("ko", None) == ["reviewer_ko"]
    assert reviewers_for("ko", {"ko": ["kim", "park"]}) == ["kim", "park"]
    assert reviewers_for("en", {"ko": ["kim"]}) == ["reviewer_en"]


def test_an_article_with_an_embedded_player_can_be_approved(tmp_path, demo_models):
    """TNTV pastes its video player: intake turns it into a link, and the machine text approved as is passes
    every post-edit check (before, 'remove the <iframe>' and 'put its URL back' could never both be met)."""
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    store = LocalStore(tmp_path / "store")
    player = ('<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ?si=tntv" '
              'title="YouTube video player" frameborder="0" allowfullscreen></iframe>')
    raw = EXAMPLE.read_bytes().replace("> Du lịch chè".encode(),
                                       f"{player}\n\n<iframe src=\"https://ads.example/x\"></iframe>\n\n> Du lịch chè".encode())
    article = register(store, parse_article(raw, EXAMPLE.name, "tntv"), raw, EXAMPLE.name)
    assert "[▶ Video: YouTube](https://www.youtube.com/watch?v=dQw4w9WgXcQ)" in article.body
    assert "<iframe" not in article.body and "ads.example" not in article.body
    assert len(article.flags) == 2, article.flags
    (draft,) = translate_revision(store, shared_engine(), article.article_id, article.revision, languages=["en"])
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in draft.body
    decision = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                               {"title": draft.title, "summary": draft.summary, "body": draft.body},
                               "reviewer_en", WHEN)
    assert (decision.outcome, decision.problems) == (APPROVED, [])


def test_decision_is_written_once_and_a_retry_gets_the_first(translated):
    store, article, drafts = translated
    edited = drafts["en"].body.replace("đã tham dự", "attended")
    first = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                            {"title": "Edited", "body": edited, "note": "ok"}, "reviewer_en", WHEN)
    retry = record_decision(store, article.article_id, article.revision, "en", ["Reject"], {}, "reviewer_en",
                            "2025-05-19T09:00:00+00:00")
    assert retry == first
    assert first.approved and first.outcome == APPROVED and first.title == "Edited"
    assert first.machine_body == drafts["en"].body and first.machine_summary == drafts["en"].summary
    assert store.exists(decision_key(article.article_id, article.revision, "en"))


def test_missing_fields_fall_back_to_the_machine_text(translated):
    store, article, drafts = translated
    decision = record_decision(store, article.article_id, article.revision, "ko", ["Reject"], {}, "reviewer_ko", WHEN)
    assert not decision.approved and decision.outcome == REJECTED
    assert decision.body == drafts["ko"].body and decision.note == "" and decision.edit_distance == 0


def test_edit_distance_is_recorded_against_the_machine_text(translated):
    store, article, drafts = translated
    machine = drafts["en"]
    edited_body = machine.body.replace("cooperation", "partnership", 1)
    decision = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                               {"title": machine.title, "summary": machine.summary, "body": edited_body},
                               "reviewer_en", WHEN)
    assert edited_body != machine.body
    assert decision.edit_distance == 1
    assert decision.machine_words == len(f"{machine.title}\n{machine.summary}\n{machine.body}".split())


def test_a_broken_approve_is_needs_fix_never_approved_and_reopens_prefilled(translated):
    store, article, _ = translated
    first = plan_review(store, article.article_id, article.revision, "en", entry=True)
    assert first == ReviewPlan(1)
    request = _open(store, article, "en", first)
    assert current_request(store, article.article_id, article.revision, "en") == request

    broken = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                             {"title": "", "body": "My **draft", "note": "xem lại"}, "reviewer_en",
                             "2025-05-19T08:30:00+00:00")
    assert broken.outcome == NEEDS_FIX and not broken.approved
    assert broken.problems[:2] == ["Title is empty; write the headline.",
                                   "Body, paragraph 1: bold '**' is opened and never closed."]
    assert broken.problems[2:] and all(p.startswith("Glossary: ") for p in broken.problems[2:]), \
        "the official names the machine had right are gone from the text"
    assert broken.opened_at == WHEN and current_request(store, article.article_id, article.revision, "en") is None
    assert plan_review(store, article.article_id, article.revision, "en", entry=False) == ReviewPlan(2, broken)

    form = build_form(store, article.article_id, article.revision, "en", None, broken, 2)
    assert form.body.startswith("**✖ Fix needed (attempt 2).** Your approval of attempt 1 (2025-05-19T08:30:00+00:00)")
    assert form.body.index("- Title is empty") < form.body.index("DEMO MODEL")
    assert form.defaults == {"title": "", "summary": broken.summary, "body": "My **draft", "note": "xem lại"}
    assert form.problems == broken.problems
    second = _open(store, article, "en", ReviewPlan(2, broken), form)
    assert second.prefilled_from == 1 and second.problems == broken.problems

    # A re-run of the task while attempt 2 is open opens the same attempt again, not a third.
    assert plan_review(store, article.article_id, article.revision, "en", entry=True) == ReviewPlan(2, broken)
    half = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                           {"title": "Tan Cuong Tea Festival", "note": ""}, "reviewer_en", "2025-05-19T09:00:00+00:00")
    assert half.body == "My **draft", "a field left out keeps the text the attempt was pre-filled with"
    assert (half.attempt, half.outcome, half.problems) == (2, NEEDS_FIX, broken.problems[1:])

    third = plan_review(store, article.article_id, article.revision, "en", entry=False)
    assert third == ReviewPlan(3, half)
    _open(store, article, "en", third)
    machine = load_draft(store, article.article_id, article.revision, "en")
    fixed = record_decision(store, article.article_id, article.revision, "en", ["Approve"],
                            {"title": machine.title, "body": "**Note:** " + machine.body}, "reviewer_en",
                            "2025-05-19T09:30:00+00:00")
    assert (fixed.attempt, fixed.outcome, fixed.approved, fixed.problems) == (3, APPROVED, True, [])
    assert plan_review(store, article.article_id, article.revision, "en", entry=False) is None


def test_a_fix_round_with_only_missing_fields_is_still_needs_fix(translated):
    store, article, _ = translated
    _open(store, article, "en", ReviewPlan(1))
    decision = record_decision(store, article.article_id, article.revision, "en", ["Approve"], {}, "reviewer_en", WHEN,
                               invalid=["The field 'body' came back as int, not text; your earlier text is kept."])
    assert decision.outcome == NEEDS_FIX
    assert decision.problems == ["The field 'body' came back as int, not text; your earlier text is kept."]


def test_plans_for_every_state(translated):
    store, article, _ = translated
    key = (store, article.article_id, article.revision, "ko")
    assert plan_review(*key, entry=False) is None, "later rounds never open a first review"
    _open(store, article, "ko", ReviewPlan(1))
    expired = record_expiry(*key, "2025-05-21T08:00:00+00:00")
    assert (expired.outcome, expired.approved, expired.option, expired.reviewer) == (EXPIRED, False, "", "")
    assert plan_review(*key, entry=False) is None, "an expired review does not reopen by itself"
    assert plan_review(*key, entry=True) == ReviewPlan(2), "clearing round 1 re-opens it"
    _open(store, article, "ko", ReviewPlan(2))
    rejected = record_decision(*key, ["Reject"], {}, "reviewer_ko", "2025-05-22T08:00:00+00:00")
    assert rejected.attempt == 2
    assert plan_review(*key, entry=True) is None and plan_review(*key, entry=False) is None
    assert [d.outcome for d in decisions_for(*key)] == [EXPIRED, REJECTED]
    assert store.exists(request_key(article.article_id, article.revision, "ko", 2))


def test_an_older_record_without_state_keeps_its_meaning(translated):
    store, article, drafts = translated
    decision = record_decision(store, article.article_id, article.revision, "en", ["Approve"], {}, "reviewer_en", WHEN)
    raw = json.loads(records.encode(decision))
    for name in ("state", "edit_distance", "machine_words", "problems", "opened_at", "machine_summary"):
        raw.pop(name)
    old = records.decode(Decision, json.dumps(raw).encode())
    assert old.approved and old.outcome == APPROVED
    assert not dataclasses.replace(old, option="Reject").approved
    assert not dataclasses.replace(old, state=NEEDS_FIX).approved
    assert not dataclasses.replace(old, state=EXPIRED).approved




# ---- the decision journal ---------------------------------------------------------------------


class OrderedStore(LocalStore):
    """A real store that remembers the order of create-only writes and can fail one like a crash."""

    def __init__(self, root, crash_on: str = "") -> None:
        super().__init__(root)
        self.created: list[str] = []
        self.crash_on = crash_on

    def create(self, key: str, data: bytes) -> None:
        if self.crash_on and key.startswith(self.crash_on):
            raise OSError(f"injected crash before writing {key}")
        super().create(key, data)
        self.created.append(key)


def test_every_decision_is_journaled_before_its_record_and_once(translated):
    store, article, _ = translated
    ordered = OrderedStore(store.root)
    ids = (article.article_id, article.revision)
    record_decision(ordered, *ids, "en", ["Reject"], {}, "reviewer_en", WHEN)
    record_expiry(ordered, *ids, "ko", "2025-05-21T08:00:00+00:00")
    record_decision(ordered, *ids, "en", ["Approve"], {}, "reviewer_en", WHEN)  # a retry: no new entry
    en, ko = decision_key(*ids, "en"), decision_key(*ids, "ko")
    assert [key.split("/")[0] for key in ordered.created] == ["journal", "decisions", "journal", "decisions"]
    assert ordered.created[1::2] == [en, ko]
    entries = list(store.list(JOURNAL))
    assert entries == ordered.created[0::2]
    assert [journal_entry(key).decision for key in entries] == [en, ko]
    assert [store.read(key).decode() for key in entries] == [en, ko]
    assert all(journal_entry(key).article_id == article.article_id for key in entries)


def test_a_crash_between_entry_and_record_leaves_only_the_harmless_entry(translated):
    store, article, _ = translated
    crashing = OrderedStore(store.root, crash_on="decisions/")
    with pytest.raises(OSError, match="injected crash"):
        record_decision(crashing, article.article_id, article.revision, "en", ["Approve"], {}, "reviewer_en", WHEN)
    [entry] = store.list(JOURNAL)
    assert not store.exists(journal_entry(entry).decision)
    retried = record_decision(store, article.article_id, article.revision, "en", ["Approve"], {}, "reviewer_en", WHEN)
    assert retried.approved and len(list(store.list(JOURNAL))) == 2, "the retry journals and writes its record"


def test_journal_keys_read_back_and_sort_by_time():
    from datetime import datetime, timedelta, timezone

    from foreigndesk.core.store import check_key

    moment = datetime(2025, 3, 9, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=7)))
    key = journal_key("btn--odd--id", "0123abcd", "zh-Hans", 12, moment)
    assert key == "journal/decisions/2025/03/09/165959.999999Z-btn--odd--id--0123abcd--zh-Hans--012.json"
    assert check_key(key) == key
    entry = journal_entry(key)
    assert entry.written_at == moment and entry.article_id == "btn--odd--id"
    assert entry.decision == decision_key("btn--odd--id", "0123abcd", "zh-Hans", 12)
    later = journal_key("a", "r1", "en", 1, moment + timedelta(microseconds=1))
    assert key < later and journal_mark(moment) < key < journal_mark(moment + timedelta(microseconds=1)) < later
    for name in ("journal/decisions/2025/03/09/x.json", "decisions/a/r1/en/001.json",
                 "journal/decisions/2025/03/09/165959.999999Z-a--r1--en.json"):
        assert journal_entry(name) is None
