"""The translate DAG's drafting tasks: write the run's drafts, say which languages to review.

With ``FOREIGNDESK_PIVOT=approved`` the first task drafts English alone and
:func:`translate_after_english` drafts the other languages once the English
review is decided (``foreigndesk.translate.human_pivot``).
"""

from __future__ import annotations

from foreigndesk.airflow_side.desk import open_desk, run_article


def translate_article(pivot: str | None = None) -> list[str]:
    """Write the drafts of the run's revision; return the languages to review.

    ``pivot`` is the mode the DAG was parsed with (default: the setting), so what is
    drafted here matches the tasks that follow.
    """
    from foreigndesk.core.revisions import load_revision
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.human_pivot import first_languages
    from foreigndesk.translate.pipeline import translate_revision

    settings, store = open_desk()
    article_id, revision = run_article()
    asked = [lang for lang in load_revision(store, article_id, revision).languages if lang in settings.languages]
    drafts = translate_revision(store, shared_engine(), article_id, revision,
                                languages=first_languages(asked, pivot or settings.pivot))
    _print_drafts(drafts)
    return [draft.language for draft in drafts]


def translate_after_english() -> list[str]:
    """After the English review: draft the other languages from the approved English; return them for review.

    Machine mode (or an article without English) has nothing left to draft: [].
    """
    from foreigndesk.core.revisions import load_revision
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.human_pivot import (
        draft_after_english,
        english_outcome,
        later_languages,
    )

    settings, store = open_desk()
    article_id, revision = run_article()
    asked = [lang for lang in load_revision(store, article_id, revision).languages if lang in settings.languages]
    languages = later_languages(asked, "approved")  # this task exists only in the approved-pivot DAG
    if not languages:
        return []
    english = english_outcome(store, article_id, revision)
    source = "approved" if english.approved else "machine"
    print(f"English review: {english.reference}; drafting {', '.join(languages)} from the {source} English")
    drafts = draft_after_english(store, shared_engine(), article_id, revision, languages, english)
    _print_drafts(drafts)
    return [draft.language for draft in drafts]


def _print_drafts(drafts: list) -> None:
    for draft in drafts:
        notice = " (DEMO MODEL)" if draft.demo_model else ""
        counts = {level: sum(f["severity"] == level for f in draft.findings) for level in ("error", "warning")}
        print(f"draft {draft.language}{notice}: {draft.title} — {counts['error']} error(s), "
              f"{counts['warning']} warning(s), {draft.memory_hits}/{draft.segments} segment(s) from memory")
