"""The store contract: every backend passes the same tests.

``store`` is parametrised over the local folder backend and the S3 backend
talking to a real S3 API server (moto's threaded server) on loopback, so
create-only writes go through a real ``PutObject`` with ``IfNoneMatch='*'``.
"""

from __future__ import annotations

import threading

import pytest

from foreigndesk.store import LocalStore, RecordExists, S3Store, StoreError, open_store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    client, bucket = request.getfixturevalue("s3_bucket")
    return S3Store(client, bucket, "desk")


def test_create_then_read_gives_the_same_bytes(store):
    data = bytes(range(256)) + "Thái Nguyên".encode()
    store.create("articles/a/r1/source.md", data)
    assert store.read("articles/a/r1/source.md") == data
    assert store.exists("articles/a/r1/source.md")


def test_create_is_create_only_and_the_first_record_stands(store):
    store.create("claims/a.json", b"first")
    with pytest.raises(RecordExists, match="claims/a.json"):
        store.create("claims/a.json", b"second")
    assert store.read("claims/a.json") == b"first"


def test_concurrent_creates_of_one_key_have_exactly_one_winner(store):
    winners, losers = [], []
    barrier = threading.Barrier(8)

    def claim(number: int) -> None:
        barrier.wait()
        try:
            store.create("ledger/x.json", f"writer {number}".encode())
            winners.append(number)
        except RecordExists:
            losers.append(number)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(losers) == 7
    assert store.read("ledger/x.json") == f"writer {winners[0]}".encode()


def test_replace_writes_and_overwrites(store):
    store.replace("feeds/en/feed.json", b"v1")
    assert store.read("feeds/en/feed.json") == b"v1"
    store.replace("feeds/en/feed.json", b"v2")
    assert store.read("feeds/en/feed.json") == b"v2"


def test_missing_keys(store):
    with pytest.raises(KeyError):
        store.read("articles/nothing.json")
    assert not store.exists("articles/nothing.json")
    assert list(store.list("articles/")) == []


def test_list_yields_every_key_under_a_prefix_sorted_and_nothing_else(store):
    for key in ["articles/b/2.json", "articles/a/1.json", "articles/a/sub/3.json", "articles2/x.json", "z.json"]:
        store.create(key, b"{}")
    assert list(store.list("articles/")) == ["articles/a/1.json", "articles/a/sub/3.json", "articles/b/2.json"]
    assert list(store.list("articles/a/")) == ["articles/a/1.json", "articles/a/sub/3.json"]
    assert list(store.list("")) == [
        "articles/a/1.json", "articles/a/sub/3.json", "articles/b/2.json", "articles2/x.json", "z.json"
    ]


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/../b", ".tmp-x", "a/.hidden", "", "a b"])
def test_unsafe_keys_are_refused_by_every_method(store, key):
    for call in (lambda: store.create(key, b"x"), lambda: store.replace(key, b"x"),
                 lambda: store.read(key), lambda: store.exists(key)):
        with pytest.raises(StoreError, match="not a safe path"):
            call()


def test_a_listing_prefix_must_be_folder_like(store):
    with pytest.raises(StoreError, match="end with '/'"):
        list(store.list("articles"))


def test_two_handles_on_one_location_see_the_same_records(store, tmp_path, request):
    other = LocalStore(store.root) if isinstance(store, LocalStore) else S3Store(store.client, store.bucket, "desk")
    store.create("claims/shared.json", b"1")
    assert other.read("claims/shared.json") == b"1"
    with pytest.raises(RecordExists):
        other.create("claims/shared.json", b"2")


# --- S3-specific behaviour -------------------------------------------------------------------

def test_s3_prefixes_are_isolated(s3_bucket):
    client, bucket = s3_bucket
    first, second = S3Store(client, bucket, "desk-a"), S3Store(client, bucket, "desk-b/nested")
    first.create("claims/x.json", b"a")
    assert not second.exists("claims/x.json")
    second.create("claims/x.json", b"b")
    assert list(first.list("")) == ["claims/x.json"]
    assert first.read("claims/x.json") == b"a" and second.read("claims/x.json") == b"b"
    assert client.get_object(Bucket=bucket, Key="desk-b/nested/claims/x.json")["Body"].read() == b"b"


def test_open_store_reads_the_standard_aws_endpoint_setting(s3_bucket, s3_endpoint, monkeypatch):
    client, bucket = s3_bucket
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = open_store(f"s3://{bucket}/desk")
    assert isinstance(store, S3Store) and store.url == f"s3://{bucket}/desk/"
    store.create("claims/y.json", b"y")
    assert client.get_object(Bucket=bucket, Key="desk/claims/y.json")["Body"].read() == b"y"


def test_a_missing_bucket_is_named_in_the_error(s3_endpoint):
    from foreigndesk.store import s3_client

    store = S3Store(s3_client(s3_endpoint), "no-such-bucket-here")
    with pytest.raises(StoreError, match="bucket 'no-such-bucket-here' does not exist"):
        store.create("claims/z.json", b"z")


@pytest.mark.parametrize("url", ["s3://", "s3://Bad_Bucket/x", "s3://ok-bucket/../x"])
def test_bad_s3_urls_are_refused_with_the_expected_form(url):
    with pytest.raises(StoreError):
        open_store(url, client=object())
