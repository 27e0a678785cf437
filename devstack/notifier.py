"""The local stack's stand-in for DynamoDB Streams to the Notifier function: a poller of the bookings' and events'
streams in the local AWS that hands each batch of records to the same code as the deployed function
(bootstrap.stream_changes, services.notifications.handle), so `make run` writes the messages to `.local/mail/`
within a second or two of the change.

Its position in each stream is saved (`notifier.json` in the data folder, 0600) after the records before it were
handled, so a poller killed between a commit and its message sends the message once it runs again. A record that
keeps failing is retried with a growing pause and parked after MAX_ATTEMPTS (its JSON in `notifier-dead/`, an
ERROR line), as Lambda sends it to the dead-letter queue deployed. The local AWS loads its snapshot into tables
without streams (manage.py createtables then turns them on): what was already there is not news to anyone.

Between polls it runs the creators' daily digests (the SendDigests function deployed) at most once a minute: once
a day is done, a run reads only its mark."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

MAX_ATTEMPTS = 5
FIRST_PAUSE = 0.5
BATCH = 100
DIGEST_EVERY = 60.0
# A local run has less to send than a deployed one; the minute between runs bounds it anyway.
DIGEST_BUDGET_SECONDS = 20.0


class StreamPoller:
    """Reads the streams of `tables` through `client` (the Streams API) and `dynamodb` (to find each table's
    current stream); `handle` takes records and returns the positions of those that failed."""

    def __init__(
        self,
        dynamodb: Any,
        client: Any,
        tables: list[str],
        handle: Callable[[list[dict[str, Any]]], list[str]],
        data_dir: Path,
        log: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self.dynamodb, self.client, self.tables = dynamodb, client, tables
        self.handle, self.log = handle, log
        self.checkpoint_file = data_dir / "notifier.json"
        self.dead_dir = data_dir / "notifier-dead"
        self.positions: dict[str, dict[str, str]] = self._read_checkpoint()
        self.attempts: dict[str, int] = {}
        self.paused_until: dict[str, float] = {}

    def _read_checkpoint(self) -> dict[str, dict[str, str]]:
        try:
            return dict(json.loads(self.checkpoint_file.read_text()))
        except (OSError, ValueError):
            return {}

    def _save_checkpoint(self) -> None:
        partial = self.checkpoint_file.with_suffix(".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.positions, out)
        partial.replace(self.checkpoint_file)

    def poll(self) -> int:
        """One pass over every shard of every stream; returns how many records were handled."""
        handled = 0
        for table in self.tables:
            arn = self.dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
            if not arn:
                continue  # the stream is not on yet (createtables turns it on)
            shards = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            for shard in shards:
                handled += self._poll_shard(arn, shard["ShardId"])
        return handled

    def _poll_shard(self, arn: str, shard: str) -> int:
        if time.monotonic() < self.paused_until.get(f"{arn}#{shard}", 0.0):
            return 0
        after = self.positions.get(arn, {}).get(shard)
        where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after else {}
        iterator = self.client.get_shard_iterator(
            StreamArn=arn, ShardId=shard, **(where or {"ShardIteratorType": "TRIM_HORIZON"})
        )["ShardIterator"]
        records = self.client.get_records(ShardIterator=iterator, Limit=BATCH)["Records"]
        if not records:
            return 0
        for record in records:
            record["eventSourceARN"] = arn
        failed = set(self.handle(records))
        done = 0
        for record in records:
            position = record["dynamodb"]["SequenceNumber"]
            if position in failed and not self._give_up(arn, shard, record):
                break  # retried from here on the next pass, after a pause
            self.positions.setdefault(arn, {})[shard] = position
            done += 1
        self._save_checkpoint()
        return done

    def _give_up(self, arn: str, shard: str, record: dict[str, Any]) -> bool:
        """Count a failure of `record`: False to retry it later, True once parked."""
        position = record["dynamodb"]["SequenceNumber"]
        attempts = self.attempts.get(position, 0) + 1
        self.attempts[position] = attempts
        if attempts < MAX_ATTEMPTS:
            self.paused_until[f"{arn}#{shard}"] = time.monotonic() + FIRST_PAUSE * 2 ** (attempts - 1)
            return False
        self.dead_dir.mkdir(mode=0o700, exist_ok=True)
        path = self.dead_dir / f"{position}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(record, out, default=str)
        self.log("notification parked", {"position": position, "path": str(path), "attempts": attempts})
        del self.attempts[position]
        return True


def app_poller(data_dir: Path) -> StreamPoller:
    """The poller of the app's bookings and events tables, handing records to the Notifier's code."""
    from chalicelib import bootstrap
    from chalicelib.adapters.aws import client
    from chalicelib.domain.common import utcnow
    from chalicelib.logs import get_logger
    from chalicelib.services import notifications

    settings = bootstrap.settings()

    def handle(records: list[dict[str, Any]]) -> list[str]:
        return notifications.handle(bootstrap.outbox(), bootstrap.stream_changes(records), utcnow())

    def log(message: str, fields: dict[str, Any]) -> None:
        get_logger().error(message, extra={"fields": fields})

    return StreamPoller(
        client("dynamodb", settings),
        client("dynamodbstreams", settings),
        [settings.tables.bookings, settings.tables.events],
        handle,
        data_dir,
        log,
    )


def app_digests() -> None:
    """One run of the creators' digests (services.digests.send_digests), as the SendDigests function runs it."""
    from chalicelib import bootstrap
    from chalicelib.domain.common import utcnow
    from chalicelib.services import digests

    digests.send_digests(bootstrap.outbox(), bootstrap.digest_book(), utcnow(), DIGEST_BUDGET_SECONDS)


def poll_forever(
    poller: StreamPoller,
    every: float,
    stop: threading.Event,
    digests: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll until `stop`, and run `digests` at most every DIGEST_EVERY seconds; a failure of the local AWS
    (restarting, paused) is logged and tried again."""
    digests_at = clock()
    while not stop.is_set():
        try:
            handled = poller.poll()
        except Exception as exc:  # noqa: BLE001 - the local AWS restarting: try again on the next pass
            print(json.dumps({"level": "ERROR", "message": "notifier poll failed", "error": repr(exc)}), flush=True)
            handled = 0
        if digests is not None and clock() >= digests_at:
            digests_at = clock() + DIGEST_EVERY
            try:
                digests()
            except Exception as exc:  # noqa: BLE001 - tried again a minute later, as the hourly function is
                print(json.dumps({"level": "ERROR", "message": "digests failed", "error": repr(exc)}), flush=True)
        if not handled:
            stop.wait(every)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import signal
    from pathlib import Path

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    every = float(os.environ.get("LOCAL_NOTIFIER_SECONDS") or 0.5)
    poll_forever(app_poller(args.data_dir), every, stop, app_digests)


if __name__ == "__main__":
    main()
