"""The review stage: what a translator sees, and the decision they leave behind.

The form is built from the stored records when the review opens (never at DAG
parse time), and the decision is written as a record the moment the answer
arrives. Downstream stages read these records, not Airflow task states: a
rejected mapped review does not reliably skip its downstream task (DESIGN.md),
so the record is the only truth about what was approved.

One language of one revision may take several *attempts*: an Approve whose text
fails the post-edit checks is recorded as "needs fix" and a new attempt opens,
pre-filled with the translator's own text and the problems stated first; a
review nobody answers in time is recorded as "expired". Every attempt leaves a
request record (when it opened, for whom, the link) and at most one decision
record, both written once; a state is always derived from these records.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from foreigndesk import journal, records
from foreigndesk.intake import Registered, load_revision
from foreigndesk.postedit import Texts, check_edit, edit_distance, tokens
from foreigndesk.segment import parse as parse_markdown
from foreigndesk.settings import DEFAULT_REVIEWERS
from foreigndesk.store import Store
from foreigndesk.translation import DEMO_NOTICE, Draft, load_draft

APPROVE = "Approve"
REJECT = "Reject"
OPTIONS = (APPROVE, REJECT)
#: The editable form fields. Their names must not collide with DAG params or run conf keys
#: (Airflow silently overwrites such fields; DESIGN.md).
FORM_FIELDS = ("title", "summary", "body", "note")
#: Decision states. Only APPROVED is ever published.
APPROVED, REJECTED, NEEDS_FIX, EXPIRED = "approved", "rejected", "needs_fix", "expired"
#: Review attempts one translate run offers per language before the desk has to step in.
ROUNDS = 3
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ko": "한국어", "vi": "Tiếng Việt"}
OUTLET_NAMES = {"baothainguyen": "Báo Thái Nguyên", "tntv": "Đài PT-TH Thái Nguyên (TNTV)"}
_DIFF_LINES = 40


@dataclass(frozen=True)
class ReviewForm:
    """Everything the review task shows: headline, Markdown body, pre-filled fields, who may answer."""

    subject: str
    body: str
    defaults: dict[str, str]
    assigned_users: list[str]
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewRequest:
    """One attempt at reviewing one language of one revision: opened for whom, when, where."""

    article_id: str
    revision: str
    language: str
    attempt: int
    opened_at: str
    reviewers: list[str]
    link: str = ""
    deadline: str = ""
    #: Why this attempt exists (the previous attempt's problems); empty for a first review.
    problems: list[str] = field(default_factory=list)
    #: The attempt whose text is pre-filled (0: the machine draft).
    prefilled_from: int = 0


@dataclass(frozen=True)
class Decision:
    """The outcome of one review attempt for one language of one revision: written once."""

    article_id: str
    revision: str
    language: str
    attempt: int
    option: str
    reviewer: str
    decided_at: str
    title: str
    summary: str
    body: str
    note: str
    machine_title: str
    machine_body: str
    demo_model: bool
    #: approved | rejected | needs_fix | expired; "" (older records): derived from ``option``.
    state: str = ""
    machine_summary: str = ""
    #: Word-level edits from the machine text to this text (CJK characters count as words).
    edit_distance: int = 0
    machine_words: int = 0
    #: Why an Approve was not accepted (state needs_fix).
    problems: list[str] = field(default_factory=list)
    opened_at: str = ""

    @property
    def outcome(self) -> str:
        return self.state or (APPROVED if self.option == APPROVE else REJECTED)

    @property
    def approved(self) -> bool:
        """Only an Approve whose text passed the checks counts; needs_fix and expired never do."""
        return self.option == APPROVE and self.outcome == APPROVED

    def texts(self) -> Texts:
        return Texts(self.title, self.summary, self.body)


@dataclass(frozen=True)
class ReviewPlan:
    """What the next review task of a language should do: open ``attempt``, pre-filled from ``fix_of``."""

    attempt: int
    fix_of: Decision | None = None


def decision_key(article_id: str, revision: str, language: str, attempt: int = 1) -> str:
    return f"decisions/{article_id}/{revision}/{language}/{attempt:03d}.json"


#: The decision journal (see :mod:`foreigndesk.journal`): one create-only entry per decision record,
#: so the publish stage can take what is new since its mark with ``Store.list_after`` instead of
#: listing every decision ever made. An entry says "a decision was written"; the record is the truth.
DECISIONS = "decisions"
JOURNAL = journal.folder(DECISIONS)
_DECISION_NAME = re.compile(r"^(.+)--(.+?)--(.+?)--(\d{3,})$")


@dataclass(frozen=True)
class JournalEntry:
    """What a decision journal key says: when a decision was written, and which."""

    key: str
    written_at: datetime
    article_id: str
    decision: str


def journal_mark(moment: datetime) -> str:
    """The decision journal's position of a moment: every entry written after it sorts after this string."""
    return journal.mark(DECISIONS, moment)


