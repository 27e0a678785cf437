"""`make deploy`: create or update the stage's stack, with the web app's origin among the API's allowed CORS
origins, then release the web app (web/ and its generated config.js) to the site's bucket; prints the site's URL.

    python -m deploy.publish deploy STAGE --stack NAME --template build/STAGE/packaged.json \\
        --artifact-bucket BUCKET [--cors-allowed-origins ...] [--web-app-url ...] \\
        [--site-domain-name app.example.com --site-certificate-arn arn:aws:acm:us-east-1:...]
    python -m deploy.publish releases --stack NAME                # the site's releases, the live one marked
    python -m deploy.publish rollback --stack NAME --release ID   # serve an earlier release again
    python -m deploy.publish empty --stack NAME      # before `make destroy`: CloudFormation deletes only empty buckets

A release is the whole site under `releases/<id>/` in the site's bucket; the stack's SiteRelease parameter (the
distribution's origin path) names the live one. A deploy updates the stack (functions first), uploads a new
release with the API's URL in its config.js, then switches SiteRelease to it in a second stack update that
changes nothing else, and deletes the releases older than the one it replaced (kept for a rollback).

The site's URL is CloudFront's, known only once the distribution exists: a stack's first deploy adds that origin
to CorsAllowedOrigins in the same second update (later deploys know it from the start)."""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deploy.site import (
    CACHE_CONTROL,
    CONFIG_FILE,
    RELEASES_PREFIX,
    WEB_ROOT,
    config_script,
    content_type,
    origin_of,
    site_files,
)
from deploy.template import stage_environment

PARAMETER = "CorsAllowedOrigins"
WEB_APP_PARAMETER = "WebAppUrl"
RELEASE_PARAMETER = "SiteRelease"
DOMAIN_PARAMETER = "SiteDomainName"
CERTIFICATE_PARAMETER = "SiteCertificateArn"
# AUTO_EXPAND: the template is SAM's (a transform), expanded by CloudFormation.
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")


@dataclass(frozen=True)
class StackState:
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Release:
    """A release of the site: its id and its files ((key inside the release, body), config.js last)."""

    id: str
    files: tuple[tuple[str, bytes], ...]

    @property
    def prefix(self) -> str:
        return release_prefix(self.id)


@dataclass(frozen=True)
class Deployed:
    site_url: str
    release: str  # the live release after the deploy
    previous: str  # the one it replaced ("" for none), kept for a rollback


def origins_with(origins: str, site_url: str | None) -> str:
    """The comma-separated origins, with the site's origin added once (none when `site_url` is unknown)."""
    listed = [o.strip() for o in origins.split(",") if o.strip()]
    if site_url and origin_of(site_url) not in listed:
        listed.append(origin_of(site_url))
    return ",".join(listed)


def stack_state(cloudformation: Any, stack: str) -> StackState | None:
    """The stack's outputs and parameters, or None when it does not exist."""
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return StackState(
        outputs={o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])},
    )


def deploy_command(
    template: str,
    stack: str,
    origins: str,
    web_app_url: str | None = None,
    *,
    artifact_bucket: str,
    parameters: Mapping[str, str] | None = None,
) -> list[str]:
    """`aws cloudformation deploy` for the packaged template; parameters not named keep the stack's values.

    The CLI refuses a template over 51,200 bytes without a bucket to upload it to (ours is about 200 KB). It
    reads each override as one `Key=Value` argument split at the first "=", so a value may hold commas, "=" and
    spaces (the origins are a comma-separated list) and may be empty; nothing is split on commas."""
    overrides = {PARAMETER: origins}
    # Unknown before the first deploy (the distribution's name): the template's default (the stage's) then.
    if web_app_url:
        overrides[WEB_APP_PARAMETER] = web_app_url
    for key, value in (parameters or {}).items():
        if key in (PARAMETER, WEB_APP_PARAMETER) or not re.fullmatch(r"[A-Za-z0-9]+", key):
            raise ValueError(f"parameter {key!r} cannot be passed here")
        overrides[key] = value
    return [
        "aws",
        "cloudformation",
        "deploy",
        "--template-file",
        template,
        "--stack-name",
        stack,
        "--s3-bucket",
        artifact_bucket,
        "--s3-prefix",
        stack,
        "--capabilities",
        *CAPABILITIES,
        "--no-fail-on-empty-changeset",  # a deploy that changes nothing (the same code and site)
        "--parameter-overrides",
        *(f"{key}={value}" for key, value in overrides.items()),
    ]


# --- Releases of the site ---


def release_prefix(release_id: str) -> str:
    return f"{RELEASES_PREFIX}{release_id}/"


