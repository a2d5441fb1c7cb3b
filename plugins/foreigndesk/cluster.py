"""``make run-cluster``: the production topology on one machine, without containers.

The same components the compose stack runs, as separate processes under one
launcher: PostgreSQL (a private cluster in ``<desk>/postgres``), Redis (Celery's
broker), and Airflow with the CeleryExecutor — api-server, scheduler,
dag-processor, triggerer and N Celery workers (two by default). The store is
whatever ``FOREIGNDESK_STORE`` says (a folder or ``s3://…``; the S3 endpoint is
the standard ``AWS_ENDPOINT_URL``), exactly as for ``make run``.

What it shares with ``make run`` (:mod:`foreigndesk.launcher`): the users, the
reviewers Variable, the environment of every process, model installation, and
the stop that ends every descendant. What it adds: the backing services, the
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
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from foreigndesk.cli.accounts import init_accounts
from foreigndesk.airflow_side.accounts import FAB_AUTH_MANAGER
from foreigndesk.launcher import (
    DeskPaths,
    become_subreaper,
    desk_environment,
    end_descendants,
    install_models,
    print_ready,
    seed_reviewers,
    service_account_connection,
    wait_healthy,
)

POSTGRES_BIN = Path(os.environ.get("FOREIGNDESK_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = os.environ.get("FOREIGNDESK_REDIS_SERVER", "/usr/bin/redis-server")
DB_NAME = "airflow"
DB_USER = "airflow"
#: How often a component that keeps dying is started again before the desk gives up.
MAX_RESTARTS = 5


class ClusterError(RuntimeError):
    """The cluster could not be set up; the message says what to install or fix."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ClusterPaths(DeskPaths):
    """A desk folder (``.desk/cluster`` by default) with the backing services' data beside Airflow's home."""

    @property
    def postgres_data(self) -> Path:
        return self.root / "postgres"

    @property
    def postgres_socket(self) -> Path:
        return self.root / "postgres-socket"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


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
    env = desk_environment(paths, ports.api, host, base_env)
    database = f"{DB_USER}:{keys['postgres_password']}@127.0.0.1:{ports.postgres}/{DB_NAME}"
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            # Staff accounts in Airflow's database (README "Accounts and sign-in"); `make run` keeps the simple one.
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
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


