"""The desk's own commands: run it (one machine or the production topology), seed its reviewers, ask where
every article stands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from foreigndesk.core.settings import REPO_ROOT, load_settings


def cmd_run(args: argparse.Namespace) -> int:
    from foreigndesk.launcher import run_desk

    return run_desk(Path(args.desk_dir), args.port, args.host)


def cmd_run_cluster(args: argparse.Namespace) -> int:
    from foreigndesk.cluster import run_cluster

    return run_cluster(Path(args.desk_dir), args.port, args.host, workers=args.workers,
                       concurrency=args.concurrency, postgres_port=args.postgres_port, redis_port=args.redis_port)


def cmd_seed_reviewers(args: argparse.Namespace) -> int:
    import tempfile

    from foreigndesk.launcher import seed_reviewers

    with tempfile.TemporaryDirectory(prefix="foreigndesk-seed-") as folder:
        seed_reviewers(dict(os.environ), Path(folder))
    print("Airflow Variable foreigndesk_reviewers is set (an existing value was kept)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from foreigndesk.core.store import open_store
    from foreigndesk.quality.scores import evaluate, format_evaluation
    from foreigndesk.status import collect_status, format_status, open_requests

    settings = load_settings()
    store = open_store(args.store or settings.store)
    task_states = None
    if not args.no_airflow:
        try:
            from foreigndesk.airflow_side.review_tasks import review_task_states

            task_states = review_task_states(open_requests(store))
        except Exception as error:  # no Airflow DB here: say so rather than guess
            print(f"foreigndesk status: Airflow's database could not be read ({type(error).__name__}); "
                  "open reviews are shown as the store records them", file=sys.stderr)
    report = collect_status(store, datetime.now(timezone.utc), settings.languages, task_states)
    scores = evaluate(store, languages=settings.languages, overall_only=True)
    if args.json:
        print(json.dumps(report.as_json() | {"model_scores": scores.as_json()["rows"]}, ensure_ascii=False, indent=1))
    else:
        print(format_status(report) + "\n\n" + format_evaluation(scores, overall_only=True))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run the desk: Airflow standalone on this machine (make run)")
    run.add_argument("--desk-dir", default=os.environ.get("FOREIGNDESK_DESK_DIR", str(REPO_ROOT / ".desk")))
    run.add_argument("--port", type=int, default=int(os.environ.get("FOREIGNDESK_PORT", "8080")))
    run.add_argument("--host", default=os.environ.get("FOREIGNDESK_HOST", "127.0.0.1"))
    run.set_defaults(func=cmd_run)

    cluster = commands.add_parser(
        "run-cluster", help="run the production topology here: PostgreSQL, Redis, Celery workers (make run-cluster)")
    cluster.add_argument("--desk-dir",
                         default=os.environ.get("FOREIGNDESK_CLUSTER_DIR", str(REPO_ROOT / ".desk" / "cluster")))
    cluster.add_argument("--port", type=int, default=int(os.environ.get("FOREIGNDESK_PORT", "8080")))
    cluster.add_argument("--host", default=os.environ.get("FOREIGNDESK_HOST", "127.0.0.1"))
    cluster.add_argument("--workers", type=int, default=int(os.environ.get("FOREIGNDESK_WORKERS", "2")),
                         help="Celery workers, each its own process (default 2)")
    cluster.add_argument("--concurrency", type=int,
                         default=int(os.environ.get("FOREIGNDESK_WORKER_CONCURRENCY", "2")),
                         help="task slots per worker (default 2)")
    cluster.add_argument("--postgres-port", type=int, default=int(os.environ.get("FOREIGNDESK_POSTGRES_PORT", "0")),
                         help="0: a free port at every start")
    cluster.add_argument("--redis-port", type=int, default=int(os.environ.get("FOREIGNDESK_REDIS_PORT", "0")),
                         help="0: a free port at every start")
    cluster.set_defaults(func=cmd_run_cluster)

    seed = commands.add_parser(
        "seed-reviewers",
        help="create the Airflow Variable foreigndesk_reviewers with the default reviewers, unless it exists",
    )
    seed.set_defaults(func=cmd_seed_reviewers)

    status = commands.add_parser("status", help="where every article stands; review figures per language")
    status.add_argument("--store")
    status.add_argument("--json", action="store_true")
    status.add_argument("--no-airflow", action="store_true",
                        help="do not ask Airflow whether review tasks still wait (the store alone)")
    status.set_defaults(func=cmd_status)
