"""``make run``: the whole desk on one machine, started and stopped as one thing.

It prepares a private Airflow home inside the checkout (``.desk/``, git-ignored),
installs the translation models, starts ``airflow standalone`` and waits until
the API answers. Stopping must end *every* process the desk started: Airflow
gives task processes their own process groups and sessions, so killing one
group is not enough. The launcher makes itself a child subreaper, so any
orphaned descendant is re-parented to it and can be found and ended
(:mod:`foreigndesk.processes`, shared with ``make run-cluster``).

The desk's Airflow configuration is here, one for both launchers: the environment
of every process (:func:`desk_environment`; the cluster adds its executor, database
and broker on top), who may sign in (:func:`auth_environment`) and the service
account's Connection (:func:`prepare_airflow_home`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from foreigndesk.core.settings import (
    DEFAULT_LANGUAGES,
    DEFAULT_REVIEWERS,
    REPO_ROOT,
    REVIEWERS_VARIABLE,
    load_settings,
)
from foreigndesk.processes import (
    StopRequest,
    Supervised,
    become_subreaper,
    say,
    start_logged,
    stop_components,
    supervise,
    wait_healthy,
)

#: The desk's service account: it only reads (review requests of earlier task tries, when Airflow lost an
#: answer in a race); its password is generated here and handed to the tasks as a Connection.
SERVICE_ACCOUNT = "foreigndesk"
#: The production sign-in: accounts in Airflow's database (README "Accounts and sign-in").
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SIGN_IN_SIMPLE = ("Airflow's simple auth manager — for a laptop only: fixed users, generated passwords, no reset "
                  "(make run-cluster and compose use FAB accounts; README 'Accounts and sign-in')")
SIGN_IN_FAB = "FAB accounts in Airflow's database (foreigndesk accounts …; Security → List Users)"
DESK_USERS = {
    "admin": "admin",
    "editor": "user",
    **{f"reviewer_{lang}": "user" for lang in DEFAULT_LANGUAGES},
    SERVICE_ACCOUNT: "user",  # reads the API; ends superseded reviews' parked tasks
}


@dataclass(frozen=True)
class DeskPaths:
    """Everything a local desk writes outside the content store."""

    root: Path

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def argos_packages(self) -> Path:
        return self.root / "argos-packages"

    @property
    def passwords_file(self) -> Path:
        return self.airflow_home / "simple_auth_manager_passwords.json.generated"


def desk_environment(paths: DeskPaths, port: int, host: str, base_env: dict[str, str],
                     staff_accounts: bool = False) -> dict[str, str]:
    """The environment of every desk process: Airflow, Argos and XDG homes kept inside the desk folder;
    ``staff_accounts``: FAB sign-in (:func:`auth_environment`)."""
    env = dict(base_env)
    env.update(
        {
            "AIRFLOW_HOME": str(paths.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Sized for a 2-core machine: the default of 32 forks ~1 GB of idle workers.
            "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": env.get("AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "30"),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": host,
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            "ARGOS_PACKAGES_DIR": str(paths.argos_packages),
            "XDG_DATA_HOME": str(paths.root / "xdg" / "data"),
            "XDG_CONFIG_HOME": str(paths.root / "xdg" / "config"),
            "XDG_CACHE_HOME": str(paths.root / "xdg" / "cache"),
            "ORT_DISABLE_TELEMETRY": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    env.update(auth_environment(staff_accounts))
    return env


def auth_environment(staff_accounts: bool = False) -> dict[str, str]:
    """Who may sign in and how: the one setting that chooses the auth manager.

    ``make run`` keeps Airflow's simple manager (a laptop: fixed users, generated
    passwords); ``make run-cluster`` and compose use FAB accounts in Airflow's database
    (``staff_accounts``), created by :func:`init_accounts`.
    """
    if staff_accounts:
        return {"AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER}
    return {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in DESK_USERS.items())}


def init_accounts(env: dict[str, str], passwords_file: Path) -> None:
    """FAB's roles and the starting accounts (``foreigndesk accounts init --seed``), in a child process that
    reads Airflow's settings from ``env``; after ``airflow db migrate``, before the API server starts."""
    result = subprocess.run([sys.executable, "-m", "foreigndesk.cli", "accounts", "init", "--seed", str(passwords_file)],
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"foreigndesk accounts init failed: {result.stderr.strip()[-800:]}")


def prepare_airflow_home(paths: DeskPaths, env: dict[str, str], port: int, host: str) -> dict[str, str]:
    """Create Airflow's home and hand the tasks the service account's Connection; ``env`` with it added.

    Both launchers run every Airflow process with the environment this returns: the
    desk's whole Airflow configuration is environment, no ``airflow.cfg`` is edited.
    """
    paths.airflow_home.mkdir(parents=True, exist_ok=True)
    return {**env, "AIRFLOW_CONN_FOREIGNDESK_API": service_account_connection(paths, port, host)}


