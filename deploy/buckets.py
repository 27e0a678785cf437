"""What every bucket of the stack shares: private (no public access, no ACLs), encrypted, TLS only."""

from __future__ import annotations

from typing import Any


def private_bucket_properties() -> dict[str, Any]:
    """An S3 bucket's properties: encrypted at rest, public access blocked, ACLs disabled."""
    return {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }


def bucket_resources(bucket: str) -> list[dict[str, Any]]:
    """The bucket `bucket` (a logical id) and its objects, as a policy statement's Resource."""
    return [{"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}]


def deny_plain_http(bucket: str) -> dict[str, Any]:
    """A bucket policy statement refusing every request to `bucket` (a logical id) made without TLS."""
    return {
        "Sid": "DenyPlainHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": bucket_resources(bucket),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
