"""The desk board as an Airflow plugin (menu entry "Desk board").

The glue only: the app itself is :mod:`foreigndesk.board.app` (plain FastAPI
over the store). Mounted by the API server under ``/foreigndesk`` (a
``fastapi_apps`` entry) and linked from the navigation bar (an
``external_views`` entry, destination ``nav``, shown inside the UI at
``/plugin/desk-board``).

A plugin's FastAPI app is not behind Airflow's authentication by itself. Every
route of the board depends on :func:`airflow_viewer`, which resolves the caller
the way Airflow's own API does (``security.get_user``: the ``Authorization:
Bearer`` JWT, else the ``_token`` cookie the UI's login sets, which the
browser also sends to the board inside the UI) and asks the auth manager
whether that user may see a custom view. The desk chief is an Airflow admin.
"""

from typing import Any

from airflow.plugins_manager import AirflowPlugin
from foreigndesk.airflow_side.lazy_app import LazyApp

URL_PREFIX = "/foreigndesk"
RESOURCE = "Desk board"


def is_admin(user: Any) -> bool:
    """The simple auth manager's admin; under FAB the Admin or Desk chief role."""
    role = getattr(user, "role", None)
    if isinstance(role, str):
        return role.upper() == "ADMIN"
    chiefs = {"admin", "desk chief"}  # FAB: the Admin role and the desk's own (foreigndesk.airflow_side.accounts)
    return any(getattr(item, "name", str(item)).lower() in chiefs for item in getattr(user, "roles", None) or ())


def build_app() -> Any:
    """The board app with Airflow's authentication (imports FastAPI and Airflow's API security on call)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, HTTPException
    from foreigndesk.airflow_side.review_tasks import review_task_states
    from foreigndesk.board.app import Desk, Viewer, create_app
    from foreigndesk.core.settings import load_settings
    from foreigndesk.core.store import Store, open_store

    async def airflow_viewer(user: Any = Depends(get_user)) -> Viewer:
        """401 without a valid token (``get_user`` raises it), 403 for a user who may not see custom views."""
        if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name=RESOURCE, user=user):
            raise HTTPException(403, f"{user.get_name()} may not see the {RESOURCE}")
        return Viewer(name=user.get_name(), is_chief=is_admin(user))

    settings = load_settings()
    opened: list[Store] = []

    def store() -> Store:
        # Opened once per process; an S3 store uses the API server's standard AWS settings (environment, role).
        if not opened:
            opened.append(open_store(settings.store))
        return opened[0]

    def channels(opened_store: Store) -> list:
        """The desk's channels as the publish task builds them, from the same Airflow Connections."""
        import requests
        from foreigndesk.airflow_side.connections import (
            airflow_connection,
            remote_channel_configs,
            zalo_channel_config,
        )
        from foreigndesk.publish.run import desk_channels

        fanpage, push = remote_channel_configs(airflow_connection)
        return desk_channels(opened_store, settings, requests.Session(), fanpage=fanpage, push=push,
                             zalo=zalo_channel_config(airflow_connection))

    return create_app(Desk(settings, store, task_states=review_task_states, channels=channels), airflow_viewer)


class ForeigndeskBoardPlugin(AirflowPlugin):
    name = "foreigndesk_board"
    fastapi_apps = [{"app": LazyApp(build_app), "url_prefix": URL_PREFIX, "name": "Desk board"}]
    external_views = [{"name": "Desk board", "href": "foreigndesk/", "destination": "nav", "url_route": "desk-board"}]
