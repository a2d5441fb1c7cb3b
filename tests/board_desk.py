"""A desk with articles in every state, written through the stages' own record functions.

Intake's ``register`` (article journal + record), review's ``open_review`` and
``write_decision`` (decision journal + record), the ledger's ``claim``,
``record_failure`` and ``record_published``. Drafts are written as the translate
stage writes them (one record per language) without running a model, as
tests/desk_records.py does for publishing, so a 5,000-article archive builds in
seconds. Events are spread over the days before ``now``.

Each (article, language) gets one of :data:`SCENARIOS` in turn; every seventh
article also has an older revision whose reviews were left open (superseded).
:class:`Built` says what each cell should show, so tests compare the board
against what was written, not against the board's own reading.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from foreigndesk.core import records
from foreigndesk.core.decisions import APPROVE, REJECT, Decision, decision_key, write_decision
from foreigndesk.core.drafts import Draft, draft_key
from foreigndesk.intake.article_file import parse_article
from foreigndesk.intake.ingest import register
from foreigndesk.publish import ledger
from foreigndesk.review.form import ReviewForm
from foreigndesk.review.rounds import ReviewPlan, TaskPlace, open_review

LANGUAGES = ("en", "zh", "ko")
OUTLETS = ("baothainguyen", "tntv")
#: Per language cell: the board's language state, and the channel states it should show.
SCENARIOS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("translating", "translating", {}),
    ("in_review", "in_review", {}),
    ("approved", "approved", {}),
    ("published", "published", {"portal-feed": "channel_published", "web": "channel_published"}),
    ("rejected", "rejected", {}),
    ("needs_fix", "needs_fix", {}),
    ("in_review_round2", "in_review", {}),
    ("expired", "expired", {}),
    ("failed", "published", {"portal-feed": "channel_published", "fanpage": "failed"}),
    ("pending", "approved", {"portal-push": "pending"}),
)
FINDINGS = ("glossary-missing", "numbers", "untranslated", "length-ratio", "markdown")


@dataclass
class Built:
    #: (article id, revision, language) -> (language state, {channel: channel state})
    cells: dict[tuple[str, str, str], tuple[str, dict[str, str]]] = field(default_factory=dict)
    #: reviewer -> [(article id, language, opened_at)] of the open reviews assigned to them
    open_reviews: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    #: article id -> title
    titles: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for state, channels in self.cells.values():
            found[state] += 1
            for channel_state in channels.values():
                found[channel_state] += 1
        return dict(found)


def _raw(n: int, title: str, outlet: str, version: int) -> bytes:
    extra = f"\nBản sửa lần {version}.\n" if version > 1 else ""
    return (f"---\nid: bai-{n:05d}\ntitle: {title}\noutlet: {outlet}\napproved_by: Nguyễn Văn An\n"
            f"approved_at: 2025-03-14T09:30:00+07:00\nsource_url: https://{outlet}.vn/bai-{n:05d}\n---\n"
            f"Ngày 14 tháng 3, tỉnh Thái Nguyên đón đoàn công tác số {n}.\n{extra}").encode()


def _draft(store, article, language: str, at: datetime, n: int) -> None:
    findings = [{"check": FINDINGS[(n + i) % len(FINDINGS)], "severity": "warning", "segment": "body.1",
                 "message": "check this"} for i in range(n % 3)]
    findings.append({"check": "memory", "severity": "info", "segment": "title", "message": "reused"})
    records.write_once(store, draft_key(article.article_id, article.revision, language), Draft(
        article_id=article.article_id, revision=article.revision, language=language, source_language="vi",
        title=f"Title {n} ({language})", summary="", body=f"Thai Nguyen welcomes delegation {n}.\n",
        model_name="opus-mt" if n % 2 else "demo", model_version="1.1" if n % 4 < 2 else "1.2",
        demo_model=not n % 2, created_at=at.isoformat(), findings=findings, segments=2))


def _request(store, article, language: str, attempt: int, at: datetime, link: str, places: bool) -> None:
    form = ReviewForm(subject=f"[{language.upper()}] {article.title}", body="", defaults={},
                      assigned_users=[f"reviewer_{language}"])
    where = TaskPlace(f"article__{article.article_id}__{article.revision}", f"review.round_{attempt}",
                      LANGUAGES.index(language)) if places else None
    open_review(store, article.article_id, article.revision, language, ReviewPlan(attempt), form, at.isoformat(),
                link, where=where)


def _decision(store, article, language: str, attempt: int, state: str, opened: datetime, decided: datetime,
              n: int) -> Decision:
    option = {"approved": APPROVE, "needs_fix": APPROVE, "rejected": REJECT}.get(state, "")
    words = 10 + n % 7
    return write_decision(store, Decision(
        article_id=article.article_id, revision=article.revision, language=language, attempt=attempt, option=option,
        reviewer="" if state == "expired" else f"reviewer_{language}", decided_at=decided.isoformat(),
        title=f"Title {n}", summary="", body="Text.\n", note="", machine_title="", machine_body="",
        demo_model=False, state=state, edit_distance=(n % 5) if state == "approved" else 0, machine_words=words,
        problems=["Markdown left open"] if state == "needs_fix" else [], opened_at=opened.isoformat()), decided)


def _publish(store, article, language: str, channel: str, decision: str, at: datetime, n: int) -> None:
    unit = ledger.Delivery(channel, article.article_id, language, article.revision)
    assert ledger.claim(store, unit, 1, decision, f"run-{n}")
    ledger.record_published(store, ledger.Published(
        channel=channel, article_id=article.article_id, language=language, revision=article.revision, attempt=1,
        decision=decision, remote_id=f"{channel}-{n}-{language}", url=f"https://dynamic.thainguyen.example/"
        f"{language}/{article.article_id}.html", title=f"Title {n}", summary="", first_published_at=at.isoformat(),
        published_at=at.isoformat()))


def _fail(store, article, language: str, channel: str, decision: str, kind: str, n: int) -> None:
    unit = ledger.Delivery(channel, article.article_id, language, article.revision)
    assert ledger.claim(store, unit, 1, decision, f"run-{n}")
    reason = ("HTTP 400: (#100) the message is too long" if kind == ledger.PERMANENT
              else "HTTP 503 from the portal: checked before any retry")
    ledger.record_failure(store, unit, 1, kind, reason)


def _language(store, article, language: str, scenario: str, at: datetime, n: int, link_for, places: bool) -> None:
    if scenario == "translating":
        return
    _draft(store, article, language, at, n)
    opened = at + timedelta(minutes=5)
    decided = opened + timedelta(hours=1 + n % 30)
    link = link_for(article, language)
    if scenario == "in_review":
        _request(store, article, language, 1, opened, link, places)
        return
    _request(store, article, language, 1, opened, link, places)
    if scenario == "in_review_round2":
        _decision(store, article, language, 1, "needs_fix", opened, decided, n)
        _request(store, article, language, 2, decided, link, places)
        return
    state = {"rejected": "rejected", "needs_fix": "needs_fix", "expired": "expired"}.get(scenario, "approved")
    decision = _decision(store, article, language, 1, state, opened, decided, n)
    key = decision_key(article.article_id, article.revision, language, decision.attempt)
    if scenario in ("published", "failed"):
        published = decided + timedelta(minutes=15)
        _publish(store, article, language, "portal-feed", key, published, n)
        if scenario == "published":
            _publish(store, article, language, "web", key, published, n)
        else:
            _fail(store, article, language, "fanpage", key, ledger.PERMANENT, n)
    elif scenario == "pending":
        _fail(store, article, language, "portal-push", key, ledger.AMBIGUOUS, n)


def default_link(article, language: str) -> str:
    return f"http://127.0.0.1:9/dags/foreigndesk_translate/runs/{article.article_id}/tasks/review/required_actions"


def build_desk(store, count: int, now: datetime, days: int = 25, link_for=default_link, first: int = 0,
               places: bool = True) -> Built:
    """``count`` articles registered over the ``days`` before ``now``, cells cycling through every scenario.

    ``places``: review requests name the Airflow task they wait in (as review tasks write them);
    without, nobody can tell whether a task still waits, and every open review shows as waiting.
    """
    built = Built()
    step = timedelta(days=days) / max(1, count)
    for n in range(first, first + count):
        at = now - timedelta(days=days) + step * (n - first)
        outlet = OUTLETS[n % 2]
        title = f"Thái Nguyên đón đoàn công tác số {n}"
        revisions = [1, 2] if n % 7 == 3 else [1]
        for version in revisions:
            moment = at + timedelta(minutes=30 * (version - 1))
            raw = _raw(n, title if version == 1 else title + " (đính chính)", outlet, version)
            article = register(store, parse_article(raw, f"bai-{n}.md", outlet), raw, f"bai-{n}.md", at=moment)
            latest = version == revisions[-1]
            for i, language in enumerate(LANGUAGES):
                if latest:
                    name, state, channels = SCENARIOS[(n * len(LANGUAGES) + i) % len(SCENARIOS)]
                else:
                    name, state, channels = "in_review", "superseded", {}
                _language(store, article, language, name, moment, n * 3 + i, link_for, places)
                built.cells[(article.article_id, article.revision, language)] = (state, dict(channels))
                if latest and state == "in_review":
                    opened = moment + timedelta(minutes=5)
                    if name == "in_review_round2":
                        opened += timedelta(hours=1 + (n * 3 + i) % 30)
                    built.open_reviews[f"reviewer_{language}"].append(
                        (article.article_id, language, opened.isoformat()))
            built.titles[article.article_id] = article.title
    return built