def make_release(api_url: str, now: datetime, root: Path = WEB_ROOT) -> Release:
    """The site's files and its config.js for `api_url`, named by `now` (UTC) and a hash of what they hold."""
    files = [(key, path.read_bytes()) for key, path in site_files(root)]
    files.append((CONFIG_FILE, config_script(api_url)))
    digest = hashlib.sha256()
    for key, body in files:
        digest.update(key.encode() + b"\0" + hashlib.sha256(body).digest())
    return Release(f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:12]}", tuple(files))


def _same_content(release_id: str, other: str) -> bool:
    return release_id.rsplit("-", 1)[-1] == other.rsplit("-", 1)[-1]


def release_of(key: str) -> str:
    """The release a key of the site's bucket belongs to; "" for one outside releases/ (the layout before
    releases, where the distribution served the bucket's root)."""
    if not key.startswith(RELEASES_PREFIX):
        return ""
    return key[len(RELEASES_PREFIX) :].split("/", 1)[0]


def upload_release(s3: Any, bucket: str, release: Release) -> list[str]:
    """Put every file of `release` under its prefix; returns the keys, in the order written."""
    keys = []
    for key, body in release.files:
        s3.put_object(
            Bucket=bucket,
            Key=release.prefix + key,
            Body=body,
            ContentType=content_type(key),
            CacheControl=CACHE_CONTROL,
        )
        keys.append(release.prefix + key)
    return keys


def releases(s3: Any, bucket: str) -> list[str]:
    """The ids of the releases in the bucket, oldest first (an id starts with its time)."""
    return sorted({release_of(key) for key in _keys(s3, bucket, RELEASES_PREFIX)} - {""})


def prune_releases(s3: Any, bucket: str, keep: set[str]) -> list[str]:
    """Delete every file of the bucket outside the releases in `keep` ("" keeps the files outside releases/);
    returns the keys deleted."""
    stale = [key for key in _keys(s3, bucket) if release_of(key) not in keep]
    _delete(s3, bucket, stale)
    return stale


def _holds(s3: Any, bucket: str, release: Release) -> bool:
    return set(_keys(s3, bucket, release.prefix)) == {release.prefix + key for key, _ in release.files}


def empty_bucket(s3: Any, bucket: str) -> None:
    _delete(s3, bucket, _keys(s3, bucket))


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _delete(s3: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})


def _run(command: Sequence[str]) -> Any:
    return subprocess.run(command, check=True)