def _entry_name(article_id: str, revision: str, language: str, attempt: int) -> str:
    return f"{article_id}--{revision}--{language}--{attempt:03d}"


def journal_key(article_id: str, revision: str, language: str, attempt: int, written_at: datetime) -> str:
    """``journal/decisions/<YYYY>/<MM>/<DD>/<HHMMSS.ffffff>Z-<article>--<revision>--<language>--<attempt>.json``."""
    return journal.key(DECISIONS, written_at, _entry_name(article_id, revision, language, attempt))


def journal_entry(key: str) -> JournalEntry | None:
    """Read a decision journal key back (no store access); None for a name the journal never writes.

    Article ids may hold ``--``; revisions, languages and attempts do not, so the
    name is split from the right.
    """
    entry = journal.parse(DECISIONS, key)
    match = _DECISION_NAME.match(entry.name) if entry is not None else None
    if match is None:
        return None
    article_id, revision, language, attempt = match.groups()
    return JournalEntry(key, entry.written_at, article_id, decision_key(article_id, revision, language, int(attempt)))


def request_key(article_id: str, revision: str, language: str, attempt: int = 1) -> str:
    return f"reviews/{article_id}/{revision}/{language}/{attempt:03d}.json"


def reviewers_for(language: str, reviewers: Mapping[str, list[str]] | None) -> list[str]:
    """The users allowed to answer a language's review (configurable; defaults to reviewer_<lang>)."""
    configured = (reviewers or DEFAULT_REVIEWERS).get(language) or DEFAULT_REVIEWERS.get(language, [])
    return list(configured)


def _load_all(store: Store, record_type, prefix: str) -> list:
    return [records.load(store, record_type, key) for key in store.list(prefix) if key.endswith(".json")]


def decisions_for(store: Store, article_id: str, revision: str, language: str) -> list[Decision]:
    return _load_all(store, Decision, f"decisions/{article_id}/{revision}/{language}/")


def requests_for(store: Store, article_id: str, revision: str, language: str) -> list[ReviewRequest]:
    return _load_all(store, ReviewRequest, f"reviews/{article_id}/{revision}/{language}/")


def _open_request(requests: list[ReviewRequest], decisions: list[Decision]) -> ReviewRequest | None:
    decided = {decision.attempt for decision in decisions}
    waiting = [request for request in requests if request.attempt not in decided]
    return waiting[-1] if waiting else None


def current_request(store: Store, article_id: str, revision: str, language: str) -> ReviewRequest | None:
    """The attempt open right now (a request without a decision), if any."""
    return _open_request(requests_for(store, article_id, revision, language),
                         decisions_for(store, article_id, revision, language))


def plan_review(store: Store, article_id: str, revision: str, language: str, entry: bool) -> ReviewPlan | None:
    """Whether a review task should open a form, and which attempt; None when there is nothing to ask.

    The ``entry`` task (the first round) opens a first review, and re-opens an
    expired or still-unfixed one when the desk clears it; later rounds open only
    to fix a "needs fix". An attempt already open (a task re-run while waiting)
    is opened again under the same number, so an answer is never asked twice.
    """
    decisions = decisions_for(store, article_id, revision, language)
    requests = requests_for(store, article_id, revision, language)
    by_attempt = {decision.attempt: decision for decision in decisions}
    waiting = _open_request(requests, decisions)
    if waiting is not None:
        return ReviewPlan(waiting.attempt, by_attempt.get(waiting.prefilled_from))
    if not decisions:
        return ReviewPlan(1) if entry else None
    latest = decisions[-1]
    following = max(latest.attempt, max((r.attempt for r in requests), default=0)) + 1
    if latest.outcome == NEEDS_FIX:
        return ReviewPlan(following, latest)
    if latest.outcome == EXPIRED and entry:
        unfixed = [d for d in decisions if d.outcome == NEEDS_FIX]
        return ReviewPlan(following, unfixed[-1] if unfixed else None)
    return None


