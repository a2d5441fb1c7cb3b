"""Reviewer lookup for review tasks: username → user id and whether the account may sign in.

A task cannot read Airflow's database (Airflow 3 blocks it in task processes),
and FAB's own user API returns no ids, so the API server answers this one
question for the desk's service account: ``GET /foreigndesk-accounts/users?username=a&username=b``
→ ``{"users": [{"username", "id", "active"}]}`` (unknown names are absent).
Behind Airflow's authentication like the board: a valid token, and permission
to read Users (FAB's ``can_read`` on ``Users``; the Desk service role has it).
"""

from typing import Any

from airflow.plugins_manager import AirflowPlugin
from foreigndesk.airflow_side.lazy_app import LazyApp

URL_PREFIX = "/foreigndesk-accounts"


def build_app() -> Any:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI, HTTPException, Query
    from foreigndesk.airflow_side.accounts import find_accounts

    app = FastAPI(title="foreigndesk accounts")

    @app.get("/users")
    def users(username: list[str] = Query(default=[]), user: Any = Depends(get_user)) -> dict:
        if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name="Users", user=user):
            raise HTTPException(403, f"{user.get_name()} may not look accounts up")
        found = find_accounts(username)
        return {"users": [{"username": a.username, "id": a.user_id, "active": a.active} for a in found.values()]}

    return app


class ForeigndeskAccountsPlugin(AirflowPlugin):
    name = "foreigndesk_accounts"
    fastapi_apps = [{"app": LazyApp(build_app), "url_prefix": URL_PREFIX, "name": "foreigndesk accounts"}]
