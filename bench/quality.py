"""What the quality loop costs as approvals pile up: evaluate, suggest, and status with scores.

Run: .venv/bin/python bench/quality.py

Builds, per size, a local store of N approved English decisions (articles as
intake writes them, decisions through review's ``write_decision``; ~60-word
bodies in three paragraphs, a few words edited per paragraph, one recurring
term edit), then times side by side in this run: reading the approvals,
``models evaluate`` the first time (chrF + TER statistics of every segment,
computed and kept) and again (the kept statistics summed), ``glossary suggest``,
and ``foreigndesk status`` without and with its model-score lines (warm).
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from foreigndesk.core.decisions import Decision, write_decision  # noqa: E402
from foreigndesk.core.revisions import Registered, article_key  # noqa: E402
from foreigndesk.core.settings import REPO_ROOT  # noqa: E402
from foreigndesk.core.store import LocalStore  # noqa: E402
from foreigndesk.quality.approvals import load_approvals  # noqa: E402
from foreigndesk.quality.scores import evaluate  # noqa: E402
from foreigndesk.quality.suggestions import suggest  # noqa: E402
from foreigndesk.status import collect_status  # noqa: E402
from foreigndesk.translate.glossary import load_glossary  # noqa: E402

VI = "tỉnh du khách hợp tác chè lễ hội văn hóa đầu tư nông sản sản phẩm hội chợ giao lưu phát triển".split()
EN = "province visitors cooperation tea festival culture investment farm produce product exchange growth".split()


def paragraph(rng: random.Random, words: list[str], n: int = 20) -> str:
    return " ".join(rng.choice(words) for _ in range(n)) + "."


def build(folder: Path, n: int) -> LocalStore:
    rng = random.Random(n)
    store = LocalStore(folder)
    for i in range(n):
        article_id = f"bench-{i:05d}"
        source = [paragraph(rng, VI) for _ in range(3)]
        machine = [paragraph(rng, EN) + " hội chợ" for _ in range(3)]
        approved = [" ".join(w if rng.random() > 0.1 else rng.choice(EN) for w in p.split()).replace("hội chợ", "fair")
                    for p in machine]
        record = Registered(article_id=article_id, revision="r1", outlet="tntv", title=f"Tin {i}", body="\n\n".join(source) + "\n",
                            approved_by="An", approved_at="2025-03-14T09:30:00+07:00", summary="", source_url="",
                            source_file="x.md", registered_at="2025-03-14T10:00:00+00:00")
        store.create(article_key(article_id, "r1"), json.dumps(dataclasses.asdict(record), ensure_ascii=False).encode())
        write_decision(store, Decision(
            article_id=article_id, revision="r1", language="en", attempt=1, option="Approve", reviewer="reviewer_en",
            decided_at=f"2025-{1 + i % 12:02d}-15T10:00:00+00:00", title=f"News {i}", summary="",
            body="\n\n".join(approved) + "\n", note="", machine_title=f"News {i}", machine_body="\n\n".join(machine) + "\n",
            demo_model=False, state="approved"), datetime(2025, 3, 15, tzinfo=timezone.utc))
    return store


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def main() -> None:
    glossary = load_glossary(REPO_ROOT / "glossary")
    now = datetime(2025, 12, 31, tzinfo=timezone.utc)
    print(f"{'approvals':>9} {'read':>7} {'evaluate':>9} {'again':>7} {'suggest':>8} {'status':>7} "
          f"{'status+scores':>14} {'ratio':>6}")
    for n in (100, 1000):
        with tempfile.TemporaryDirectory(prefix="foreigndesk-bench-quality-") as folder:
            store = build(Path(folder), n)
            read, _ = timed(load_approvals, store)
            scores, result = timed(evaluate, store, languages=("en",))  # computes and keeps segment statistics
            again, _ = timed(evaluate, store, languages=("en",))  # sums the kept statistics
            mined, found = timed(suggest, store, glossary)
            status, _ = timed(collect_status, store, now, ("en",))
            overall, _ = timed(evaluate, store, languages=("en",), overall_only=True)
            assert result.overall()[0].segments == 4 * n and [(f.machine, f.approved) for f in found] == [("hội chợ", "fair")]
            print(f"{n:9d} {read:6.2f}s {scores:8.2f}s {again:6.2f}s {mined:7.2f}s {status:6.2f}s {status + overall:13.2f}s "
                  f"{(status + overall) / status:5.1f}x")


if __name__ == "__main__":
    main()
