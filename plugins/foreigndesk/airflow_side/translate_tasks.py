"""The translate DAG's first task: write the run's drafts, say which languages to review."""

from __future__ import annotations

from foreigndesk.airflow_side.desk import open_desk, run_article


def translate_article() -> list[str]:
    """Write the drafts of the run's revision; return the languages to review."""
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    _, store = open_desk()
    article_id, revision = run_article()
    drafts = translate_revision(store, shared_engine(), article_id, revision)
    for draft in drafts:
        notice = " (DEMO MODEL)" if draft.demo_model else ""
        counts = {level: sum(f["severity"] == level for f in draft.findings) for level in ("error", "warning")}
        print(f"draft {draft.language}{notice}: {draft.title} — {counts['error']} error(s), "
              f"{counts['warning']} warning(s), {draft.memory_hits}/{draft.segments} segment(s) from memory")
    return [draft.language for draft in drafts]
