"""The S3 inbox prefix as a source, on every real S3 API server on loopback (moto, radosgw)."""

from __future__ import annotations

import hashlib

import pytest
from desk_records import revisions_of
from drops import article_bytes
from foreigndesk.core.revisions import source_key
from foreigndesk.core.store import S3Store
from foreigndesk.intake.ingest import configured_sources, ingest
from foreigndesk.intake.s3_inbox import S3Inbox

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


# --- only the version ingested is ever removed; nothing too large is ever downloaded --------------

def _calls(client, operation: str) -> list[dict]:
    """The parameters of every ``operation`` call the client makes from now on (botocore's event hook)."""
    seen: list[dict] = []
    client.meta.events.register(f"provide-client-params.s3.{operation}", lambda params, **_: seen.append(dict(params)))
    return seen


def _headers(client, operation: str) -> list[dict]:
    """The HTTP headers of every ``operation`` request as sent on the wire."""
    sent: list[dict] = []
    client.meta.events.register(f"before-send.s3.{operation}", lambda request, **_: sent.append(dict(request.headers)))
    return sent


def _keys(client, bucket, prefix="inbox/") -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_a_re_upload_during_ingest_is_kept_for_the_next_run(desk):
    from foreigndesk.intake.ingest import IntakeResult, ingest_drop

    client, bucket, store = desk
    first, second = article_bytes(outlet="tntv", id="tntv-r"), article_bytes(outlet="tntv", id="tntv-r", body="Sửa.\n")
    put(client, bucket, "inbox/tntv/r.md", first)
    inbox = S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")
    (drop,) = inbox.drops()
    remove = drop.remove
    drop.remove = lambda: (put(client, bucket, "inbox/tntv/r.md", second), remove())  # the editor re-uploads
    result = IntakeResult()
    ingest_drop(store, drop, result, OUTLETS)
    assert store.read(source_key("tntv-r", result.accepted[0].revision)) == first
    assert client.get_object(Bucket=bucket, Key="inbox/tntv/r.md")["Body"].read() == second, "not lost"
    sent = _headers(client, "DeleteObject")
    rerun = ingest(store, [inbox], OUTLETS)
    assert store.read(source_key("tntv-r", rerun.accepted[0].revision)) == second
    assert _keys(client, bucket) == []
    etag = hashlib.md5(second).hexdigest()  # noqa: S324 - what S3 uses as the ETag of a single-part upload
    assert sent[0]["If-Match"] in (etag, etag.encode()), "the ETag unquoted: radosgw refuses the quoted form"


def test_an_object_replaced_between_listing_and_reading_is_left_for_the_next_run(desk):
    from foreigndesk.intake.ingest import IntakeResult, ingest_drop

    client, bucket, store = desk
    first, second = article_bytes(outlet="tntv", id="tntv-l"), article_bytes(outlet="tntv", id="tntv-l", body="Mới.\n")
    put(client, bucket, "inbox/tntv/l.md", first)
    inbox = S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")
    (drop,) = inbox.drops()
    put(client, bucket, "inbox/tntv/l.md", second)  # replaced after the listing
    result = IntakeResult()
    ingest_drop(store, drop, result, OUTLETS)
    assert result.waiting == [f"s3://{bucket}/inbox/tntv/l.md"] and result.accepted == []
    assert client.get_object(Bucket=bucket, Key="inbox/tntv/l.md")["Body"].read() == second
    (taken,) = ingest(store, [inbox], OUTLETS).accepted
    assert store.read(source_key("tntv-l", taken.revision)) == second and _keys(client, bucket) == []


def test_in_a_versioned_bucket_only_the_version_read_is_deleted(desk):
    client, bucket, store = desk
    # The store's once-per-bucket create-only probe runs before versioning is on: Ceph 16's radosgw does not
    # enforce If-None-Match in a versioned bucket, so the store refuses one (docs/s3.md); the inbox may be one.
    store.check_create_only()
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first, second = article_bytes(outlet="tntv", id="tntv-v"), article_bytes(outlet="tntv", id="tntv-v", body="V2.\n")
    version = client.put_object(Bucket=bucket, Key="inbox/tntv/v.md", Body=first)["VersionId"]
    inbox = S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")
    (drop,) = inbox.drops()
    remove = drop.remove
    drop.remove = lambda: (put(client, bucket, "inbox/tntv/v.md", second), remove())
    deletes = _calls(client, "DeleteObject")
    from foreigndesk.intake.ingest import IntakeResult, ingest_drop

    ingest_drop(store, drop, IntakeResult(), OUTLETS)
    assert [d for d in deletes if d["Key"].startswith("inbox/")] == [
        {"Bucket": bucket, "Key": "inbox/tntv/v.md", "VersionId": version}]
    assert client.get_object(Bucket=bucket, Key="inbox/tntv/v.md")["Body"].read() == second
    (taken,) = ingest(store, [inbox], OUTLETS).accepted
    assert store.read(source_key("tntv-v", taken.revision)) == second and _keys(client, bucket) == []


def test_an_object_over_the_limit_is_copied_server_side_into_quarantine_never_downloaded(desk):
    client, bucket, store = desk
    raw = b"---\ntitle: video\n---\n" + bytes(range(256)) * 8192  # 2 MiB
    put(client, bucket, "inbox/tntv/video.md", raw)
    gets, copies = _calls(client, "GetObject"), _calls(client, "CopyObject")
    result = ingest(store, [S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")], OUTLETS, max_bytes=1024 * 1024)
    assert gets == [], "never read: the server copies it"
    assert [copy["CopySource"] for copy in copies] == [{"Bucket": bucket, "Key": "inbox/tntv/video.md"}]
    (item,) = result.quarantined
    assert f"{len(raw)} bytes, larger than the limit of 1048576 bytes (not read)" in item["reason"]
    (folder,) = {key.rsplit("/", 1)[0] for key in store.list("quarantine/tntv/")}
    assert store.read(f"{folder}/original.bin") == raw, "byte for byte"
    assert _keys(client, bucket) == [] and list(store.list("articles/")) == []


def test_an_object_over_the_limit_is_streamed_into_a_local_store(s3_bucket, tmp_path):
    from foreigndesk.core.store import LocalStore

    client, bucket = s3_bucket
    store = LocalStore(tmp_path / "store")
    raw = bytes(range(256)) * 8192
    put(client, bucket, "inbox/tntv/lon.md", raw)
    result = ingest(store, [S3Inbox(client, f"s3://{bucket}/inbox/tntv/", "tntv")], OUTLETS, max_bytes=4096)
    (folder,) = {key.rsplit("/", 1)[0] for key in store.list("quarantine/tntv/")}
    assert store.read(f"{folder}/original.bin") == raw and len(result.quarantined) == 1
    assert _keys(client, bucket) == []
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
