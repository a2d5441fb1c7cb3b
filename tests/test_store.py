"""The store contract: every backend passes the same tests.

``store`` is parametrised over the local folder backend and the S3 backend
talking to two real S3 API servers on loopback — moto's threaded server and
Ceph's radosgw, which checks every request's signature — so create-only writes
go through a real ``PutObject`` with ``IfNoneMatch='*'`` on both.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from foreigndesk.core.store import LocalStore, RecordExists, S3Store, StoreError, open_store


from conftest import S3_SERVERS, new_bucket


@pytest.fixture(params=["local", *S3_SERVERS])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    client, bucket = new_bucket(request.getfixturevalue(f"{request.param}_s3"))
    return S3Store(client, bucket, "desk")


@pytest.fixture
def s3_endpoint(every_s3_endpoint):
    """The S3-specific tests below run against every server."""
    return every_s3_endpoint


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


# Names around '/' in sort order ('-' and '.' sort before it, digits and letters after it); no name is both a
# file and a folder, which a local folder cannot hold.
TRICKY = [
    "j/a-b", "j/a.b", "j/a/0", "j/a/x/y.json", "j/a0", "j/a_b", "j/ab", "j/b-/c", "j/b/c", "j/b.c",
    "j/2025/03/09/235959.999999Z-a--r1--en--001.json", "j/2025/03/10/000000.000000Z-a--r1--en--001.json",
    "j/2025/03/10/000000.000000Z-a--r1--en--002.json", "j/2025/03/1/x", "j/2025/03/10-x", "j/2025/03/10.x",
    "j/2025/1/x", "j/2025-x", "j/9", "jj/outside", "i/outside",
]
START_AFTERS = [
    "", "a", "j/", "j", "j/a", "j/a/", "j/a-", "j/a/0", "j/a/x", "j/a/x/", "j/a/x/y.json", "j/a/x/z", "j/a0",
    "j/b", "j/b/", "j/b-/", "j/2025/03/10", "j/2025/03/10/", "j/2025/03/10/000000.000000Z",
    "j/2025/03/10/000000.000000Z-a--r1--en--001.json", "j/2025/03/0", "j/2025/03/1", "j/2025/03/10/~", "j/2025/",
    "j/2025/03/", "j/2025/1/", "j/2026", "j/~", "jj/", "zzz",
]


@pytest.mark.parametrize("prefix", ["j/", "", "j/2025/"])
def test_list_after_is_the_sorted_listing_after_the_mark(store, prefix):
    for key in TRICKY:
        store.create(key, b"{}")
    every = list(store.list(prefix))
    assert every == sorted(every) and len(every) == len([k for k in TRICKY if k.startswith(prefix)])
    for start_after in START_AFTERS + TRICKY:
        assert list(store.list_after(prefix, start_after)) == [k for k in every if k > start_after], start_after


def test_list_after_of_a_missing_folder_is_empty_and_the_prefix_is_checked(store):
    assert list(store.list_after("journal/", "")) == []
    with pytest.raises(StoreError, match="end with '/'"):
        list(store.list_after("journal", ""))


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


def test_local_list_after_opens_only_the_folders_that_can_hold_later_keys(tmp_path, monkeypatch):
    """What a time-partitioned folder costs to read from a mark: the partitions from the mark on, not the rest."""
    import os

    store = LocalStore(tmp_path / "store")
    for day in range(1, 29):
        for hour in range(3):
            store.create(f"journal/2025/02/{day:02d}/{hour:02d}0000.000000Z-x.json", b"{}")
    store.create("journal/2025/03/01/000000.000000Z-x.json", b"{}")
    store.create("journal/2024/12/31/000000.000000Z-x.json", b"{}")
    opened: list[str] = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: (opened.append(Path(path).relative_to(store.root).as_posix()),
                                                      real_scandir(path))[1])
    after = list(store.list_after("journal/", "journal/2025/02/28/010000.000000Z-x.json"))
    assert after == ["journal/2025/02/28/020000.000000Z-x.json", "journal/2025/03/01/000000.000000Z-x.json"]
    assert opened == ["journal", "journal/2025", "journal/2025/02", "journal/2025/02/28",
                      "journal/2025/03", "journal/2025/03/01"]


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
    from foreigndesk.core.store import s3_client

    store = S3Store(s3_client(s3_endpoint), "no-such-bucket-here")
    with pytest.raises(StoreError, match="bucket 'no-such-bucket-here' does not exist"):
        store.create("claims/z.json", b"z")


@pytest.mark.parametrize("url", ["s3://", "s3://Bad_Bucket/x", "s3://ok-bucket/../x"])
def test_bad_s3_urls_are_refused_with_the_expected_form(url):
    with pytest.raises(StoreError):
        open_store(url, client=object())


# --- Signatures: only a real S3 checks them (radosgw here; moto accepts any secret) -------------

WRONG_SECRET = "not-the-desk-secret-0123456789"


def _refusals(store: S3Store) -> dict[str, str]:
    """The error message of every store method called with bad credentials."""
    calls = {
        "create": lambda: store.create("claims/signed.json", b"x"),
        "replace": lambda: store.replace("feeds/en/feed.json", b"x"),
        "read": lambda: store.read("claims/signed.json"),
        "exists": lambda: store.exists("claims/signed.json"),
        "list": lambda: list(store.list("claims/")),
        "list_after": lambda: list(store.list_after("claims/", "a")),
    }
    messages = {}
    for name, call in calls.items():
        with pytest.raises(StoreError) as caught:
            call()
        assert caught.value.__cause__ is None and caught.value.__suppress_context__, name  # no botocore text chained
        messages[name] = str(caught.value)
    return messages


def test_a_wrong_secret_is_refused_and_the_error_names_the_setting_not_the_secret(radosgw_s3):
    import os

    from foreigndesk.core.store import s3_client

    client, bucket = new_bucket(radosgw_s3)
    # (boto3's default session keeps the credentials it first read: a changed env var would not be seen)
    wrong = s3_client(radosgw_s3, aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=WRONG_SECRET)
    messages = _refusals(open_store(f"s3://{bucket}/desk", client=wrong))
    for name, message in messages.items():
        assert message.startswith(f"s3://{bucket}/desk/: could not "), (name, message)
        assert WRONG_SECRET not in message and os.environ["AWS_SECRET_ACCESS_KEY"] not in message, (name, message)
        assert "AWS_SECRET_ACCESS_KEY" in message and "foreigndesk_s3" in message, (name, message)
    # A HEAD answer carries no error code; every other call names the refused signature.
    assert all("SignatureDoesNotMatch: the secret key does not match" in m for n, m in messages.items() if n != "exists")
    assert "403: access denied" in messages["exists"]
    assert list(client.list_objects_v2(Bucket=bucket).get("Contents", [])) == [], "nothing may be written"


def test_an_unknown_access_key_is_refused_and_named(radosgw_s3):
    from foreigndesk.core.store import s3_client

    _, bucket = new_bucket(radosgw_s3)
    stranger = s3_client(radosgw_s3, aws_access_key_id="nobody-here", aws_secret_access_key=WRONG_SECRET)
    messages = _refusals(S3Store(stranger, bucket, "desk"))
    assert all("InvalidAccessKeyId: the S3 server has no such access key: fix AWS_ACCESS_KEY_ID" in m
               for n, m in messages.items() if n != "exists"), messages
    assert not any(WRONG_SECRET in m for m in messages.values())


def test_the_right_secret_signs_every_call(radosgw_s3):
    """The same calls, signed with the user's secret, all go through (the refusals above are the signature)."""
    client, bucket = new_bucket(radosgw_s3)
    store = S3Store(client, bucket, "desk")
    store.create("claims/signed.json", b"x")
    store.replace("feeds/en/feed.json", b"x")
    assert store.read("claims/signed.json") == b"x" and store.exists("claims/signed.json")
    assert list(store.list("claims/")) == ["claims/signed.json"] == list(store.list_after("claims/", "a"))
