"""Telling people a review is waiting (or was missed): log, e-mail or webhook.

A notice carries the link to the form, so a translator goes straight from the
message to the required action. Sending is best effort on purpose: a mail
server that is down must not stop a review from opening — the review is still
listed under "Required actions" — so a failed channel is logged (without its
URL or credentials) and the others still go out.

Each channel takes its client as an argument (a requests.Session, an object
with Airflow's SMTP hook ``send_email_smtp``), so the desk's code never reads a
secret: the glue builds the clients from Airflow Connections.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from html import escape
from typing import Protocol

log = logging.getLogger(__name__)

REVIEW_OPENED = "review_opened"
REVIEW_EXPIRED = "review_expired"
FIX_PENDING = "fix_still_needed"


@dataclass(frozen=True)
class Notice:
    """One message about one review attempt."""

    kind: str
    subject: str
    text: str
    link: str
    article_id: str
    revision: str
    language: str
    attempt: int
    reviewers: tuple[str, ...] = ()


class NoticeChannel(Protocol):
    name: str

    def send(self, notice: Notice) -> None: ...


class LogChannel:
    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or log

    def send(self, notice: Notice) -> None:
        self.logger.info("%s: %s — %s", notice.kind, notice.subject, notice.link)


class SmtpSender(Protocol):
    def send_email_smtp(self, *, to: list[str], subject: str, html_content: str, **kwargs) -> None: ...


class EmailChannel:
    """Through Airflow's SMTP provider (``SmtpHook``), already connected by the caller."""

    name = "email"

    def __init__(self, smtp: SmtpSender, to: Sequence[str]) -> None:
        self.smtp = smtp
        self.to = list(to)

    def send(self, notice: Notice) -> None:
        html = (f"<p>{escape(notice.text)}</p>"
                f'<p><a href="{escape(notice.link, quote=True)}">Open the review form</a><br>{escape(notice.link)}</p>')
        self.smtp.send_email_smtp(to=self.to, subject=notice.subject, html_content=html)


class WebhookChannel:
    """POST the notice as JSON (chat systems, the desk's own dashboard)."""

    name = "webhook"

    def __init__(self, session, url: str, timeout: float = 10.0) -> None:
        self.session = session
        self.url = url
        self.timeout = timeout

    def send(self, notice: Notice) -> None:
        payload = {**asdict(notice), "reviewers": list(notice.reviewers),
                   "message": f"{notice.subject}\n{notice.text}\n{notice.link}"}
        response = self.session.post(self.url, json=payload, timeout=self.timeout)
        if response.status_code >= 300:
            raise RuntimeError(f"webhook answered HTTP {response.status_code}")


def send_all(channels: Sequence[NoticeChannel], notice: Notice) -> list[str]:
    """Send on every channel; return the names of the channels that failed (already logged)."""
    failed: list[str] = []
    for channel in channels:
        try:
            channel.send(notice)
        except Exception as error:  # one broken channel must not silence the others
            # Only the error's type and the channel name: an exception text can carry a URL with a token.
            log.error("notice %s for %s/%s not sent on %s: %s", notice.kind, notice.article_id, notice.language,
                      channel.name, type(error).__name__)
            failed.append(channel.name)
    return failed


def _notice(kind: str, subject: str, text: str, link: str, article_id: str, revision: str, language: str,
            attempt: int, reviewers: Sequence[str]) -> Notice:
    return Notice(kind=kind, subject=subject, text=text, link=link, article_id=article_id, revision=revision,
                  language=language, attempt=attempt, reviewers=tuple(reviewers))


def review_opened(subject: str, link: str, article_id: str, revision: str, language: str, attempt: int,
                  reviewers: Sequence[str], deadline: str, problems: Sequence[str] = (), reopened: str = "") -> Notice:
    """``reopened``: why the same attempt opens again (e.g. an answer Airflow lost), said first."""
    why = f" It needs a fix: {' '.join(problems)}" if problems else ""
    again = f"{reopened} " if reopened else ""
    text = (f"{again}A {language} translation waits for review by {', '.join(reviewers)} (attempt {attempt}), "
            f"answer by {deadline or 'no deadline'}.{why}")
    return _notice(REVIEW_OPENED, f"Review waiting: {subject}", text, link, article_id, revision, language,
                   attempt, reviewers)


def review_expired(subject: str, link: str, article_id: str, revision: str, language: str, attempt: int,
                   reviewers: Sequence[str]) -> Notice:
    text = (f"Nobody answered the {language} review (attempt {attempt}, assigned to {', '.join(reviewers)}) in time. "
            "Nothing was approved or published. To re-open it, clear the review task (round 1) of this run.")
    return _notice(REVIEW_EXPIRED, f"Review expired, nothing approved: {subject}", text, link, article_id, revision,
                   language, attempt, reviewers)


def fix_still_needed(subject: str, link: str, article_id: str, revision: str, language: str, attempt: int,
                     reviewers: Sequence[str], problems: Sequence[str]) -> Notice:
    text = (f"The {language} translation was approved with problems in every attempt: {' '.join(problems)} "
            "Nothing was published. To give the translator another attempt, clear the review task (round 1).")
    return _notice(FIX_PENDING, f"Review still needs a fix after {attempt} attempts: {subject}", text, link,
                   article_id, revision, language, attempt, reviewers)