def open_review(
    store: Store, article_id: str, revision: str, language: str, plan: ReviewPlan, form: ReviewForm,
    opened_at: str, link: str = "", deadline: str = "",
) -> ReviewRequest:
    """Record that an attempt is open (status and review times are derived from it)."""
    request = ReviewRequest(
        article_id=article_id, revision=revision, language=language, attempt=plan.attempt,
        opened_at=opened_at, reviewers=list(form.assigned_users), link=link, deadline=deadline,
        problems=list(form.problems), prefilled_from=plan.fix_of.attempt if plan.fix_of else 0,
    )
    key = request_key(article_id, revision, language, plan.attempt)
    if not records.write_once(store, key, request):
        return records.load(store, ReviewRequest, key)
    return request


# ---- the form ---------------------------------------------------------------------------------


#: Characters that start inline Markdown or HTML (and the table's pipe). The Airflow UI drops raw
#: HTML tags and comments without a trace and renders links and images, so quoted text must show
#: these as written: the reviewer sees the ``<script>`` or ``[x](javascript:...)`` an article carries.
_MARKDOWN_INLINE = re.compile(r"([\\`*_~\[\]<>&|])")


def quote(text: str) -> str:
    """Article or machine text as Markdown that displays exactly this text, never markup or HTML."""
    return _MARKDOWN_INLINE.sub(r"\\\1", text)


def _cell(text: str, terms: Sequence[str] = ()) -> str:
    """A table cell: the quoted text on one line, with the glossary ``terms`` in bold."""
    return " ".join(_mark_terms(quote(text), [quote(term) for term in terms]).split()) or " "


def _mark_terms(text: str, terms: Sequence[str]) -> str:
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        text = re.sub(rf"(?<!\*\*){re.escape(term)}(?!\*\*)", f"**{term}**", text)
    return text


def unit_texts(title: str, summary: str, body: str) -> dict[str, str]:
    """A text's translation units by id ("title", "summary", "body.3", ...), as the translate stage cut them.

    Findings and memory hits name these ids, so the form and the post-edit
    checks use the same cut rather than a second idea of what a segment is.
    """
    texts = {"title": title, "summary": summary}
    texts.update((unit.id, unit.text) for unit in parse_markdown(body).units)
    return texts


def unit_label(unit_id: object) -> str:
    """The form's row label of a unit id: Title, Summary, ¶3, ¶3.alt."""
    name = str(unit_id)
    if name in ("title", "summary"):
        return name.capitalize()
    return "¶" + name.removeprefix("body.") if name.startswith("body.") else (name or "text")


def _side_by_side(article: Registered, draft: Draft, language: str, english: Decision | None = None) -> list[str]:
    """Source and machine text row by row; with the human pivot, the approved English between them."""
    source_terms = [t.get("source", "") for t in draft.glossary_terms]
    target_terms = [t.get("target", "") for t in draft.glossary_terms]
    remembered = {str(f.get("segment")) for f in draft.findings if f.get("check") == "memory"}
    source_units = unit_texts(article.title, article.summary, article.body)
    target_units = unit_texts(draft.title, draft.summary, draft.body)
    english_units = unit_texts(english.title, english.summary, english.body) if english is not None else {}

    def target(unit_id: str) -> str:
        if unit_id not in target_units:
            return "*(missing)*"
        return ("♻ " if unit_id in remembered else "") + _cell(target_units[unit_id], target_terms)

    def pivot(unit_id: str) -> str:
        return f" {_cell(english_units.get(unit_id, ''))} |" if english is not None else ""

    name = LANGUAGE_NAMES.get(language, language)
    middle = f" {LANGUAGE_NAMES['en']} (approved) |" if english is not None else ""
    lines = [f"| | {LANGUAGE_NAMES['vi']} (source) |{middle} {name} (machine) |",
             "|---|---|---|---|" if english is not None else "|---|---|---|"]
    for unit_id, text in source_units.items():
        lines.append(f"| {unit_label(unit_id)} | {_cell(text, source_terms)} |{pivot(unit_id)} {target(unit_id)} |")
    for unit_id in target_units.keys() - source_units.keys():
        lines.append(f"| {unit_label(unit_id)} | *(not in the source)* |{pivot(unit_id)} {target(unit_id)} |")
    return lines


