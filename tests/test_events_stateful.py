"""The events documents under any order of publications, corrections, retries, withdrawals and lost state.

A hypothesis state machine drives ``channels.events.write_events`` on a real local store
with publications of one article in one language: new revisions with or without an
event, the same revision sent again (a retried flush), a withdrawal, and the GeoJSON
state swapped back to an older copy (a flush that raced a withdrawal). After every
step the .ics is parsed with icalendar and must hold one VEVENT for the article, its
SEQUENCE never lower than before and higher whenever what it says changed; once
withdrawn, the event is cancelled for good.
"""

from __future__ import annotations

import json

import icalendar
from foreigndesk.core import records
from foreigndesk.core.store import LocalStore
from foreigndesk.publish.channels import Publication
from foreigndesk.publish.channels.events import event_uid, ics_key, public_event, write_events
from foreigndesk.publish.takedown_ledger import Withdrawal, request_key
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

SITE = "https://dynamic.thainguyen.example"
ARTICLE, LANGUAGE = "tntv-hoi-cho", "en"
UID = event_uid(ARTICLE, LANGUAGE, SITE)


def record(day: int) -> dict:
    return {"name": "Lễ hội", "start": f"2025-12-{day:02d}T08:00:00+07:00", "end": f"2025-12-{day:02d}T20:00:00+07:00",
            "venue": "Quảng trường", "commune": "phường Phan Đình Phùng", "province": "tỉnh Thái Nguyên",
            "timezone": "Asia/Ho_Chi_Minh", "latitude": 21.59, "longitude": 105.84}


def publication(revision: str, day: int | None, stamp: str) -> Publication:
    event = public_event(record(day), {"name": f"Festival {day}", "venue": "Square", "commune": "Ward",
                                       "province": "Thai Nguyen province"}, UID) if day else {}
    return Publication(ARTICLE, revision, LANGUAGE, "T", "", "B", "TNTV", f"{SITE}/en/{ARTICLE}.html",
                       f"{ARTICLE}:en", stamp, stamp, event=event)


class EventsMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        import tempfile

        self.folder = tempfile.TemporaryDirectory()
        self.store = LocalStore(self.folder.name)
        self.count = 0
        self.last: Publication | None = None
        self.seen: tuple[int, str, str] | None = None  # (sequence, status, what it says) after the last step
        self.withdrawn = False
        self.snapshot: dict[str, bytes] = {}

    def teardown(self):
        self.folder.cleanup()

    def _vevent(self):
        if not self.store.exists(ics_key(LANGUAGE)):
            return None
        events = list(icalendar.Calendar.from_ical(self.store.read(ics_key(LANGUAGE))).walk("VEVENT"))
        assert [str(event["UID"]) for event in events] == [UID] * len(events) and len(events) <= 1
        return events[0] if events else None

    @precondition(lambda self: not self.withdrawn)
    @rule(day=st.one_of(st.none(), st.integers(1, 28)))
    def publish_a_revision(self, day):
        self.count += 1
        self.last = publication(f"r{self.count}", day, f"2025-11-{self.count % 28 + 1:02d}T00:00:00+00:00")
        write_events(self.store, LANGUAGE, [self.last])

    @precondition(lambda self: self.last is not None and not self.withdrawn)
    @rule()
    def retry_the_same_flush(self):
        before = self.store.read(ics_key(LANGUAGE)) if self.store.exists(ics_key(LANGUAGE)) else None
        write_events(self.store, LANGUAGE, [self.last])
        after = self.store.read(ics_key(LANGUAGE)) if self.store.exists(ics_key(LANGUAGE)) else None
        assert before == after, "a retried flush rewrites the same calendar"

    @rule()
    def keep_a_copy_of_the_state(self):
        self.snapshot = {key: self.store.read(key) for key in self.store.list("feeds/")}

    @precondition(lambda self: self.last is not None and not self.withdrawn)
    @rule()
    def withdraw(self):
        self.withdrawn = True
        records.write_once(self.store, request_key(ARTICLE, LANGUAGE),
                           Withdrawal(ARTICLE, LANGUAGE, "test", "chief", "2025-12-30T00:00:00+00:00"))
        write_events(self.store, LANGUAGE, [], [(UID, "2025-12-30T00:00:00+00:00")])

    @precondition(lambda self: self.withdrawn and bool(self.snapshot))
    @rule()
    def a_flush_that_raced_the_withdrawal_then_another_flush(self):
        for key, data in self.snapshot.items():
            self.store.replace(key, data)
        other = Publication("other", "o1", LANGUAGE, "T", "", "B", "TNTV", f"{SITE}/en/other.html", "other:en",
                            "2025-12-31T00:00:00+00:00", "2025-12-31T00:00:00+00:00",
                            event=public_event(record(3), {"name": "Other"}, event_uid("other", LANGUAGE, SITE)))
        write_events(self.store, LANGUAGE, [other])
        self.seen = None  # the state went back in time: the sequence is compared from here on

    @invariant()
    def one_uid_a_rising_sequence_and_a_final_cancellation(self):
        if not hasattr(self, "store"):
            return
        calendar = self.store.read(ics_key(LANGUAGE)) if self.store.exists(ics_key(LANGUAGE)) else None
        mine = [e for e in icalendar.Calendar.from_ical(calendar).walk("VEVENT") if str(e["UID"]) == UID] \
            if calendar else []
        assert len(mine) <= 1, "never a second VEVENT for the article"
        if not mine:
            return
        event = mine[0]
        assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
        now = (int(event["SEQUENCE"]), str(event["STATUS"]), f"{event['SUMMARY']}|{event.decoded('DTSTART')}")
        if self.seen is not None:
            assert now[0] >= self.seen[0], (self.seen, now)
            if now[1:] != self.seen[1:]:
                assert now[0] > self.seen[0], f"what the event says changed without a higher SEQUENCE: {self.seen} → {now}"
        if self.withdrawn:
            assert now[1] == "CANCELLED", "once withdrawn, every rebuild leaves the event cancelled"
        self.seen = now


EventsMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=12, deadline=None)
TestEvents = EventsMachine.TestCase
