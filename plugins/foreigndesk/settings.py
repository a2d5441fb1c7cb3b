"""The desk's one configuration loader.

Every stage (CLI, DAG task, test) reads its settings here, from the
environment, so that an operator configures a desk in one place and a test can
point a whole run at temporary folders by setting a few variables. Secrets are
never read here: they live in Airflow Connections or the environment of the
process that needs them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The repository root when the package runs from a checkout (plugins/foreigndesk/..).
REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_OUTLETS = ("baothainguyen", "tntv")
DEFAULT_LANGUAGES = ("en", "zh", "ko")
SOURCE_LANGUAGE = "vi"
DEFAULT_REVIEWERS = {lang: [f"reviewer_{lang}"] for lang in DEFAULT_LANGUAGES}
#: The Airflow Variable (JSON, language -> user ids) naming who reviews each language.
REVIEWERS_VARIABLE = "foreigndesk_reviewers"
#: How a review opening (or expiring) is announced; see foreigndesk.notify.
NOTIFY_CHANNELS = ("log", "email", "webhook")


class SettingsError(ValueError):
    """A setting has a value the desk cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Where the desk reads and writes, and what it produces."""

    store: str
    inbox: Path
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    models_dir: Path
    feed_items: int
    site_url: str
    publish_cron: str
    timezone: str
    max_article_bytes: int
    #: How long a translator has to answer a review before it expires (nothing is approved then).
    review_timeout_seconds: int = 2 * 24 * 3600
    #: Where review notices go: any of NOTIFY_CHANNELS.
    notify: tuple[str, ...] = ("log",)
    #: The desk's review mailbox(es) for the "email" channel.
    notify_email_to: tuple[str, ...] = ()


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number; set it to e.g. {default}") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be positive; set it to e.g. {default}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the desk's settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    languages = _split(env.get("FOREIGNDESK_LANGUAGES", ",".join(DEFAULT_LANGUAGES)))
    unknown = [lang for lang in languages if lang not in DEFAULT_LANGUAGES]
    if unknown:
        raise SettingsError(
            f"FOREIGNDESK_LANGUAGES names {unknown}; the desk translates into {list(DEFAULT_LANGUAGES)}"
        )
    notify = _split(env.get("FOREIGNDESK_NOTIFY", "log"))
    unknown_channels = [name for name in notify if name not in NOTIFY_CHANNELS]
    if unknown_channels:
        raise SettingsError(f"FOREIGNDESK_NOTIFY names {unknown_channels}; use some of {list(NOTIFY_CHANNELS)}")
    notify_email_to = _split(env.get("FOREIGNDESK_NOTIFY_EMAIL_TO", ""))
    if "email" in notify and not notify_email_to:
        raise SettingsError(
            "FOREIGNDESK_NOTIFY includes 'email' but FOREIGNDESK_NOTIFY_EMAIL_TO is empty; "
            "set it to the desk's review mailbox, e.g. review@desk.example"
        )
    return Settings(
        store=env.get("FOREIGNDESK_STORE", str(REPO_ROOT / "content" / "store")),
        inbox=Path(env.get("FOREIGNDESK_INBOX", str(REPO_ROOT / "content" / "inbox"))),
        outlets=_split(env.get("FOREIGNDESK_OUTLETS", ",".join(DEFAULT_OUTLETS))),
        languages=languages,
        models_dir=Path(env.get("FOREIGNDESK_MODELS_DIR", str(REPO_ROOT / "models"))),
        feed_items=_int(env, "FOREIGNDESK_FEED_ITEMS", 50),
        site_url=env.get("FOREIGNDESK_SITE_URL", "https://dynamic.thainguyen.example").rstrip("/"),
        publish_cron=env.get("FOREIGNDESK_PUBLISH_CRON", "*/15 * * * *"),
        timezone=env.get("FOREIGNDESK_TIMEZONE", "Asia/Ho_Chi_Minh"),
        max_article_bytes=_int(env, "FOREIGNDESK_MAX_ARTICLE_BYTES", 1024 * 1024),
        review_timeout_seconds=_int(env, "FOREIGNDESK_REVIEW_TIMEOUT_SECONDS", 2 * 24 * 3600),
        notify=notify,
        notify_email_to=notify_email_to,
    )
