"""The desk's staff accounts under Airflow's FAB auth manager: roles, accounts, id lookups.

The roles are created (and reset to exactly these permissions) by the desk's
init, ``foreigndesk accounts init`` — run by ``make run-cluster`` and by the
compose stack's ``airflow-init`` — never by hand, so a role cannot drift into
more than its job needs:

* **Reviewer** — sees the desk's DAGs, their runs and Required actions, and
  answers the ones assigned to them (Airflow checks the assignment). FAB lets a
  user answer a Required action only with *edit* on that DAG, so reviewers get
  edit on ``foreigndesk_translate`` alone; that same permission would let them
  pause that DAG (recorded in the audit log). No triggering, no clearing, no
  Connections, no Variables, no other DAG.
* **Desk chief** — a reviewer, plus: clear and re-run the desk's tasks (a
  review is re-opened by clearing it), trigger the desk's DAGs, read task logs,
  edit Variables (``foreigndesk_reviewers``), the Desk board's actions.
* **Desk service** — the desk's own account (Connection ``foreigndesk_api``):
  reads the desk's runs and Required actions, looks reviewers up by username, and
  ends the parked review tasks of a superseded revision (edit on the task
  instances of ``foreigndesk_translate`` alone).
* Operators and administrators use FAB's own **Op** and **Admin** roles.

Imports FAB only when called: every Airflow component imports this package.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping, Sequence

from foreigndesk.airflow_side.desk import TRANSLATE_DAG_ID
from foreigndesk.review.assignees import Account

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
DESK_DAGS = ("foreigndesk_ingest", "foreigndesk_translate", "foreigndesk_publish")
#: The DAG whose tasks are the Required actions reviewers answer.
REVIEW_DAG = TRANSLATE_DAG_ID
BOARD_RESOURCE = "Desk board"

REVIEWER, CHIEF, SERVICE = "Reviewer", "Desk chief", "Desk service"
#: ``--role`` names of the command line → FAB role names.
ROLE_NAMES = {"reviewer": REVIEWER, "chief": CHIEF, "operator": "Op", "admin": "Admin", "service": SERVICE}

_SELF = [("can_read", "Website"), ("can_read", "My Profile"), ("can_edit", "My Profile"),
         ("can_read", "My Password"), ("can_edit", "My Password")]


def _dag(dag_id: str) -> str:
    return f"DAG:{dag_id}"


def role_permissions() -> dict[str, list[tuple[str, str]]]:
    """Each desk role's complete permission list: (FAB action, FAB resource)."""
    read_desk = [("can_read", _dag(dag_id)) for dag_id in DESK_DAGS]
    reviewer = [
        *_SELF, *read_desk, ("can_edit", _dag(REVIEW_DAG)),
        ("menu_access", "DAGs"), ("can_read", "DAG Runs"), ("can_read", "Task Instances"),
        ("menu_access", "HITL Detail"), ("can_read", "HITL Detail"), ("can_edit", "HITL Detail"),
        ("can_read", BOARD_RESOURCE),
    ]
    chief = [
        *reviewer, *[("can_edit", _dag(dag_id)) for dag_id in DESK_DAGS if dag_id != REVIEW_DAG],
        ("can_edit", "Task Instances"), ("can_create", "DAG Runs"), ("can_edit", "DAG Runs"),
        ("can_read", "Task Logs"), ("can_read", "Audit Logs"), ("menu_access", "Browse"),
        ("menu_access", "Admin"), ("menu_access", "Variables"), ("can_read", "Variables"),
        ("can_edit", "Variables"), ("can_create", "Variables"),
    ]
    # Edit on the review DAG's task instances: ingest ends the parked reviews of a superseded revision
    # (FAB checks a task instance's edit against both "Task Instances" and "DAG Runs").
    service = [*read_desk, ("can_read", "DAG Runs"), ("can_read", "Task Instances"), ("can_read", "HITL Detail"),
               ("can_read", "Users"), ("can_edit", _dag(REVIEW_DAG)), ("can_edit", "Task Instances"),
               ("can_edit", "DAG Runs")]
    return {REVIEWER: reviewer, CHIEF: chief, SERVICE: service}


@contextlib.contextmanager
def _security_manager() -> Iterator:
    from airflow.providers.fab.auth_manager.cli_commands.utils import (
        get_application_builder,
    )

    with get_application_builder() as appbuilder:
        yield appbuilder.sm


def init_roles() -> dict[str, int]:
    """FAB's own roles synced, then each desk role set to exactly its permissions; {role: permission count}."""
    counts: dict[str, int] = {}
    with _security_manager() as sm:
        sm.sync_roles()
        for name, wanted in role_permissions().items():
            role = sm.add_role(name)
            role.permissions = [sm.create_permission(action, resource) for action, resource in wanted]
            counts[name] = len(role.permissions)
        admin = sm.find_role("Admin")
        sm.add_permission_to_role(admin, sm.create_permission("can_read", BOARD_RESOURCE))
        sm.session.commit()
    return counts


def add_account(username: str, role: str, password: str, email: str = "", full_name: str = "") -> bool:
    """Create an account with one of :data:`ROLE_NAMES`; False when the username is taken (nothing changed)."""
    fab_role = ROLE_NAMES.get(role, role)
    with _security_manager() as sm:
        found = sm.find_role(fab_role)
        if found is None:
            raise ValueError(f"no role {role!r}; use one of {', '.join(ROLE_NAMES)} (run `foreigndesk accounts init` "
                             "first if the desk roles are missing)")
        if sm.find_user(username=username) is not None:
            return False
        first, _, last = (full_name or username).partition(" ")
        user = sm.add_user(username, first, last or "-", email or f"{username}@desk.invalid", found, password)
        if not user:
            raise RuntimeError(f"FAB refused to create the account {username!r} (is the e-mail address taken?)")
    return True


def ensure_account(username: str, role: str, password: str) -> None:
    """The account exists, active, with this role and password (the desk's own service account)."""
    if add_account(username, role, password):
        return
    with _security_manager() as sm:
        user = _user(sm, username)
        user.active = True
        user.roles = [sm.find_role(ROLE_NAMES.get(role, role))]
        sm.update_user(user)
        sm.reset_password(user.id, password)


def set_active(username: str, active: bool) -> None:
    """Disable (or enable again) an account: a disabled account cannot sign in; its history is kept."""
    with _security_manager() as sm:
        user = _user(sm, username)
        user.active = active
        sm.update_user(user)


def reset_password(username: str, password: str) -> None:
    with _security_manager() as sm:
        if not sm.reset_password(_user(sm, username).id, password):
            raise RuntimeError(f"the password of {username!r} could not be reset")


def seed_accounts(initial: Mapping[str, str], passwords: dict[str, str]) -> list[str]:
    """Create the desk's starting accounts (username → role) that are missing; their passwords are
    taken from ``passwords`` or generated into it. Returns the usernames created."""
    created = []
    for username, role in initial.items():
        passwords.setdefault(username, secrets.token_urlsafe(12))
        if add_account(username, role, passwords[username]):
            created.append(username)
    return created


def find_accounts(usernames: Sequence[str]) -> dict[str, Account]:
    """The accounts behind these usernames (missing ones absent), read from Airflow's database."""
    from airflow.providers.fab.auth_manager.models import User
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(User.username, User.id, User.active).where(User.username.in_(list(usernames))))
        return {name: Account(name, str(user_id), bool(active)) for name, user_id, active in rows}


def _user(sm, username: str):
    user = sm.find_user(username=username)
    if user is None:
        raise ValueError(f"no account {username!r}; list them with `foreigndesk accounts list`")
    return user
