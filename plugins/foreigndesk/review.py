"""The review stage: what a translator sees, and the decision they leave behind.

The form is built from the stored records when the review opens (never at DAG
parse time), and the decision is written as a record the moment the answer
arrives. Downstream stages read these records, not Airflow task states: a
rejected mapped review does not reliably skip its downstream task (DESIGN.md),
so the record is the only truth about what was approved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from foreigndesk import records
from foreigndesk.intake import load_revision
from foreigndesk.segment import split_blocks
from foreigndesk.settings import DEFAULT_REVIEWERS
from foreigndesk.store import Store
from foreigndesk.translation import DEMO_NOTICE, load_draft

APPROVE = "Approve"
REJECT = "Reject"
OPTIONS = (APPROVE, REJECT)
#: The editable form fields. Their names must not collide with DAG params or run conf keys
#: (Airflow silently overwrites such fields; DESIGN.md).
FORM_FIELDS = ("title", "summary", "body", "note")
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ko": "한국어", "vi": "Tiếng Việt"}
OUTLET_NAMES = {"baothainguyen": "Báo Thái Nguyên", "tntv": "Đài PT-TH Thái Nguyên (TNTV)"}


@dataclass(frozen=True)
class ReviewForm:
    """Everything the review task shows: headline, Markdown body, pre-filled fields, who may answer."""

    subject: str
    body: str
    defaults: dict[str, str]
    assigned_users: list[str]


@dataclass(frozen=True)
class Decision:
    """A translator's answer for one language of one revision: written once."""

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

    @property
    def approved(self) -> bool:
        return self.option == APPROVE


def decision_key(article_id: str, revision: str, language: str, attempt: int = 1) -> str:
    return f"decisions/{article_id}/{revision}/{language}/{attempt:03d}.json"


def reviewers_for(language: str, reviewers: Mapping[str, list[str]] | None) -> list[str]:
    """The users allowed to answer a language's review (configurable; defaults to reviewer_<lang>)."""
    configured = (reviewers or DEFAULT_REVIEWERS).get(language) or DEFAULT_REVIEWERS.get(language, [])
    return list(configured)


def _paragraphs(markdown: str) -> list[str]:
    return ["\n".join(prefix + text for prefix, text in block.lines) for block in split_blocks(markdown)]


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _side_by_side(source: str, translation: str, language: str) -> list[str]:
    lines: list[str] = []
    source_parts, target_parts = _paragraphs(source), _paragraphs(translation)
    for number in range(max(len(source_parts), len(target_parts))):
        source_part = source_parts[number] if number < len(source_parts) else ""
        target_part = target_parts[number] if number < len(target_parts) else "*(missing)*"
        lines += [f"**¶{number + 1} — vi**", "", _quoted(source_part), "",
                  f"**¶{number + 1} — {language}**", "", _quoted(target_part), ""]
    return lines


def _findings(findings: list[dict[str, str]]) -> list[str]:
    """The translate stage's QA findings (errors first); "memory" findings mark reused approved text."""
    if not findings:
        return []
    order = {"error": 0, "warning": 1, "info": 2}
    ranked = sorted(findings, key=lambda f: order.get(f["severity"], 3))
    return [f"### Checks ({len(findings)})", "",
            *[f"- **{f['severity']}** `{f['check']}` {f['segment']}: {f['message']}" for f in ranked], ""]


def build_form(
    store: Store, article_id: str, revision: str, language: str, reviewers: Mapping[str, list[str]] | None = None
) -> ReviewForm:
    article = load_revision(store, article_id, revision)
    draft = load_draft(store, article_id, revision, language)
    outlet = OUTLET_NAMES.get(article.outlet, article.outlet)
    lines: list[str] = []
    if draft.demo_model:
        lines += [f"**⚠ {DEMO_NOTICE}.** The installed model for this pair is the built-in demo: "
                  "it copies the text and swaps a few words. Install real models before publishing.", ""]
    lines += [
        f"## {article.title}",
        "",
        f"- **Outlet:** {outlet} — approved by {article.approved_by} at {article.approved_at}",
        f"- **Article:** `{article_id}` revision `{revision}`",
        f"- **Source:** {article.source_url or 'not given'}",
        f"- **Model:** {draft.model_name} ({draft.model_version})",
        "",
        *_findings(draft.findings),
        f"### Title ({language})",
        "",
        _quoted(draft.title),
        "",
        f"### Source and {LANGUAGE_NAMES.get(language, language)} translation, paragraph by paragraph",
        "",
        *_side_by_side(article.body, draft.body, language),
        "Edit the fields below, then **Approve** to publish or **Reject** to keep it off every channel.",
    ]
    return ReviewForm(
        subject=f"[{language.upper()}] {article.title} — {outlet}",
        body="\n".join(lines),
        defaults={"title": draft.title, "summary": draft.summary, "body": draft.body, "note": ""},
        assigned_users=reviewers_for(language, reviewers),
    )


def record_decision(
    store: Store,
    article_id: str,
    revision: str,
    language: str,
    chosen_options: list[str],
    fields: Mapping[str, object],
    reviewer: str,
    decided_at: str,
) -> Decision:
    """Write the answer as a record; a retried task finds the first record and returns it."""
    draft = load_draft(store, article_id, revision, language)
    option = APPROVE if APPROVE in chosen_options else REJECT

    def field(name: str, fallback: str) -> str:
        value = fields.get(name)
        return fallback if value is None else str(value)

    decision = Decision(
        article_id=article_id,
        revision=revision,
        language=language,
        attempt=1,
        option=option,
        reviewer=reviewer,
        decided_at=decided_at,
        title=field("title", draft.title),
        summary=field("summary", draft.summary),
        body=field("body", draft.body),
        note=field("note", ""),
        machine_title=draft.title,
        machine_body=draft.body,
        demo_model=draft.demo_model,
    )
    key = decision_key(article_id, revision, language, decision.attempt)
    if not records.write_once(store, key, decision):
        return records.load(store, Decision, key)
    return decision


def all_decisions(store: Store) -> Iterator[Decision]:
    for key in store.list("decisions/"):
        if key.endswith(".json"):
            yield records.load(store, Decision, key)