def deploy(
    stage: str,
    stack: str,
    template: str,
    cors_allowed_origins: str | None,
    *,
    cloudformation: Any,
    s3: Any,
    artifact_bucket: str,
    web_app_url: str | None = None,
    parameters: Mapping[str, str] | None = None,
    run: Callable[[Sequence[str]], Any] = _run,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Deployed:
    """Deploy the stack, then release the site.

    The allowed origins are those given, else the stack's current ones, else the stage's default; the site's
    own origin is always added. The web app's URL (where reset e-mails and the payment provider send people)
    is the one given (a domain of yours in front of the site), else the site's own. `parameters` (the site's
    domain) go to both stack updates.

    The first update leaves SiteRelease as it is: the site stays on its release while the functions change, and
    the new pages, switched to once the update is done, never meet the API they replaced. A site whose files
    are those of the live release is not uploaded again (nor switched)."""
    before = stack_state(cloudformation, stack)
    if cors_allowed_origins is not None:
        base = cors_allowed_origins
    elif before is not None:
        base = before.parameters.get(PARAMETER, "")
    else:
        base = stage_environment(stage).get("CORS_ALLOWED_ORIGINS", "")
    known_site = before.outputs.get("SiteURL") if before else None
    origins = origins_with(base, known_site)
    app_url = web_app_url or (known_site.rstrip("/") if known_site else None)
    extra = dict(parameters or {})
    run(deploy_command(template, stack, origins, app_url, artifact_bucket=artifact_bucket, parameters=extra))
    after = stack_state(cloudformation, stack)
    if after is None:
        raise SystemExit(f"stack {stack} is missing after its deploy")
    site_url, bucket = after.outputs["SiteURL"], after.outputs["SiteBucketName"]
    live = after.parameters.get(RELEASE_PARAMETER, "")
    # The pages call the API under their own origin (deploy/edge.py): config.js names the site.
    release = make_release(site_url, now())
    target = release.id
    if live and _same_content(live, release.id) and _holds(s3, bucket, Release(live, release.files)):
        target = live
    else:
        upload_release(s3, bucket, release)
    final_origins = origins_with(origins, site_url)
    final_url = web_app_url or site_url.rstrip("/")
    if (final_origins, final_url, target) != (origins, app_url, live):
        extra[RELEASE_PARAMETER] = target
        run(
            deploy_command(template, stack, final_origins, final_url, artifact_bucket=artifact_bucket, parameters=extra)
        )
    if target != live:
        # Only now that no viewer is sent to them: the release replaced stays, for a rollback.
        prune_releases(s3, bucket, keep={target, live})
    return Deployed(site_url=site_url, release=target, previous=live if target != live else "")


def switch_release(cloudformation: Any, s3: Any, stack: str, release_id: str) -> None:
    """Serve `release_id` (one in the bucket): a stack update of SiteRelease alone, with the stack's template
    and every other parameter as they are; waits for it (CloudFront's deployment takes minutes)."""
    state = stack_state(cloudformation, stack)
    if state is None:
        raise SystemExit(f"stack {stack} does not exist")
    bucket = state.outputs["SiteBucketName"]
    if release_id not in releases(s3, bucket):
        raise SystemExit(f"no release {release_id} in {bucket}: {', '.join(releases(s3, bucket)) or 'none'}")
    kept = [{"ParameterKey": key, "UsePreviousValue": True} for key in state.parameters if key != RELEASE_PARAMETER]
    cloudformation.update_stack(
        StackName=stack,
        UsePreviousTemplate=True,
        Capabilities=list(CAPABILITIES),
        Parameters=[*kept, {"ParameterKey": RELEASE_PARAMETER, "ParameterValue": release_id}],
    )
    cloudformation.get_waiter("stack_update_complete").wait(StackName=stack)


def _domain_parameters(parser: argparse.ArgumentParser, domain: str | None, certificate: str | None) -> dict[str, str]:
    # Both or neither: a domain without its certificate fails in CloudFront, a certificate alone means nothing.
    # Both empty ('') takes a domain away; neither given keeps the stack's.
    if domain is None and certificate is None:
        return {}
    if domain is None or certificate is None or bool(domain) != bool(certificate):
        parser.error("--site-domain-name and --site-certificate-arn go together")
    return {DOMAIN_PARAMETER: domain, CERTIFICATE_PARAMETER: certificate}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    deploying = commands.add_parser("deploy")
    deploying.add_argument("stage")
    deploying.add_argument("--stack", required=True)
    deploying.add_argument("--template", required=True)
    deploying.add_argument("--artifact-bucket", required=True, help="an S3 bucket of yours for the template")
    deploying.add_argument("--cors-allowed-origins", default=None)
    deploying.add_argument("--web-app-url", default=None, help="the web app's address, when not the site's own")
    deploying.add_argument("--site-domain-name", default=None, help="a domain of yours for the site")
    deploying.add_argument("--site-certificate-arn", default=None, help="its ACM certificate, in us-east-1")
    listing = commands.add_parser("releases")
    listing.add_argument("--stack", required=True)
    rolling_back = commands.add_parser("rollback")
    rolling_back.add_argument("--stack", required=True)
    rolling_back.add_argument("--release", required=True, help="an id that `releases` lists")
    emptying = commands.add_parser("empty")
    emptying.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    domain = (
        _domain_parameters(deploying, args.site_domain_name, args.site_certificate_arn)
        if args.command == "deploy"
        else {}
    )

    import boto3

    cloudformation, s3 = boto3.client("cloudformation"), boto3.client("s3")
    if args.command == "rollback":
        switch_release(cloudformation, s3, args.stack, args.release)
        print(f"{args.stack} serves release {args.release}", flush=True)
        return 0
    if args.command in ("empty", "releases"):
        state = stack_state(cloudformation, args.stack)
        if state is not None and "SiteBucketName" in state.outputs:
            bucket = state.outputs["SiteBucketName"]
            if args.command == "empty":
                empty_bucket(s3, bucket)
            else:
                live = state.parameters.get(RELEASE_PARAMETER, "")
                for release_id in releases(s3, bucket):
                    print(f"{release_id}{'  (live)' if release_id == live else ''}")
        return 0
    deployed = deploy(
        args.stage,
        args.stack,
        args.template,
        args.cors_allowed_origins,
        cloudformation=cloudformation,
        s3=s3,
        artifact_bucket=args.artifact_bucket,
        web_app_url=args.web_app_url,
        parameters=domain,
    )
    state = stack_state(cloudformation, args.stack)
    for key, value in sorted((state.outputs if state else {}).items()):
        print(f"{key}: {value}")
    print(f"\nSite release: {deployed.release}" + (f" (previous: {deployed.previous})" if deployed.previous else ""))
    print(f"Web app: {deployed.site_url}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