def _as_postgres_user() -> dict:
    """PostgreSQL refuses to run as root: when we are root it runs as Debian's ``postgres`` user."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterError("running as root and there is no 'postgres' user; install Debian's postgresql-15 "
                           "package (it creates the user) or run as an ordinary user") from None
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _check_reachable(folder: Path, owner: dict) -> None:
    """The postgres user must be able to reach the desk folder; a 0700 parent (e.g. pytest's) forbids it."""
    if not owner:
        return
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise ClusterError(f"{parent} is not searchable by other users, so PostgreSQL (run as 'postgres') "
                               f"cannot reach {folder}; put the desk folder elsewhere or chmod o+x {parent}")


def init_postgres(paths: ClusterPaths, password: str) -> None:
    """``initdb`` once: a private cluster whose superuser is ``airflow``, password auth on loopback."""
    if (paths.postgres_data / "PG_VERSION").exists():
        return
    if not (POSTGRES_BIN / "initdb").exists():
        raise ClusterError(f"{POSTGRES_BIN}/initdb is missing; install Debian's postgresql-15 (make run-cluster does)")
    owner = _as_postgres_user()
    _check_reachable(paths.root, owner)
    for folder in (paths.postgres_data, paths.postgres_socket):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        if owner:
            os.chown(folder, owner["user"], owner["group"])
    pwfile = paths.postgres_data.parent / ".pgpass-init"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if owner:
        os.chown(pwfile, owner["user"], owner["group"])
    try:
        result = subprocess.run(
            [str(POSTGRES_BIN / "initdb"), "-D", str(paths.postgres_data), "-U", DB_USER, f"--pwfile={pwfile}",
             "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            capture_output=True, text=True, check=False, **owner,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(paths.postgres_data, ignore_errors=True)
        raise ClusterError(f"initdb failed: {result.stderr.strip()[-800:]}")


def start_postgres(paths: ClusterPaths, port: int, log) -> subprocess.Popen:
    """The server in the foreground (no pg_ctl daemon), so it is this launcher's child and stops with it."""
    owner = _as_postgres_user()
    paths.postgres_socket.mkdir(parents=True, exist_ok=True)
    if owner:
        os.chown(paths.postgres_socket, owner["user"], owner["group"])
    return subprocess.Popen(
        [str(POSTGRES_BIN / "postgres"), "-D", str(paths.postgres_data), "-c", "listen_addresses=127.0.0.1",
         "-p", str(port), "-k", str(paths.postgres_socket), "-c", "max_connections=200",
         "-c", "fsync=on", "-c", "logging_collector=off"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **owner,
    )


def ensure_database(port: int, password: str, timeout: float = 60.0) -> None:
    """Wait until PostgreSQL accepts connections, then create Airflow's database once."""
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = psycopg2.connect(host="127.0.0.1", port=port, user=DB_USER, password=password,
                                          dbname="postgres", connect_timeout=2)
            break
        except psycopg2.OperationalError as error:
            if time.monotonic() > deadline:
                raise ClusterError(f"PostgreSQL on 127.0.0.1:{port} did not accept connections: {error}") from None
            time.sleep(0.2)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE DATABASE {DB_NAME}")
    finally:
        connection.close()


def start_redis(paths: ClusterPaths, port: int, password: str, log) -> subprocess.Popen:
    """Redis with its password in a 0600 config file (not on the command line, where ``ps`` shows it)."""
    if not Path(REDIS_SERVER).exists():
        raise ClusterError(f"{REDIS_SERVER} is missing; install Debian's redis-server (make run-cluster does)")
    paths.redis_dir.mkdir(parents=True, exist_ok=True)
    config = paths.redis_dir / "redis.conf"
    config.write_text(
        f"bind 127.0.0.1\nport {port}\nprotected-mode yes\ndir {paths.redis_dir}\n"
        'appendonly yes\nsave ""\ndaemonize no\n'
        f"requirepass {password}\n"
    )
    config.chmod(0o600)
    return subprocess.Popen([REDIS_SERVER, str(config)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_redis(port: int, password: str, timeout: float = 30.0) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.exceptions.RedisError as error:
            if time.monotonic() > deadline:
                raise ClusterError(f"Redis on 127.0.0.1:{port} did not answer: {error}") from None
            time.sleep(0.1)


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


@dataclass
class Supervised:
    """A component process, started again when it dies while the desk is running."""

    name: str
    start: Callable[[], subprocess.Popen]
    #: PostgreSQL's "fast" shutdown is SIGINT (its SIGTERM waits for every client to leave).
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0
    exit_codes: list[int] = field(default_factory=list)

    def launch(self) -> None:
        self.process = self.start()
        self.started_at = time.monotonic()

    def check(self) -> bool:
        """Start the component again if it died; False when it keeps dying (the desk gives up)."""
        if self.process is None or self.process.poll() is None:
            return True
        self.exit_codes.append(self.process.returncode)
        if time.monotonic() - self.started_at > 120:
            self.restarts = 0  # it ran for a while: a fresh crash, not a crash loop
        if self.restarts >= MAX_RESTARTS:
            return False
        self.restarts += 1
        print(f"{self.name} exited ({self.process.returncode}); starting it again "
              f"({self.restarts}/{MAX_RESTARTS})", flush=True)
        self.launch()
        return True


def reap_orphans(own: set[int]) -> None:
    """Collect the exit status of dead orphans re-parented to this subreaper (a killed worker's task
    processes, say), so they don't linger as zombies; our own components are left to ``Popen.poll``."""
    import psutil

    for child in psutil.Process().children():
        if child.pid in own:
            continue
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)
        except (psutil.NoSuchProcess, ChildProcessError):
            pass


def _popen(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_cluster(airflow: list[Supervised], services: list[Supervised], grace: float = 20.0) -> None:
    """SIGTERM the Airflow components (their own clean shutdown), then the backing services, then any survivor."""
    for tier in (airflow, services):
        running = [s for s in tier if s.process is not None and s.process.poll() is None]
        for supervised in running:
            try:
                os.killpg(supervised.process.pid, supervised.stop_signal)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(s.process.poll() is None for s in running):
            time.sleep(0.2)
    end_descendants()
    for supervised in airflow + services:
        if supervised.process is not None:
            supervised.process.poll()


def run_cluster(desk_dir: Path, port: int, host: str, workers: int = 2, concurrency: int = 2,
                postgres_port: int = 0, redis_port: int = 0, health_timeout: float = 240.0) -> int:
    """Start everything, wait for the API, seed the reviewers, supervise until Ctrl-C; then end every process."""
    paths = ClusterPaths(desk_dir.resolve())
    paths.airflow_home.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    become_subreaper()
    started = time.monotonic()
    keys = cluster_secrets(paths)
    ports = Ports(port, postgres_port or free_port(), redis_port or free_port())
    env = cluster_environment(paths, ports, host, keys, dict(os.environ), concurrency)
    env["AIRFLOW_CONN_FOREIGNDESK_API"] = service_account_connection(paths, port, host)
    services: list[Supervised] = []
    airflow: list[Supervised] = []
    logs: list = []
    try:
        init_postgres(paths, keys["postgres_password"])
        postgres_log = open(paths.logs / "postgres.log", "ab")
        redis_log = open(paths.logs / "redis.log", "ab")
        logs += [postgres_log, redis_log]
        services = [
            Supervised("postgres", lambda: start_postgres(paths, ports.postgres, postgres_log), signal.SIGINT),
            Supervised("redis", lambda: start_redis(paths, ports.redis, keys["redis_password"], redis_log)),
        ]
        for service in services:
            service.launch()
        install_models(env)
        ensure_database(ports.postgres, keys["postgres_password"])
        wait_redis(ports.redis, keys["redis_password"])
        if stopping:
            return 0
        print(f"PostgreSQL on 127.0.0.1:{ports.postgres}, Redis on 127.0.0.1:{ports.redis}; "
              f"migrating Airflow's database …", flush=True)
        migrate = subprocess.run(["airflow", "db", "migrate"], env=env, capture_output=True, text=True, check=False)
        if migrate.returncode != 0:
            raise ClusterError(f"airflow db migrate failed: {migrate.stderr.strip()[-800:]}")
        init_accounts(env, paths.passwords_file)
        for name, command in airflow_components(workers, concurrency).items():
            log_path = paths.logs / f"{name}.log"
            airflow.append(Supervised(name, lambda command=command, log_path=log_path: _popen(command, env, log_path)))
        # Workers run tasks through the API server's execution API: they start once it answers
        # (compose: depends_on airflow-apiserver service_healthy), or their first tasks fail.
        workers_later = [c for c in airflow if c.name.startswith("airflow-worker")]
        for component in airflow:
            if component not in workers_later:
                component.launch()
        api = airflow[0]
        print(f"Starting {', '.join(c.name for c in airflow)} (logs: {paths.logs}) …", flush=True)
        if not wait_healthy(port, api.process, health_timeout, lambda: stopping):
            if stopping:
                return 0
            print(f"the API did not become healthy; see {paths.logs / 'airflow-apiserver.log'}", file=sys.stderr)
            return 1
        for component in workers_later:
            component.launch()
        try:
            seed_reviewers(env, paths.root)
        except RuntimeError as error:
            print(f"warning: {error}; reviews go to reviewer_<language> until it is set", file=sys.stderr)
        print_ready(paths, port, env, extra=(
            f"  cluster:   CeleryExecutor, {workers} workers × {concurrency}, PostgreSQL 127.0.0.1:{ports.postgres}, "
            f"Redis 127.0.0.1:{ports.redis}, store {env.get('FOREIGNDESK_STORE', 'content/store')}\n"
            f"  started in {time.monotonic() - started:.1f} s; component logs in {paths.logs}\n"
        ))
        while not stopping:
            for supervised in services + airflow:
                if not supervised.check():
                    print(f"{supervised.name} keeps exiting; stopping the desk (see {paths.logs})", file=sys.stderr)
                    return 1
            reap_orphans({s.process.pid for s in services + airflow if s.process is not None})
            time.sleep(0.5)
        return 0
    except ClusterError as error:
        print(f"foreigndesk run-cluster: {error}", file=sys.stderr)
        return 1
    finally:
        print("Stopping the desk …", flush=True)
        stop_cluster(airflow, services)
        for log in logs:
            log.close()
        print("Stopped.", flush=True)
