"""The desk's one configuration loader.

Every stage (CLI, DAG task, test) reads its settings here, from the
environment, so that an operator configures a desk in one place and a test can
point a whole run at temporary folders by setting a few variables. Secrets are
never read here: they live in Airflow Connections or the environment of the
process that needs them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from foreigndesk.core.names import DEFAULT_OUTLETS, PLACEHOLDER_STYLE_NAMES, TARGET_LANGUAGES

#: The repository root when the package runs from a checkout (plugins/foreigndesk/core/..).
REPO_ROOT = Path(__file__).resolve().parents[3]

DEFAULT_LANGUAGES = TARGET_LANGUAGES
DEFAULT_REVIEWERS = {lang: [f"reviewer_{lang}"] for lang in DEFAULT_LANGUAGES}
#: Outlet feed items carrying one of these categories/tags are meant for the desk (content/README.md).
DEFAULT_FEED_MARKERS = ("foreign-information", "thông tin đối ngoại")
DEFAULT_AWS_CONN_ID = "foreigndesk_s3"
_OUTLET = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: The Airflow Variable (JSON, language -> user ids) naming who reviews each language.
REVIEWERS_VARIABLE = "foreigndesk_reviewers"
#: How a review opening (or expiring) is announced; see foreigndesk.review.notify.
NOTIFY_CHANNELS = ("log", "email", "webhook")


class SettingsError(ValueError):
    """A setting has a value the desk cannot use; the message names the variable."""


@dataclass(frozen=True)
class OutletSources:
    """Where one outlet's approved articles come from: always its drop folder, optionally more."""

    outlet: str
    drop_folder: Path
    s3_inbox: str = ""  # s3://bucket/prefix/ holding this outlet's drops
    feed_url: str = ""  # the outlet's RSS 2.0 or JSON Feed


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
    sources: tuple[OutletSources, ...] = ()
    feed_markers: tuple[str, ...] = DEFAULT_FEED_MARKERS
    aws_conn_id: str = DEFAULT_AWS_CONN_ID
    # Translation (issue 4). Defaults keep older callers that build Settings by hand working.
    glossary_dir: Path = REPO_ROOT / "glossary"
    beam_size: int = 4
    batch_tokens: int = 1024
    engine_threads: int = 0  # 0: every CPU the process may use
    max_sentence_tokens: int = 200
    placeholder_style: str = "[]"
    #: How long a translator has to answer a review before it expires (nothing is approved then).
    review_timeout_seconds: int = 2 * 24 * 3600
    #: How often a parked review wakes to see for itself whether a newer revision superseded it: a
    #: safety net only, as ingest ends a superseded review's task at once; each wake is a worker task.
    review_recheck_seconds: int = 6 * 3600
    #: Where review notices go: any of NOTIFY_CHANNELS.
    notify: tuple[str, ...] = ("log",)
    #: The desk's review mailbox(es) for the "email" channel.
    notify_email_to: tuple[str, ...] = ()
    #: A dropped file is taken once unchanged this long (or renamed into place): never half-copied.
    settle_seconds: float = 5.0
    #: How long one file of a subtitled clip waits for its partner before it is quarantined, with the reason.
    clip_partner_wait_seconds: float = 24 * 3600
    #: What Chinese and Korean are drafted from: "machine" English (at once) or the "approved" English.
    pivot: str = "machine"


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


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds; set it to e.g. {default:g}") from None
    if not 0 <= value <= 3600:
        raise SettingsError(f"{name}={raw!r} must be between 0 and 3600 seconds; set it to e.g. {default:g}")
    return value


def _outlets(env: Mapping[str, str]) -> tuple[str, ...]:
    outlets = _split(env.get("FOREIGNDESK_OUTLETS", ",".join(DEFAULT_OUTLETS)))
    bad = [outlet for outlet in outlets if not _OUTLET.match(outlet)]
    if bad or not outlets:
        raise SettingsError(
            f"FOREIGNDESK_OUTLETS names {bad or 'no outlet'}; use lowercase slugs like 'baothainguyen,tntv'"
        )
    return outlets


def outlet_variable(prefix: str, outlet: str) -> str:
    """The per-outlet variable name, e.g. FOREIGNDESK_FEED_BAOTHAINGUYEN."""
    return f"{prefix}_{outlet.upper().replace('-', '_')}"


def _sources(env: Mapping[str, str], inbox: Path, outlets: tuple[str, ...]) -> tuple[OutletSources, ...]:
    """Per outlet: ``<inbox>/<outlet>/``; ``FOREIGNDESK_S3_INBOX_<OUTLET>`` or ``FOREIGNDESK_S3_INBOX``
    + ``/<outlet>/``; ``FOREIGNDESK_FEED_<OUTLET>``."""
    shared_s3 = env.get("FOREIGNDESK_S3_INBOX", "").strip().rstrip("/")
    sources = []
    for outlet in outlets:
        s3_name = outlet_variable("FOREIGNDESK_S3_INBOX", outlet)
        s3_inbox = env.get(s3_name, "").strip() or (f"{shared_s3}/{outlet}/" if shared_s3 else "")
        if s3_inbox and not s3_inbox.startswith("s3://"):
            named = s3_name if env.get(s3_name, "").strip() else "FOREIGNDESK_S3_INBOX"
            raise SettingsError(f"{named}={env.get(named)!r} must look like s3://BUCKET/PREFIX")
        feed_name = outlet_variable("FOREIGNDESK_FEED", outlet)
        feed_url = env.get(feed_name, "").strip()
        if feed_url and not re.match(r"^https?://", feed_url):
            raise SettingsError(f"{feed_name}={feed_url!r} must be an http(s) URL of the outlet's RSS or JSON Feed")
        sources.append(OutletSources(outlet, inbox / outlet, s3_inbox, feed_url))
    return tuple(sources)


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not one of {list(allowed)}; e.g. {name}={default}")
    return value


