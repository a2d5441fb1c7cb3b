"""The generic journal: names that sort as moments do, read back without the store, and a tail read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from foreigndesk.core import journal
from foreigndesk.core.store import LocalStore, check_key

MOMENT = datetime(2025, 3, 9, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=7)))


def test_keys_are_utc_partitions_and_read_back_per_kind():
    key = journal.key("articles", MOMENT, "btn--odd--id--0123abcd")
    assert key == "journal/articles/2025/03/09/165959.999999Z-btn--odd--id--0123abcd.json"
    assert check_key(key) == key
    entry = journal.parse("articles", key)
    assert (entry.key, entry.written_at, entry.name) == (key, MOMENT, "btn--odd--id--0123abcd")
    assert journal.parse("decisions", key) is None, "another kind's journal does not read it"
    for name in ("journal/articles/2025/03/09/x.json", "articles/a/r1/article.json",
                 "journal/articles/2025/03/09/165959.999999Z-a.txt"):
        assert journal.parse("articles", name) is None


def test_marks_sort_between_the_entries_of_neighbouring_moments():
    later = MOMENT + timedelta(microseconds=1)
    key, next_key = journal.key("k", MOMENT, "a"), journal.key("k", later, "a")
    assert journal.mark("k", MOMENT) < key < journal.mark("k", later) < next_key


def test_since_reads_the_entries_after_a_moment_and_a_repeated_write_is_one_entry(tmp_path):
    store = LocalStore(tmp_path)
    for hours in (30, 2, 1):
        journal.write(store, "k", MOMENT - timedelta(hours=hours), f"n{hours}", f"records/n{hours}.json")
    journal.write(store, "k", MOMENT - timedelta(hours=1), "n1", "records/n1.json")
    store.create("journal/k/2025/03/09/not-an-entry.json", b"")
    found = journal.since(store, "k", MOMENT - timedelta(days=1))
    assert [entry.name for entry in found] == ["n2", "n1"]
    assert store.read(found[0].key) == b"records/n2.json"
