"""A dropped example clip taken through intake, translate and review in process (shared by the clip tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO

EXAMPLES = REPO / "content" / "examples"
CLIP = "tntv-inside-thainguyen-che-tan-cuong"
CLIP_ID = "tntv-2025-05-20-inside-thainguyen-mua-che-tan-cuong"


def drop_clip(inbox: Path, stem: str = CLIP, outlet: str = "tntv") -> list[Path]:
    """Copy the example's two files into an outlet folder, as an editor drops them."""
    folder = inbox / outlet
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(EXAMPLES / f"{CLIP}{suffix}", folder / f"{stem}{suffix}")) for suffix in (".vtt", ".yaml")]


def ingest_and_translate(store, inbox: Path):
    """Intake the inbox, translate the one clip it registers; (registered clip, {language: draft})."""
    from foreigndesk.intake.ingest import ingest_inbox
    from foreigndesk.translate.engine import shared_engine
    from foreigndesk.translate.pipeline import translate_revision

    result = ingest_inbox(store, inbox, ("baothainguyen", "tntv"))
    assert [item.article_id for item in result.accepted] == [CLIP_ID], result
    clip = result.accepted[0]
    drafts = translate_revision(store, shared_engine(), clip.article_id, clip.revision)
    return clip, {draft.language: draft for draft in drafts}


ZH_CUES = ["欢迎来到太原新疆茶产区，", "太原省。", "今年的采茶季", "从三月开始。", "外国游客可以和村民一起采茶。"]


def with_texts(body: str, texts: list[str]) -> str:
    """Cue blocks with each cue's text replaced (number and timing lines kept), as a reviewer edits them."""
    blocks = body.strip().split("\n\n")
    assert len(blocks) == len(texts)
    return "\n\n".join("\n".join(block.split("\n")[:2] + [text]) for block, text in zip(blocks, texts)) + "\n"
