"""The ledger: create-only claims, and every unit's state read off its records alone."""

from __future__ import annotations

import pytest
from foreigndesk.core.store import LocalStore
from foreigndesk.publish import ledger

UNIT = ledger.Delivery("fanpage", "a1", "en", "r1")


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def _proof(**changes) -> ledger.Published:
    values = dict(channel="fanpage", article_id="a1", language="en", revision="r1", attempt=1,
                  decision="decisions/a1/r1/en/001.json", remote_id="page_1", url="https://s/en/a1.html",
                  title="T", summary="S", first_published_at="2025-03-15T10:00:00+00:00",
                  published_at="2025-03-15T10:00:00+00:00")
    values.update(changes)
    return ledger.Published(**values)


def test_a_claim_is_create_only(store):
    assert ledger.claim(store, UNIT, 1, "d", "run-a") is True
    assert ledger.claim(store, UNIT, 1, "d", "run-b") is False, "a second runner loses the same attempt"
    assert ledger.claim(store, UNIT, 2, "d", "run-b") is True


def test_state_follows_the_records(store):
    assert ledger.delivery_state(store, UNIT).state == ledger.DUE
    ledger.claim(store, UNIT, 1, "d", "run")
    state = ledger.delivery_state(store, UNIT)
    assert (state.state, state.in_flight, state.attempts) == (ledger.UNCERTAIN, True, 1)
    ledger.record_failure(store, UNIT, 1, ledger.AMBIGUOUS, "HTTP 500")
    state = ledger.delivery_state(store, UNIT)
    assert (state.state, state.in_flight, state.reason) == (ledger.UNCERTAIN, False, "HTTP 500")
    ledger.claim(store, UNIT, 2, "d", "run")
    ledger.record_failure(store, UNIT, 2, ledger.NOT_SENT, "refused", "2025-03-15T11:00:00+00:00")
    state = ledger.delivery_state(store, UNIT)
    # A refusal after an unclear attempt: still looked for before any new call, and not before the refusal's time.
    assert (state.state, state.not_before, state.unclear_attempts) == (ledger.UNCERTAIN, "2025-03-15T11:00:00+00:00", 1)
    ledger.claim(store, UNIT, 3, "d", "run")
    ledger.record_published(store, _proof(attempt=3))
    state = ledger.delivery_state(store, UNIT)
    assert (state.state, state.remote_id, state.attempts) == (ledger.PUBLISHED, "page_1", 3)


def test_a_permanent_failure_is_final(store):
    ledger.claim(store, UNIT, 1, "d", "run")
    ledger.record_failure(store, UNIT, 1, ledger.PERMANENT, "HTTP 400: (#100) Invalid parameter")
    state = ledger.delivery_state(store, UNIT)
    assert state.state == ledger.FAILED and "Invalid parameter" in state.reason


def test_too_many_unclear_attempts_read_as_needing_the_operator(store, monkeypatch):
    monkeypatch.setattr(ledger, "MAX_ATTEMPTS", 3)
    for attempt in (1, 2, 3):
        ledger.claim(store, UNIT, attempt, "d", "run")
        ledger.record_failure(store, UNIT, attempt, ledger.AMBIGUOUS, f"HTTP 50{attempt}")
    state = ledger.delivery_state(store, UNIT)
    assert state.state == ledger.STUCK and "gave up after 3 attempts" in state.reason and "HTTP 503" in state.reason


def test_refusals_do_not_count_towards_giving_up(store, monkeypatch):
    monkeypatch.setattr(ledger, "MAX_ATTEMPTS", 2)
    for attempt in (1, 2, 3):
        ledger.claim(store, UNIT, attempt, "d", "run")
        ledger.record_failure(store, UNIT, attempt, ledger.NOT_SENT, "HTTP 429", "2025-01-01T00:00:00+00:00")
    assert ledger.delivery_state(store, UNIT).state == ledger.RETRY


def test_the_first_proof_stands(store):
    first = ledger.record_published(store, _proof(remote_id="page_1"))
    second = ledger.record_published(store, _proof(remote_id="page_2"))
    assert first.remote_id == second.remote_id == "page_1"


def test_publication_states_cover_every_unit_for_status(store):
    ledger.claim(store, UNIT, 1, "d", "run")
    ledger.record_published(store, _proof())
    other = ledger.Delivery("portal-feed", "a2", "zh", "r9")
    ledger.claim(store, other, 1, "d", "run")
    ledger.record_failure(store, other, 1, ledger.PERMANENT, "refused")
    states = ledger.publication_states(store)
    assert [(s.channel, s.article_id, s.state) for s in states] == [
        ("fanpage", "a1", ledger.PUBLISHED), ("portal-feed", "a2", ledger.FAILED)]
    assert [s.article_id for s in ledger.publication_states(store, "fanpage")] == ["a1"]


def test_catalogue_and_previous_publication_pick_the_newest_revision(store):
    ledger.record_published(store, _proof(revision="r1", published_at="2025-03-15T10:00:00+00:00"))
    ledger.record_published(store, _proof(revision="r2", remote_id="page_1", published_at="2025-03-16T10:00:00+00:00"))
    assert [p.revision for p in ledger.published_records(store, "fanpage")] == ["r2"]
    previous = ledger.previous_publication(store, ledger.Delivery("fanpage", "a1", "en", "r3"))
    assert previous is not None and previous.revision == "r2"
    assert ledger.previous_publication(store, ledger.Delivery("fanpage", "a1", "en", "r1")).revision == "r2"
