"""The review form: what a translator sees when a review opens, built from the stored records.

Built when the review opens (never at DAG parse time). What to fix comes
first (the needs-fix reason, the demo warning, intake flags, QA findings with
errors before warnings, what TNTV's Zalo OA would shorten), then the source and the machine text side by side,
unit by unit as the translate stage cut them, with glossary terms in bold and
memory hits marked, and for a correction the diff against the earlier approved
revision. Everything that comes from an article is quoted: the Airflow UI
renders Markdown and drops raw HTML, and the reviewer must see what the article
really contains.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from foreigndesk.core.decisions import NEEDS_FIX, Decision, all_decisions
from foreigndesk.core.drafts import MEMORY_FINDING, Draft, load_draft
from foreigndesk.core.names import DEMO_NOTICE, SOURCE_LANGUAGE, language_name, outlet_name
from foreigndesk.core.revisions import Registered, load_revision
from foreigndesk.core.settings import DEFAULT_REVIEWERS
from foreigndesk.core.store import Store
from foreigndesk.core.zalo_limits import shortenings
from foreigndesk.review import event_review
from foreigndesk.review.cue_review import cue_table
from foreigndesk.review.quoting import quote, quote_line

_DIFF_LINES = 40
#: The one line a re-opened review shows when the answer given to it could not be recorded.
LOST_ANSWER_NOTICE = ("If you already answered this review, your answer could not be recorded (Airflow lost it); "
                      "nothing was decided. Please answer again — the text is as before.")


@dataclass(frozen=True)
class ReviewForm:
    """Everything the review task shows: headline, Markdown body, pre-filled fields, who may answer."""

    subject: str
    body: str
    defaults: dict[str, str]
    assigned_users: list[str]
    problems: list[str] = field(default_factory=list)






class ReviewersError(ValueError):
    """The reviewers configuration is not language → list of user ids; the message says how to fix it."""


def check_reviewers(value: object, where: str) -> dict[str, list[str]]:
    """The reviewers configuration as read from ``where`` (e.g. an Airflow Variable), or a clear error.

    It must map each language to a list of user ids: ``{"en": ["reviewer_en"], "zh": ["li", "wang"]}``.
    """
    example = '{"en": ["reviewer_en"], "zh": ["reviewer_zh"], "ko": ["reviewer_ko"]}'
    if not isinstance(value, Mapping):
        raise ReviewersError(f"{where} must map each language to a list of user ids, not "
                             f"{type(value).__name__} {value!r:.60}; set it like {example}")
    checked: dict[str, list[str]] = {}
    for language, users in value.items():
        if not isinstance(users, list) or not users or not all(isinstance(u, str) and u.strip() for u in users):
            raise ReviewersError(f"{where}: {language!r} must be a list of user ids like [\"reviewer_{language}\"], "
                                 f"not {users!r:.60}; set it like {example}")
        checked[str(language)] = [user.strip() for user in users]
    return checked


def reviewers_for(language: str, reviewers: Mapping[str, list[str]] | None) -> list[str]:
    """The users allowed to answer a language's review (configurable; defaults to reviewer_<lang>).

    A string where a list belongs is refused, never read letter by letter: ``"reviewer_en"`` as a
    list would make seven reviewers called "r", "e", "v" …
    """
    if reviewers is not None and not isinstance(reviewers, Mapping):
        raise ReviewersError(f"reviewers must map a language to a list of user ids, not {type(reviewers).__name__}; "
                             'e.g. {"en": ["reviewer_en"]}')
    configured = (reviewers or DEFAULT_REVIEWERS).get(language) or DEFAULT_REVIEWERS.get(language, [])
    if not isinstance(configured, (list, tuple)) or not all(isinstance(user, str) and user.strip()
                                                             for user in configured):
        raise ReviewersError(f"reviewers for {language!r} must be a list of user ids like [\"reviewer_{language}\"], "
                             f"not {configured!r}")
    return [user.strip() for user in configured]


#: Characters that start inline Markdown or HTML (and the table's pipe). The Airflow UI drops raw
#: HTML tags and comments without a trace and renders links and images, so quoted text must show
#: these as written: the reviewer sees the ``<script>`` or ``[x](javascript:...)`` an article carries.


def _cell(text: str, terms: Sequence[str] = ()) -> str:
    """A table cell: the quoted text on one line, with the glossary ``terms`` in bold."""
    return " ".join(_mark_terms(quote(text), [quote(term) for term in terms]).split()) or " "


def _mark_terms(text: str, terms: Sequence[str]) -> str:
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        text = re.sub(rf"(?<!\*\*){re.escape(term)}(?!\*\*)", f"**{term}**", text)
    return text


def _units(draft: Draft) -> tuple[dict[str, str], dict[str, str]]:
    """Source and machine text by unit id, as the translate stage cut them (whole fields for older drafts)."""
    if draft.units:
        return draft.source_units, draft.units
    return {}, {"title": draft.title, "summary": draft.summary, "body": draft.body}


def unit_label(unit_id: object) -> str:
    """The form's row label of a unit id: Title, Summary, ¶3, ¶3.alt."""
    name = str(unit_id)
    if event_review.unit_label(name):
        return str(event_review.unit_label(name))
    if name in ("title", "summary"):
        return name.capitalize()
    return "¶" + name.removeprefix("body.") if name.startswith("body.") else (name or "text")