DEFAULT_PUBLISH_CRON = "*/15 * * * *"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def publish_schedule(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(cron, timezone) of the publish DAG: the two values a DAG file needs while it is parsed.

    Read alone, without :func:`load_settings`, so parsing the DAG file opens
    nothing and cannot fail on an unrelated setting.
    """
    env = os.environ if env is None else env
    return env.get("FOREIGNDESK_PUBLISH_CRON") or DEFAULT_PUBLISH_CRON, env.get("FOREIGNDESK_TIMEZONE") or DEFAULT_TIMEZONE


#: Tries a review task gets after the first (``FOREIGNDESK_REVIEW_RETRIES``). Airflow 3.3 can fail a review
#: answered within a second of opening (docs/airflow-hitl.md); the retry records that answer instead.
DEFAULT_REVIEW_RETRIES = 3


def review_retries(env: Mapping[str, str] | None = None) -> int:
    """How many times a failed review task is retried; read alone, while the translate DAG is parsed."""
    env = os.environ if env is None else env
    raw = env.get("FOREIGNDESK_REVIEW_RETRIES", "")
    if not raw.strip():
        return DEFAULT_REVIEW_RETRIES
    if not raw.strip().isdigit():
        raise SettingsError(f"FOREIGNDESK_REVIEW_RETRIES={raw!r} is not a whole number >= 0; e.g. {DEFAULT_REVIEW_RETRIES}")
    return int(raw)


PIVOT_MODES = ("machine", "approved")


def pivot_mode(env: Mapping[str, str] | None = None) -> str:
    """What Chinese and Korean are drafted from (FOREIGNDESK_PIVOT); read alone, while the translate DAG is
    parsed, since its task order depends on it — every Airflow component must see the same value."""
    return _choice(os.environ if env is None else env, "FOREIGNDESK_PIVOT", PIVOT_MODES, "machine")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the desk's settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    languages = _split(env.get("FOREIGNDESK_LANGUAGES", ",".join(DEFAULT_LANGUAGES)))
    unknown = [lang for lang in languages if lang not in DEFAULT_LANGUAGES]
    if unknown:
        raise SettingsError(
            f"FOREIGNDESK_LANGUAGES names {unknown}; the desk translates into {list(DEFAULT_LANGUAGES)}"
        )
    inbox = Path(env.get("FOREIGNDESK_INBOX", str(REPO_ROOT / "content" / "inbox")))
    outlets = _outlets(env)
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
        inbox=inbox,
        outlets=outlets,
        languages=languages,
        models_dir=Path(env.get("FOREIGNDESK_MODELS_DIR", str(REPO_ROOT / "models"))),
        feed_items=_int(env, "FOREIGNDESK_FEED_ITEMS", 50),
        site_url=env.get("FOREIGNDESK_SITE_URL", "https://dynamic.thainguyen.example").rstrip("/"),
        publish_cron=publish_schedule(env)[0],
        timezone=publish_schedule(env)[1],
        max_article_bytes=_int(env, "FOREIGNDESK_MAX_ARTICLE_BYTES", 1024 * 1024),
        sources=_sources(env, inbox, outlets),
        feed_markers=_split(env.get("FOREIGNDESK_FEED_MARKERS", ",".join(DEFAULT_FEED_MARKERS))),
        aws_conn_id=env.get("FOREIGNDESK_AWS_CONN_ID", DEFAULT_AWS_CONN_ID),
        glossary_dir=Path(env.get("FOREIGNDESK_GLOSSARY_DIR", str(REPO_ROOT / "glossary"))),
        beam_size=_int(env, "FOREIGNDESK_BEAM_SIZE", 4),
        batch_tokens=_int(env, "FOREIGNDESK_BATCH_TOKENS", 1024),
        engine_threads=_int(env, "FOREIGNDESK_ENGINE_THREADS", len(os.sched_getaffinity(0))),
        max_sentence_tokens=_int(env, "FOREIGNDESK_MAX_SENTENCE_TOKENS", 200),
        # How glossary terms and inline Markdown are hidden from the model (translate.placeholder_styles).
        # "[]" survived both demo pivot hops in 4 SentencePiece pieces without gluing to the next word
        # (bench/placeholders.py); measure again with real packages and switch if a real model mangles it.
        placeholder_style=_choice(env, "FOREIGNDESK_PLACEHOLDER_STYLE", PLACEHOLDER_STYLE_NAMES, "[]"),
        review_timeout_seconds=_int(env, "FOREIGNDESK_REVIEW_TIMEOUT_SECONDS", 2 * 24 * 3600),
        review_recheck_seconds=_int(env, "FOREIGNDESK_REVIEW_RECHECK_SECONDS", 6 * 3600),
        notify=notify,
        notify_email_to=notify_email_to,
        settle_seconds=_seconds(env, "FOREIGNDESK_SETTLE_SECONDS", 5.0),
        clip_partner_wait_seconds=_seconds(env, "FOREIGNDESK_CLIP_PARTNER_WAIT_SECONDS", 24 * 3600.0),
        pivot=pivot_mode(env),
    )