def _pivot_english(store: Store, draft: Draft) -> tuple[Decision | None, list[str]]:
    """The approved English a draft was made from, and what the form should say about its pivot."""
    pivot = draft.pivot or {}
    if pivot.get("from") == "approved" and pivot.get("decision") and store.exists(pivot["decision"]):
        english = records.load(store, Decision, pivot["decision"])
        return english, [f"**Drafted from the approved English** (by {english.reviewer} at {english.decided_at}), "
                         "shown between the source and the machine text.", ""]
    if pivot.get("from") == "machine":
        return None, [f"**⚠ Drafted from the machine English:** the English review ended "
                      f"{quote(pivot.get('reason', ''))}, so no approved English was there to translate from. "
                      "Check names and terms against the Vietnamese source.", ""]
    return None, []


def _findings(draft: Draft) -> list[str]:
    order = {"error": 0, "warning": 1}
    ranked = sorted((f for f in draft.findings if f.get("check") != "memory"),
                    key=lambda f: order.get(str(f.get("severity")), 2))
    if not ranked:
        return ["### Quality checks", "", "No QA findings for the machine text.", ""]
    lines = ["### Quality checks — fix these first", ""]
    for finding in ranked:
        icon = "✖" if finding.get("severity") == "error" else "⚠"
        lines.append(f"- {icon} **{finding.get('severity', '?')}** · {finding.get('check', '?')} · "
                     f"{unit_label(finding.get('segment'))}: {quote(str(finding.get('message', '')))}")
    return lines + [""]


def _previous_approval(store: Store, article: Registered, language: str) -> Decision | None:
    """The latest approved translation of an earlier revision of this article (a correction)."""
    earlier = [d for d in all_decisions(store, f"decisions/{article.article_id}/")
               if d.language == language and d.revision != article.revision and d.approved]
    return max(earlier, key=lambda d: d.decided_at) if earlier else None


def _diff(old: str, new: str) -> list[str]:
    changed = [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
               if not line.startswith(("---", "+++", "@@"))]
    if len(changed) > _DIFF_LINES:
        changed = changed[:_DIFF_LINES] + [f"… {len(changed) - _DIFF_LINES} more changed lines"]
    return ["```diff", *changed, "```"] if changed else ["*(no change in the text)*"]


def _correction(store: Store, article: Registered, language: str) -> list[str]:
    previous = _previous_approval(store, article, language)
    if previous is None:
        return []
    old = load_revision(store, previous.article_id, previous.revision)
    return [
        f"### Correction: changes since the approved revision `{previous.revision}`",
        "",
        f"Approved by {previous.reviewer} at {previous.decided_at}. What the editors changed in the source:",
        "",
        *_diff(f"{old.title}\n\n{old.summary}\n\n{old.body}", f"{article.title}\n\n{article.summary}\n\n{article.body}"),
        "",
        "The approved translation of that revision, against this machine draft:",
        "",
        *_diff(previous.body, load_draft(store, article.article_id, article.revision, language).body),
        "",
    ]


def _subject(article: Registered, language: str) -> str:
    return f"[{language.upper()}] {article.title} — {OUTLET_NAMES.get(article.outlet, article.outlet)}"


def subject_for(store: Store, article_id: str, revision: str, language: str) -> str:
    """The review's headline, ``[EN] <title> — <outlet>``, as the form and every notice show it."""
    return _subject(load_revision(store, article_id, revision), language)


