"""The local upload bucket, set up as deploy/template.py sets up the deployed one, applied at every start
(`manage.py createtables --bucket`): the local AWS keeps objects across restarts, not bucket settings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib.services.uploads import MEDIA_PREFIX, UNCLAIMED_DAYS, UPLOAD_PREFIX

CORS_MAX_AGE_SECONDS = 3000


def cors_rules(origins: Iterable[str]) -> list[dict[str, Any]]:
    """Browsers on the stage's origins may post uploads (S3's `*` matches any port, as `scheme://host:*` does
    for the API)."""
    allowed = [origin for origin in origins if origin]
    if not allowed:
        return []
    return [
        {
            "AllowedOrigins": allowed,
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": CORS_MAX_AGE_SECONDS,
        }
    ]


def lifecycle_rules() -> list[dict[str, Any]]:
    """Unused uploads (and the originals of used ones, which were copied) go after a day."""
    return [
        {
            "ID": "expire-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": UPLOAD_PREFIX},
            "Expiration": {"Days": UNCLAIMED_DAYS},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": UNCLAIMED_DAYS},
        }
    ]


def media_read_policy(bucket: str) -> dict[str, Any]:
    """Deployed, only CloudFront reads `media/` (origin access control); locally the local AWS serves those
    objects itself, to anyone, and nothing else in the bucket."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublishedMedia",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{MEDIA_PREFIX}*",
            }
        ],
    }


def configure_bucket(s3: Any, bucket: str, origins: Iterable[str]) -> bool:
    """Create the bucket if missing and (re)apply its CORS rules, lifecycle rule and read policy; True when it
    was created."""
    created = False
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)
        created = True
    rules = cors_rules(origins)
    if rules:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    else:
        s3.delete_bucket_cors(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules()})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(media_read_policy(bucket)))
    return created
