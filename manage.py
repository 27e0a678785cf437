#!/usr/bin/env python3
"""Command-line administration with Django's command names.

    python manage.py createsuperuser [--username U --email E] [--noinput]
    python manage.py setrole USERNAME USER|CREATOR
    python manage.py deactivate USERNAME
    python manage.py createtables [--bucket]
    python manage.py reindex
    python manage.py seed
    python manage.py send-digests [--now ISO] [--budget SECONDS]

By default it talks to the local stack (http://127.0.0.1:$LOCAL_AWS_PORT). With `--stage dev|prod` it uses that
stage's tables (names from .chalice/config.json) with your AWS credentials. `--noinput` reads
DJANGO_SUPERUSER_USERNAME, DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD, as Django does.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def configure(stage: str) -> None:
    """Point the environment at the stage's tables; the local stage also at the local AWS."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    if stage not in config["stages"]:
        sys.exit(f"unknown stage {stage!r}; known: {', '.join(config['stages'])}")
    for name, value in config["stages"][stage].get("environment_variables", {}).items():
        os.environ.setdefault(name, value)
    if stage == "local":
        endpoint = f"http://127.0.0.1:{os.environ.get('LOCAL_AWS_PORT', '8001')}"
        os.environ.setdefault("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        os.environ.setdefault("AWS_ENDPOINT_URL_S3", endpoint)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from chalicelib import bootstrap

    bootstrap.tables()  # the settings are read now, from the environment just set


def rounds() -> int:
    """bcrypt cost for accounts made here: the app's own setting, with its range check (default 12)."""
    from chalicelib.settings import bcrypt_rounds_from_env

    return bcrypt_rounds_from_env()


def cmd_createsuperuser(args: argparse.Namespace) -> None:
    from chalicelib import bootstrap
    from chalicelib.errors import ValidationFailed
    from chalicelib.security.passwords import fits_bcrypt
    from chalicelib.services import accounts
    from chalicelib.services.password_rules import password_problems

    if args.noinput:
        username = args.username or os.environ.get("DJANGO_SUPERUSER_USERNAME", "")
        email = args.email if args.email is not None else os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if not username or not password:
            sys.exit("CommandError: --noinput needs a username and DJANGO_SUPERUSER_PASSWORD.")
    else:
        username = args.username or input("Username: ").strip()
        email = args.email if args.email is not None else input("Email address: ").strip()
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                print("Error: Your passwords didn't match.", file=sys.stderr)
                continue
            problems = password_problems(password, username=username, email=email)
            if problems:
                print("\n".join(problems), file=sys.stderr)
                if input("Bypass password validation and create user anyway? [y/N]: ").strip().lower() != "y":
                    continue
            break
    if not fits_bcrypt(password):
        sys.exit("CommandError: passwords are limited to 72 bytes.")
    try:
        user = accounts.create_user(
            bootstrap.users(), username=username, email=email, password=password, rounds=rounds(), is_staff=True
        )
    except ValidationFailed as exc:
        sys.exit(f"CommandError: {exc.errors}")
    print(f"Superuser created successfully: {user.username} ({user.id})")


def cmd_setrole(args: argparse.Namespace) -> None:
    from chalicelib import bootstrap
    from chalicelib.domain.enums import Role
    from chalicelib.services import accounts

    user = accounts.change_account(bootstrap.users(), args.username, role=Role(args.role))
    print(f"{user.username} is now {user.role.value}")


def cmd_deactivate(args: argparse.Namespace) -> None:
    from chalicelib import bootstrap
    from chalicelib.services import accounts

    user = accounts.change_account(bootstrap.users(), args.username, is_active=False)
    print(f"{user.username} is deactivated (refused within one access-token lifetime)")


def cmd_createtables(args: argparse.Namespace) -> None:
    from chalicelib.persistence.admin import create_tables

    created = create_tables()
    print(f"created tables: {', '.join(created)}" if created else "tables exist")
    if any("/" in name for name in created):
        # Indexes added to tables that hold data: give the items stored before them their keys.
        _reindex_keys()
    if any(name.endswith("-seats") for name in created) and not any(name.endswith("-events") for name in created):
        # Events stored before seat counters cannot be booked without theirs: written now (a scan of the events,
        # only when the counters' table is new).
        _backfill_seats()
    _backfill_seat_copies()
    if any(name.endswith("-search") for name in created) and not any(name.endswith("-events") for name in created):
        # Not done here: it writes every stored event's index items, which for a large table takes a while.
        print("events stored before search are not found by it yet: run `python manage.py reindex`")
    if args.bucket:
        if args.stage != "local":
            sys.exit("CommandError: a deployed stage's upload bucket is CloudFormation's (make deploy).")
        import boto3

        from chalicelib.settings import cors_origins_from_env, uploads_bucket_from_env
        from devstack.bucket import configure_bucket

        bucket = uploads_bucket_from_env()
        if configure_bucket(boto3.client("s3"), bucket, cors_origins_from_env()):
            print(f"created bucket: {bucket}")


def cmd_reindex(args: argparse.Namespace) -> None:
    _reindex_keys()
    _backfill_seats()
    _backfill_seat_copies()
    from chalicelib.persistence.admin import rebuild_search_index

    search = rebuild_search_index()
    print(
        f"search index: {search['events']} events written ({search['put']} items put, {search['deleted']} deleted),"
        f" {search['skipped']} edited meanwhile"
    )


def _reindex_keys() -> None:
    from chalicelib.persistence.admin import backfill_index_keys

    counts = backfill_index_keys()
    print(f"index keys written: {counts['users']} users, {counts['events']} events, {counts['bookings']} bookings")
    from chalicelib.persistence.admin import backfill_lookalike_markers

    written, clashes = backfill_lookalike_markers()
    print(f"look-alike markers written: {written}")
    for holder, other in clashes:
        print(f"usernames that look the same: users {holder} and {other}")


def _backfill_seats() -> None:
    from chalicelib.persistence.admin import backfill_seat_counters

    print(f"seat counters written: {backfill_seat_counters()} events")


def _backfill_seat_copies() -> None:
    from chalicelib.domain.common import utcnow
    from chalicelib.persistence.admin import backfill_seat_copies

    # A scan of the events without a copy of their seat counts (none once each has one): the lists show 0
    # seats booked for those until then.
    copied = backfill_seat_copies(utcnow())
    if copied:
        print(f"seat counts copied for the lists: {copied} events")


def cmd_seed(args: argparse.Namespace) -> None:
    if args.stage != "local":
        sys.exit("CommandError: demo data is for the local stage only.")
    from devstack.seed import seed

    print("demo data seeded" if seed(rounds()) else "demo data present")


def cmd_send_digests(args: argparse.Namespace) -> None:
    from dataclasses import asdict
    from datetime import UTC, datetime

    from chalicelib import bootstrap
    from chalicelib.domain.common import utcnow
    from chalicelib.services.digests import send_digests

    try:
        now = datetime.fromisoformat(args.now) if args.now else utcnow()
    except ValueError:
        sys.exit(f"CommandError: --now is not an ISO 8601 time: {args.now!r}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    run = send_digests(bootstrap.outbox(), bootstrap.digest_book(), now, args.budget)
    print(json.dumps(asdict(run)))
    if run.failed:
        sys.exit(f"CommandError: {run.failed} digest(s) failed (see the log); run it again")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="manage.py", description="Sessions Marketplace administration")
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"), help="local (default), dev or prod")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("createsuperuser", help="create a staff account")
    p.add_argument("--username")
    p.add_argument("--email")
    p.add_argument(
        "--noinput", "--no-input", action="store_true", help="take the password from DJANGO_SUPERUSER_PASSWORD"
    )
    p.set_defaults(func=cmd_createsuperuser)
    p = sub.add_parser("setrole", help="set a user's role")
    p.add_argument("username")
    p.add_argument("role", choices=["USER", "CREATOR"])
    p.set_defaults(func=cmd_setrole)
    p = sub.add_parser("deactivate", help="refuse a user's sign-ins and tokens")
    p.add_argument("username")
    p.set_defaults(func=cmd_deactivate)
    p = sub.add_parser("createtables", help="create missing tables (and with --bucket the upload bucket)")
    p.add_argument("--bucket", action="store_true")
    p.set_defaults(func=cmd_createtables)
    p = sub.add_parser(
        "reindex", help="write the staff indexes' keys and look-alike markers on items stored before them (scans)"
    )
    p.set_defaults(func=cmd_reindex)
    p = sub.add_parser("seed", help="demo users and events (local stage only, once)")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser(
        "send-digests", help="send the creators' daily digests due now (07:00 UTC on: yesterday's), once each"
    )
    p.add_argument("--now", help="the time to run at, ISO 8601 (default: now; naive is UTC)")
    p.add_argument("--budget", type=float, default=240.0, help="seconds before it stops (run it again to go on)")
    p.set_defaults(func=cmd_send_digests)
    args = parser.parse_args(argv)
    configure(args.stage)
    from chalicelib.errors import DomainError
    from chalicelib.settings import ConfigurationError

    try:
        args.func(args)
    except DomainError as exc:
        sys.exit(f"CommandError: {exc.detail}")
    except ConfigurationError as exc:
        sys.exit(f"CommandError: {exc}")


if __name__ == "__main__":
    main()