def build_form(
    store: Store,
    article_id: str,
    revision: str,
    language: str,
    reviewers: Mapping[str, list[str]] | None = None,
    fix_of: Decision | None = None,
    attempt: int = 1,
) -> ReviewForm:
    """The review form; for a fix, the problems come first and the translator's own text is pre-filled."""
    article = load_revision(store, article_id, revision)
    draft = load_draft(store, article_id, revision, language)
    outlet = OUTLET_NAMES.get(article.outlet, article.outlet)
    problems = list(fix_of.problems) if fix_of is not None and fix_of.outcome == NEEDS_FIX else []
    lines: list[str] = []
    if problems:
        lines += [f"**✖ Fix needed (attempt {attempt}).** Your approval of attempt {fix_of.attempt} "
                  f"({fix_of.decided_at}) was not accepted because:", ""]
        lines += [f"- {quote(problem)}" for problem in problems]
        lines += ["", "Your own text is in the fields below. Fix it, then **Approve** again.", ""]
    if draft.demo_model:
        lines += [f"**⚠ {DEMO_NOTICE}.** The installed model for this pair is the built-in demo: "
                  "it copies the text and swaps a few words. Install real models before publishing.", ""]
    for flag in getattr(article, "flags", None) or []:
        text = " — ".join(str(value) for value in flag.values()) if isinstance(flag, dict) else str(flag)
        lines += [f"**⚠ Intake:** {quote(text)}", ""]
    english, pivot_lines = _pivot_english(store, draft)
    lines += pivot_lines
    lines += _findings(draft)
    lines += [
        f"## {quote(article.title)}",
        "",
        f"- **Outlet:** {outlet} — approved by {article.approved_by} at {article.approved_at}",
        f"- **Source article:** {article.source_url or 'no link given'}",
        f"- **Article:** `{article_id}` revision `{revision}` · attempt {attempt}",
        f"- **Model:** {draft.model_name} ({draft.model_version})",
        "",
        f"### Source and {LANGUAGE_NAMES.get(language, language)} machine translation, paragraph by paragraph",
        "",
        *_side_by_side(article, draft, language, english),
        "",
        "♻ = from translation memory · **bold** = provincial glossary term",
        "",
    ]
    if draft.glossary_terms:
        lines += ["### Glossary terms in this text", "", "| Tiếng Việt | " + LANGUAGE_NAMES.get(language, language) + " |",
                  "|---|---|", *[f"| {_cell(t.get('source', ''))} | {_cell(t.get('target', ''))} |"
                                 for t in draft.glossary_terms], ""]
    lines += _correction(store, article, language)
    lines += ["Edit the fields below, then **Approve** to publish or **Reject** to keep it off every channel. "
              "An approved text is checked (empty fields, broken Markdown, lost links or images, glossary errors) "
              "before it counts."]
    source = fix_of if problems else None
    defaults = (
        {"title": source.title, "summary": source.summary, "body": source.body, "note": source.note}
        if source is not None
        else {"title": draft.title, "summary": draft.summary, "body": draft.body, "note": ""}
    )
    return ReviewForm(
        subject=_subject(article, language),
        body="\n".join(lines),
        defaults=defaults,
        assigned_users=reviewers_for(language, reviewers),
        problems=problems,
    )


# ---- decisions --------------------------------------------------------------------------------


def _current(store: Store, article_id: str, revision: str, language: str) -> tuple[int, Texts | None, str]:
    """The attempt an answer belongs to, the text it was pre-filled with, and when it opened."""
    decisions = decisions_for(store, article_id, revision, language)
    requests = requests_for(store, article_id, revision, language)
    waiting = _open_request(requests, decisions)
    if waiting is None:
        return (decisions[-1].attempt if decisions else 1), None, ""
    prefilled = {d.attempt: d for d in decisions}.get(waiting.prefilled_from)
    return waiting.attempt, (prefilled.texts() if prefilled else None), waiting.opened_at