def _side_by_side(draft: Draft, language: str) -> list[str]:
    """Source and machine text row by row; for a draft made from the approved English, that English between them."""
    source_terms = [t.get("source", "") for t in draft.glossary_terms]
    target_terms = [t.get("target", "") for t in draft.glossary_terms]
    remembered = draft.remembered_units()
    source_units, target_units = _units(draft)
    english = draft.pivot.get("units") if draft.pivot.get("from") == "approved" else None

    def target(unit_id: str) -> str:
        if unit_id not in target_units:
            return "*(missing)*"
        return ("♻ " if unit_id in remembered else "") + _cell(target_units[unit_id], target_terms)

    def pivot(unit_id: str) -> str:
        return "" if english is None else f" {_cell(english.get(unit_id, '*(machine English)*'))} |"

    middle = "" if english is None else f" {language_name('en')} (approved) |"
    lines = [f"| | {language_name(SOURCE_LANGUAGE)} (source) |{middle} {language_name(language)} (machine) |",
             "|---|---|---|" + ("---|" if english is not None else "")]
    for unit_id, text in source_units.items():
        lines.append(f"| {unit_label(unit_id)} | {_cell(text, source_terms)} |{pivot(unit_id)} {target(unit_id)} |")
    for unit_id in target_units.keys() - source_units.keys():
        lines.append(f"| {unit_label(unit_id)} | *(not in the source)* |{pivot(unit_id)} {target(unit_id)} |")
    return lines


def _pivot_notice(draft: Draft) -> list[str]:
    """What the form says first about the English a Chinese or Korean draft was made from."""
    pivot = draft.pivot
    if pivot.get("from") == "approved":
        return [f"**Drafted from the approved English** (by {quote(str(pivot.get('reviewer', '')))}), shown "
                "between the source and the machine text.", ""]
    if pivot.get("from") == "machine":
        return [f"**⚠ Drafted from the machine English:** the English review ended "
                f"{quote(str(pivot.get('reason', '')))}, so no approved English was there to translate from. "
                "Check names and terms against the Vietnamese source.", ""]
    return []


