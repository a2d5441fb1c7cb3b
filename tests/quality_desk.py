"""Stores for the quality-loop tests, built through the real path: intake, the demo engine, review.

Each article is registered as intake registers it, translated by
``translate_revision`` with the installed demo models, its review opened with
the real form, and answered through ``record_decision`` — the decision records
are exactly those review writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from foreigndesk.core.decisions import Decision
from foreigndesk.core.drafts import load_draft
from foreigndesk.core.revisions import Registered
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.review.form import build_form
from foreigndesk.review.rounds import ReviewPlan, open_review, record_decision

Edit = Callable[[str], str]

#: The recurring correction of the quality tests: the demo models copy "hội chợ" (a fair), reviewers fix it.
TARGETS = {"en": "fair", "zh": "博览会", "ko": "박람회"}
SENTENCES = [
    "Các hội chợ nông sản thu hút du khách.",
    "Người dân bán chè tại hội chợ Tân Cương.",
    "Thành phố mở hội chợ cuối tuần cho du khách.",
    "Du khách đông vui ở hội chợ xuân.",
    "Hợp tác xã mang gạo đến hội chợ.",
    "Sinh viên tham quan hội chợ việc làm.",
]


def article_bytes(title: str, body: str, *, outlet: str = "tntv", languages: str = "en, zh, ko",
                  approved_at: str = "2025-05-18T16:00:00+07:00", summary: str = "") -> bytes:
    summary_line = f"summary: {summary}\n" if summary else ""
    return (f"---\ntitle: {title}\noutlet: {outlet}\napproved_by: Trần Thị Mai\napproved_at: {approved_at}\n"
            f"{summary_line}languages: [{languages}]\n---\n{body}").encode()


def add_article(store, raw: bytes, name: str, outlet: str = "tntv", translate: bool = True,
                glossary=None) -> Registered:
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    article = register(store, parse_article(raw, name, outlet), raw, name)
    if translate:
        translate_revision(store, shared_engine(), article.article_id, article.revision, glossary=glossary)
    return article


def open_for(store, article: Registered, language: str, opened_at: str):
    """Open the first review attempt with the real form, as the review task does."""
    form = build_form(store, article.article_id, article.revision, language)
    open_review(store, article.article_id, article.revision, language, ReviewPlan(1), form,
                opened_at, "http://ui/review")
    return form


def review(store, article: Registered, language: str, decided_at: str, edit: Edit | None = None,
           fields: Mapping[str, str] | None = None, option: str = "Approve") -> Decision:
    """Open the review as the DAG does and answer it: ``edit`` rewrites title, summary and body alike."""
    form = open_for(store, article, language, decided_at)
    answer = dict(form.defaults)
    if edit is not None:
        answer.update({name: edit(answer[name]) for name in ("title", "summary", "body")})
    answer.update(fields or {})
    return record_decision(store, article.article_id, article.revision, language, [option], answer,
                           f"reviewer_{language}", decided_at)


def machine_body(store, article: Registered, language: str) -> str:
    return load_draft(store, article.article_id, article.revision, language).body


def fix_term(language):
    target = TARGETS[language]
    return lambda text: text.replace("hội chợ", target).replace("Hội chợ", target[:1].upper() + target[1:])


def add_reviewed(store, number: int, languages=("en", "zh", "ko"), title: str = ""):
    raw = article_bytes(title or f"Tin số {number}", SENTENCES[number] + "\n")
    article = add_article(store, raw, f"a{number}.md")
    for language in languages:
        review(store, article, language, f"2025-04-0{number + 1}T08:00:00+00:00", edit=fix_term(language))
    return article