def write_decision(store: Store, decision: Decision, written_at: datetime | None = None) -> Decision:
    """The one way a decision is written: its journal entry first, then the record, create-only.

    In this order a crash between the two leaves an entry without a record, which
    the publish stage ignores; the other order could leave a decision no entry
    points at, which publishing's fast path would never see. A decision already
    written is returned as stored (a retried task), without a second entry.
    ``written_at`` (default: now) is for building archives with a past, in tests
    and benchmarks.
    """
    key = decision_key(decision.article_id, decision.revision, decision.language, decision.attempt)
    if store.exists(key):
        return records.load(store, Decision, key)
    journal.write(store, DECISIONS, written_at or datetime.now(timezone.utc),
                  _entry_name(decision.article_id, decision.revision, decision.language, decision.attempt), key)
    if not records.write_once(store, key, decision):
        return records.load(store, Decision, key)
    return decision


def record_decision(
    store: Store,
    article_id: str,
    revision: str,
    language: str,
    chosen_options: list[str],
    fields: Mapping[str, object],
    reviewer: str,
    decided_at: str,
    invalid: Sequence[str] = (),
) -> Decision:
    """Write the answer as a record; a retried task finds the first record and returns it.

    An Approve counts only if its text passes the post-edit checks (and the
    form came back well-formed: ``invalid`` lists what did not); otherwise the
    decision is "needs fix" with the problems, and nothing is approved.
    """
    attempt, prefilled, opened_at = _current(store, article_id, revision, language)
    key = decision_key(article_id, revision, language, attempt)
    if store.exists(key):
        return records.load(store, Decision, key)
    draft = load_draft(store, article_id, revision, language)
    machine = Texts(draft.title, draft.summary, draft.body)
    final = Texts.from_fields(fields, prefilled or machine)
    option = APPROVE if APPROVE in chosen_options else REJECT
    problems: list[str] = []
    if option == APPROVE:
        article = load_revision(store, article_id, revision)
        machine_segments = unit_texts(draft.title, draft.summary, draft.body)
        problems = list(invalid) + check_edit(article.body, machine, final, draft.glossary_terms,
                                              draft.findings, machine_segments)
    state = (NEEDS_FIX if problems else APPROVED) if option == APPROVE else REJECTED
    note = fields.get("note")
    return write_decision(store, Decision(
        article_id=article_id, revision=revision, language=language, attempt=attempt, option=option,
        reviewer=reviewer, decided_at=decided_at, title=final.title, summary=final.summary, body=final.body,
        note="" if note is None else str(note), machine_title=draft.title, machine_body=draft.body,
        demo_model=draft.demo_model, state=state, machine_summary=draft.summary,
        edit_distance=edit_distance(machine.joined(), final.joined()),
        machine_words=len(tokens(machine.joined())), problems=problems, opened_at=opened_at,
    ))


def record_expiry(store: Store, article_id: str, revision: str, language: str, expired_at: str) -> Decision:
    """Nobody answered in time: record it, approve nothing."""
    attempt, prefilled, opened_at = _current(store, article_id, revision, language)
    draft = load_draft(store, article_id, revision, language)
    text = prefilled or Texts(draft.title, draft.summary, draft.body)
    return write_decision(store, Decision(
        article_id=article_id, revision=revision, language=language, attempt=attempt, option="",
        reviewer="", decided_at=expired_at, title=text.title, summary=text.summary, body=text.body, note="",
        machine_title=draft.title, machine_body=draft.body, demo_model=draft.demo_model, state=EXPIRED,
        machine_summary=draft.summary, opened_at=opened_at,
    ))


def all_decisions(store: Store, prefix: str = "decisions/") -> Iterator[Decision]:
    for key in store.list(prefix):
        if key.endswith(".json"):
            yield records.load(store, Decision, key)


# ---- translation memory ------------------------------------------------------------------------


def remember_decision(store: Store, decision: Decision) -> int:
    """Approved segments feed the translation memory; anything else teaches nothing."""
    from foreigndesk.memory import remember_approval

    if not decision.approved:
        return 0
    article = load_revision(store, decision.article_id, decision.revision)
    key = decision_key(decision.article_id, decision.revision, decision.language, decision.attempt)
    return remember_approval(store, (article.title, article.summary, article.body), decision, key)


def rebuild_memory(store: Store) -> int:
    """Feed every recorded decision (idempotent: already remembered units are skipped)."""
    return sum(remember_decision(store, decision) for decision in all_decisions(store))