def _findings(draft: Draft) -> list[str]:
    order = {"error": 0, "warning": 1}
    ranked = sorted((f for f in draft.findings if f.get("check") != MEMORY_FINDING),
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
    # The article's own ``` lines must not close the fence: it is longer than any backtick run inside.
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", "\n".join(changed))), default=0))
    return [f"{fence}diff", *changed, fence] if changed else ["*(no change in the text)*"]


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


def zalo_notice(title: str, summary: str, author: str, demo_model: bool = False) -> list[str]:
    """What TNTV's Zalo OA will show shortened, said BEFORE approval (empty when everything fits).

    ``core.zalo_limits`` decides, the same function the Zalo channel sends with: the reviewer
    reads here exactly what Zalo readers will see, and can write it shorter instead. (A missing
    cover image is not the reviewer's to fix: the Zalo connection's default cover stands in.)
    """
    description = (f"{DEMO_NOTICE}. {summary}".strip() if demo_model else summary) or title
    found = shortenings(title, author, description)
    if not found:
        return []
    lines = ["### Zalo OA: shortened to fit TNTV's Official Account", "",
             "Zalo takes a title of at most 150 characters, an author of 50 and a description (the summary) of "
             "300. The desk shortens a longer field at a word boundary with an ellipsis; write it shorter to "
             "choose the cut yourself.", ""]
    for cut in found:
        lines.append(f"- ✂ **{cut.field.capitalize()}** ({cut.length} characters; Zalo takes {cut.limit}) "
                     f"will read: {quote_line(cut.shown)}")
    return lines + [""]


def _subject(article: Registered, language: str) -> str:
    return f"[{language.upper()}] {article.title} — {outlet_name(article.outlet)}"


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
    lost_answer: bool = False,
) -> ReviewForm:
    """The review form; for a fix, the problems come first and the translator's own text is pre-filled.

    ``lost_answer``: this attempt was answered once, but the answer never reached the
    desk (Airflow failed the task in a race and its retry could not read the answer
    back). The form says so in one line; nothing else changes.
    """
    article = load_revision(store, article_id, revision)
    draft = load_draft(store, article_id, revision, language)
    outlet = outlet_name(article.outlet)
    problems = list(fix_of.problems) if fix_of is not None and fix_of.outcome == NEEDS_FIX else []
    lines: list[str] = []
    if lost_answer:
        lines += [f"**⚠ {LOST_ANSWER_NOTICE}**", ""]
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
        lines += [f"**⚠ Intake:** {quote_line(text)}", ""]
    lines += _pivot_notice(draft)
    lines += _findings(draft)
    shown = fix_of if problems and fix_of is not None else draft  # the text pre-filled below
    lines += zalo_notice(shown.title, shown.summary, article.author or outlet, shown.demo_model)
    lines += [
        f"## {quote_line(article.title)}",
        "",
        f"- **Outlet:** {quote_line(outlet)} — approved by {quote_line(article.approved_by)} "
        f"at {quote_line(article.approved_at)}",
        f"- **Source article:** {quote_line(article.source_url) if article.source_url else 'no link given'}",
        *([f"- **Image:** {quote_line(article.image)}"
           + (f" — caption: {quote_line(article.image_caption)}" if article.image_caption else "")]
          if article.image else []),
        f"- **Article:** `{article_id}` revision `{revision}` · attempt {attempt}",
        f"- **Model:** {draft.model_name} ({draft.model_version})",
        "",
        f"### Source and {language_name(language)} machine translation, paragraph by paragraph",
        "",
        *_side_by_side(draft, language),
        "",
        "♻ = from translation memory · **bold** = provincial glossary term",
        "",
    ]
    lines += cue_table(article, draft, language)
    if draft.glossary_terms:
        lines += ["### Glossary terms in this text", "", "| Tiếng Việt | " + language_name(language) + " |",
                  "|---|---|", *[f"| {_cell(t.get('source', ''))} | {_cell(t.get('target', ''))} |"
                                 for t in draft.glossary_terms], ""]
    lines += event_review.facts(article.event, quote_line)
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
    defaults.update(event_review.form_defaults(source.event if source is not None and source.event else draft.event))
    return ReviewForm(
        subject=_subject(article, language),
        body="\n".join(lines),
        defaults=defaults,
        assigned_users=reviewers_for(language, reviewers),
        problems=problems,
    )
