"""Quick answers under a real scheduler: review tasks Airflow fails, with the desk's retries off and on.

Starts the desk as ``make run`` does (Airflow standalone on SQLite), drops N
articles, answers every review the moment it appears in the pending list, and
counts, side by side in one run: tasks Airflow failed in its race ("state
attribute is queued" in the scheduler log), translate runs that failed, answers
given, and decisions recorded. With retries off (``FOREIGNDESK_REVIEW_RETRIES=0``,
the desk before this fix) the failed tasks fail their runs and their answers are
never recorded; with the default, every run succeeds and every answer is
recorded once.

    .venv/bin/python bench/quick_answers.py [--articles 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from foreigndesk.core.decisions import all_decisions  # noqa: E402
from foreigndesk.core.store import LocalStore  # noqa: E402
from live_desk import LiveDesk, answer_every_review_at_once, wait_for_runs  # noqa: E402

EXAMPLE = REPO / "content" / "examples" / "tntv-le-hoi-tra-tan-cuong.md"


def one_pass(articles: int, retries: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="foreigndesk-quick-") as folder:
        tmp = Path(folder)
        with LiveDesk(tmp, {"FOREIGNDESK_REVIEW_RETRIES": retries}) as desk:
            for number in range(articles):
                (tmp / "inbox" / "tntv" / f"quick-{number}.md").write_text(
                    EXAMPLE.read_text().replace("title: ", f"title: Quick {number} ", 1))
            answered = answer_every_review_at_once(desk.api, 3 * articles, timeout=600)
            runs = wait_for_runs(desk.api, "foreigndesk_translate", articles, timeout=240)
            races = desk.log.read_text(errors="replace").count("state attribute is queued")
        decisions = list(all_decisions(LocalStore(tmp / "store")))
    return {"answers": len(answered), "tasks failed by the race": races,
            "runs failed": sum(r["state"] == "failed" for r in runs),
            "runs succeeded": sum(r["state"] == "success" for r in runs), "decisions": len(decisions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=6)
    args = parser.parse_args()
    rows = {"retries off (before)": one_pass(args.articles, "0"), "retries on (default)": one_pass(args.articles, "")}
    names = list(next(iter(rows.values())))
    print(f"{args.articles} articles, {3 * args.articles} reviews, each answered as soon as it appeared")
    print(f"{'':22}" + "".join(f"{name:>26}" for name in names))
    for label, row in rows.items():
        print(f"{label:22}" + "".join(f"{row[name]:>26}" for name in names))


if __name__ == "__main__":
    main()
