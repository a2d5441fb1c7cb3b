"""``foreigndesk accounts …``: the desk chief's commands for staff accounts (FAB auth manager).

    foreigndesk accounts init                        # roles, the service account (and with --seed the starting accounts)
    foreigndesk accounts add nguyen.lan --role reviewer --email lan@… [--password-stdin]
    foreigndesk accounts disable nguyen.lan          # cannot sign in any more; history kept
    foreigndesk accounts enable nguyen.lan
    foreigndesk accounts reset-password nguyen.lan [--password-stdin]
    foreigndesk accounts list

Run where Airflow's settings are (in the compose stack: ``docker compose exec
airflow-apiserver foreigndesk accounts …``). A password is never an argument
(``ps`` and shell history would keep it): it is asked twice, or read from stdin.
The same is possible in the UI under Security → List Users.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from pathlib import Path

#: The starting accounts ``make run-cluster`` creates (the same names ``make run`` has).
SEED_ROLES = {"admin": "admin", "editor": "chief", "reviewer_en": "reviewer", "reviewer_zh": "reviewer",
              "reviewer_ko": "reviewer", "foreigndesk": "service"}


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif args.random_password:
        password = secrets.token_urlsafe(12)
        print(f"generated password (give it to the person, then it is gone): {password}")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat it: "):
            raise SystemExit("the two passwords differ; nothing changed")
    if len(password) < 8:
        raise SystemExit("a password needs at least 8 characters; nothing changed")
    return password


def cmd_init(args: argparse.Namespace) -> int:
    from foreigndesk.airflow_side import accounts

    from foreigndesk.airflow_side.connections import env_connection
    from foreigndesk.airflow_side.service_api import API_CONNECTION

    for role, count in accounts.init_roles().items():
        print(f"role {role!r}: {count} permissions")
    service = env_connection(API_CONNECTION)
    if service is not None and service.login and service.password:
        # The service account's password is the Connection's: set on every init, so rotating it is one setting.
        accounts.ensure_account(service.login, "service", service.password)
        print(f"service account {service.login!r} matches Connection {API_CONNECTION!r}")
    if args.seed:
        file = Path(args.seed)
        passwords = json.loads(file.read_text()) if file.exists() and file.read_text().strip() else {}
        created = accounts.seed_accounts(SEED_ROLES, passwords)
        file.write_text(json.dumps(passwords) + "\n")
        file.chmod(0o600)
        print(f"accounts created: {', '.join(created) or 'none (all there)'}; first passwords in {file}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from foreigndesk.airflow_side import accounts

    if not accounts.add_account(args.username, args.role, _password(args), args.email or "", args.name or ""):
        print(f"{args.username} already exists; nothing changed", file=sys.stderr)
        return 1
    print(f"account {args.username} created with role {accounts.ROLE_NAMES[args.role]!r}")
    return 0


def cmd_active(args: argparse.Namespace) -> int:
    from foreigndesk.airflow_side import accounts

    accounts.set_active(args.username, args.accounts == "enable")
    print(f"{args.username} {'enabled' if args.accounts == 'enable' else 'disabled: it can no longer sign in'}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from foreigndesk.airflow_side import accounts

    accounts.reset_password(args.username, _password(args))
    print(f"password of {args.username} reset")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from foreigndesk.airflow_side.accounts import _security_manager

    with _security_manager() as sm:
        for user in sm.get_all_users():
            roles = ", ".join(role.name for role in user.roles)
            print(f"{user.username:24} {'active' if user.active else 'DISABLED':9} {roles}")
    return 0


def add_commands(commands) -> None:
    """The ``accounts`` command group, added to the desk's command line."""
    from foreigndesk.airflow_side.accounts import ROLE_NAMES

    group = commands.add_parser("accounts", help="staff accounts and roles (FAB auth manager)").add_subparsers(
        dest="accounts", required=True)
    init = group.add_parser("init", help="create the desk's roles with exactly their permissions (idempotent)")
    init.add_argument("--seed", metavar="FILE", help="also create the starting accounts; first passwords in FILE (0600)")
    init.set_defaults(func=cmd_init)

    def password_options(parser) -> None:
        way = parser.add_mutually_exclusive_group()
        way.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
        way.add_argument("--random-password", action="store_true", help="generate one and print it once")

    add = group.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=sorted(ROLE_NAMES))
    add.add_argument("--email")
    add.add_argument("--name", help="full name")
    password_options(add)
    add.set_defaults(func=cmd_add)
    for verb, text in (("disable", "stop an account signing in (history kept)"), ("enable", "let it sign in again")):
        active = group.add_parser(verb, help=text)
        active.add_argument("username")
        active.set_defaults(func=cmd_active)
    reset = group.add_parser("reset-password", help="set a new password")
    reset.add_argument("username")
    password_options(reset)
    reset.set_defaults(func=cmd_reset)
    group.add_parser("list", help="accounts, whether they can sign in, their roles").set_defaults(func=cmd_list)
