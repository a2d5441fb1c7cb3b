"""An outlet's S3 inbox prefix as a source of drops (see :mod:`.sources` for what a drop is).

An S3 inbox object is read at the version listed (``IfMatch``) and removed only
if it is still that version: by version id in a versioned bucket (exact
everywhere), else after checking its ETag and with a conditional delete on it.
Ceph radosgw ignores ``If-Match`` on DELETE, so there a re-upload landing between
that check and the delete (milliseconds) could still be lost: version the inbox
bucket to close it (docs/s3.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from foreigndesk.core.store import Store, parse_s3_url, s3_error_reason
from foreigndesk.intake import set_aside
from foreigndesk.intake.sources import Drop, SourceError, in_progress


class S3Inbox:
    """An outlet's S3 inbox prefix, read with a boto3 client handed in. Oldest objects first."""

    def __init__(self, client: Any, url: str, outlet: str) -> None:
        self.client = client
        self.bucket, prefix = parse_s3_url(url)
        self.prefix = f"{prefix}/" if prefix else ""
        self.outlet = outlet
        self.description = f"s3://{self.bucket}/{self.prefix}"

    def drops(self) -> Iterator[Drop]:
        from botocore.exceptions import BotoCoreError, ClientError

        objects = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if name and not in_progress(name):
                        objects.append((item["LastModified"], item["Key"], item.get("ETag", ""), item.get("Size")))
        except (BotoCoreError, ClientError) as error:
            raise SourceError(f"{self.description}: cannot list the S3 inbox ({s3_error_reason(error)})") from None
        for modified, key, etag, size in sorted(objects, key=lambda item: item[:2]):
            drop = self._drop(key, etag, size)
            drop.changed_at = modified.timestamp() if hasattr(modified, "timestamp") else None
            yield drop

    def _drop(self, key: str, listed_etag: str, size: int | None) -> Drop:
        from botocore.exceptions import BotoCoreError, ClientError

        location = f"s3://{self.bucket}/{key}"
        # The version this run handles: as listed, then as read. Only that version is ever removed.
        seen: dict[str, Any] = {"etag": unquoted(listed_etag), "version": "", "changed": False, "read_as": None}

        def read() -> bytes:
            condition = {"IfMatch": seen["etag"]} if seen["etag"] else {}
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key, **condition)
            except ClientError as error:
                if s3_error_reason(error) in ("PreconditionFailed", "412"):  # re-uploaded since listed
                    seen["changed"] = True
                    return b""
                raise SourceError(f"{location}: cannot be read ({s3_error_reason(error)})") from None
            except BotoCoreError as error:
                raise SourceError(f"{location}: cannot be read ({s3_error_reason(error)})") from None
            seen["etag"] = unquoted(response.get("ETag", "")) or seen["etag"]
            version = response.get("VersionId") or ""
            seen["version"] = "" if version == "null" else version
            seen["read_as"] = (response.get("ContentLength"), response.get("LastModified"))
            with response["Body"] as body:
                return body.read()

        def remove() -> None:
            if seen["version"]:
                condition = {"VersionId": seen["version"]}  # exact on every server
            elif seen["etag"]:
                # Ceph radosgw (16) ignores If-Match on DELETE (a re-upload was lost in the tests), so the
                # current version is looked at first; If-Match then closes the window where it is honoured
                # (AWS, moto). Unquoted: radosgw answers 412 to the quoted ETag boto3 hands out.
                if not self._still_etag(key, seen["etag"]):
                    return  # re-uploaded during ingest: the new version stays for the next run
                condition = {"IfMatch": seen["etag"]}
            elif not self._still_as_read(key, seen["read_as"]):
                return  # no ETag to condition on, and size or date changed: a new upload, kept
            else:
                condition = {}  # no ETag, same size and date: removed (a new upload in between could be lost)
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key, **condition)
            except ClientError as error:
                if s3_error_reason(error) in ("PreconditionFailed", "412"):
                    return  # re-uploaded during ingest: the new version stays for the next run
                raise SourceError(f"{location}: recorded, but could not be removed ({s3_error_reason(error)}); "
                                  "the next run sees it again and changes nothing") from None
            except BotoCoreError as error:
                raise SourceError(f"{location}: recorded, but could not be removed ({s3_error_reason(error)}); "
                                  "the next run sees it again and changes nothing") from None

        def copy_aside(store: Store, store_key: str) -> None:
            try:
                set_aside.copy_object(store, store_key, self.client, self.bucket, key, seen["etag"],
                                      seen["version"] or None)
            except ClientError as error:
                raise SourceError(f"{location}: too large to read, and could not be copied into quarantine "
                                  f"({s3_error_reason(error)}); left in the inbox") from None
            remove()

        return Drop(outlet=self.outlet, name=key.rsplit("/", 1)[-1], location=location, read=read, remove=remove,
                    still_writing=lambda raw: bool(seen["changed"]), size=size, set_aside=copy_aside,
                    fingerprint=unquoted(listed_etag))

    def _still_etag(self, key: str, etag: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return unquoted(self.client.head_object(Bucket=self.bucket, Key=key).get("ETag", "")) == etag
        except (BotoCoreError, ClientError):
            return False  # gone (taken by a concurrent run) or unreadable: nothing removed

    def _still_as_read(self, key: str, read_as: tuple[Any, Any] | None) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError):
            return False
        return read_as is not None and (head.get("ContentLength"), head.get("LastModified")) == read_as

    def finish(self) -> None:
        pass


def unquoted(etag: str) -> str:
    """An ETag as If-Match wants it on every server tried: boto3 returns it in quotes, radosgw refuses those."""
    return etag.strip().removeprefix("W/").strip('"')
