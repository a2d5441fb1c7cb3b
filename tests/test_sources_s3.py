"""The S3 inbox prefix as a source, on a real S3 API server on loopback (moto's threaded server)."""

from __future__ import annotations

import hashlib

import pytest
from desk_records import revisions_of
from drops import article_bytes
from foreigndesk.core.revisions import source_key
from foreigndesk.core.store import S3Store
from foreigndesk.intake.ingest import configured_sources, ingest
from foreigndesk.intake.sources import S3Inbox

OUTLETS = ("baothainguyen", "tntv")


@pytest.fixture
def desk(s3_bucket):
    client, bucket = s3_bucket
    return client, bucket, S3Store(client, bucket, "store")


def put(client, bucket, key, raw):
    client.put_object(Bucket=bucket, Key=key, Body=raw)


def test_drops_in_the_s3_inbox_are_registered_and_removed(desk):
    client, bucket, store = desk
    raw = article_bytes(id="btn-s3")
    put(client, bucket, "inbox/baothainguyen/btn-s3.md", raw)
    put(client, bucket, "inbox/baothainguyen/.upload-in-progress.md", b"half")
    result = ingest(store, [S3Inbox(client, f"s3://{bucket}/inbox/baothainguyen/", "baothainguyen")], OUTLETS)
    assert [item.article_id for item in result.accepted] == ["btn-s3"]
    assert result.accepted[0].source_file == f"s3://{bucket}/inbox/baothainguyen/btn-s3.md"
    assert store.read(source_key("btn-s3", result.accepted[0].revision)) == raw
    remaining = [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix="inbox/")["Contents"]]
    assert remaining == ["inbox/baothainguyen/.upload-in-progress.md"]


def test_a_bad_s3_drop_is_quarantined_intact(desk):
    client, bucket, store = desk
    raw = "---\ntitle: Thiếu trường\noutlet: tntv\n---\nNội dung.\n".encode()
    put(client, bucket, "inbox/tntv/thieu.md", raw)
    result = ingest(store, [S3Inbox(client, f"s3://{bucket}/inbox/tntv", "tntv")], OUTLETS)
    assert "'approved_by' is missing" in result.quarantined[0]["reason"]
    assert store.read(f"quarantine/tntv/{hashlib.sha256(raw).hexdigest()}/original.bin") == raw
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="inbox/")


def test_a_crash_between_recording_and_removing_is_harmless(desk):
    client, bucket, store = desk
    put(client, bucket, "inbox/tntv/a.md", article_bytes(outlet="tntv", id="tntv-a"))
    inbox = S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")

    class Died(Exception):
        pass

    (drop,) = inbox.drops()
    drop.remove = lambda: (_ for _ in ()).throw(Died("worker killed before the delete"))
    from foreigndesk.intake.ingest import IntakeResult, ingest_drop

    with pytest.raises(Died):
        ingest_drop(store, drop, IntakeResult(), OUTLETS)
    rerun = ingest(store, [inbox], OUTLETS)
    assert rerun.accepted == [] and [article_id for article_id, _ in rerun.unchanged] == ["tntv-a"]
    assert len(revisions_of(store, "tntv-a")) == 1
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="inbox/")


def test_a_missing_inbox_bucket_is_a_reported_source_error(desk):
    client, _, store = desk
    result = ingest(store, [S3Inbox(client, "s3://no-such-inbox-bucket/inbox/tntv/", "tntv")], OUTLETS)
    assert result.errors == ["s3://no-such-inbox-bucket/inbox/tntv/: cannot list the S3 inbox (NoSuchBucket)"]


def test_settings_name_one_s3_inbox_per_outlet(desk, tmp_path):
    from foreigndesk.core.settings import load_settings

    client, bucket, store = desk
    settings = load_settings({"FOREIGNDESK_INBOX": str(tmp_path), "FOREIGNDESK_S3_INBOX": f"s3://{bucket}/inbox",
                              "FOREIGNDESK_S3_INBOX_TNTV": f"s3://{bucket}/tntv-uploads/"})
    inboxes = [s for s in configured_sources(settings, store, s3_client=client) if isinstance(s, S3Inbox)]
    assert [s.description for s in inboxes] == [f"s3://{bucket}/inbox/baothainguyen/", f"s3://{bucket}/tntv-uploads/"]
