"""Review notices on every channel, against real servers on loopback.

E-mail goes through Airflow's SMTP provider (``SmtpHook``, built by the glue
from the Airflow Connection ``foreigndesk_smtp``) to an aiosmtpd server; the
webhook is POSTed with a requests.Session to a real HTTP server.
"""

from __future__ import annotations

import email
import json
import logging
import socket
from email.policy import default as default_policy

import pytest
import requests
from foreigndesk.core.settings import load_settings
from foreigndesk.review.notify import LogChannel, WebhookChannel, review_expired, review_opened, send_all
from loopback_http import Receiver

LINK = "http://localhost:8080/dags/foreigndesk_translate/runs/r1/tasks/review.round_1/mapped/0/required_actions"
SECRET = "s3cr3t-token"


def _notice(**overrides):
    base = dict(subject="[EN] Lễ hội Trà Tân Cương — Đài PT-TH Thái Nguyên (TNTV)", link=LINK, article_id="a1",
                revision="r1", language="en", attempt=1, reviewers=["reviewer_en"], deadline="2025-05-21T08:00:00+00:00")
    base.update(overrides)
    return review_opened(**base)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_webhook_posts_the_notice_with_the_link(receiver):
    failed = send_all([WebhookChannel(requests.Session(), receiver.url)], _notice())
    assert failed == []
    [request] = receiver.requests
    assert request["path"] == "/hooks/desk"
    payload = request["json"]
    assert payload["kind"] == "review_opened" and payload["link"] == LINK
    assert payload["subject"] == "Review waiting: [EN] Lễ hội Trà Tân Cương — Đài PT-TH Thái Nguyên (TNTV)"
    assert payload["reviewers"] == ["reviewer_en"]
    assert payload["message"].endswith(LINK)
    assert "by reviewer_en (attempt 1), answer by 2025-05-21T08:00:00+00:00" in payload["text"]


def test_a_failing_channel_is_logged_without_its_url_and_the_others_still_go_out(receiver, caplog):
    broken = Receiver(status=500)
    try:
        url_with_token = broken.url + f"?token={SECRET}"
        with caplog.at_level(logging.INFO):
            failed = send_all([WebhookChannel(requests.Session(), url_with_token), LogChannel(),
                               WebhookChannel(requests.Session(), receiver.url)], _notice())
    finally:
        broken.close()
    assert failed == ["webhook"]
    assert len(broken.requests) == 1 and len(receiver.requests) == 1
    assert "not sent on webhook: RuntimeError" in caplog.text
    assert f"review_opened: Review waiting: [EN] Lễ hội Trà Tân Cương — Đài PT-TH Thái Nguyên (TNTV) — {LINK}" in caplog.text
    assert SECRET not in caplog.text


def test_an_unreachable_webhook_does_not_raise(caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    failed = send_all([WebhookChannel(requests.Session(), f"http://127.0.0.1:{port}/x?token={SECRET}", timeout=2)],
                      _notice())
    assert failed == ["webhook"]
    assert SECRET not in caplog.text


def test_the_glue_builds_the_webhook_from_its_airflow_connection_with_a_bearer_token(receiver, monkeypatch):
    from foreigndesk.airflow_side.connections import notice_channels

    monkeypatch.setenv("FOREIGNDESK_NOTIFY", "webhook")
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_WEBHOOK",
                       json.dumps({"conn_type": "http", "host": receiver.url, "password": SECRET}))
    channels = notice_channels(load_settings())
    assert [channel.name for channel in channels] == ["webhook"]
    assert send_all(channels, _notice()) == []
    assert receiver.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_a_webhook_connection_without_a_url_is_refused_with_the_fix(monkeypatch):
    from foreigndesk.airflow_side.connections import notice_channels

    monkeypatch.setenv("FOREIGNDESK_NOTIFY", "webhook")
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_WEBHOOK", json.dumps({"conn_type": "http", "host": "chat.example"}))
    with pytest.raises(ValueError, match="must hold the full webhook URL in 'host'"):
        notice_channels(load_settings())


def test_notify_settings_are_checked(monkeypatch):
    from foreigndesk.core.settings import SettingsError

    with pytest.raises(SettingsError, match=r"FOREIGNDESK_NOTIFY names \['pager'\]"):
        load_settings({"FOREIGNDESK_NOTIFY": "log,pager"})
    with pytest.raises(SettingsError, match="FOREIGNDESK_NOTIFY_EMAIL_TO is empty"):
        load_settings({"FOREIGNDESK_NOTIFY": "email"})
    settings = load_settings({"FOREIGNDESK_NOTIFY": "email, log", "FOREIGNDESK_NOTIFY_EMAIL_TO": "a@x.example,b@x.example"})
    assert settings.notify == ("email", "log") and settings.notify_email_to == ("a@x.example", "b@x.example")
    assert load_settings({}).notify == ("log",)


class Mailbox:
    """aiosmtpd handler: keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def test_email_goes_through_airflows_smtp_provider(smtp_server, monkeypatch):
    from foreigndesk.airflow_side.connections import notice_channels

    mailbox, port = smtp_server
    monkeypatch.setenv("FOREIGNDESK_NOTIFY", "email")
    monkeypatch.setenv("FOREIGNDESK_NOTIFY_EMAIL_TO", "review-en@desk.example,chief@desk.example")
    monkeypatch.setenv("AIRFLOW_CONN_FOREIGNDESK_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"from_email": "foreigndesk@desk.example", "disable_ssl": True, "disable_tls": True, "retry_limit": 0},
    }))
    notice = review_expired(subject="[EN] Hội chợ OCOP — TNTV", link=LINK, article_id="a1", revision="r1",
                            language="en", attempt=2, reviewers=["reviewer_en"])
    assert send_all(notice_channels(load_settings()), notice) == []

    [(sender, recipients, message)] = mailbox.messages
    assert sender == "foreigndesk@desk.example"
    assert recipients == ["review-en@desk.example", "chief@desk.example"]
    assert message["Subject"] == "Review expired, nothing approved: [EN] Hội chợ OCOP — TNTV"
    html = next(part for part in message.walk() if part.get_content_type() == "text/html").get_content()
    assert f'<a href="{LINK.replace("&", "&amp;")}">Open the review form</a>' in html
    assert "Nothing was approved or published." in html
