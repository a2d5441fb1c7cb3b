"""``make run-cluster``: the production topology on one machine, without containers.

The same components the compose stack runs, as separate processes under one
launcher: PostgreSQL (a private cluster in ``<desk>/postgres``), Redis (Celery's
broker), and Airflow with the CeleryExecutor — api-server, scheduler,
dag-processor, triggerer and N Celery workers (two by default). The store is
whatever ``FOREIGNDESK_STORE`` says (a folder or ``s3://…``; the S3 endpoint is
the standard ``AWS_ENDPOINT_URL``), exactly as for ``make run``.

What it shares with ``make run`` (:mod:`foreigndesk.launcher`): the Airflow
configuration (users, the service account's Connection, the environment of every
process), model installation, the reviewers Variable; and with it the one way to
start, watch and stop components (:mod:`foreigndesk.processes`). The backing
services are :mod:`foreigndesk.cluster_services`. What it adds: the backing services, the
secrets every component must agree on (JWT secret, Fernet key, database and
broker passwords — generated once into ``<desk>/secrets.json``, mode 0600, never
printed), and supervision: a component that dies is started again, as a
container's ``restart: unless-stopped`` would, so killing a worker or the
scheduler is survivable here too.

Every server binds 127.0.0.1. Airflow's log servers (which bind every address)
are not started: all components share one log folder on this machine.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from foreigndesk.cluster_services import (
    DB_NAME,
    DB_USER,
    ClusterError,
    ClusterPaths,
    ensure_database,
    init_postgres,
    start_postgres,
    start_redis,
    wait_redis,
)
from foreigndesk.launcher import (
    announce_ready,
    desk_environment,
    init_accounts,
    install_models,
    prepare_airflow_home,
)
from foreigndesk.processes import (
    StopRequest,
    Supervised,
    become_subreaper,
    free_port,
    say,
    start_logged,
    stop_components,
    supervise,
    wait_healthy,
)

__all__ = ["ClusterError", "ClusterPaths", "Ports", "airflow_components", "cluster_environment",
           "cluster_secrets", "run_cluster"]


def cluster_secrets(paths: ClusterPaths) -> dict[str, str]:
    """The secrets every component must share; generated on the first start, kept (0600) afterwards."""
    if paths.secrets_file.exists():
        return json.loads(paths.secrets_file.read_text())
    values = {
        "postgres_password": secrets.token_urlsafe(24),
        "redis_password": secrets.token_urlsafe(24),
        "jwt_secret": secrets.token_urlsafe(32),
        "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    paths.root.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(paths.secrets_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(values, handle)
    return values


@dataclass(frozen=True)
class Ports:
    api: int
    postgres: int
    redis: int


def cluster_environment(paths: ClusterPaths, ports: Ports, host: str, keys: dict[str, str],
                        base_env: dict[str, str], worker_concurrency: int) -> dict[str, str]:
    """``make run``'s environment, switched to CeleryExecutor on this machine's PostgreSQL and Redis."""
    env = desk_environment(paths, ports.api, host, base_env, staff_accounts=True)  # FAB accounts, not `make run`'s
    database = f"{DB_USER}:{keys['postgres_password']}@127.0.0.1:{ports.postgres}/{DB_NAME}"
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{database}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://:{keys['redis_password']}@127.0.0.1:{ports.redis}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{database}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{ports.api}/execution/",
            # A task whose worker died is noticed within a minute, not the default five.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT":
                env.get("AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", "60"),
            # A task sent to a broker that lost it (Redis restarted) is sent again after 3 minutes, not 10.
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": env.get("AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT", "180"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(paths.airflow_home / "logs"),
        }
    )
    return env


def airflow_components(workers: int, concurrency: int) -> dict[str, list[str]]:
    """One process per component, named like the compose services (``airflow-worker-1`` … per worker)."""
    components = {
        "airflow-apiserver": ["airflow", "api-server"],
        "airflow-scheduler": ["airflow", "scheduler", "--skip-serve-logs"],
        "airflow-dag-processor": ["airflow", "dag-processor"],
        "airflow-triggerer": ["airflow", "triggerer", "--skip-serve-logs"],
    }
    for number in range(1, workers + 1):
        components[f"airflow-worker-{number}"] = [
            "airflow", "celery", "worker", "--celery-hostname", f"worker{number}@%h",
            "--concurrency", str(concurrency), "--skip-serve-logs",
        ]
    return components


def start_services(paths: ClusterPaths, ports: Ports, keys: dict[str, str]) -> list[Supervised]:
    """PostgreSQL (initialised once) and Redis, launched; they are waited for by :func:`wait_services`."""
    init_postgres(paths, keys["postgres_password"])
    services = [
        Supervised("postgres", lambda: start_postgres(paths, ports.postgres), stop_signal=signal.SIGINT),
        Supervised("redis", lambda: start_redis(paths, ports.redis, keys["redis_password"])),
    ]
    for service in services:
        service.launch()
    return services


def wait_services(ports: Ports, keys: dict[str, str], env: dict[str, str]) -> None:
    """Both services answer, Airflow's database exists and is migrated (then :func:`init_accounts`)."""
    ensure_database(ports.postgres, keys["postgres_password"])
    wait_redis(ports.redis, keys["redis_password"])
    print(f"PostgreSQL on 127.0.0.1:{ports.postgres}, Redis on 127.0.0.1:{ports.redis}; "
          f"migrating Airflow's database …", flush=True)
    migrate = subprocess.run(["airflow", "db", "migrate"], env=env, capture_output=True, text=True, check=False)
    if migrate.returncode != 0:
        raise ClusterError(f"airflow db migrate failed: {migrate.stderr.strip()[-800:]}")


