"""`make deploy`: create or update the stage's stack, with the web app's origin among the API's allowed CORS
origins, then upload the web app (web/ and its generated config.js) to the site's bucket; prints the site's URL.

    python -m deploy.publish deploy STAGE --stack NAME --template build/STAGE/packaged.json [--cors-allowed-origins ...]
    python -m deploy.publish empty --stack NAME      # before `make destroy`: CloudFormation deletes only empty buckets

The site's URL is CloudFront's, known only once the distribution exists: a stack's first deploy is followed by
a second one that only adds that origin to CorsAllowedOrigins (later deploys know it from the start)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from deploy.site import CACHE_CONTROL, CONFIG_FILE, config_script, content_type, origin_of, site_files
from deploy.template import stage_environment

PARAMETER = "CorsAllowedOrigins"
WEB_APP_PARAMETER = "WebAppUrl"


@dataclass(frozen=True)
class StackState:
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)


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


def deploy_command(template: str, stack: str, origins: str, web_app_url: str | None = None) -> list[str]:
    return [
        "aws",
        "cloudformation",
        "deploy",
        "--template-file",
        template,
        "--stack-name",
        stack,
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
        "--no-fail-on-empty-changeset",  # a deploy that changes only the web app's files
        "--parameter-overrides",
        f"{PARAMETER}={origins}",
        # Unknown before the first deploy (the distribution's name): the template's default (the stage's) then.
        *([f"{WEB_APP_PARAMETER}={web_app_url}"] if web_app_url else []),
    ]


def upload_site(s3: Any, bucket: str, api_url: str) -> list[str]:
    """Put web/'s files and config.js (for `api_url`) in `bucket`, delete what is no longer part of the site;
    returns the keys uploaded. config.js goes last, once the files it may be read with are in place."""
    uploads = [(key, path.read_bytes()) for key, path in site_files()]
    uploads.append((CONFIG_FILE, config_script(api_url)))
    for key, body in uploads:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type(key), CacheControl=CACHE_CONTROL)
    keep = {key for key, _ in uploads}
    _delete(s3, bucket, [key for key in _keys(s3, bucket) if key not in keep])
    return [key for key, _ in uploads]


def empty_bucket(s3: Any, bucket: str) -> None:
    _delete(s3, bucket, _keys(s3, bucket))


def _keys(s3: Any, bucket: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _delete(s3: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})


def deploy(
    stage: str,
    stack: str,
    template: str,
    cors_allowed_origins: str | None,
    *,
    cloudformation: Any,
    s3: Any,
    web_app_url: str | None = None,
    run: Callable[[Sequence[str]], Any] = lambda command: subprocess.run(command, check=True),
) -> str:
    """Deploy the stack and the site; returns the site's URL.

    The allowed origins are those given, else the stack's current ones, else the stage's default; the site's
    own origin is always added. The web app's URL (where reset e-mails and the payment provider send people)
    is the one given (a domain of yours in front of the site), else the site's own; a stack's first deploy
    learns the site's URL from its outputs and deploys again with it, as with the origins."""
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
    run(deploy_command(template, stack, origins, app_url))
    after = stack_state(cloudformation, stack)
    if after is None:
        raise SystemExit(f"stack {stack} is missing after its deploy")
    site_url = after.outputs["SiteURL"]
    final_url = web_app_url or site_url.rstrip("/")
    if origins_with(origins, site_url) != origins or final_url != app_url:
        origins = origins_with(origins, site_url)
        run(deploy_command(template, stack, origins, final_url))
    upload_site(s3, after.outputs["SiteBucketName"], api_url=after.outputs["EndpointURL"])
    return site_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    deploying = commands.add_parser("deploy")
    deploying.add_argument("stage")
    deploying.add_argument("--stack", required=True)
    deploying.add_argument("--template", required=True)
    deploying.add_argument("--cors-allowed-origins", default=None)
    deploying.add_argument("--web-app-url", default=None, help="the web app's address, when not the site's own")
    emptying = commands.add_parser("empty")
    emptying.add_argument("--stack", required=True)
    args = parser.parse_args(argv)

    import boto3

    cloudformation, s3 = boto3.client("cloudformation"), boto3.client("s3")
    if args.command == "empty":
        state = stack_state(cloudformation, args.stack)
        if state is not None and "SiteBucketName" in state.outputs:
            empty_bucket(s3, state.outputs["SiteBucketName"])
        return 0
    site_url = deploy(
        args.stage,
        args.stack,
        args.template,
        args.cors_allowed_origins,
        cloudformation=cloudformation,
        s3=s3,
        web_app_url=args.web_app_url,
    )
    state = stack_state(cloudformation, args.stack)
    for key, value in sorted((state.outputs if state else {}).items()):
        print(f"{key}: {value}")
    print(f"\nWeb app: {site_url}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
