"""The desk's Airflow Connections: remote channels and notice channels, built from them.

Secrets stay in Airflow (or ``AIRFLOW_CONN_*`` for the CLI): they are handed to
the clients and never printed.
"""

from __future__ import annotations

from typing import Any

from foreigndesk.core.settings import Settings

#: Airflow Connections the notice channels use.
SMTP_CONNECTION = "foreigndesk_smtp"
WEBHOOK_CONNECTION = "foreigndesk_webhook"
FANPAGE_CONNECTION = "foreigndesk_fanpage"
PUSH_CONNECTION = "foreigndesk_portal_push"
ZALO_CONNECTION = "foreigndesk_zalo"


def airflow_connection(conn_id: str) -> Any | None:
    """The Airflow Connection ``conn_id`` from any configured backend (env, secrets, metastore), or None."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def env_connection(conn_id: str, env: dict[str, str] | None = None) -> Any | None:
    """The same Connection read from ``AIRFLOW_CONN_<ID>`` (URI or JSON), for the CLI outside Airflow."""
    import os

    from airflow.sdk import Connection

    value = (env if env is not None else os.environ).get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not value:
        return None
    try:
        if value.lstrip().startswith("{"):
            return Connection.from_json(value, conn_id=conn_id)
        return Connection.from_uri(value, conn_id=conn_id)
    except Exception:  # the value holds the token: never echo it
        raise ValueError(f"AIRFLOW_CONN_{conn_id.upper()} is neither a connection URI nor connection JSON; "
                         'write it like {"conn_type": "http", "host": "https://...", "password": "..."}') from None


def _endpoint(connection: Any) -> str:
    """The connection's host as a URL: taken as is when it is one, else built from scheme/host/port/schema."""
    host = (connection.host or "").strip()
    if "://" in host:
        return host.rstrip("/")
    if not host:
        raise ValueError(f"Airflow Connection {connection.conn_id!r} has no host; set it to the API's base URL")
    scheme = connection.conn_type if connection.conn_type in ("http", "https") else "https"
    port = f":{connection.port}" if connection.port else ""
    path = f"/{connection.schema.strip('/')}" if connection.schema else ""
    return f"{scheme}://{host}{port}{path}"


def remote_channel_configs(lookup: Any = airflow_connection) -> tuple[Any, Any]:
    """(fanpage, push) settings from their Connections; None for a channel whose Connection is absent."""
    from foreigndesk.publish.channels.fanpage import FanpageConfig
    from foreigndesk.publish.channels.portal_push import PushConfig

    fanpage = push = None
    connection = lookup(FANPAGE_CONNECTION)
    if connection is not None:
        page_id = str(connection.extra_dejson.get("page_id") or "").strip()
        if not page_id or not connection.password:
            raise ValueError(f"Airflow Connection {FANPAGE_CONNECTION!r} needs the Page token as password and "
                             'extra {"page_id": "<numeric page id>"}')
        fanpage = FanpageConfig(_endpoint(connection), connection.password, page_id,
                                timeout=float(connection.extra_dejson.get("timeout", 10)))
    connection = lookup(PUSH_CONNECTION)
    if connection is not None:
        if not connection.password:
            raise ValueError(f"Airflow Connection {PUSH_CONNECTION!r} needs the portal's token as password")
        push = PushConfig(_endpoint(connection), connection.password,
                          timeout=float(connection.extra_dejson.get("timeout", 10)))
    return fanpage, push


def zalo_channel_config(lookup: Any = airflow_connection) -> Any | None:
    """The Zalo OA channel's settings from ``foreigndesk_zalo`` (None when the Connection is absent: channel off).

    host = the OA API base URL (``https://openapi.zalo.me/v2.0``), password = the OA access token;
    extra ``{"default_cover": "https://…", "timeout": 10}`` is optional.
    """
    from foreigndesk.publish.channels.zalo import ZaloConfig

    connection = lookup(ZALO_CONNECTION)
    if connection is None:
        return None
    if not connection.password:
        raise ValueError(f"Airflow Connection {ZALO_CONNECTION!r} needs the OA access token as password")
    extra = connection.extra_dejson
    return ZaloConfig(_endpoint(connection), connection.password, default_cover=str(extra.get("default_cover") or ""),
                      timeout=float(extra.get("timeout", 10)))


def notice_channels(settings: Settings) -> list:
    """The configured notice channels, their clients built from Airflow Connections."""
    from foreigndesk.review.notify import EmailChannel, LogChannel, WebhookChannel

    channels: list = []
    for name in settings.notify:
        if name == "log":
            channels.append(LogChannel())
        elif name == "email":
            channels.append(EmailChannel(_AirflowSmtp(SMTP_CONNECTION), settings.notify_email_to))
        elif name == "webhook":
            import requests
            from airflow.sdk import BaseHook

            connection = BaseHook.get_connection(WEBHOOK_CONNECTION)
            session = requests.Session()
            if connection.password:
                session.headers["Authorization"] = f"Bearer {connection.password}"
            channels.append(WebhookChannel(session, _webhook_url(connection)))
    return channels


def _webhook_url(connection: Any) -> str:
    """The connection's ``host`` is the whole URL (``{"conn_type": "http", "host": "https://…/hook"}``)."""
    host = connection.host or ""
    if "://" in host:
        return host
    raise ValueError(
        f"Airflow Connection {WEBHOOK_CONNECTION!r} must hold the full webhook URL in 'host' "
        "(e.g. https://chat.example/hooks/desk); put a bearer token, if any, in 'password'"
    )


class _AirflowSmtp:
    """Airflow's SMTP provider hook, connected for each message (notices are rare)."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def send_email_smtp(self, **kwargs: Any) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            hook.send_email_smtp(**kwargs)
