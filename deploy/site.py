"""The web app (`web/`) as a static site, served alike by the local stack and, deployed, by CloudFront.

One place says what the site is: its files, the generated configuration file that tells the pages where the
API is, how each file is served (type, caching, security headers), which paths load the app, and the
CloudFormation of the deployed site (a private S3 bucket behind a CloudFront distribution).

Deployed, each `make deploy` uploads the site as a release of its own, under `releases/<id>/`, and the stack's
`SiteRelease` parameter (the distribution's origin path) says which release the distribution serves: one stack
update switches every file at once, and switching back is a rollback."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from deploy.buckets import bucket_resources, deny_plain_http, private_bucket_properties
from deploy.edge import api_behaviours, api_origin, edge_resources, error_caching

ROOT = Path(__file__).resolve().parent.parent
WEB_ROOT = ROOT / "web"
# Written where the site is served (the local web server answers it; make deploy uploads it), never committed.
CONFIG_FILE = "config.js"
INDEX_FILE = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
# File names carry no version, so browsers (and CloudFront) check for a newer copy before each use; the
# answer is a small 304 when nothing changed (S3 and the local server send validators). Deployed, the same holds
# for every file of a release: the viewer's URL never names the release (the origin path does), so a URL's
# content changes at each switch, and S3's ETag (the content's MD5) stays the same for a file a new release
# did not change, so the browser's copy is still answered by a 304.
CACHE_CONTROL = "no-cache"
# Where each release's files go in the site's bucket: `releases/<id>/<file>`.
RELEASES_PREFIX = "releases/"
# A release's id: when it was made (UTC) and a hash of its content, e.g. 20260104T093000Z-3f2a9c0b1d4e.
RELEASE_ID_PATTERN = "[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}"

# Paths whose last segment has no dot are the app's pages (/events/<id>, /reset-password): they load
# index.html and the app reads the path. Paths with one name files, and a missing file is a 404. So is an
# organizer's page, /@<username>, whatever the name holds (`ann.lee` has a dot). The same rule runs in
# CloudFront (this function, on each viewer request) and in the local web server (`is_page`).
ROUTING_FUNCTION = """\
function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1 || /^\\/@[^\\/]+\\/?$/.test(request.uri)) {
    request.uri = "/index.html";
  }
  return request;
}
"""
# An organizer's page: `/@` and one segment, with or without its trailing slash.
ORGANIZER_PAGE = re.compile(r"\A/@[^/]+/?\Z")


def is_page(path: str) -> bool:
    """Whether the URL path (without its query) is one of the app's pages rather than a file."""
    return "." not in path.rsplit("/", 1)[-1] or ORGANIZER_PAGE.match(path) is not None


