"""The upload bucket on S3, through botocore: presigned POST forms, ranged reads, server-side copies, deletes.

The client is made on first use (a route that never touches S3 never pays for it) with the same timeouts as
every other AWS call, so a hung S3 is a 503 within seconds rather than botocore's 60 s reads."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import client, error_code
from chalicelib.errors import ServiceUnavailable
from chalicelib.ports.uploads import ObjectChanged, ObjectStart, PresignedPost

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chalicelib.settings import Settings

CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")
# Without s3:ListBucket, which the role deliberately lacks, S3 answers a missing key with 403, not 404.
ABSENT = frozenset({"NoSuchKey", "404", "AccessDenied", "403"})


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Anything S3 answers that the caller does not expect, and every failure to get an answer, is an outage:
    the request can be retried, nothing was changed by it."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise ServiceUnavailable() from exc


class S3ObjectStore:
    """Implements ports.ObjectStore for the stage's upload bucket."""

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.uploads_bucket
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        """The botocore S3 client (the endpoint comes from botocore's environment, AWS_ENDPOINT_URL_S3 locally)."""
        with self._lock:
            if self._client is None:
                # Presigned POST policies signed with SigV4, the only version every region accepts.
                self._client = client("s3", self._settings, signature_version="s3v4")
            return self._client

    def presigned_post(self, key: str, *, content_type: str, max_bytes: int, expires_seconds: int) -> PresignedPost:
        # S3 enforces these conditions on the POST itself: the key, the exact Content-Type, the size range.
        with _storage_errors():
            post = self.client().generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
                ExpiresIn=expires_seconds,
            )
        return PresignedPost(url=str(post["url"]), fields={str(k): str(v) for k, v in post["fields"].items()})

    def read_start(self, key: str, length: int) -> ObjectStart | None:
        with _storage_errors():
            try:
                got = self.client().get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
            except ClientError as exc:
                if error_code(exc) in ABSENT:
                    return None
                if error_code(exc) == "InvalidRange":
                    return ObjectStart(head=b"", size=0, etag="")  # an empty object has no first byte
                raise
            body = got["Body"]
            try:
                head = body.read(length)  # never more, even from a server that ignored the range
            finally:
                body.close()
        match = CONTENT_RANGE.fullmatch(str(got.get("ContentRange", "")))
        size = int(match.group(1)) if match else int(got["ContentLength"])
        return ObjectStart(head=head, size=size, etag=str(got["ETag"]))

    def publish(self, source: str, target: str, *, etag: str, content_type: str, cache_control: str) -> None:
        with _storage_errors():
            try:
                self.client().copy_object(
                    Bucket=self.bucket,
                    Key=target,
                    CopySource={"Bucket": self.bucket, "Key": source},
                    CopySourceIfMatch=etag,
                    MetadataDirective="REPLACE",
                    ContentType=content_type,
                    CacheControl=cache_control,
                )
            except ClientError as exc:
                if error_code(exc) in ABSENT | {"PreconditionFailed", "412"}:
                    raise ObjectChanged() from exc
                raise

    def delete(self, key: str) -> None:
        with _storage_errors():
            self.client().delete_object(Bucket=self.bucket, Key=key)
