"""Upstream records for publishing tests, written the way intake and review write them.

Publishing reads ``articles/<id>/<rev>/article.json`` (intake) and
``decisions/<id>/<rev>/<lang>/<attempt>.json`` (review, written through
``foreigndesk.core.decisions.write_decision``, which journals each decision first). Writing them
directly keeps the publish tests fast and independent of the translation engine;
the end-to-end test covers the real chain. Extra intake fields (``image``,
``publish_at`` …) are written into the JSON as intake writes them.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from foreigndesk.core import records
from foreigndesk.core.decisions import Decision, all_decisions, decision_key, write_decision
from foreigndesk.core.revisions import Registered, article_key
from foreigndesk.publish.publications import latest_approvals_of

BODY = "Thai Nguyen and Gyeongsangbuk-do agreed to widen tourism cooperation.\n\n## Plans\n\n- Tea tourism\n- Art exchanges\n"


def put_article(store, article_id: str, revision: str = "r1", *, title: str = "", summary: str = "A summary.",
                outlet: str = "baothainguyen", **extra: object) -> None:
    record = Registered(article_id=article_id, revision=revision, outlet=outlet, title=title or f"Bài {article_id}",
                        body="Nội dung.\n", approved_by="Nguyễn Văn An", approved_at="2025-03-14T09:30:00+07:00",
                        summary=summary, source_url="https://baothainguyen.vn/a", source_file="x.md",
                        registered_at="2025-03-14T10:00:00+00:00")
    data = dataclasses.asdict(record)
    data.update(extra)
    store.create(article_key(article_id, revision), json.dumps(data, ensure_ascii=False).encode())


def put_decision(store, article_id: str, revision: str, language: str, option: str = "Approve", *,
                 attempt: int = 1, title: str = "", summary: str = "", body: str = BODY,
                 decided_at: str = "2025-03-15T10:00:00+00:00", demo_model: bool = False,
                 journaled_at: datetime | None = None) -> Decision:
    decision = Decision(article_id=article_id, revision=revision, language=language, attempt=attempt, option=option,
                        reviewer=f"reviewer_{language}", decided_at=decided_at,
                        title=title or f"{article_id} ({language})", summary=summary or f"Summary {language}.",
                        body=body, note="", machine_title="", machine_body="", demo_model=demo_model)
    assert not store.exists(decision_key(article_id, revision, language, attempt))
    return write_decision(store, decision, journaled_at)


def approved_article(store, article_id: str, languages=("en", "zh", "ko"), revision: str = "r1", *,
                     journaled_at: datetime | None = None, **extra) -> None:
    put_article(store, article_id, revision, **extra)
    for language in languages:
        put_decision(store, article_id, revision, language, journaled_at=journaled_at)


# ---- reading the records back, the way tests check them --------------------------------------


def latest_approvals(store) -> list[Decision]:
    """Per (article, language), the most recent approved decision in the whole store."""
    return latest_approvals_of(all_decisions(store))


def revisions_of(store, article_id: str) -> list[Registered]:
    """Every registered revision of one article, oldest first."""
    keys = [key for key in store.list(f"articles/{article_id}/") if key.endswith("/article.json")]
    found = [records.load(store, Registered, key) for key in keys]
    return sorted(found, key=lambda item: (item.registered_at, item.revision))
