"""Run foreigndesk_translate for one article under ``dag.test()`` in this process's Airflow.

Started as a child process by tests/test_accounts.py, whose environment points
Airflow at a private PostgreSQL with the FAB auth manager (a pytest process
has already configured its own Airflow on SQLite with the simple manager).
Prints one JSON line: the run's id and state. Usage: fab_review_run.py ARTICLE.md OUTLET
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(article_path: str, outlet: str) -> int:
    from airflow.dag_processing.dagbag import DagBag
    from foreigndesk.core.store import LocalStore
    from foreigndesk.intake.article_file import parse_article
    from foreigndesk.intake.ingest import register

    raw = Path(article_path).read_bytes()
    article = register(LocalStore(Path(os.environ["FOREIGNDESK_STORE"])), parse_article(raw, Path(article_path).name,
                                                                                         outlet), raw, Path(article_path).name)
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert not bag.import_errors, bag.import_errors
    run = bag.dags["foreigndesk_translate"].test(run_conf={"article_id": article.article_id,
                                                           "revision": article.revision})
    print("RESULT " + json.dumps({"run_id": run.run_id, "state": str(run.state),
                                          "article_id": article.article_id, "revision": article.revision}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