def airflow_supervised(paths: ClusterPaths, env: dict[str, str], workers: int, concurrency: int) -> list[Supervised]:
    """The Airflow components as supervised processes, the API server first, each with its own log."""
    return [Supervised(name, lambda command=command, log=paths.logs / f"{name}.log": start_logged(command, env, log))
            for name, command in airflow_components(workers, concurrency).items()]


def run_cluster(desk_dir: Path, port: int, host: str, workers: int = 2, concurrency: int = 2,
                postgres_port: int = 0, redis_port: int = 0, health_timeout: float = 240.0) -> int:
    """Start everything, wait for the API, seed the reviewers, supervise until Ctrl-C; then end every process."""
    paths = ClusterPaths(desk_dir.resolve())
    paths.logs.mkdir(parents=True, exist_ok=True)
    stop = StopRequest()
    become_subreaper()
    started = time.monotonic()
    keys = cluster_secrets(paths)
    ports = Ports(port, postgres_port or free_port(), redis_port or free_port())
    env = prepare_airflow_home(paths, cluster_environment(paths, ports, host, keys, dict(os.environ), concurrency),
                               port, host)
    services: list[Supervised] = []
    airflow: list[Supervised] = []
    try:
        services = start_services(paths, ports, keys)
        install_models(env)
        wait_services(ports, keys, env)
        init_accounts(env, paths.passwords_file)
        if stop():
            return 0
        airflow = airflow_supervised(paths, env, workers, concurrency)
        # Workers run tasks through the API server's execution API: they start once it answers
        # (compose: depends_on airflow-apiserver service_healthy), or their first tasks fail.
        workers_later = [c for c in airflow if c.name.startswith("airflow-worker")]
        print(f"Starting {', '.join(c.name for c in airflow)} (logs: {paths.logs}) …", flush=True)
        for component in airflow:
            if component not in workers_later:
                component.launch()
        if not wait_healthy(port, airflow[0].process, health_timeout, stop):
            if stop():
                return 0
            print(f"the API did not become healthy; see {paths.logs / 'airflow-apiserver.log'}", file=sys.stderr)
            return 1
        for component in workers_later:
            component.launch()
        announce_ready(paths, port, env, extra=(
            f"  cluster:   CeleryExecutor, {workers} workers × {concurrency}, PostgreSQL 127.0.0.1:{ports.postgres}, "
            f"Redis 127.0.0.1:{ports.redis}, store {env.get('FOREIGNDESK_STORE', 'content/store')}\n"
            f"  started in {time.monotonic() - started:.1f} s; component logs in {paths.logs}\n"
        ))
        return supervise(services + airflow, stop, paths.logs)
    except ClusterError as error:
        print(f"foreigndesk run-cluster: {error}", file=sys.stderr)
        return 1
    finally:
        say("Stopping the desk …")
        stop_components([airflow, services])  # Airflow first: it writes to the database until it stops
        say("Stopped.")
