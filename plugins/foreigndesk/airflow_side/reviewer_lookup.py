"""Look the reviewers a review names up in the auth manager, as the review task opens it.

With the simple auth manager (``make run``) a user's id is its username and
every configured user can sign in, so nothing is asked. With FAB the API
server is asked (:mod:`foreigndesk.airflow_side.accounts_plugin`) as the desk's
service account, through the Connection ``foreigndesk_api``.
"""

from __future__ import annotations

from collections.abc import Sequence

from foreigndesk.review.assignees import Account


def auth_manager_is_fab() -> bool:
    from airflow.configuration import conf

    return "fab_auth_manager" in conf.get("core", "auth_manager", fallback="")


def reviewer_accounts(usernames: Sequence[str]) -> dict[str, Account]:
    """{username: Account} for the names the auth manager knows; unknown names are absent."""
    if not auth_manager_is_fab():
        return {name: Account(name, name, True) for name in usernames}
    from foreigndesk.airflow_side.accounts_plugin import URL_PREFIX
    from foreigndesk.airflow_side.service_api import API_CONNECTION, service_api

    with service_api() as api:
        if api is None:
            raise RuntimeError(f"the FAB auth manager assigns reviews by user id, and looking reviewers up needs the "
                               f"Airflow Connection {API_CONNECTION!r} (the desk's service account); "
                               "see README 'Accounts and sign-in'")
        response = api.session.get(f"{api.base_url}{URL_PREFIX}/users", params={"username": list(usernames)},
                                   headers=api.headers(), timeout=10)
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith("application/json"):
            raise RuntimeError(f"looking reviewers up failed: HTTP {response.status_code} from {URL_PREFIX}/users "
                               f"(the account of Connection {API_CONNECTION!r} needs the role 'Desk service')")
        return {row["username"]: Account(row["username"], str(row["id"]), bool(row["active"]))
                for row in response.json()["users"]}
