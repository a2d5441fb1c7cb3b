"""The S3 inbox prefix as a source, on every real S3 API server on loopback (moto, radosgw)."""

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
def s3_endpoint(every_s3_endpoint):
    return every_s3_endpoint


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


def test_a_drop_named_in_vietnamese_with_spaces_is_read_and_removed(desk):
    client, bucket, store = desk
    raw = article_bytes(outlet="tntv", id="tntv-ten-tieng-viet")
    key = "inbox/tntv/Bài viết số 1 (bản cuối).md"
    put(client, bucket, key, raw)
    result = ingest(store, [S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")], OUTLETS)
    assert [(item.article_id, item.source_file) for item in result.accepted] == [
        ("tntv-ten-tieng-viet", f"s3://{bucket}/{key}")]
    assert store.read(source_key("tntv-ten-tieng-viet", result.accepted[0].revision)) == raw
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="inbox/")


def test_a_wrong_secret_is_a_source_error_naming_the_setting_and_the_drop_stays(radosgw_s3):
    """Only radosgw checks signatures: the inbox is reported, not emptied, and the secret is not shown."""
    import os

    from conftest import new_bucket
    from foreigndesk.core.store import s3_client

    client, bucket = new_bucket(radosgw_s3)
    put(client, bucket, "inbox/tntv/a.md", article_bytes(outlet="tntv", id="tntv-signed"))
    secret = "wrong-inbox-secret-42"
    wrong = s3_client(radosgw_s3, aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=secret)
    result = ingest(S3Store(client, bucket, "store"), [S3Inbox(wrong, f"s3://{bucket}/inbox/tntv/", "tntv")], OUTLETS)
    assert result.accepted == [] and result.quarantined == []
    (error,) = result.errors
    assert error.startswith(f"s3://{bucket}/inbox/tntv/: cannot list the S3 inbox (SignatureDoesNotMatch: ")
    assert "AWS_SECRET_ACCESS_KEY" in error and "foreigndesk_s3" in error and secret not in error
    assert [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix="inbox/")["Contents"]] == [
        "inbox/tntv/a.md"]


def test_a_new_version_uploaded_while_the_first_is_ingested_is_kept_for_the_next_run(desk):
    """Like a drop folder's file replaced mid-run: the first version is recorded, the second stays and is
    registered next run as a new revision. Nothing lost (the version check is ETag, size and date)."""
    from foreigndesk.intake.ingest import IntakeResult, ingest_drop

    client, bucket, store = desk
    key = "inbox/tntv/ban-tin.md"
    first, second = (article_bytes(outlet="tntv", id="tntv-two", title=title) for title in ("Bản đầu", "Bản sửa lại"))
    put(client, bucket, key, first)
    inbox = S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")
    (drop,) = inbox.drops()
    real_read = drop.read

    def read_then_editor_uploads_again() -> bytes:
        raw = real_read()
        put(client, bucket, key, second)
        return raw

    drop.read = read_then_editor_uploads_again
    result = IntakeResult()
    ingest_drop(store, drop, result, OUTLETS)
    assert [item.article_id for item in result.accepted] == ["tntv-two"]
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == second
    rerun = ingest(store, [inbox], OUTLETS)
    assert [item.article_id for item in rerun.accepted] == ["tntv-two"]
    assert [store.read(source_key("tntv-two", r.revision)) for r in revisions_of(store, "tntv-two")] == [first, second]
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="inbox/")