def service_account_connection(paths: DeskPaths, port: int, host: str = "127.0.0.1") -> str:
    """The Connection (JSON) tasks use to read the REST API as the service account.

    Its password is written into the auth manager's password file before Airflow
    starts (Airflow keeps existing entries and generates the rest), so the desk
    never has to read a generated password back.
    """
    import secrets

    file = paths.passwords_file
    passwords = json.loads(file.read_text()) if file.exists() and file.read_text().strip() else {}
    if SERVICE_ACCOUNT not in passwords:
        passwords[SERVICE_ACCOUNT] = secrets.token_urlsafe(24)
        file.write_text(json.dumps(passwords) + "\n")
        file.chmod(0o600)
    reach = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return json.dumps({"conn_type": "http", "host": f"http://{reach}:{port}", "login": SERVICE_ACCOUNT,
                       "password": passwords[SERVICE_ACCOUNT]})


def install_models(env: dict[str, str]) -> None:
    """In a child process, because argostranslate reads its folders at import."""
    subprocess.run([sys.executable, "-m", "foreigndesk.cli", "models", "ensure"], env=env, check=True)


def seed_reviewers(env: dict[str, str], folder: Path) -> None:
    """Create the reviewers Variable in Airflow's database, unless it is already there.

    It lives in the metadata DB (not an ``AIRFLOW_VAR_...`` environment variable)
    so the desk chief can change who reviews what under Admin → Variables: an
    environment variable is not listed in the UI and silently wins over any
    value set there. "skip" keeps whatever the chief set on every later start.
    """
    seed = folder / "reviewers-variable.json"
    seed.write_text(json.dumps({REVIEWERS_VARIABLE: {
        "value": json.dumps(DEFAULT_REVIEWERS),
        "description": "foreigndesk: who reviews each language, JSON {language: [user ids]}; "
                       "several users per language allowed. Set by make run once; edit freely.",
    }}))
    result = subprocess.run(["airflow", "variables", "import", str(seed), "--action-on-existing-key", "skip"],
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"could not set the Airflow Variable {REVIEWERS_VARIABLE}: {result.stderr.strip()[-500:]}")


def print_ready(paths: DeskPaths, port: int, env: dict[str, str], extra: str = "") -> None:
    """What an operator needs once the desk answers: where the UI, the passwords and the drop zones are."""
    settings = load_settings(env)
    fab = env.get("AIRFLOW__CORE__AUTH_MANAGER") == FAB_AUTH_MANAGER
    print(
        "\nforeigndesk is up.\n"
        f"  UI:        http://localhost:{port}/\n"
        f"  sign-in:   {SIGN_IN_FAB if fab else SIGN_IN_SIMPLE}\n"
        f"  users:     {', '.join(DESK_USERS)}\n"
        f"  {'first passwords' if fab else 'passwords'}: {paths.passwords_file}\n"
        f"  reviewers: Airflow Variable {REVIEWERS_VARIABLE} (Admin → Variables)\n"
        f"  drop articles into: {settings.inbox}/<{'|'.join(settings.outlets)}>/\n"
        f"{extra}"
        "Press Ctrl-C to stop the desk.",
        flush=True,
    )


def announce_ready(paths: DeskPaths, port: int, env: dict[str, str], extra: str = "") -> None:
    """Once the API answers (the database is migrated): seed the reviewers Variable, then say where things are."""
    try:
        seed_reviewers(env, paths.root)
    except RuntimeError as error:  # until the Variable exists reviews use the same defaults
        print(f"warning: {error}; reviews go to reviewer_<language> until it is set", file=sys.stderr)
    print_ready(paths, port, env, extra)


def run_desk(desk_dir: Path, port: int, host: str, health_timeout: float = 300.0) -> int:
    """``airflow standalone`` as one supervised component, never restarted: if it dies, the desk ends (1)."""
    paths = DeskPaths(desk_dir.resolve())
    env = prepare_airflow_home(paths, desk_environment(paths, port, host, dict(os.environ)), port, host)
    stop = StopRequest()
    become_subreaper()
    install_models(env)
    if stop():
        return 0
    log_path = paths.root / "standalone.log"
    standalone = Supervised("airflow standalone", lambda: start_logged(["airflow", "standalone"], env, log_path),
                            stop_signal=signal.SIGINT, max_restarts=0)
    print(f"Starting Airflow standalone (log: {log_path}) …", flush=True)
    standalone.launch()
    try:
        if not wait_healthy(port, standalone.process, health_timeout, stop):
            if stop():
                return 0
            print(f"Airflow did not become healthy; see {log_path}", file=sys.stderr)
            return 1
        announce_ready(paths, port, env)
        return supervise([standalone], stop, log_path)
    finally:
        say("Stopping the desk …")
        stop_components([[standalone]])
        say("Stopped.")