def config_script(api_url: str) -> bytes:
    """config.js: the API's base URL, for the pages (settings.js reads it)."""
    base = api_url if api_url.endswith("/") else api_url + "/"
    return f"window.SESSIONS_CONFIG = {json.dumps({'apiUrl': base})};\n".encode()


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL: what CORS and a Content-Security-Policy name."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def content_security_policy(api_origin: str, media_origin: str, upload_origins: str) -> str:
    """What the pages may load: their own files; from the API only its answers and the Redoc script it serves
    (the reference page); images from the media origin (avatars, event images); and file uploads posted to
    storage (`upload_origins`, space-separated: presigned POSTs go straight to the bucket). Redoc adds inline
    styles and runs its search in a worker made from a blob."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {api_origin}",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: {media_origin}",
            "font-src 'self' data:",
            f"connect-src 'self' {api_origin} {upload_origins}",
            "worker-src blob:",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(api_origin: str, media_origin: str, upload_origins: str) -> dict[str, str]:
    """The headers every answer of the site carries (the local server's; CloudFront's policy says the same)."""
    return {
        "Content-Security-Policy": content_security_policy(api_origin, media_origin, upload_origins),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
    }


def site_files(root: Path = WEB_ROOT) -> list[tuple[str, Path]]:
    """(key, file) for every file of the site: not dotfiles, not a stray config.js (it is generated)."""
    files = []
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            if key != CONFIG_FILE:
                files.append((key, path))
    return files


# --- Deployed: CloudFormation merged into the stage's template by deploy/template.py ---

# AWS's managed cache policy "CachingOptimized": no cookies, headers or query strings in the cache key.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
API_ORIGIN = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
MEDIA_ORIGIN = "https://${MediaDistribution.DomainName}"
# botocore signs presigned POSTs for the global endpoint (https://<bucket>.s3.amazonaws.com/, in every
# region); the regional name is allowed too, for a client configured to use it.
UPLOAD_ORIGINS = "https://${UploadsBucket}.s3.amazonaws.com https://${UploadsBucket}.s3.${AWS::Region}.amazonaws.com"
SITE_CSP = content_security_policy(API_ORIGIN, MEDIA_ORIGIN, UPLOAD_ORIGINS)
# With a domain of one's own: TLS 1.2 and up, with CloudFront's current cipher list for it.
SITE_TLS_POLICY = "TLSv1.2_2021"
HOSTNAME_PATTERN = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+"
CERTIFICATE_ARN_PATTERN = "arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]{36}"


def site_resources(stage: str) -> dict[str, Any]:
    """The site's bucket (private: only the distribution reads it), its distribution (with the API under /api/)
    and their policies."""
    name = f"sessions-marketplace-{stage}-site"
    return {
        "SiteBucket": {
            "Type": "AWS::S3::Bucket",
            # The files are a copy of web/, uploaded again by every make deploy: nothing to keep.
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": private_bucket_properties(),
        },
        "SiteBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "SiteBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            # ListBucket too, so that a missing file is S3's 404 rather than its 403.
                            "Sid": "DistributionReads",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": ["s3:GetObject", "s3:ListBucket"],
                            "Resource": bucket_resources("SiteBucket"),
                            "Condition": {
                                "StringEquals": {
                                    "AWS:SourceArn": {
                                        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                                        "${SiteDistribution}"
                                    }
                                }
                            },
                        },
                        deny_plain_http("SiteBucket"),
                    ],
                },
            },
        },
        "SiteOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": name,
                    "Description": f"CloudFront reads the {stage} web app's files",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "SiteRouting": {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": f"{name}-routing",
                "AutoPublish": True,
                "FunctionCode": ROUTING_FUNCTION,
                "FunctionConfig": {"Comment": "The app's pages load index.html", "Runtime": "cloudfront-js-2.0"},
            },
        },
        "SiteHeaders": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": f"{name}-headers",
                    "SecurityHeadersConfig": {
                        "ContentSecurityPolicy": {
                            "ContentSecurityPolicy": {"Fn::Sub": SITE_CSP},
                            "Override": True,
                        },
                        "ContentTypeOptions": {"Override": True},
                        "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True},
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": 31536000,
                            "IncludeSubdomains": False,
                            "Override": True,
                        },
                    },
                }
            },
        },
        "SiteDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            # cfn-lint checks the certificate's ARN against the parameter's default (""), which only the branch
            # without a domain (where the ARN is not used) can have.
            "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1030"]}}},
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": f"Sessions Marketplace web app ({stage})",
                    "DefaultRootObject": INDEX_FILE,
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": "PriceClass_100",
                    "Aliases": {"Fn::If": ["HasSiteDomain", [{"Ref": "SiteDomainName"}], {"Ref": "AWS::NoValue"}]},
                    # The default *.cloudfront.net certificate cannot be held to TLS 1.2 (CloudFront answers
                    # TLSv1 and up with it, whatever is asked): only a certificate of one's own can.
                    "ViewerCertificate": {
                        "Fn::If": [
                            "HasSiteDomain",
                            {
                                "AcmCertificateArn": {"Ref": "SiteCertificateArn"},
                                "SslSupportMethod": "sni-only",
                                "MinimumProtocolVersion": SITE_TLS_POLICY,
                            },
                            {"CloudFrontDefaultCertificate": True},
                        ]
                    },
                    "Origins": [
                        {
                            "Id": "site",
                            "DomainName": {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]},
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                            "OriginAccessControlId": {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]},
                            # The live release: CloudFront asks S3 for /releases/<id>/<path> for the viewer's
                            # /<path>. None before a stack's first release is uploaded (its first deploy).
                            "OriginPath": {
                                "Fn::If": [
                                    "HasSiteRelease",
                                    {"Fn::Sub": f"/{RELEASES_PREFIX}${{SiteRelease}}"},
                                    {"Ref": "AWS::NoValue"},
                                ]
                            },
                        },
                        api_origin(),
                    ],
                    # The API under the site's own origin (deploy/edge.py): its public reads cached briefly.
                    "CacheBehaviors": api_behaviours(),
                    "CustomErrorResponses": error_caching(),
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "site",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD"],
                        "CachedMethods": ["GET", "HEAD"],
                        "Compress": True,
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "ResponseHeadersPolicyId": {"Ref": "SiteHeaders"},
                        "FunctionAssociations": [
                            {
                                "EventType": "viewer-request",
                                "FunctionARN": {"Fn::GetAtt": ["SiteRouting", "FunctionMetadata.FunctionARN"]},
                            }
                        ],
                    },
                }
            },
        },
        **edge_resources(stage),
    }


def site_parameters() -> dict[str, Any]:
    """The site's stack parameters: the release it serves (make deploy sets it) and an optional domain."""
    return {
        "SiteRelease": {
            "Type": "String",
            "Default": "",
            "Description": "The release of the web app the distribution serves (releases/<id>/ in the site's "
            "bucket); make deploy sets it after uploading one. Deploying an earlier id rolls the site back.",
            "AllowedPattern": f"^({RELEASE_ID_PATTERN})?$",
        },
        "SiteDomainName": {
            "Type": "String",
            "Default": "",
            "Description": "A domain of yours for the web app (app.example.com), with SiteCertificateArn; "
            "empty serves it at the distribution's own *.cloudfront.net name.",
            "AllowedPattern": f"^({HOSTNAME_PATTERN})?$",
        },
        "SiteCertificateArn": {
            "Type": "String",
            "Default": "",
            "Description": "The ACM certificate (in us-east-1, as CloudFront requires) for SiteDomainName.",
            "AllowedPattern": f"^({CERTIFICATE_ARN_PATTERN})?$",
        },
    }


def site_conditions() -> dict[str, Any]:
    return {
        "HasSiteRelease": {"Fn::Not": [{"Fn::Equals": [{"Ref": "SiteRelease"}, ""]}]},
        "HasSiteDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "SiteDomainName"}, ""]}]},
    }


def site_outputs() -> dict[str, Any]:
    """What make deploy reads back: where the site is, and the bucket to upload it to."""
    return {
        "SiteURL": {
            "Value": {
                "Fn::If": [
                    "HasSiteDomain",
                    {"Fn::Sub": "https://${SiteDomainName}/"},
                    {"Fn::Sub": "https://${SiteDistribution.DomainName}/"},
                ]
            }
        },
        # What a custom domain's DNS record (CNAME, or an alias in Route 53) points at.
        "SiteDistributionDomain": {"Value": {"Fn::GetAtt": ["SiteDistribution", "DomainName"]}},
        "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
        "SiteDistributionId": {"Value": {"Ref": "SiteDistribution"}},
    }
