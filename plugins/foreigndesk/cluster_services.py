"""The backing services of ``make run-cluster``: PostgreSQL (Airflow's database) and Redis (Celery's broker).

Debian's binaries, each a private instance under the desk folder, bound to 127.0.0.1
on a port of the launcher's choosing, run in the foreground as the launcher's children
(no ``pg_ctl`` daemon), so they are supervised and stopped like every other component
(:mod:`foreigndesk.processes`). Their passwords come from the cluster's secrets and
never appear on a command line, where ``ps`` would show them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from foreigndesk.launcher import DeskPaths
from foreigndesk.processes import start_logged

POSTGRES_BIN = Path(os.environ.get("FOREIGNDESK_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = os.environ.get("FOREIGNDESK_REDIS_SERVER", "/usr/bin/redis-server")
DB_NAME = "airflow"
DB_USER = "airflow"


class ClusterError(RuntimeError):
    """The cluster could not be set up; the message says what to install or fix."""


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


def start_postgres(paths: ClusterPaths, port: int) -> subprocess.Popen:
    """The server in the foreground (no pg_ctl daemon), so it is this launcher's child and stops with it."""
    owner = _as_postgres_user()
    paths.postgres_socket.mkdir(parents=True, exist_ok=True)
    if owner:
        os.chown(paths.postgres_socket, owner["user"], owner["group"])
    return start_logged(
        [str(POSTGRES_BIN / "postgres"), "-D", str(paths.postgres_data), "-c", "listen_addresses=127.0.0.1",
         "-p", str(port), "-k", str(paths.postgres_socket), "-c", "max_connections=200",
         "-c", "fsync=on", "-c", "logging_collector=off"],
        None, paths.logs / "postgres.log", **owner,
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


def start_redis(paths: ClusterPaths, port: int, password: str) -> subprocess.Popen:
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
    return start_logged([REDIS_SERVER, str(config)], None, paths.logs / "redis.log")


def wait_redis(port: int, password: str, timeout: float = 30.0) -> None:
    """Until Redis answers a PING with the password (it loads its append-only file first)."""
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
